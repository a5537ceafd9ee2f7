# want: 17-maximum.hcl:5:14: error: Invalid value for "replicas": 9 is above the maximum of 5.
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  replicas = 3 * 3
}
