package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/config"
)

// TestTraceRefusesNegativeDemand: a trace whose demand column holds a
// negative value is refused with an error naming the file, the line and
// the value, rather than replayed with the value clamped to zero; other
// columns may be negative.
func TestTraceRefusesNegativeDemand(t *testing.T) {
	for _, c := range []struct {
		name, column, csv, want string // want "": accepted
	}{
		{"negative demand", "", "timestamp,rps\n2020-01-01T00:00:00Z,10\n\n2020-01-01T00:01:00Z,-5\n", `line 4, column "rps": demand -5 is negative`},
		{"negative other column", "rps", "timestamp,rps,delta\n2020-01-01T00:00:00Z,10,-1\n2020-01-01T00:01:00Z,0,-3\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "load.csv")
			if err := os.WriteFile(file, []byte(c.csv), 0o600); err != nil {
				t.Fatal(err)
			}
			s := &Service{cfg: DefaultConfig()}
			_, err := s.newTrace(config.App{Name: "shop", Trace: config.Trace{File: file, Column: c.column}})
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), file)):
				t.Fatalf("err %v, want it to name %s and contain %q", err, file, c.want)
			}
		})
	}
}
