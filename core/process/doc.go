// Package process is what every lab binary does as it starts, the host and the
// first-party plugins alike: a soft Go memory limit, heap profiles on request (both set
// when the package is imported), and DropInitPages, which main calls first.
package process
