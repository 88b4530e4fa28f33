//go:build linux || darwin || freebsd

package allinone

import "syscall"

// freeDisk returns the bytes free to an unprivileged user on the disk
// holding dir; ok false when it cannot tell.
func freeDisk(dir string) (free int64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(uint64(st.Bavail) * uint64(st.Bsize)), true
}
