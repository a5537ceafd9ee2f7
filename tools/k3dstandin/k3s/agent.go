package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// registerWithin bounds how long an agent tries to reach its server.
const registerWithin = 3 * time.Minute

// agent registers this container as a node of the server in K3S_URL, authenticating with
// K3S_TOKEN as k3s agents do, then waits until Docker stops the container.
func agent(f flags) error {
	url, token := os.Getenv("K3S_URL"), os.Getenv("K3S_TOKEN")
	if url == "" || token == "" {
		return fmt.Errorf("K3S_URL and K3S_TOKEN must be set (k3d sets them on every agent)")
	}
	name, _ := os.Hostname()
	logf("info", "Starting k3s stand-in agent %s (tests only: no kubelet, kwok on the server simulates this node) with %s", name, url)
	a := tokenAPI(url, token)
	ctx, cancel := context.WithTimeout(context.Background(), registerWithin)
	defer cancel()
	var last error
	for attempt := 0; ; attempt++ {
		if last = a.register(ctx, nodeObject(name, false, f)); last == nil {
			break
		}
		if attempt%10 == 0 {
			logf("info", "waiting for the server %s: %v", url, last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("could not register with %s within %s: %v", url, registerWithin, last)
		case <-time.After(time.Second):
		}
	}
	logf("info", "Successfully registered node %s", name)
	s := <-stopSignal()
	logf("info", "Received %s, stopping", s)
	return nil
}

// kubectl does what k3d's node entrypoint asks of kubectl: uncordon the node at start,
// drain it at stop. Like real kubectl on an agent, it fails where there is no admin
// kubeconfig (only servers have one). A drain cordons the node; there are no pods to evict.
func kubectl(args []string) error {
	if len(args) < 2 || (args[0] != "uncordon" && args[0] != "cordon" && args[0] != "drain") {
		return fmt.Errorf("the k3s stand-in's kubectl only does cordon, uncordon and drain NODE; got %v", args)
	}
	p := pki{dir: filepath.Join(serverDir, "tls")}
	a, err := adminAPI(p)
	if err != nil {
		return fmt.Errorf("no admin credentials on this node (only servers have them): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.setUnschedulable(ctx, args[1], args[0] != "uncordon"); err != nil {
		return err
	}
	fmt.Printf("node/%s %sed\n", args[1], args[0])
	return nil
}
