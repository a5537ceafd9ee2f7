package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// API is a JSON HTTP API of a service a stack runs (Grafana, Harbor, Elasticsearch), in
// the cluster through the API server's service proxy (Client.ServiceAPI), or at any URL
// (NewAPI, for a test double). It keeps cookies, so a session login carries over to the
// requests after it: through the proxy an Authorization header never reaches the service,
// because the API server removes it from every request it authenticates.
type API struct {
	Base string
	HTTP *http.Client
	// Header is sent with every request (a CSRF token, an API key, basic authentication
	// where no API server is between).
	Header http.Header
	// MaxAnswer is the most of an answer read (0: 64 MiB); more is cut off.
	MaxAnswer int64
}

// NewAPI is an API at base over transport (nil: the default), with a cookie jar and a
// minute's timeout per request.
func NewAPI(base string, transport http.RoundTripper) *API {
	jar, _ := cookiejar.New(nil)
	return &API{Base: strings.TrimSuffix(base, "/"), Header: http.Header{},
		HTTP: &http.Client{Transport: transport, Jar: jar, Timeout: time.Minute}}
}

// ServiceAPI is the API on a port (its name or number) of the Service ns/name, through
// the API server's service proxy with the kubeconfig's credentials.
func (c *Client) ServiceAPI(ns, service, port string) (*API, error) {
	rt, err := rest.TransportFor(c.Config)
	if err != nil {
		return nil, err
	}
	u := c.Kube.CoreV1().RESTClient().Get().Namespace(ns).Resource("services").
		Name("http:" + service + ":" + port).SubResource("proxy").URL()
	return NewAPI(u.String(), rt), nil
}

// APIError is an answer other than 2xx.
type APIError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %.300s", e.Method, e.Path, e.Status, http.StatusText(e.Status), strings.TrimSpace(e.Body))
}

// IsStatus reports whether err is an answer with the status code.
func IsStatus(err error, code int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == code
}

// Do sends body as JSON (none when nil) to path under Base and decodes the JSON answer
// into out (unless nil). An answer other than 2xx is an *APIError.
func (a *API) Do(ctx context.Context, method, path string, body, out any) error {
	var payload io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		payload = bytes.NewReader(b)
	}
	answer, err := a.Send(ctx, method, path, "application/json", payload)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
	}
	return nil
}

// Send sends body (none when nil) of a content type (a form, a multipart upload) to
// path under Base and returns the answer of a 2xx status as it is (an export); an
// answer other than 2xx is an *APIError.
func (a *API) Send(ctx context.Context, method, path, contentType string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.Base+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range a.Header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	limit := a.MaxAnswer
	if limit == 0 {
		limit = 64 << 20
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &APIError{Method: method, Path: path, Status: resp.StatusCode, Body: string(answer)}
	}
	return answer, nil
}
