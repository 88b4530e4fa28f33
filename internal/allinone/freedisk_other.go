//go:build !(linux || darwin || freebsd)

package allinone

// freeDisk cannot tell the disk free on this system.
func freeDisk(string) (int64, bool) { return 0, false }
