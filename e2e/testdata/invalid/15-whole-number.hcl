# want: 15-whole-number.hcl:5:14: error: Invalid value for "replicas": 1.5 is not a whole number.
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  replicas = 1.5
}
