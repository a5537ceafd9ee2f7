// Package ingress is the ingress stack of lab: NGINX or Traefik as the cluster's default
// IngressClass, on host ports 80 and 443. It runs as the plugin lab-plugin-ingress, one of
// the stacks built into the lab-plugins binary (cmd/lab-plugins).
package ingress
