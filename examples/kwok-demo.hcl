# Try lab without Docker or internet: a kwok-simulated cluster (a real API server; nodes and
# pods simulated) and the test charts of this repository in place of the upstream ones.
#   make demo          # builds the cluster binaries once, then applies this file
#   ./bin/lab health -f examples/kwok-demo.hcl
#   ./bin/lab destroy examples/kwok-demo.hcl --yes
lab "demo" {
  domain = "demo.local"
}

cluster "kwok" {
  name  = "lab-demo"
  nodes = 3
}

stack "ingress" {
  controller = "traefik"
  chart "traefik" {
    repository = "../testdata/charts"
  }
}

stack "argocd" {
  chart "argo-cd" {
    repository = "../testdata/charts"
  }
}

stack "monitoring" {
  chart "kube-prometheus-stack" {
    repository = "../testdata/charts"
  }
}
