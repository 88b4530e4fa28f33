package ingest_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/ingest"
)

// padded is a 1 MiB body of one tick padded with an array of small numbers:
// a field no tick has, built to make decoding allocate.
func padded() []byte {
	return []byte(`{"app":"shop","tier":"web","time":"2026-01-02T03:04:00Z","replicas":3,"values":{"rps":5},"x":[` +
		strings.Repeat("0,", (1<<20-100)/2) + `0]}`)
}

// TestParseTickTokens: a JSON tick is read at most maxTickJSONValues (256)
// tokens deep, whatever it holds; past them it is refused with a 400 on
// the path reached, having allocated a few KB rather than the 110 MB that
// decoding the padding of a 1 MiB tick took. The largest valid tick (64
// values, 16 labels) is read.
func TestParseTickTokens(t *testing.T) {
	const msg = "more than 256 JSON values and keys in one tick: a tick has at most 64 values and 16 labels"
	for _, c := range []struct {
		name       string
		body       []byte
		pathPrefix string // "": accepted
		maxAlloc   uint64
	}{
		{"the largest valid tick", mustJSON(tickJSON(map[string]any{"values": manyValues(64), "labels": manyLabels(16)})), "", 1 << 20},
		{"a tick padded with an array", padded(), "x[", 1 << 20},
		{"a batch's tick of 300 values", mustJSON([]any{tickJSON(nil), tickJSON(map[string]any{"values": manyValues(300)})}), "[1].values.", 1 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			ticks, err := ingest.Parse(c.body, ingest.JSON, now, ingest.DefaultConfig())
			runtime.ReadMemStats(&m1)
			alloc := m1.TotalAlloc - m0.TotalAlloc
			t.Logf("%d bytes: allocated %d KiB: %v", len(c.body), alloc>>10, err)
			switch {
			case c.pathPrefix == "" && (err != nil || len(ticks) != 1):
				t.Fatalf("refused: %v", err)
			case c.pathPrefix != "" && (err == nil || err.Status != 400 || !strings.HasPrefix(err.Field, c.pathPrefix) || err.Message != msg):
				t.Fatalf("err %+v, want a 400 on %s… saying %q", err, c.pathPrefix, msg)
			case alloc > c.maxAlloc:
				t.Fatalf("allocated %d KiB, budget %d KiB", alloc>>10, c.maxAlloc>>10)
			}
		})
	}
}

// BenchmarkParsePadded measures parsing the 1 MiB padded tick of
// TestParseTickTokens, refused at 256 tokens:
//
//	go test -run '^$' -bench ParsePadded -benchmem ./internal/ingest
func BenchmarkParsePadded(b *testing.B) {
	body := padded()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ingest.Parse(body, ingest.JSON, now, ingest.DefaultConfig()); err == nil {
			b.Fatal("accepted")
		}
	}
}
