//go:build unix

package executor_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
)

// TestCommandDiesWithItsExecutor: an executor killed (SIGKILL, the OOM
// killer) while its command runs cannot kill the program at its timeout;
// the tier's lease lapses meanwhile and another member changes the tier,
// and a program left running could land its older count after that. The
// program must die with the executor. (Run in a helper process, the
// executor, which the test kills while the command hangs.)
func TestCommandDiesWithItsExecutor(t *testing.T) {
	if v := os.Getenv(orphanLogEnv); v != "" {
		helper, log, _ := strings.Cut(v, ",")
		d := commandDriver(t, fmt.Sprintf("'%s' '%s' hang", helper, log), 10*time.Minute)
		_, err := d.Scale(context.Background(), req)
		t.Fatalf("the hanging command ended: %v", err)
	}
	if runtime.GOOS != "linux" {
		t.Skip("a parent-death signal is Linux's")
	}
	log := filepath.Join(t.TempDir(), "argv.log")
	exe := exec.Command(os.Args[0], "-test.run=^TestCommandDiesWithItsExecutor$", "-test.count=1")
	exe.Env = append(os.Environ(), orphanLogEnv+"="+argvlog+","+log)
	if err := exe.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	natstest.Eventually(t, 60*time.Second, func() error {
		b, err := os.ReadFile(log + ".pid")
		if err == nil && len(b) > 0 {
			pid, err = strconv.Atoi(string(b))
		}
		if err == nil && pid <= 0 {
			err = fmt.Errorf("pid %q", b)
		}
		return err
	})
	// Whatever the outcome, leave no program behind (its group is its pid).
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
	if err := exe.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = exe.Wait()
	natstest.Eventually(t, 10*time.Second, func() error {
		if alive(pid) {
			return fmt.Errorf("the command (pid %d) still runs after its executor was killed", pid)
		}
		return nil
	})
}
