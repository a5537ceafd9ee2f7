package kube

import (
	"context"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and keys of the Secrets that hold the lab's UI credentials. `lab credentials`
// lists them straight from the cluster, without launching any plugin.
const (
	CredentialsLabel = "lab.nexolab.dev/credentials" // value: the UI's name
	StackLabel       = "lab.nexolab.dev/stack"
	URLKey           = "url"
	UsernameKey      = "username"
	PasswordKey      = "password"
	// LoginKey holds how to log in from a shell, when it is not a browser's login (a
	// registry's `docker login` line); never a secret.
	LoginKey = "login"
)

// Credential is how to log in to one UI of the lab.
type Credential struct {
	UI        string `json:"ui"`
	Stack     string `json:"stack"`
	URL       string `json:"url"`
	Username  string `json:"username"`
	Password  string `json:"password,omitempty"`
	Login     string `json:"login,omitempty"`
	Namespace string `json:"namespace"`
	Secret    string `json:"secret"`
}

// EnsureCredential returns the login of a UI, kept in the Secret ns/name. The password is
// generated on the first call and kept; URL and user name are updated to the given ones.
func (c *Client) EnsureCredential(ctx context.Context, stack, ui, ns, name, url, username string) (Credential, error) {
	data, err := c.EnsureSecret(ctx, ns, name, map[string]Generator{PasswordKey: Password(24)})
	if err != nil {
		return Credential{}, err
	}
	s, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Credential{}, err
	}
	changed := s.Labels[CredentialsLabel] != ui || s.Labels[StackLabel] != stack ||
		string(s.Data[URLKey]) != url || string(s.Data[UsernameKey]) != username
	if changed {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels[CredentialsLabel], s.Labels[StackLabel] = ui, stack
		s.Data[URLKey], s.Data[UsernameKey] = []byte(url), []byte(username)
		if _, err := c.Kube.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			return Credential{}, fmt.Errorf("secret %s/%s: %w", ns, name, err)
		}
	}
	return Credential{UI: ui, Stack: stack, URL: url, Username: username, Password: string(data[PasswordKey]),
		Namespace: ns, Secret: name}, nil
}

// Credentials lists every UI login of the lab, sorted by UI.
func (c *Client) Credentials(ctx context.Context) ([]Credential, error) {
	list, err := c.Kube.CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: CredentialsLabel})
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	var out []Credential
	for _, s := range list.Items {
		out = append(out, Credential{UI: s.Labels[CredentialsLabel], Stack: s.Labels[StackLabel],
			URL: string(s.Data[URLKey]), Username: string(s.Data[UsernameKey]), Password: string(s.Data[PasswordKey]),
			Login: string(s.Data[LoginKey]), Namespace: s.Namespace, Secret: s.Name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UI < out[j].UI })
	return out, nil
}
