package kube

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Do sends JSON with the API's headers, keeps the session cookie, decodes answers and
// turns other statuses into an *APIError.
func TestAPIDo(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		if json.NewDecoder(r.Body).Decode(&in) != nil || r.Header.Get("Content-Type") != "application/json" || in["user"] != "admin" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/"})
	})
	mux.HandleFunc("GET /api/thing", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("session"); err != nil || c.Value != "s1" || r.Header.Get("X-Token") != "t" {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"name":"thing"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	api := NewAPI(srv.URL+"/", nil)
	api.Header.Set("X-Token", "t")
	ctx := t.Context()

	var got struct{ Name string }
	if err := api.Do(ctx, http.MethodGet, "/api/thing", nil, &got); !IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("before login: got %v, want a 401 APIError", err)
	}
	if err := api.Do(ctx, http.MethodPost, "/login", map[string]string{"user": "admin"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := api.Do(ctx, http.MethodGet, "/api/thing", nil, &got); err != nil || got.Name != "thing" {
		t.Fatalf("after login: %+v, %v", got, err)
	}
	err := api.Do(ctx, http.MethodGet, "/nothing", nil, nil)
	if !IsStatus(err, http.StatusNotFound) || err.Error() != "GET /nothing: 404 Not Found: 404 page not found" {
		t.Fatalf("got %v", err)
	}
}

// Send posts a body of its own content type and returns the answer as it is, cut at
// MaxAnswer; an error status is still an *APIError.
func TestAPISend(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.FormValue("user") != "admin" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("line one\nline two\n"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	api := NewAPI(srv.URL, nil)
	ctx := t.Context()

	got, err := api.Send(ctx, http.MethodPost, "/token", "application/x-www-form-urlencoded", strings.NewReader("user=admin"))
	if err != nil || string(got) != "line one\nline two\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	api.MaxAnswer = 8
	if got, err = api.Send(ctx, http.MethodPost, "/token", "application/x-www-form-urlencoded", strings.NewReader("user=admin")); err != nil || string(got) != "line one" {
		t.Fatalf("with MaxAnswer 8: got %q, %v", got, err)
	}
	_, err = api.Send(ctx, http.MethodPost, "/token", "text/plain", strings.NewReader("user=admin"))
	if !IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("a refused form: got %v, want a 400 APIError", err)
	}
}
