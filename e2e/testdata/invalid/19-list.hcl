# want: 19-list.hcl:5:10: error: Invalid value for "tags": a list of string is required
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  tags = "blue"
}
