// Package process is what every lab binary does as it starts, the host and the
// first-party plugins alike: a soft Go memory limit with the collector off while packages
// initialise, heap profiles on request (all set when the package is imported), and
// DropInitPages, which main calls first, then Collect in a plugin.
package process
