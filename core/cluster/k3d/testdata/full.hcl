# Every attribute of the cluster block, some through variables.
variable "agents" {
  type    = number
  default = 1
}

lab "acme" {
  domain   = "acme.test"
  data_dir = "/srv/acme/data"
}

cluster "k3d" {
  name          = "acme-dev"
  servers       = 3
  agents        = var.agents
  image         = "rancher/k3s:v1.33.4-k3s1"
  server_memory = "6g"
  agent_memory  = "8g"
  http_port     = 8080
  https_port    = 8443
  api_port      = 6443
  k3s_args = [
    "--kubelet-arg=max-pods=150@agent:*",
    "--tls-san=lab.acme.test",
  ]
  node_labels = {
    "acme.test/pool" = "general"
  }
  mirrors = {
    "docker.io" = ["https://harbor.acme.test/v2/dockerhub", "https://mirror.gcr.io"]
    "ghcr.io"   = ["https://harbor.acme.test/v2/ghcr"]
  }
  harbor_insecure           = false
  update_default_kubeconfig = true
  switch_context            = true
}

stack "ingress" { controller = "traefik" }
stack "harbor" {}
