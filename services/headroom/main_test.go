package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
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

// proc is the headroom binary running under a test, its stderr (the JSON
// log) collected line by line.
type proc struct {
	cmd    *exec.Cmd
	exited chan error // cmd.Wait's error, once stderr is read to its end
	addr   chan string
	mu     sync.Mutex
	lines  []string
}

// startBinary runs bin with args and no HEADROOM_* variables from the
// caller; the first "http listening" address arrives on p.addr. Cleanup
// kills it if the test left it running.
func startBinary(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), exited: make(chan error, 1), addr: make(chan string, 1)}
	// GORACE: a -race build (race_test.go) would sleep 1 s at its exit.
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0"}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			var l struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Message == "http listening" {
				select {
				case p.addr <- l.Addr:
				default:
				}
			}
		}
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// readyz returns /readyz's status and body.
func readyz(base string) (int, string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// freeAddr returns a local address nothing listens on (a moment ago).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// builtDir is the temporary folder buildBinary made, "" until it ran.
var builtDir string

// buildBinary builds the headroom binary into a temporary folder, once
// per test binary run, on the first test that needs it.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "headroom-e2e")
	if err != nil {
		return "", err
	}
	builtDir = dir
	bin := filepath.Join(dir, "headroom")
	args := []string{"build", "-o", bin}
	if raceBuild {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})

// TestMain removes the folder buildBinary made, if a test made it.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		_ = os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// binary returns the headroom binary, built for this run.
func binary(t *testing.T) string {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestSIGTERMWhileStarting builds the headroom binary and sends it SIGTERM
// while it starts (/readyz answering 503 "starting" and naming a part's
// build). It must exit with status 0 within 5 s and leave nothing
// listening: neither its HTTP listener nor the embedded NATS server's port
// (the NATS server lives in the process, so the port free again means no
// NATS server is left). If the start should finish before the SIGTERM,
// the stop is an ordinary one, held to the same exit status, deadline and
// freed ports (the log line says which it was).
func TestSIGTERMWhileStarting(t *testing.T) {
	bin := binary(t)
	natsAddr := freeAddr(t)
	p := startBinary(t, bin, "-http.addr", "127.0.0.1:0", "-nats.addr", natsAddr, "-data", t.TempDir())
	var base string
	select {
	case a := <-p.addr:
		base = "http://" + a
	case err := <-p.exited:
		t.Fatalf("exited before listening: %v\n%s", err, p.log())
	case <-time.After(10 * time.Second):
		t.Fatalf("no \"http listening\" in 10s\n%s", p.log())
	}
	// The listener answers from the first moment: the SIGTERM waits for
	// a part's build, NATS up (its port in use until the stop), unless
	// the start is done first.
	var last string
	natstest.Eventually(t, 10*time.Second, func() error {
		code, body, err := readyz(base)
		last = fmt.Sprintf("%d %q %v", code, body, err)
		starting := err == nil && code == http.StatusServiceUnavailable && strings.Contains(body, "starting: ")
		if !starting || strings.Contains(body, "building ") {
			return nil
		}
		return fmt.Errorf("/readyz %s, no part's build yet", last)
	})
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM while starting (%s): %v, want status 0\n%s", last, err, p.log())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5s after SIGTERM while starting (%s)\n%s", last, p.log())
	}
	out := p.log()
	t.Logf("exited 0 in %v after /readyz %s; stopped while starting: %v", time.Since(start).Round(time.Millisecond), last,
		strings.Contains(out, `"message":"stopped while starting"`))
	if strings.Contains(out, `"level":"error"`) {
		t.Errorf("an error logged:\n%s", out)
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 2*time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the exit", base)
	}
	l, err := net.Listen("tcp", natsAddr)
	if err != nil {
		t.Errorf("the NATS port %s after the exit: %v, want it free", natsAddr, err)
	} else {
		l.Close()
	}
}

// TestNATSAddressInUse runs the headroom binary with the embedded NATS
// server's address in use and its log shown (-nats.log): the start fails
// at once (not after NATS's 15 s readiness timeout), and the process exits
// on its own with status 1 and the listen error once Run returned, what
// it opened closed (nats-server's own logger would have exited the process
// on the spot, "[FTL]", Run's cleanup skipped).
func TestNATSAddressInUse(t *testing.T) {
	bin := binary(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	p := startBinary(t, bin, "-http.addr", "127.0.0.1:0", "-nats.addr", busy.Addr().String(), "-nats.log", "-data", t.TempDir())
	var exit error
	select {
	case exit = <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10s after start with NATS's address in use\n%s", p.log())
	}
	out := p.log()
	var ee *exec.ExitError
	if !errors.As(exit, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit with NATS's address in use: %v, want status 1\n%s", exit, out)
	}
	for _, want := range []string{
		`"message":"Error listening on port: ` + busy.Addr().String(), // the NATS server's log, through ours
		// service.Exit's line: Run returned, its closing done.
		"headroom: nats server on " + busy.Addr().String() + ": Error listening on port",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the output:\n%s", want, out)
		}
	}
	if strings.Contains(out, "[FTL]") {
		t.Errorf("nats-server's own fatal log line in the output:\n%s", out)
	}
}
