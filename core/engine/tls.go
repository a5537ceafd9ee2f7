package engine

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/labca"
	"github.com/nexolab/lab/core/sdk"
)

// ensureTLS makes the lab's CA once, issues or renews the certificate of every host the
// lab serves, and publishes it to lab-system before any stack runs, so the ingress stack
// serves it and a renewal reaches the controller without re-installing it.
func (e *Engine) ensureTLS(ctx context.Context, kc *kube.Client) error {
	lab := e.Config.Lab
	dir, err := labca.Dir(lab.Name)
	if err != nil {
		return err
	}
	now := time.Now()
	ca, replaced, err := labca.Ensure(dir, lab.Name, lab.Domain, now)
	if err != nil {
		return err
	}
	if replaced != "" {
		e.observer().Event("tls", sdk.Event{Step: "certificate", Level: "warn",
			Message: "new lab CA: " + replaced + "; run `lab trust` again if you trusted the old one"})
	}
	hosts, err := certHosts(ctx, kc, lab.Domain)
	if err != nil {
		return err
	}
	leaf, issued, err := ca.Leaf(hosts, now)
	if err != nil {
		return err
	}
	n, err := labca.Publish(ctx, kc.Kube, ca, leaf)
	if err != nil {
		return fmt.Errorf("publish the lab certificate: %w", err)
	}
	if issued || n > 0 {
		e.observer().Event("tls", sdk.Event{Step: "certificate", Level: "info",
			Message: fmt.Sprintf("certificate for *.%s valid until %s (lab CA in %s)", lab.Domain, leaf.Cert.NotAfter.Format(time.DateOnly), dir)})
	}
	return nil
}

// certHosts are the hosts the lab's certificate covers: the domain's and those of the
// cluster's Ingresses (new stacks' hosts are covered by the certificate's wildcards;
// deeper ones join it on the next apply).
func certHosts(ctx context.Context, kc *kube.Client, domain string) ([]string, error) {
	ings, err := kc.Kube.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list ingresses: %w", err)
	}
	var out []string
	for _, ing := range ings.Items {
		for _, r := range ing.Spec.Rules {
			out = append(out, r.Host)
		}
	}
	return labca.Hosts(domain, out...), nil
}
