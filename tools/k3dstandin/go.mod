// The stand-ins of the node images k3d runs (rancher/k3s, k3d-proxy, k3d-tools), for tests
// on a Docker engine that cannot pull images. Standard library only; kept out of go.work.
module github.com/nexolab/lab/tools/k3dstandin

go 1.26.8
