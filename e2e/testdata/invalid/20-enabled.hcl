# want: 20-enabled.hcl:5:13: error: Invalid value for "enabled": a bool is required
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  enabled = "yes"
}
