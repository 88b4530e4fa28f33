package bus_test

import (
	"errors"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// natsClient is the NATS client module: nats.go and its jetstream,
// micro and other packages.
const natsClient = "github.com/nats-io/nats.go"

// doors are the directories (relative to the module root, slash-separated)
// whose code may use the NATS client: the bus, and the test infrastructure
// that starts servers and gives tests raw access.
var doors = []string{"internal/bus", "internal/natstest"}

// TestOnlyTheBusImportsNATS enforces that internal/bus is the only door to
// NATS: no non-test Go file outside the doors imports the NATS client.
// Tests may (they provoke what the bus never does), so _test.go files are
// not checked.
func TestOnlyTheBusImportsNATS(t *testing.T) {
	root := moduleRoot(t)
	var offenders []string
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			for _, door := range doors {
				if rel == door {
					return filepath.SkipDir
				}
			}
			if rel != "." {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if p == natsClient || strings.HasPrefix(p, natsClient+"/") {
				offenders = append(offenders, rel+" imports "+p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files under %s: the walk missed the module", checked, root)
	}
	for _, o := range offenders {
		t.Errorf("%s: only internal/bus talks to NATS (use its read, watch and replica API)", o)
	}
}

// moduleRoot finds the directory holding go.mod above the working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
