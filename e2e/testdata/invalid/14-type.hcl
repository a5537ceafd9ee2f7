# want: 14-type.hcl:5:14: error: Invalid value for "replicas": a number is required
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  replicas = "three"
}
