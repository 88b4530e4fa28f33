package gateway_test

import (
	"context"
	"net/http"
	"slices"
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
