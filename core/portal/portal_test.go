package portal

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixed is a Source of one view and one password, for the handler's own rules.
type fixed struct{ v *View }

func (f fixed) View(context.Context) *View { return f.v }
func (f fixed) Password(_ context.Context, ui string) (string, error) {
	if ui == "grafana" {
		return "s3cret-pass", nil
	}
	return "", errors.New("no login")
}

func serve(t *testing.T) (*Server, string) {
	t.Helper()
	s := New(fixed{&View{Lab: "nexo", UIs: []UI{{Name: "grafana", URL: "https://grafana.nexo.local", User: "admin", HasPassword: true}}}})
	ln, url, err := s.Listen()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, url
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestOnlyTheTokenAndTheAddressAreAnswered(t *testing.T) {
	_, url := serve(t)
	page, _ := http.NewRequest("GET", url, nil)
	resp, body := do(t, page)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "grafana.nexo.local")
	assert.NotContains(t, body, "s3cret-pass", "masked until revealed")
	assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))

	// A page of another site that points its own name at 127.0.0.1 sends that Host.
	rebind, _ := http.NewRequest("GET", url+"reveal?ui=grafana", nil)
	rebind.Host = "evil.example:80"
	resp, body = do(t, rebind)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.NotContains(t, body, "s3cret-pass")

	noSlash, _ := http.NewRequest("GET", strings.TrimSuffix(url, "/"), nil)
	resp, _ = do(t, noSlash)
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.True(t, strings.HasSuffix(resp.Header.Get("Location"), "/"))

	reveal, _ := http.NewRequest("GET", url+"reveal?ui=grafana", nil)
	_, body = do(t, reveal)
	assert.Equal(t, "s3cret-pass", body)
}

func TestTokensDifferPerPortal(t *testing.T) {
	a, b := New(fixed{}), New(fixed{})
	assert.NotEqual(t, a.token, b.token)
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/"+b.token+"/", nil))
	assert.Equal(t, http.StatusForbidden, rec.Code)
}
