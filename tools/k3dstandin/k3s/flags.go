package main

import "strings"

// flags are the k3s flags the stand-in acts on; the others are accepted and ignored, as
// they concern the kubelet, containerd or the bundled add-ons, none of which it runs.
type flags struct {
	TLSSANs     []string
	NodeLabels  []string
	Disable     []string
	ClusterInit bool
	// All is every argument as given, recorded on the node for tests to read.
	All []string
}

// valued are the k3s flags that take a value, given as "--flag value" or "--flag=value".
var valued = map[string]bool{
	"tls-san": true, "node-label": true, "node-taint": true, "disable": true, "token": true,
	"server": true, "kubelet-arg": true, "kube-apiserver-arg": true, "node-name": true,
	"default-local-storage-path": true, "data-dir": true, "cluster-cidr": true, "service-cidr": true,
}

func parseFlags(args []string) flags {
	f := flags{All: args}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !hasValue && valued[name] && i+1 < len(args) {
			i++
			value = args[i]
		}
		switch name {
		case "tls-san":
			f.TLSSANs = append(f.TLSSANs, value)
		case "node-label":
			f.NodeLabels = append(f.NodeLabels, value)
		case "disable":
			f.Disable = append(f.Disable, strings.Split(value, ",")...)
		case "cluster-init":
			f.ClusterInit = true
		}
	}
	return f
}
