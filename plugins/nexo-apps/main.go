// Command lab-plugin-nexo-apps is the nexo-apps stack of lab: the team's own
// applications (nexo-fe, nexo-be) in every environment, with Keycloak, PostgreSQL 16 and
// Redis 7, their Secrets, RBAC, network policies, GitOps delivery and data backups.
package main

import "github.com/nexolab/lab/core/sdk"

func main() { sdk.Serve(New) }
