# want: 21-unknown-dependency.hcl:5:16: error: Unknown dependency: Stack "alpha" depends on "gama", which lab.hcl does not declare. Did you mean "gamma"?
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  depends_on = ["gama"]
}
stack "gamma" {}
