//go:build !linux

package sdk

// nameProcess has nothing to do where the host starts plugins by their path.
func nameProcess() {}
