# The Nexo CloudLab: a k3d cluster (1 server, 2 agents, data on a host folder) and the
# team's stacks. `lab apply` makes it so; `lab plan` says what that would change.
#
# Variables can be set with -var name=value or LAB_VAR_<name>=value.

variable "domain" {
  type        = string
  default     = "nexo.local"
  description = "every UI of the lab is served under this domain"
}

variable "data_dir" {
  type        = string
  default     = "~/.lab/nexo/data"
  description = "host folder mounted at /mnt/data on every node (e.g. /Volumes/Backup/nexo-cloudlab)"
}

lab "nexo" {
  domain   = var.domain
  data_dir = pathexpand(var.data_dir)
}

cluster "k3d" {
  name    = "nexo-local"
  servers = 1
  agents  = 2
}

stack "ingress" {
  controller = "nginx"
}

stack "argocd" {
  repo_url = "https://github.com/usuario/nexo"
}

stack "monitoring" {
  retention = "10d"
}

stack "logging" {
  elasticsearch_nodes = 3
}

stack "harbor" {
  projects = ["nexo"]
}

stack "nexo-apps" {
  environments = ["develop", "qa", "staging", "prod"]
}
