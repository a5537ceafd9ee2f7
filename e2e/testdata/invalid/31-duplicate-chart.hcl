# want: 31-duplicate-chart.hcl:6:9: error: Duplicate chart block: Chart "ingress-nginx" is already overridden in this stack.
lab "e2e" {}
cluster "kwok" {}
stack "ingress" {
  chart "ingress-nginx" {}
  chart "ingress-nginx" {}
}
