//go:build unix

package executor

import (
	"os/exec"
	"syscall"
)

// killGroup runs cmd in a process group of its own and makes cancellation
// kill the whole group, so a program's children die with it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
