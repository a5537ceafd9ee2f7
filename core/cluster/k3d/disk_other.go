//go:build !unix

package k3d

import "errors"

func freeBytes(string) (uint64, error) { return 0, errors.New("not supported on this system") }

func writable(string) bool { return true }
