package proto

import (
	"strings"
	"testing"
)

// TestPrefixesNameDistinctStreams: the prefixes CheckPrefix accepts never
// name the same stream, replica bucket or service group twice, so two
// installations sharing one NATS cannot rewrite each other's streams; the
// forms that would (case, "_" for "-", dots, wildcards) are refused.
func TestPrefixesNameDistinctStreams(t *testing.T) {
	for _, bad := range []string{"", "a.b", "a_b", "A-B", "Apm", "apm.*", "apm.>", "a b", strings.Repeat("x", 33)} {
		if err := CheckPrefix(bad); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
	good := []string{DefaultPrefix, "staging", "team-a", "team-b", "a-b", "ab", "a", "b-", "-b", strings.Repeat("x", 32)}
	seen := map[string]string{}
	for _, p := range good {
		if err := CheckPrefix(p); err != nil {
			t.Fatalf("prefix %q refused: %v", p, err)
		}
		for _, name := range []string{StreamName(p, KindMetrics), StreamName(p, KindDLQ), ReplicaBucket(p)} {
			if other, ok := seen[name]; ok {
				t.Fatalf("prefixes %q and %q both name %s", other, p, name)
			}
			seen[name] = p
		}
	}
}
