// Command lab-plugin-ingress is the ingress stack of lab: NGINX or Traefik as the
// cluster's default IngressClass, on host ports 80 and 443.
package main

import "github.com/nexolab/lab/core/sdk"

func main() { sdk.Serve(New) }
