//go:build unix

package executor

import (
	"os/exec"
	"syscall"
)

// killGroup runs cmd in a process group of its own and makes cancellation
// kill the whole group, so a program's children die with it; where the
// kernel can, the program dies with the executor too (dieWithParent).
// The returned func, called once the program ended (cmd.Run returned),
// kills what is left of the group: children the program left running
// when it exited by itself, which could change the tier after the call,
// and its lease, ended. (While one of them runs, the group's id is in
// use and no other process takes it; once none does, the kill finds no
// group, the kernel handing pids out in turn, an id freed just now last.)
func killGroup(cmd *exec.Cmd) (leftovers func()) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return func() {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
}
