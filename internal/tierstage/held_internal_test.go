package tierstage

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// holding is a State that holds one app; it records the apps forgotten.
type holding struct {
	app       string
	forgotten []string
}

func (h *holding) Arrive(time.Time)                           {}
func (h *holding) SetSent(string, string, time.Time)          {}
func (h *holding) Forget(app string)                          { h.forgotten = append(h.forgotten, app) }
func (h *holding) HoldsApp(app string) bool                   { return app == h.app }
func (h *holding) Returning(string, string) bool              { return false }
func (h *holding) step(*proto.Metrics) (proto.Message, error) { return nil, nil }

// TestRuntimeForgetsAppsItsStateDoesNotHold: the runtime asks its State
// which apps it holds (State.HoldsApp), so the partition record of a stage
// sent many app names it does not hold (refused, or evicted idle) stays
// within twice the apps held plus a slack, and a hand-over still forgets
// the app it holds. Without the runtime wiring HoldsApp into its record,
// every name stayed until its partition was handed over.
func TestRuntimeForgetsAppsItsStateDoesNotHold(t *testing.T) {
	st := &holding{app: "kept"}
	r, err := New(Spec{Name: "held", Output: proto.KindAnomaly, State: st, Step: st.step}, service.Deps{Log: zerolog.Nop(), Ready: service.NewReady()})
	if err != nil {
		t.Fatal(err)
	}
	r.apps.Note("kept", 0)
	for i := range 200 {
		r.apps.Note(fmt.Sprintf("refused%03d", i), 0)
	}
	if n, most := r.apps.Len(), 2*1+16+1; n > most {
		t.Fatalf("%d apps noted while the state holds 1, want at most %d", n, most)
	}
	r.release(0)
	if !slices.Contains(st.forgotten, "kept") {
		t.Fatalf("the hand-over forgot %v, not the app held", st.forgotten)
	}
}
