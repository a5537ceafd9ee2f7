# want: 27-undeclared-var.hcl:3:15: error: Unsupported attribute: This object does not have an attribute named "domian".
lab "e2e" {
  domain = var.domian
}
variable "domain" {
  default = "e2e.local"
}
