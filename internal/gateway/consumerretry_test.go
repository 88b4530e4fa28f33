package gateway_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestLiveConsumerRefusedBacksOff: a gateway whose NATS user the server
// refuses a stream (nats.conf not letting it read there) tries the
// stream's live consumer again at a growing interval, capped, not every
// second: since refusals come at once (no longer at the request's
// timeout), every second was a permissions violation line in the server's
// log per second for as long as the misconfiguration lasted. The waits
// asked for are read through a hook, in place of waiting them.
func TestLiveConsumerRefusedBacksOff(t *testing.T) {
	stream := proto.StreamName("apm", proto.KindMetrics)
	r := natstest.StartRestricted(t, "gateway", "$JS.API.CONSUMER.CREATE."+stream+".>")
	_ = r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	b := r.Connect(t, "gateway", zerolog.Nop())
	g, err := gateway.New(gateway.DefaultConfig(), service.Deps{Bus: b, Log: zerolog.Nop(), Reg: prometheus.NewRegistry(),
		Ready: service.NewReady(), Mux: http.NewServeMux()})
	if err != nil {
		t.Fatal(err)
	}
	waits := make(chan time.Duration)
	gateway.SetRetryWait(g, func(ctx context.Context, d time.Duration) error {
		select {
		case waits <- d:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	stop := natstest.Serve(t, "gateway run", g.Run)
	defer stop()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	var got []time.Duration
	for range want {
		select {
		case d := <-waits:
			got = append(got, d)
		case <-time.After(10 * time.Second):
			t.Fatalf("no retry of the refused stream within 10 s; waits so far %v", got)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("waits between the refused stream's attempts %v, want %v", got, want)
	}
}

// TestLiveConsumerRetryLogged: the failed starts of a live consumer are
// logged as a warning at the first of a kind in a row (its stream not
// created yet; the server's permissions refusal) and every tenth after,
// at debug level in between: the retry logged every tenth attempt, so a
// refusal after a missing stream went unsaid until the attempt count
// reached a tenth; and a warning at each other failure was one a second
// for as long as the stream was not created.
func TestLiveConsumerRetryLogged(t *testing.T) {
	stream := proto.StreamName("apm", proto.KindMetrics)
	r := natstest.StartRestricted(t, "gateway", "$JS.API.CONSUMER.CREATE."+stream+".>")
	r.Allow(t) // no stream yet: the first attempts fail otherwise
	logs := &natstest.Logs{}
	b := r.Connect(t, "gateway", zerolog.Nop())
	g, err := gateway.New(gateway.DefaultConfig(), service.Deps{Bus: b, Log: zerolog.New(logs), Reg: prometheus.NewRegistry(),
		Ready: service.NewReady(), Mux: http.NewServeMux()})
	if err != nil {
		t.Fatal(err)
	}
	// Each wait is told on waits, and ends when resume is sent to.
	waits, resume := make(chan time.Duration), make(chan struct{})
	gateway.SetRetryWait(g, func(ctx context.Context, d time.Duration) error {
		select {
		case waits <- d:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-resume:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	stop := natstest.Serve(t, "gateway run", g.Run)
	defer stop()
	// lines is the levels of the live consumer's retry lines of stream.
	lines := func() []string {
		var levels []string
		for _, l := range logs.Lines(t, "live consumer not started, retrying") {
			if l["stream"] == stream {
				levels = append(levels, l["level"].(string))
			}
		}
		return levels
	}
	for i, tc := range []struct {
		want  []string
		perms func(testing.TB) // before the next attempt
	}{
		{[]string{"warn"}, nil},
		{[]string{"warn", "debug"}, r.Deny},
		{[]string{"warn", "debug", "warn"}, nil},
		{[]string{"warn", "debug", "warn", "debug"}, r.Allow},
		{[]string{"warn", "debug", "warn", "debug", "warn"}, nil},
	} {
		select {
		case <-waits:
		case <-time.After(10 * time.Second):
			t.Fatalf("no retry %d of the live consumer within 10 s; lines %v", i+1, lines())
		}
		if got := lines(); !slices.Equal(got, tc.want) {
			t.Errorf("after failure %d: retry lines at %v, want %v", i+1, got, tc.want)
		}
		if tc.perms != nil {
			tc.perms(t)
		}
		resume <- struct{}{}
	}
	if l := logs.Lines(t, "live consumer not started, retrying"); len(l) >= 3 && !strings.Contains(l[2]["error"].(string), "Permissions Violation") {
		t.Errorf("third line %v, want the server's refusal", l[2])
	}
}
