# want: 32-lab-attribute.hcl:3:3: error: Unsupported argument: An argument named "domian" is not expected here. Did you mean "domain"?
lab "e2e" {
  domian = "e2e.local"
}
