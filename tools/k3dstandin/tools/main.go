// Command k3d-tools is a stand-in for the helper image ghcr.io/k3d-io/k3d-tools, for tests
// only. k3d runs it as the cluster's tools container with "noop" and keeps it running for
// later steps; for an image import it asks "save-image -d TAR IMAGE..." to write the images
// from the Docker engine (its socket is mounted) into the cluster's image volume.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const dockerSocket = "/var/run/docker.sock"

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "noop":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
		fmt.Println("k3d-tools stand-in: waiting")
		<-c
	case len(os.Args) > 3 && os.Args[1] == "save-image" && os.Args[2] == "-d":
		err = saveImages(os.Args[3], os.Args[4:])
	default:
		err = fmt.Errorf("the k3d-tools stand-in does only noop and save-image -d TAR IMAGE...; got %v", os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "k3d-tools stand-in:", err)
		os.Exit(1)
	}
}

// saveImages writes `docker save` of the images to dest, through the engine's API.
func saveImages(dest string, images []string) error {
	if len(images) == 0 {
		return fmt.Errorf("save-image: no images named")
	}
	client := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", dockerSocket)
		},
	}}
	q := url.Values{"names": images}
	resp, err := client.Get("http://docker/images/get?" + q.Encode())
	if err != nil {
		return fmt.Errorf("ask the Docker engine at %s: %w", dockerSocket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("docker save %v: HTTP %d: %s", images, resp.StatusCode, b)
	}
	tmp := dest + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}
