# want: 16-minimum.hcl:5:14: error: Invalid value for "replicas": 0 is below the minimum of 1.
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  replicas = 0
}
