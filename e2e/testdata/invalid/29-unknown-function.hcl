# want: 29-unknown-function.hcl:3:12: error: Call to unknown function: There is no function named "uppercase".
lab "e2e" {
  domain = uppercase("e2e.local")
}
