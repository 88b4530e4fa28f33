//go:build !unix

package executor

import "os/exec"

// killGroup leaves cancellation to os/exec, which kills the program only,
// and nothing it left running once it ended.
func killGroup(*exec.Cmd) (leftovers func()) { return func() {} }
