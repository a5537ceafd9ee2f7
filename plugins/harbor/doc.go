// Package harbor is the harbor stack of lab: Harbor with Trivy at harbor.<domain>, the
// team's projects with a CI robot each, and pull secrets that let the application
// namespaces pull from it. It runs as the plugin lab-plugin-harbor, built into lab-plugins.
package harbor
