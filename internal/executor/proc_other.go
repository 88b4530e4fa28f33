//go:build !unix

package executor

import "os/exec"

// killGroup leaves cancellation to os/exec, which kills the program only.
func killGroup(*exec.Cmd) {}
