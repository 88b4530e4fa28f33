package ingest_test

import (
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/ingest"
)

// FuzzParse feeds arbitrary bodies to the push API's decoder in both
// formats: it must never panic, must answer either ticks or an error with a
// 4xx status, and every tick it accepts must pass proto's own validation.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"app":"shop","tier":"web","time":"2026-01-02T03:04:05Z","replicas":3,"values":{"rps":120.5,"cpu":0.41}}`), false)
	f.Add([]byte(`[{"app":"a","tier":"b","time":1767323045000,"values":{"rps":1e308}}]`), false)
	f.Add([]byte(`{"app":"shop","tier":"web","values":{"rps":NaN}}`), false)
	f.Add([]byte{0x81, 0xa3, 'a', 'p', 'p', 0xa4, 's', 'h', 'o', 'p'}, true)
	f.Add([]byte{0x91, 0xc1}, true)
	now := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, msgpack bool) {
		format := ingest.JSON
		if msgpack {
			format = ingest.MsgPack
		}
		ticks, perr := ingest.Parse(body, format, now, ingest.DefaultConfig())
		if perr != nil {
			if perr.Status < 400 || perr.Status > 499 {
				t.Fatalf("status %d for a bad body: %v", perr.Status, perr)
			}
			return
		}
		for _, m := range ticks {
			if err := m.Validate(); err != nil {
				t.Fatalf("accepted an invalid tick %+v: %v", m, err)
			}
		}
	})
}
