# want: 30-cluster-attribute.hcl:4:12: error: Unsuitable value type: Unsuitable value: a number is required
lab "e2e" {}
cluster "kwok" {
  nodes = "many"
}
