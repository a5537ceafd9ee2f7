# want: 25-repository.hcl:6:18: error: Invalid value for "repository": "ftp://charts.example" is neither
lab "e2e" {}
cluster "kwok" {}
stack "ingress" {
  chart "ingress-nginx" {
    repository = "ftp://charts.example"
  }
}
