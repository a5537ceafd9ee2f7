// Package helm is what a chart-based stack needs of Helm, on a kube.Client: install or
// upgrade only when the chart or values changed, CRDs applied before the objects of their
// kinds, the release's workloads waited for and named for the host's verification, charts
// fetched from http(s), oci:// or a local folder, and values merged and masked.
package helm
