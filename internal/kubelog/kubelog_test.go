package kubelog_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/klog/v2"

	"github.com/headroomhq/headroom/internal/kubelog"
)

const secret = "t0ken-do-not-print"

// lockedBuffer is a bytes.Buffer safe for the writes of several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// captureStderr makes os.Stderr a pipe until the returned function is
// called, which restores it and returns what was written there.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stderr
	os.Stderr = w
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		read <- string(b)
	}()
	var once sync.Once
	var out string
	done := func() string {
		once.Do(func() {
			os.Stderr = orig
			w.Close()
			out = <-read
			r.Close()
		})
		return out
	}
	t.Cleanup(func() { done() })
	return done
}

// lines parses the JSON lines of s.
func lines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q is no JSON: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// TestInstallRoutesKlog: once installed, what client-go and apimachinery
// log through klog, structured or not, at each severity, reaches the
// zerolog logger as one JSON line with its level, logger client-go (and
// the contextual logger's name),
// and its message, error and values with the user information of URLs
// masked; klog's V(1) and above (client-go's chatter) is dropped, and
// nothing is written to stderr.
func TestInstallRoutesKlog(t *testing.T) {
	urlErr := errors.New(`failed to list *v1.Deployment: Get "https://` + secret + `@kube:6443/apis/apps/v1/namespaces/shop/deployments": EOF`)
	for _, c := range []struct {
		name string
		log  func()
		want map[string]any // fields of the one line wanted; nil for none
		in   map[string]string
	}{
		{"ErrorS", func() { klog.ErrorS(urlErr, "Failed to watch", "reflector", "r", "type", "*v1.Deployment") },
			map[string]any{"level": "error", "message": "Failed to watch", "reflector": "r", "type": "*v1.Deployment"},
			map[string]string{"error": `Get "https://REDACTED@kube:6443/apis/apps/v1/namespaces/shop/deployments": EOF`}},
		{"HandleErrorWithContext", func() { utilruntime.HandleError(urlErr) },
			map[string]any{"level": "error", "message": "Unhandled Error", "logger": "client-go/UnhandledError"},
			map[string]string{"error": "https://REDACTED@kube:6443/"}},
		{"Errorf", func() { klog.Errorf("list https://%s@kube:6443/api failed", secret) },
			map[string]any{"level": "error", "message": "list https://REDACTED@kube:6443/api failed"},
			map[string]string{"caller": "kubelog_test.go:"}},
		{"Warningf", func() { klog.Warningf("server https://ops:%s@kube warns", secret) },
			map[string]any{"level": "warn", "message": "server https://REDACTED@kube warns"}, nil},
		{"Warning", func() { klog.Warning("use https://" + secret + "@kube") },
			map[string]any{"level": "warn", "message": "use https://REDACTED@kube"}, nil},
		{"Infof", func() { klog.Infof("using https://%s@kube", secret) },
			map[string]any{"level": "info", "message": "using https://REDACTED@kube"}, nil},
		{"InfoS values", func() {
			klog.InfoS("Warning: watch ended with error", "url", "https://"+secret+"@kube", "err", urlErr, "n", 3, "ok", true, "level", "x", "odd")
		}, map[string]any{"level": "info", "message": "Warning: watch ended with error", "url": "https://REDACTED@kube", "n": float64(3), "ok": true,
			"klog_level": "x", "odd": "(MISSING)"},
			map[string]string{"err": "https://REDACTED@kube:6443/"}},
		{"contextual logger", func() {
			klog.Background().WithName("reflector").WithValues("from", "https://"+secret+"@kube").Error(urlErr, "Failed to list")
		}, map[string]any{"level": "error", "message": "Failed to list", "logger": "client-go/reflector", "from": "https://REDACTED@kube"},
			map[string]string{"error": "https://REDACTED@kube:6443/"}},
		{"V(1) is dropped", func() { klog.V(1).InfoS("chatter", "url", "https://"+secret+"@kube") }, nil, nil},
		{"V(2).Infof is dropped", func() { klog.V(2).Infof("GET https://%s@kube 200", secret) }, nil, nil},
		{"V(6) of a contextual logger is dropped", func() { klog.Background().V(6).Info("Request", "url", "https://"+secret+"@kube") }, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf lockedBuffer
			t.Cleanup(kubelog.Install(zerolog.New(&buf).With().Str("service", "test").Logger()))
			stderr := captureStderr(t)
			c.log()
			klog.Flush()
			if s := stderr(); s != "" {
				t.Errorf("stderr got %q, want nothing", s)
			}
			out := buf.String()
			if strings.Contains(out, secret) {
				t.Errorf("the token is in the log: %s", out)
			}
			got := lines(t, out)
			if c.want == nil {
				if len(got) != 0 {
					t.Errorf("logged %v, want nothing", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("logged %d lines, want 1: %s", len(got), out)
			}
			l := got[0]
			for k, v := range map[string]any{"service": "test"} {
				if l[k] != v {
					t.Errorf("%s: %v, want %v", k, l[k], v)
				}
			}
			if s, _ := l["logger"].(string); s != kubelog.Component && !strings.HasPrefix(s, kubelog.Component+"/") {
				t.Errorf("logger %q, want %q or under it", s, kubelog.Component)
			}
			for k, v := range c.want {
				if l[k] != v {
					t.Errorf("%s: %#v, want %#v (line %s)", k, l[k], v, out)
				}
			}
			for k, sub := range c.in {
				if s, _ := l[k].(string); !strings.Contains(s, sub) {
					t.Errorf("%s: %q, want it to hold %q", k, s, sub)
				}
			}
		})
	}
}

// TestInstallKeepsTheLoggersLevel: lines below the logger's level are not
// written.
func TestInstallKeepsTheLoggersLevel(t *testing.T) {
	var buf lockedBuffer
	t.Cleanup(kubelog.Install(zerolog.New(&buf).Level(zerolog.ErrorLevel)))
	klog.Warningf("a warning")
	klog.InfoS("an info")
	klog.ErrorS(nil, "an error")
	got := lines(t, buf.String())
	if len(got) != 1 || got[0]["message"] != "an error" {
		t.Fatalf("logged %v, want the error alone", got)
	}
}

// TestVerbosityCappedWhateverKlogsV: with klog's -v raised (nothing here
// raises it), structured V(1) and above still do not reach the log:
// client-go's request and watch chatter is structured.
func TestVerbosityCappedWhateverKlogsV(t *testing.T) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	if err := fs.Set("v", "6"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Set("v", "0") })
	var buf lockedBuffer
	t.Cleanup(kubelog.Install(zerolog.New(&buf)))
	klog.V(2).InfoS("Request", "url", "https://"+secret+"@kube")
	klog.Background().V(6).Info("Response", "url", "https://"+secret+"@kube")
	klog.V(0).InfoS("kept")
	got := lines(t, buf.String())
	if len(got) != 1 || got[0]["message"] != "kept" {
		t.Fatalf("logged %v, want the V(0) line alone", got)
	}
}

// TestBeforeInstallStderrMasked: with no logger installed (a process that
// uses client-go but has no service log), klog's lines go to stderr, as
// klog's own would, but as JSON and masked.
func TestBeforeInstallStderrMasked(t *testing.T) {
	stderr := captureStderr(t)
	klog.ErrorS(errors.New(`Get "https://`+secret+`@kube/api": EOF`), "Failed to watch")
	out := stderr()
	if strings.Contains(out, secret) {
		t.Errorf("the token is on stderr: %s", out)
	}
	got := lines(t, out)
	if len(got) != 1 || got[0]["message"] != "Failed to watch" || got[0]["logger"] != kubelog.Component || got[0]["level"] != "error" ||
		got[0]["error"] != `Get "https://REDACTED@kube/api": EOF` {
		t.Fatalf("stderr got %v, want one masked JSON line", got)
	}
}

// TestRestore: restore hands the lines back to the logger installed
// before and still in place, whatever order the restores come in, and to
// stderr once none is; a second call changes nothing.
func TestRestore(t *testing.T) {
	var a, b, c lockedBuffer
	restoreA := kubelog.Install(zerolog.New(&a))
	restoreB := kubelog.Install(zerolog.New(&b))
	t.Cleanup(restoreA)
	t.Cleanup(restoreB)
	stderr := captureStderr(t)
	step := func(msg string) { klog.ErrorS(nil, msg) }
	step("1 to b")
	restoreA() // not the last: b still gets the lines
	step("2 to b")
	restoreC := kubelog.Install(zerolog.New(&c))
	step("3 to c")
	restoreC()
	restoreC()
	step("4 to b")
	restoreB()
	restoreA()
	step("5 to stderr")
	for _, w := range []struct {
		name, got string
		want      []string
	}{
		{"a", a.String(), nil},
		{"b", b.String(), []string{"1 to b", "2 to b", "4 to b"}},
		{"c", c.String(), []string{"3 to c"}},
		{"stderr", stderr(), []string{"5 to stderr"}},
	} {
		var msgs []string
		for _, l := range lines(t, w.got) {
			msgs = append(msgs, l["message"].(string))
		}
		if strings.Join(msgs, "|") != strings.Join(w.want, "|") {
			t.Errorf("%s got %q, want %q", w.name, msgs, w.want)
		}
	}
}

// blockingWriter signals entered at its first write and holds that write
// until release is closed.
type blockingWriter struct {
	once    sync.Once
	entered chan struct{}
	release chan struct{}
	buf     lockedBuffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	return w.buf.Write(p)
}

// TestRestoreWaitsForLinesInFlight: restore does not return while a line
// is still being written to the logger it removes (client-go's goroutine
// took the logger just before): after restore, the service's logger (a
// test's, which panics once its test ended) is written no more.
func TestRestoreWaitsForLinesInFlight(t *testing.T) {
	for _, c := range []struct {
		name string
		log  func(msg string)
	}{
		{"structured", func(msg string) { klog.ErrorS(nil, msg) }},
		{"unstructured", func(msg string) { klog.Errorf("%s", msg) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
			var released sync.Once
			release := func() { released.Do(func() { close(w.release) }) }
			t.Cleanup(release)
			restore := kubelog.Install(zerolog.New(w))
			t.Cleanup(restore)
			logged := make(chan struct{})
			go func() {
				defer close(logged)
				c.log("in flight")
			}()
			select {
			case <-w.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the line never reached the logger")
			}
			restored := make(chan struct{})
			go func() {
				defer close(restored)
				restore()
			}()
			// restore must still be waiting: a short look, which can
			// only miss an early return on a machine too slow to run
			// it, never fail a restore that waits.
			select {
			case <-restored:
				t.Error("restore returned while a line was still being written to the logger it removes")
			case <-time.After(200 * time.Millisecond):
			}
			release()
			for _, ch := range []chan struct{}{logged, restored} {
				select {
				case <-ch:
				case <-time.After(10 * time.Second):
					t.Fatal("the line or restore never finished once the write was released")
				}
			}
			if !strings.Contains(w.buf.String(), "in flight") {
				t.Errorf("the line in flight was lost: %q", w.buf.String())
			}
		})
	}
}

// duplicateKeys returns the top-level keys of the JSON object line that
// appear more than once (zerolog does not merge them; a consumer may keep
// either, or refuse the line).
func duplicateKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("line %q is no JSON object: %v", line, err)
	}
	seen := map[string]bool{}
	var dup []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		key := tok.(string)
		if seen[key] {
			dup = append(dup, key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
	}
	return dup
}

// TestNoFieldTwice: a line carries each field once, whatever the
// service's logger carries already (the all-in-one names each of its
// parts as component) and whatever keys klog's callers pass (the
// logger's name is a field too).
func TestNoFieldTwice(t *testing.T) {
	var buf lockedBuffer
	log := zerolog.New(&buf).With().Timestamp().Str("service", "headroom").Str("version", "v").Str("component", "executor").Str("part", "executor").Logger()
	t.Cleanup(kubelog.Install(log))
	klog.ErrorS(errors.New("e"), "structured", "logger", "x", "component", "y", "error", "z", "caller", "c")
	klog.Background().WithName("reflector").WithValues("logger", "x").Info("contextual", "logger", "y")
	klog.Errorf("unstructured")
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(got) != 3 {
		t.Fatalf("logged %d lines, want 3: %s", len(got), buf.String())
	}
	for _, l := range got {
		if dup := duplicateKeys(t, l); len(dup) > 0 {
			t.Errorf("fields %q twice in %s", dup, l)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["component"] != "executor" {
			t.Errorf("component %v, want the service's own (executor): %s", m["component"], l)
		}
		if s, _ := m["logger"].(string); !strings.HasPrefix(s, kubelog.Component) {
			t.Errorf("logger %q, want it to start %q: %s", s, kubelog.Component, l)
		}
	}
}
