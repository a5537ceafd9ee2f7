# The team's lab.hcl of the design document.
lab "nexo" {
  domain   = "nexo.local"
  data_dir = "/Volumes/Backup/nexo-cloudlab"
}

cluster "k3d" {
  name    = "nexo-local"
  servers = 1
  agents  = 2
}

stack "ingress"    { controller = "nginx" }
stack "argocd"     { repo_url = "https://github.com/usuario/nexo" }
stack "monitoring" { retention = "10d" }
stack "logging"    { elasticsearch_nodes = 3 }
stack "harbor"     { projects = ["nexo"] }
stack "nexo-apps"  { environments = ["develop", "qa", "staging", "prod"] }
