# want: 12-unknown-attribute.hcl:5:3: error: Unsupported argument: An argument named "behavior" is not expected here. Did you mean "behaviour"?
lab "e2e" {}
cluster "kwok" {}
stack "alpha" {
  behavior = "ok"
}
