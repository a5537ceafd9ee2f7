//go:build !linux

package process

// DropInitPages is a Linux measure (see pages_linux.go).
func DropInitPages() {}
