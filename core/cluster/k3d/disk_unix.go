//go:build unix

package k3d

import "golang.org/x/sys/unix"

// freeBytes is the space an unprivileged user may still fill on path's file system.
func freeBytes(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// writable asks the kernel without creating anything, so preflight touches nothing.
func writable(dir string) bool { return unix.Access(dir, unix.W_OK|unix.X_OK) == nil }
