//go:build linux

package executor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
)

// The tests of a command killed with its children check the processes
// through /proc.

// TestCommandTimeoutKills runs a helper that hangs with a child holding its
// output open: the driver reports a timeout promptly and both are killed.
func TestCommandTimeoutKills(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "argv.log")
	d := commandDriver(t, fmt.Sprintf("'%s' '%s' hang", argvlog, log), time.Second)
	start := time.Now()
	_, err := d.Scale(context.Background(), req)
	elapsed := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "timed out after 1s") {
		t.Fatalf("err %v, want a timeout", err)
	}
	if elapsed > 5*time.Second {
		t.Fatalf("Scale returned after %v", elapsed)
	}
	for _, f := range []string{log + ".pid", log + ".child"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("helper did not record its pid: %v", err)
		}
		pid, _ := strconv.Atoi(string(b))
		if pid > 0 {
			// Should it have survived, leave no process behind (the
			// child sleeps for an hour). Only then: a process that died
			// may have its pid reused by now.
			t.Cleanup(func() {
				if t.Failed() && alive(pid) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			})
		}
		natstest.Eventually(t, 5*time.Second, func() error {
			if alive(pid) {
				return fmt.Errorf("process %d (%s) still running", pid, filepath.Ext(f))
			}
			return nil
		})
	}
}

// TestCommandTimeoutKillsScriptChildren: a shell script that starts a
// background child, detached from its output, and then hangs is killed at
// the timeout with its child: the whole process group is, so the child
// cannot change the tier after the call (and its lease) ended.
func TestCommandTimeoutKillsScriptChildren(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "scale.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
sleep 600 </dev/null >/dev/null 2>&1 &
echo $! > "$1/child.tmp" && mv "$1/child.tmp" "$1/child.pid"
wait
`), 0o755); err != nil {
		t.Fatal(err)
	}
	d := commandDriver(t, fmt.Sprintf("sh '%s' '%s'", script, dir), time.Second)
	if _, err := d.Scale(context.Background(), req); err == nil || !strings.Contains(err.Error(), "timed out after 1s") {
		t.Fatalf("err %v, want a timeout", err)
	}
	var pid int
	natstest.Eventually(t, 5*time.Second, func() error {
		b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
		if err != nil {
			return err
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err
	})
	// Should it have survived; only then (a dead child's pid may be
	// reused by now).
	t.Cleanup(func() {
		if t.Failed() && alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	natstest.Eventually(t, 5*time.Second, func() error {
		if alive(pid) {
			return fmt.Errorf("the script's child %d still runs after the call timed out", pid)
		}
		return nil
	})
}

// TestCommandLeavesNoChildren: a shell script that starts a background
// child, detached from its output, and exits at once (the call a success)
// leaves no child running: the rest of its process group is killed once
// it exited, so the child cannot change the tier after the call, and its
// lease, ended. (A child meant to outlive the call leaves the group:
// setsid.)
func TestCommandLeavesNoChildren(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "scale.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
sleep 600 </dev/null >/dev/null 2>&1 &
echo $! > "$1/child.tmp" && mv "$1/child.tmp" "$1/child.pid"
`), 0o755); err != nil {
		t.Fatal(err)
	}
	d := commandDriver(t, fmt.Sprintf("sh '%s' '%s'", script, dir), 30*time.Second)
	if _, err := d.Scale(context.Background(), req); err != nil {
		t.Fatalf("err %v, want the call done", err)
	}
	// Written before the script exited, and so before Scale returned.
	b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Fatalf("child pid %q: %v", b, err)
	}
	t.Cleanup(func() {
		if t.Failed() && alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	natstest.Eventually(t, 5*time.Second, func() error {
		if alive(pid) {
			return fmt.Errorf("the script's child %d still runs after the call ended", pid)
		}
		return nil
	})
}
