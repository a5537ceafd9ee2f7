// Command k3d-proxy is a stand-in for the load balancer image ghcr.io/k3d-io/k3d-proxy, for
// tests only. The real image renders /etc/confd/values.yaml (written by k3d: for each
// "PORT.PROTO", the nodes to forward to) into an NGINX stream config; the stand-in reads the
// same file and forwards each TCP port to the same port of the first node that answers,
// turn by turn. It prints NGINX's "start worker processes", the line k3d waits for.
package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	configPath  = "/etc/confd/values.yaml"
	dialTimeout = 3 * time.Second
)

func main() {
	log.SetFlags(log.LstdFlags)
	ports, err := readConfig(configPath)
	if err != nil {
		log.Fatalf("k3d-proxy stand-in: %v", err)
	}
	var wg sync.WaitGroup
	for port, targets := range ports {
		num, proto, _ := strings.Cut(port, ".")
		if proto != "tcp" {
			log.Printf("k3d-proxy stand-in: %s is not forwarded (TCP only)", port)
			continue
		}
		l, err := net.Listen("tcp", ":"+num)
		if err != nil {
			log.Fatalf("k3d-proxy stand-in: listen on %s: %v", num, err)
		}
		log.Printf("forwarding %s to %s", port, strings.Join(targets, ", "))
		wg.Add(1)
		go func() { defer wg.Done(); serve(l, num, targets) }()
	}
	log.Printf("start worker processes (k3d-proxy stand-in)")
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	log.Printf("received %s, exiting", <-c)
}

// serve forwards every connection to the first target that accepts it, starting with the
// next in turn.
func serve(l net.Listener, port string, targets []string) {
	var turn atomic.Uint32
	for {
		conn, err := l.Accept()
		if err != nil {
			log.Printf("accept on %s: %v", port, err)
			return
		}
		start := int(turn.Add(1))
		go func() {
			defer conn.Close()
			for i := range targets {
				t := net.JoinHostPort(targets[(start+i)%len(targets)], port)
				up, err := net.DialTimeout("tcp", t, dialTimeout)
				if err != nil {
					continue
				}
				pipe(conn, up)
				return
			}
		}()
	}
}

func pipe(a, b net.Conn) {
	defer b.Close()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

// readConfig reads the ports section of k3d's values.yaml:
//
//	ports:
//	  6443.tcp:
//	  - k3d-lab-server-0
//	settings:
//	  workerConnections: 1027
func readConfig(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ports := map[string][]string{}
	inPorts, current := false, ""
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "-"):
			inPorts = trimmed == "ports:"
		case !inPorts:
		case strings.HasPrefix(trimmed, "- "):
			if current == "" {
				return nil, fmt.Errorf("%s: a node before any port: %q", path, line)
			}
			ports[current] = append(ports[current], strings.Trim(strings.TrimPrefix(trimmed, "- "), `"'`))
		case strings.HasSuffix(trimmed, ":") || strings.HasSuffix(trimmed, ": []"):
			key, _, _ := strings.Cut(trimmed, ":")
			current = strings.Trim(key, `"'`)
			ports[current] = nil
		default:
			return nil, fmt.Errorf("%s: unexpected line %q", path, line)
		}
	}
	if len(ports) == 0 {
		return nil, fmt.Errorf("%s has no ports", path)
	}
	return ports, s.Err()
}
