# want: 22-disabled-dependency.hcl:5:16: error: Dependency not enabled: Stack "alpha" depends on "beta", which is disabled.
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  depends_on = ["beta"]
}
stack "beta" {
  enabled = false
}
