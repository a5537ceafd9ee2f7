package podexec

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// Conn is one connection to a pod's port through the API server's port-forward.
// Close it to end the forward.
type Conn struct {
	where string
	conn  httpstream.Connection
	data  httpstream.Stream
	errc  chan string // the server's error message for this forward, once
	once  sync.Once
	msg   string
}

// Forward connects to port of the pod (the container listening on it), like
// `kubectl port-forward` without a local listener. It prefers the websocket tunnel of
// Kubernetes 1.31 and later and falls back to SPDY. Dialing is bounded by ctx and the
// Pod's timeout; after that, bound each exchange by closing the Conn (context.AfterFunc).
func (p Pod) Forward(ctx context.Context, port int) (*Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(p.Timeout))
	defer cancel()
	where := fmt.Sprintf("port-forward to %s port %d", p.where(), port)
	dialer, err := p.dialer()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	type dialed struct {
		conn httpstream.Connection
		err  error
	}
	done := make(chan dialed, 1)
	go func() {
		c, _, err := dialer.Dial(portforward.PortForwardProtocolV1Name)
		done <- dialed{c, err}
	}()
	select {
	case d := <-done:
		if d.err != nil {
			return nil, fmt.Errorf("%s: %w", where, d.err)
		}
		return openStreams(where, d.conn, port)
	case <-ctx.Done():
		go func() { // close the connection if it still arrives
			if d := <-done; d.conn != nil {
				d.conn.Close()
			}
		}()
		return nil, fmt.Errorf("%s: %w", where, ctx.Err())
	}
}

func (p Pod) dialer() (httpstream.Dialer, error) {
	u := p.Kube.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(p.Namespace).Name(p.Name).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(p.Config)
	if err != nil {
		return nil, err
	}
	legacy := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	ws, err := portforward.NewSPDYOverWebsocketDialer(u, p.Config)
	if err != nil {
		return nil, err
	}
	return portforward.NewFallbackDialer(ws, legacy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	}), nil
}

// openStreams creates the error and data streams of one forwarded connection.
func openStreams(where string, conn httpstream.Connection, port int) (*Conn, error) {
	h := http.Header{}
	h.Set(corev1.StreamType, corev1.StreamTypeError)
	h.Set(corev1.PortHeader, strconv.Itoa(port))
	h.Set(corev1.PortForwardRequestIDHeader, "0")
	errStream, err := conn.CreateStream(h)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: error stream: %w", where, err)
	}
	errStream.Close() // nothing to send on it
	h.Set(corev1.StreamType, corev1.StreamTypeData)
	data, err := conn.CreateStream(h)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: data stream: %w", where, err)
	}
	c := &Conn{where: where, conn: conn, data: data, errc: make(chan string, 1)}
	go func() {
		b, _ := io.ReadAll(errStream)
		c.errc <- string(b)
	}()
	return c, nil
}

// Read reads from the pod's port. When the pod side ends, the error names the reason
// the kubelet gave (nothing listening, pod gone), if any.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.data.Read(p)
	if err != nil {
		if msg := c.serverError(); msg != "" {
			return n, fmt.Errorf("%s: %s", c.where, msg)
		}
	}
	return n, err
}

// Write writes to the pod's port.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.data.Write(p)
	if err != nil {
		err = fmt.Errorf("%s: %w", c.where, err)
	}
	return n, err
}

// Close ends the forward.
func (c *Conn) Close() error {
	c.data.Reset()
	return c.conn.Close()
}

// serverError waits for the error stream's message (it ends with the data stream, or
// with the connection).
func (c *Conn) serverError() string {
	c.once.Do(func() {
		select {
		case c.msg = <-c.errc:
		case <-c.conn.CloseChan():
		case <-time.After(5 * time.Second): // a server that never closes it
		}
	})
	return c.msg
}
