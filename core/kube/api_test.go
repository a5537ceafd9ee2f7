package kube

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
