# want: 18-pattern.hcl:5:11: error: Invalid value for "delay": "soon" does not match the pattern
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  delay = "soon"
}
