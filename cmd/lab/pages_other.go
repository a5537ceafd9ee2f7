//go:build !linux

package main

// dropInitPages is a Linux measure (see pages_linux.go).
func dropInitPages() {}
