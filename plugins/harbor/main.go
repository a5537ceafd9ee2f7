// Command lab-plugin-harbor is the harbor stack of lab: Harbor with Trivy at
// harbor.<domain>, the team's projects with a CI robot each, and pull secrets that let
// the application namespaces pull from it.
package main

import "github.com/nexolab/lab/core/sdk"

func main() { sdk.Serve(New) }
