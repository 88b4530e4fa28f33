package executor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/redact"
)

// CommandConfig configures the command driver.
type CommandConfig struct {
	// Template is the command line, e.g.
	// "kubectl scale deployment/{tier} --replicas={replicas}"; see ParseTemplate.
	Template string
	// Timeout bounds one run; the program (and its process group) is killed after it.
	Timeout time.Duration
	// MaxOutput bounds the bytes of combined output kept for the error message.
	MaxOutput int
}

// DefaultCommandConfig returns a 30-second timeout and 4 KiB of output.
func DefaultCommandConfig() CommandConfig {
	return CommandConfig{Timeout: 30 * time.Second, MaxOutput: 4096}
}

func (c *CommandConfig) registerFlags(f *cli.Flags) {
	d := DefaultCommandConfig()
	f.String(&c.Template, "executor.command", "", "command driver: argument template run without a shell, e.g. 'kubectl scale deployment/{tier} --replicas={replicas}'; placeholders {app} {tier} {replicas} {decision}")
	f.Duration(&c.Timeout, "executor.command.timeout", d.Timeout, "command driver: kill a run after this long")
	f.Int(&c.MaxOutput, "executor.command.max-output", d.MaxOutput, "command driver: bytes of output kept for the error message")
}

// Validate checks the settings and parses the template.
func (c CommandConfig) Validate() error {
	if strings.TrimSpace(c.Template) == "" {
		return errors.New("executor.command is empty: the command driver needs a template")
	}
	if _, err := ParseTemplate(c.Template); err != nil {
		return fmt.Errorf("executor.command: %w", err)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("executor.command.timeout %v: want > 0", c.Timeout)
	}
	if c.MaxOutput < 0 {
		return fmt.Errorf("executor.command.max-output %d: want >= 0", c.MaxOutput)
	}
	return nil
}

// CommandDriver runs a program for each change, with its arguments from a
// Template: no shell is involved, so shell metacharacters in the template or
// the values are plain characters of an argument. The program runs with the
// executor's environment, less its HEADROOM_* settings, plus HEADROOM_APP,
// HEADROOM_TIER, HEADROOM_REPLICAS, HEADROOM_DECISION_ID and
// HEADROOM_DECISION_TIME (the decision's event time, Unix milliseconds: a
// program that must never go back to an older count refuses one older
// than the last it applied to the app's tier; the same time is the same
// decision); it succeeds when it exits 0. It is assumed to set an
// absolute count (as kubectl scale does), so repeating it is harmless.
type CommandDriver struct {
	tmpl      *Template
	path      string
	timeout   time.Duration
	maxOutput int
}

// NewCommandDriver parses cfg's template once and resolves its program in
// PATH (a program named with a path separator is used as is).
func NewCommandDriver(cfg CommandConfig) (*CommandDriver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := ParseTemplate(cfg.Template)
	if err != nil {
		return nil, err
	}
	path, err := exec.LookPath(t.Program())
	if err != nil {
		// Quoted masked (the lookup's error quotes it too): a program
		// given as a URL-like path may hold a password or a token.
		return nil, fmt.Errorf("executor.command: program %q: %w", redact.Text(t.Program()), redact.Error(err))
	}
	return &CommandDriver{tmpl: t, path: path, timeout: cfg.Timeout, maxOutput: cfg.MaxOutput}, nil
}

// Scale runs the command for r and waits for it, at most the timeout.
func (d *CommandDriver) Scale(ctx context.Context, r Request) (Result, error) {
	argv, err := d.tmpl.Expand(r)
	if err != nil {
		return Result{}, fmt.Errorf("command %s: %w", d.tmpl.Program(), err)
	}
	runCtx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, d.path)
	cmd.Args = argv
	cmd.Env = append(childEnv(),
		"HEADROOM_APP="+r.App, "HEADROOM_TIER="+r.Tier,
		"HEADROOM_REPLICAS="+strconv.Itoa(r.Replicas), "HEADROOM_DECISION_ID="+r.DecisionID,
		"HEADROOM_DECISION_TIME="+strconv.FormatInt(r.Time.UnixMilli(), 10))
	out := &boundedBuffer{max: d.maxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	leftovers := killGroup(cmd)
	// If the program leaves children holding the output pipe open, stop
	// waiting for them shortly after it exits or is killed.
	cmd.WaitDelay = commandWaitDelay
	// The parent-death signal (killGroup) follows the thread that starts
	// the program: kept for this goroutine until the program ended.
	runtime.LockOSThread()
	err = cmd.Run()
	runtime.UnlockOSThread()
	// Nothing the program started outlives the call (killGroup).
	leftovers()
	switch {
	case err == nil:
		return Result{Ready: r.Replicas}, nil
	case errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		return Result{}, fmt.Errorf("command %s: timed out after %v, killed%s", d.tmpl.Program(), d.timeout, out.suffix())
	default:
		return Result{}, fmt.Errorf("command %s: %w%s", d.tmpl.Program(), err, out.suffix())
	}
}

// commandWaitDelay is how long a run waits for the program's output once
// it exited or was killed (children holding the pipe open).
const commandWaitDelay = time.Second

// childEnv is the executor's environment without its own HEADROOM_*
// settings, which may hold secrets (NATS password, webhook token) the program
// has no use for.
func childEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HEADROOM_") {
			out = append(out, kv)
		}
	}
	return out
}

// boundedBuffer keeps the first max bytes written and counts the rest.
type boundedBuffer struct {
	max     int
	buf     []byte
	dropped int
}

// Write keeps what fits and never fails, so the program never blocks on it.
func (b *boundedBuffer) Write(p []byte) (int, error) {
	n := min(len(p), b.max-len(b.buf))
	b.buf = append(b.buf, p[:n]...)
	b.dropped += len(p) - n
	return len(p), nil
}

// suffix renders the kept output for an error message: ": <output>" with a
// note of what was dropped, or nothing when the program printed nothing.
func (b *boundedBuffer) suffix() string {
	// The program's output may quote a URL it was given, with its
	// password or its query's token (wget prints the URL it fetches):
	// masked as every error quoting one is, for the log, the failed
	// scaling event and the dashboard.
	// Cut short (dropped), the kept output may end within a URL's user
	// information, no @ left to tell the password by (redact.Snippet).
	s := strings.TrimSpace(redact.Snippet(b.buf, b.dropped > 0))
	if s == "" && b.dropped == 0 {
		return ""
	}
	if b.dropped > 0 {
		s += fmt.Sprintf(" … (%d more bytes)", b.dropped)
	}
	return ": " + s
}
