# want: 28-required-var.hcl:2:1: error: No value for required variable: Variable "token" has no default: set it with -var token=... or LAB_VAR_token.
variable "token" {}
lab "e2e" {}
