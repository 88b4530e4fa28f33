//go:build linux

package executor

import "syscall"

// dieWithParent has the kernel kill the program when the thread that
// started it ends: with the executor's process, killed or crashed, which
// could not kill it at its timeout, so a program that outlived its
// executor cannot change the tier after the tier's lease lapsed and
// another member changed it. The caller keeps the thread locked while
// the program runs. The program's own children are not covered.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
