package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
)

// TestSIGTERM builds the forecaster binary, runs it against an embedded
// NATS server until /readyz answers 200, sends SIGTERM and asserts that it
// exits 0 within 10 s, having left its group and logged "stopped" and no
// error on the way out.
func TestSIGTERM(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "forecaster")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	url := natstest.RunJetStream(t)
	cmd := exec.Command(bin, "-nats.url", url, "-nats.provision", "-http.addr", "127.0.0.1:0")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no HEADROOM_* fallbacks from the caller
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	var mu sync.Mutex
	var lines []string
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
			var l struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Message == "http listening" {
				addr <- l.Addr
			}
		}
		exited <- cmd.Wait() // after stderr is read to its end, as Wait requires
	}()
	log := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(lines, "\n")
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-exited:
		t.Fatalf("exited before serving: %v\n%s", err, log())
	case <-time.After(10 * time.Second):
		t.Fatalf("no \"http listening\" in 10s\n%s", log())
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz %s", resp.Status)
		}
		return nil
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, log())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10s after SIGTERM\n%s", log())
	}
	t.Logf("exited 0 in %v", time.Since(start).Round(time.Millisecond))
	out := log()
	for _, want := range []string{`"message":"joined group"`, `"message":"left group"`, `"message":"stopped"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %s in the log:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"level":"error"`) {
		t.Fatalf("an error logged:\n%s", out)
	}
}
