# want: 26-values.hcl:6:14: error: Invalid value for "values": An object of chart values is required
lab "e2e" {}
cluster "kwok" {}
stack "ingress" {
  chart "ingress-nginx" {
    values = "replicaCount: 2"
  }
}
