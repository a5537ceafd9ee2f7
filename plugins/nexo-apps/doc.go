// Package nexoapps is the nexo-apps stack of lab: the team's own applications (nexo-fe,
// nexo-be) in every environment, with Keycloak, PostgreSQL 16 and Redis 7, their Secrets,
// RBAC, network policies, GitOps delivery and data backups. It runs as the plugin
// lab-plugin-nexo-apps, built into lab-plugins.
package nexoapps
