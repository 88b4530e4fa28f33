package executor_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/executor"
)

func commandDriver(t *testing.T, tmpl string, timeout time.Duration) *executor.CommandDriver {
	t.Helper()
	cfg := executor.DefaultCommandConfig()
	cfg.Template, cfg.Timeout = tmpl, timeout
	d, err := executor.NewCommandDriver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dirNames lists a directory's entries, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestCommandShellMetacharacters gives the command driver a template full
// of shell syntax: the helper must run once and receive every piece of it
// as a literal argument, and nothing the syntax would do in a shell happens.
func TestCommandShellMetacharacters(t *testing.T) {
	t.Setenv("HEADROOM_NATS_PASSWORD", "s3cret")
	dir := t.TempDir()
	log := filepath.Join(dir, "argv.log")
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	tmpl := fmt.Sprintf(`'%s' '%s' scale deployment/{tier} --replicas={replicas} ; rm -rf %s $(touch %s) `+"`touch %s`"+` | tee %s > %s && touch %s & echo "{app} $HOME" '{decision}' * ~ \$(id)`,
		argvlog, log, victim, p("p1"), p("p2"), p("p3"), p("p4"), p("p5"))
	d := commandDriver(t, tmpl, 10*time.Second)
	r, err := d.Scale(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready != req.Replicas || r.Booting != 0 {
		t.Fatalf("result %+v", r)
	}
	want := []string{argvlog, log, "scale", "deployment/web", "--replicas=6", ";", "rm", "-rf", victim,
		"$(touch", p("p1") + ")", "`touch", p("p2") + "`", "|", "tee", p("p3"), ">", p("p4"), "&&", "touch", p("p5"), "&",
		"echo", "shop $HOME", req.DecisionID, "*", "~", "$(id)"}
	cs := calls(t, log)
	if len(cs) != 1 {
		t.Fatalf("helper ran %d times, want 1: %+v", len(cs), cs)
	}
	if !slices.Equal(cs[0].Argv, want) {
		t.Fatalf("argv\n got %q\nwant %q", cs[0].Argv, want)
	}
	if cs[0].App != "shop" {
		t.Fatalf("HEADROOM_APP %q", cs[0].App)
	}
	if want := strconv.FormatInt(req.Time.UnixMilli(), 10); cs[0].Time != want {
		t.Fatalf("HEADROOM_DECISION_TIME %q, want %s (the decision's event time, Unix ms)", cs[0].Time, want)
	}
	if want := []string{"HEADROOM_APP", "HEADROOM_DECISION_ID", "HEADROOM_DECISION_TIME", "HEADROOM_REPLICAS", "HEADROOM_TIER"}; !slices.Equal(cs[0].Env, want) {
		t.Fatalf("program sees HEADROOM_* %q, want only %q (no executor settings)", cs[0].Env, want)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"argv.log", "victim"}) {
		t.Fatalf("directory holds %q, want only argv.log and victim", got)
	}
}

// TestCommandRejectsUnsafeValues passes values carrying shell syntax: the
// driver refuses them before starting anything.
func TestCommandRejectsUnsafeValues(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "argv.log")
	d := commandDriver(t, fmt.Sprintf("'%s' '%s' {app} {tier} {decision}", argvlog, log), 10*time.Second)
	for _, mutate := range []func(*executor.Request){
		func(r *executor.Request) { r.App = "shop; rm -rf /" },
		func(r *executor.Request) { r.Tier = "$(touch " + filepath.Join(dir, "pwned") + ")" },
		func(r *executor.Request) { r.Tier = "`id`" },
		func(r *executor.Request) { r.DecisionID = "x | tee " + filepath.Join(dir, "pwned") },
		func(r *executor.Request) { r.Tier = "--kubeconfig" },
	} {
		r := req
		mutate(&r)
		if _, err := d.Scale(context.Background(), r); !errors.Is(err, executor.ErrBadValue) {
			t.Errorf("Scale(%+v): %v, want ErrBadValue", r, err)
		}
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Fatalf("something ran: directory holds %q", got)
	}
}

func TestCommandFailureOutput(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "argv.log")
	d := commandDriver(t, fmt.Sprintf("'%s' '%s' fail", argvlog, log), 10*time.Second)
	_, err := d.Scale(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), `deployments.apps "web" not found`) {
		t.Fatalf("err %v, want the exit status and stderr", err)
	}

	cfg := executor.DefaultCommandConfig()
	cfg.Template, cfg.MaxOutput = fmt.Sprintf("'%s' '%s' spew", argvlog, log), 100
	d, err = executor.NewCommandDriver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Scale(context.Background(), req)
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "(1048476 more bytes)") {
		t.Fatalf("err of %d bytes: %.500v", len(err.Error()), err)
	}
}

func TestCommandMissingProgram(t *testing.T) {
	cfg := executor.DefaultCommandConfig()
	cfg.Template = "headroom-no-such-program-xyz scale {tier}"
	if _, err := executor.NewCommandDriver(cfg); err == nil {
		t.Fatal("missing program accepted")
	}
}
