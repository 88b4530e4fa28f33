package executor_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/executor"
)

var req = executor.Request{App: "shop", Tier: "web", Replicas: 6, DecisionID: "d.shop.web.1767312000000", Time: time.Unix(1767312000, 0)}

func TestTemplateExpand(t *testing.T) {
	cases := []struct {
		name, tmpl string
		want       []string
	}{
		{"kubectl", "kubectl scale deployment/{tier} --replicas={replicas}", []string{"kubectl", "scale", "deployment/web", "--replicas=6"}},
		{"all placeholders", "run {app} {tier}-{app} {replicas} {decision}", []string{"run", "shop", "web-shop", "6", "d.shop.web.1767312000000"}},
		{"whitespace runs", "  a\t\tb \n c  ", []string{"a", "b", "c"}},
		{"single quotes are literal", `echo 'a b' '$(x)' '\n'`, []string{"echo", "a b", "$(x)", `\n`}},
		{"double quotes escape only quote and backslash", `echo "a \"b\" \\ \n $HOME"`, []string{"echo", `a "b" \ \n $HOME`}},
		{"backslash escapes a space", `echo a\ b`, []string{"echo", "a b"}},
		{"empty quoted argument", `echo '' ""`, []string{"echo", "", ""}},
		{"json braces stay literal", `kubectl patch deploy/{tier} -p '{"spec":{"replicas":{replicas}}}'`, []string{"kubectl", "patch", "deploy/web", "-p", `{"spec":{"replicas":6}}`}},
		{"metacharacters are plain", "prog ; rm -rf / | tee x > y && `id` $(id) *", []string{"prog", ";", "rm", "-rf", "/", "|", "tee", "x", ">", "y", "&&", "`id`", "$(id)", "*"}},
		{"quoted parts join", `a'b c'"d"e`, []string{"ab cde"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm, err := executor.ParseTemplate(c.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tm.Expand(req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("argv %q, want %q", got, c.want)
			}
			if tm.Program() != c.want[0] {
				t.Fatalf("program %q, want %q", tm.Program(), c.want[0])
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, s := range []string{"", "   ", "a 'b", `a "b`, `a b\`, "{tier} scale", "run{app} x", "kubectl {teir}", "x --n={Replicas}", "x {foo_bar}"} {
		if _, err := executor.ParseTemplate(s); err == nil {
			t.Errorf("ParseTemplate(%q) accepted", s)
		}
	}
}

// TestTemplateRejectsValues checks that only token-valid values are
// substituted: a value that is not one is an error, not an escaped string.
func TestTemplateRejectsValues(t *testing.T) {
	tm, err := executor.ParseTemplate("prog {app} {tier} {replicas} {decision}")
	if err != nil {
		t.Fatal(err)
	}
	bad := []func(*executor.Request){
		func(r *executor.Request) { r.App = "shop; rm -rf /" },
		func(r *executor.Request) { r.App = "$(id)" },
		func(r *executor.Request) { r.Tier = "web`id`" },
		func(r *executor.Request) { r.Tier = "web|tee" },
		func(r *executor.Request) { r.Tier = "-rf" },
		func(r *executor.Request) { r.App = "" },
		func(r *executor.Request) { r.Replicas = -1 },
		func(r *executor.Request) { r.DecisionID = "d.1; rm -rf /" },
		func(r *executor.Request) { r.DecisionID = "--all" },
		func(r *executor.Request) { r.DecisionID = "" },
	}
	for i, mutate := range bad {
		r := req
		mutate(&r)
		if argv, err := tm.Expand(r); !errors.Is(err, executor.ErrBadValue) {
			t.Errorf("case %d: Expand(%+v) = %q, %v; want ErrBadValue", i, r, argv, err)
		}
	}
	// A template not using a field does not check it.
	tm, _ = executor.ParseTemplate("prog {tier}")
	r := req
	r.DecisionID = ""
	if _, err := tm.Expand(r); err != nil {
		t.Fatalf("unused empty decision id: %v", err)
	}
}

func BenchmarkTemplateExpand(b *testing.B) {
	tm, err := executor.ParseTemplate("kubectl -n prod scale deployment/{app}-{tier} --replicas={replicas} --record={decision}")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tm.Expand(req); err != nil {
			b.Fatal(err)
		}
	}
}
