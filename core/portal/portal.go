// Package portal is `lab ui`: a local web page of the whole lab (cluster, nodes, every
// stack's checks refreshed live, the UIs with their logins, the last apply and the plan,
// the hosts file and the CA's trust state). It listens on 127.0.0.1 only and answers only
// requests whose path starts with a random token; the page is server-rendered HTML from
// embedded templates, with a few lines of plain JavaScript for the live refresh.
package portal

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed assets
var assets embed.FS

var page = template.Must(template.New("").Funcs(template.FuncMap{
	"since": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
}).ParseFS(assets, "assets/*.html"))

// Source gives the page its content.
type Source interface {
	View(ctx context.Context) *View
	Password(ctx context.Context, ui string) (string, error)
}

// Server is one portal: a token and the latest view, refreshed every Interval.
type Server struct {
	Source   Source
	Interval time.Duration
	token    string
	mu       sync.RWMutex
	view     *View
	addr     string
}

// New makes a portal with a fresh random token.
func New(src Source) *Server {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return &Server{Source: src, Interval: 3 * time.Second, token: hex.EncodeToString(b)}
}

// Listen binds a random port of 127.0.0.1 and returns the portal's URL, token included.
func (s *Server) Listen() (net.Listener, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	s.addr = ln.Addr().String()
	return ln, "http://" + s.addr + "/" + s.token + "/", nil
}

// Serve refreshes the view in the background and answers on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.refresh(ctx)
	go func() {
		t := time.NewTicker(s.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.refresh(ctx)
			}
		}
	}()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func (s *Server) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	v := s.Source.View(ctx)
	s.mu.Lock()
	s.view = v
	s.mu.Unlock()
}

func (s *Server) current() *View {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.view == nil {
		return &View{Err: "reading the lab…"}
	}
	return s.view
}

// Handler answers /<token>/... and refuses everything else.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.render("page"))
	mux.HandleFunc("GET /live", s.render("live"))
	mux.HandleFunc("GET /reveal", s.reveal)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The token keeps other local users and web pages out; the Host check keeps out
		// pages that point a name of theirs at 127.0.0.1 (DNS rebinding).
		seg, rest, slash := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if subtle.ConstantTimeCompare([]byte(seg), []byte(s.token)) != 1 || (s.addr != "" && r.Host != s.addr) {
			http.Error(w, "forbidden: open the URL lab ui printed", http.StatusForbidden)
			return
		}
		if !slash { // relative links need the folder form
			http.Redirect(w, r, "/"+s.token+"/", http.StatusFound)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer") // the token never leaves in a Referer
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = "/"+rest, ""
		mux.ServeHTTP(w, r2)
	})
}

func (s *Server) render(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.ExecuteTemplate(w, name, s.current()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
}

func (s *Server) reveal(w http.ResponseWriter, r *http.Request) {
	pw, err := s.Source.Password(r.Context(), r.URL.Query().Get("ui"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(pw))
}
