package gateway_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
)

func TestZZProbe(t *testing.T) {
	if os.Getenv("PROBE") == "" {
		t.Skip()
	}
	url := natstest.RunJetStream(t)
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = url, "load"
	cfg.Streams.Memory = os.Getenv("MEM") != ""
	b, _ := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	defer b.Close(time.Second)
	b.EnsureStreams(context.Background())
	if os.Getenv("GW") != "" {
		_, _, _, stop := startGateway(t, b, gateway.DefaultConfig())
		defer stop()
	}
	for r := range 4 {
		t.Logf("%.0f", publishBurst(t, b, 20000, r*20000))
	}
}
