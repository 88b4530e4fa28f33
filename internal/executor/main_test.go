package executor_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/headroomhq/headroom/internal/executor"
)

// orphanLogEnv names, in a helper run of the test binary, the log of the
// command it runs (and the helper program's path after a comma): see
// TestCommandDiesWithItsExecutor.
const orphanLogEnv = "EXECUTOR_TEST_ORPHAN_LOG"

// argvlog is the path of the helper program built from testdata/argvlog.
var argvlog string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv(orphanLogEnv) != "" || os.Getenv(executor.KlogServerEnv) != "" {
		// TestCommandDiesWithItsExecutor's helper run, which is killed
		// (no deferred removal runs) and is given the helper's path: it
		// builds nothing, and so leaves no directory behind. Nor does
		// TestKubeClientLogsReachTheLogMasked's child, which needs no
		// helper.
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "argvlog")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	argvlog = filepath.Join(dir, "argvlog")
	out, err := exec.Command("go", "build", "-o", argvlog, "./testdata/argvlog").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build helper: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// call is one run of the helper as it recorded it.
type call struct {
	Argv []string `json:"argv"`
	App  string   `json:"app"`
	Time string   `json:"time"`
	Env  []string `json:"env"`
}

// calls reads the helper's log; a missing log is no calls.
func calls(t *testing.T, path string) []call {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []call
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c call
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("helper log line %q: %v", sc.Text(), err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
