package browsertest_test

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/headroomhq/headroom/internal/browsertest"
)

// TestMeasure7d opens the 7-day window of a running all-in-one three times
// and logs how long each load took (from subscribe to the last
// history_done, and to the first full drawing after it), the messages and
// the connections. It is a measurement, not
// a check: it runs only with HEADROOM_MEASURE_ADDR set, e.g.
//
//	go run ./services/headroom &   # seven days of backfilled history
//	HEADROOM_MEASURE_ADDR=127.0.0.1:8080 go test ./internal/browsertest -run TestMeasure7d -v
func TestMeasure7d(t *testing.T) {
	addr := os.Getenv("HEADROOM_MEASURE_ADDR")
	if addr == "" {
		t.Skip("HEADROOM_MEASURE_ADDR not set")
	}
	for i := range 3 {
		br := browsertest.New(t)
		br.Run("load", chromedp.Navigate("http://"+addr+"/#view=tier&app=shop&tier=web&w=604800000"))
		// (A page from before load.drawn existed is measured to load.ms.)
		br.PollFor("drawn", `window.headroom && headroom.state.load.ms > 0 && (headroom.state.load.drawn > 0 || !("drawn" in headroom.state.load))`, 2*time.Minute)
		t.Logf("run %d: 7-day window complete in %.0f ms, drawn in %.0f ms, %.0f messages, %.0f connection(s)", i,
			browsertest.Eval[float64](br, "headroom.state.load.ms"), browsertest.Eval[float64](br, "headroom.state.load.drawn || 0"),
			browsertest.Eval[float64](br, "headroom.state.load.msgs"), browsertest.Eval[float64](br, "headroom.state.opens"))
	}
}
