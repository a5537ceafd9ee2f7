# want: 24-timeout.hcl:5:13: error: Invalid value for "timeout": "ten minutes" is not a positive duration
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  timeout = "ten minutes"
}
