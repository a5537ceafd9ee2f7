# want: 07-domain-type.hcl:3:12: error: Invalid value for "domain": a string is required
lab "e2e" {
  domain = ["e2e.local"]
}
