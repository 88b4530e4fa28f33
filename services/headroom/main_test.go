package main

import (
	"bufio"
	"encoding/json"
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
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
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

// TestSIGTERMWhileStarting builds the headroom binary and sends it SIGTERM
// while it starts (/readyz answering 503 "starting"). It must exit with
// status 0 within 5 s (a normal stop, far below the embedded NATS server's
// 15 s readiness timeout) and leave nothing listening: neither its HTTP
// listener nor the embedded NATS server's port (the NATS server lives in
// the process, so the port free again means no NATS server is left).
//
// "nats address in use": the NATS port is held by the test, so the embedded
// server can never accept connections and the start stays in its wait for
// NATS: the SIGTERM certainly comes while it starts, and the log says
// "stopped while starting". "free": the SIGTERM comes right after the first
// /readyz answer, during NATS's start or a part's build; if the start should
// finish first, the stop is an ordinary one, held to the same exit status,
// deadline and freed ports (the log line says which it was).
func TestSIGTERMWhileStarting(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "headroom")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, natsBusy := range []bool{true, false} {
		name := "free"
		if natsBusy {
			name = "nats address in use"
		}
		t.Run(name, func(t *testing.T) {
			natsAddr := freeAddr(t)
			if natsBusy {
				busy, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer busy.Close()
				natsAddr = busy.Addr().String()
			}
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
			// The listener answers from the first moment: the first
			// answer is "starting" (the process listens before NATS
			// starts), unless the whole start is done by then.
			// With NATS free, the SIGTERM waits for a part's build, NATS
			// up (its port in use until the stop), unless the start is
			// done first.
			var last string
			var starting bool
			natstest.Eventually(t, 10*time.Second, func() error {
				code, body, err := readyz(base)
				last = fmt.Sprintf("%d %q %v", code, body, err)
				starting = err == nil && code == http.StatusServiceUnavailable && strings.Contains(body, "starting: ")
				if natsBusy || !starting || strings.Contains(body, "building ") {
					return nil
				}
				return fmt.Errorf("/readyz %s, no part's build yet", last)
			})
			if natsBusy && !starting {
				t.Fatalf("/readyz with the NATS port in use: %s, want 503 starting\n%s", last, p.log())
			}
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
			if natsBusy && !strings.Contains(out, `"message":"stopped while starting"`) {
				t.Errorf("no \"stopped while starting\" in the log:\n%s", out)
			}
			if strings.Contains(out, `"level":"error"`) {
				t.Errorf("an error logged:\n%s", out)
			}
			if c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 2*time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after the exit", base)
			}
			if !natsBusy {
				l, err := net.Listen("tcp", natsAddr)
				if err != nil {
					t.Errorf("the NATS port %s after the exit: %v, want it free", natsAddr, err)
				} else {
					l.Close()
				}
			}
		})
	}
}
