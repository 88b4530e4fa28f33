//go:build !unix

package kubetest

import "os/exec"

// ownGroup does nothing where there are no Unix process groups: the
// control plane's binaries are built for Linux only (build.sh), so the
// package only needs to compile here, for `go vet ./...`.
func ownGroup(*exec.Cmd) {}

// terminateGroup kills cmd's process at once: there is no SIGTERM to send.
func terminateGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

// killGroup kills cmd's process.
func killGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
