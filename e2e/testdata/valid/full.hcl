# A lab file that uses every feature of the language: variables from defaults, -var and
# LAB_VAR_, functions, references to the lab block, chart overrides, dependencies and a
# disabled stack.
variable "domain" {
  type    = string
  default = "example.local"
}

variable "replicas" {
  type    = number
  default = 1
}

variable "tags" {
  type    = list(string)
  default = ["lab"]
}

lab "e2e" {
  domain   = lower(var.domain)
  data_dir = pathexpand("~/.lab/e2e/data")
}

cluster "kwok" {
  nodes = 3
}

stack "ingress" {
  controller    = "traefik"
  default_class = true
  chart "traefik" {
    version = "41.3.0"
    values = {
      deployment = { kind = "DaemonSet" }
      logs       = { general = { level = upper("info") } }
    }
  }
}

stack "alpha" {
  message    = format("served at %s by %s", lab.domain, env("USER", "nobody"))
  replicas   = var.replicas + 1
  tags       = concat(var.tags, ["alpha"])
  depends_on = ["ingress"]
  timeout    = "90s"
}

stack "beta" {
  message    = trimspace(file("message.txt"))
  depends_on = ["alpha"]
}

stack "gamma" {
  enabled  = false
  behaviour = "crash"
}
