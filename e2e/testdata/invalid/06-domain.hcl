# want: 06-domain.hcl:3:12: error: Invalid domain: "Nexo Local" is not a DNS domain
lab "e2e" {
  domain = "Nexo Local"
}
