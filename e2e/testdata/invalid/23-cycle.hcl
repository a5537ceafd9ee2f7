# want: 23-cycle.hcl:4:1: error: Dependency cycle: The stacks depend on each other in a cycle: alpha -> gamma -> beta -> alpha.
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  depends_on = ["gamma"]
}
stack "beta" {
  depends_on = ["alpha"]
}
stack "gamma" {
  depends_on = ["beta"]
}
