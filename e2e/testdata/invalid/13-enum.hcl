# want: 13-enum.hcl:5:16: error: Invalid value for "controller": "haproxy" is not one of "nginx", "traefik".
lab "e2e" {}
cluster "kwok" {}
stack "ingress" {
  controller = "haproxy"
}
