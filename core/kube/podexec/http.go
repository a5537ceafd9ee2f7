package podexec

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// HTTPClient is an HTTP client whose every connection is a port-forward to port of the
// pod, through the API server. Unlike the API server's service proxy, which consumes the
// Authorization header (it authenticates the caller to the API server), it carries a
// service's own credentials to it. The URL's host names the service for TLS (ServerName)
// but is never resolved; tlsConfig may be nil for plain HTTP. Each request is bounded by
// its context: the transport closes the forward when it ends.
func (p Pod) HTTPClient(port int, tlsConfig *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := p.Forward(ctx, port)
			if err != nil {
				return nil, err
			}
			return netConn{c}, nil
		},
		TLSClientConfig:     tlsConfig,
		ForceAttemptHTTP2:   false,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
	}}
}

// netConn is a forward as a net.Conn. Deadlines are not supported by the stream: the
// HTTP transport bounds exchanges by closing the connection instead.
type netConn struct{ *Conn }

type forwardAddr struct{}

func (forwardAddr) Network() string { return "portforward" }
func (forwardAddr) String() string  { return "portforward" }

func (netConn) LocalAddr() net.Addr                { return forwardAddr{} }
func (netConn) RemoteAddr() net.Addr               { return forwardAddr{} }
func (netConn) SetDeadline(_ time.Time) error      { return nil }
func (netConn) SetReadDeadline(_ time.Time) error  { return nil }
func (netConn) SetWriteDeadline(_ time.Time) error { return nil }
