package detector

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/tierstage/tierstagetest"
	"github.com/headroomhq/headroom/proto"
)

// TestOutputsSurvivePermissionDenied runs the anomaly service as a NATS user
// that may not publish its output subject, so every output publish fails
// (the server refuses it and no acknowledgement comes), then grants the
// permission by reloading the server's users. Every tick must end with
// exactly one stored output per tier.
func TestOutputsSurvivePermissionDenied(t *testing.T) {
	const prefix = "apm"
	srv := natstest.StartRestricted(t, "anomaly", prefix+".anomaly.>")
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	admin := srv.Connect(t, "admin", log)
	svcBus := srv.Connect(t, "anomaly", log)

	r := start(t, svcBus, log)
	tierstagetest.PublishTicks(t, admin, 0, 30)
	r.Handled(t, admin, true)
	if _, err := natstest.JetStream(t, svcBus).Stream(context.Background(), proto.StreamName(prefix, proto.KindAnomaly)); err != nil {
		t.Fatalf("the service user cannot even read the stream: %v", err)
	}
	srv.Allow(t)
	stored(t, admin, 29)
	tierstagetest.PublishTicks(t, admin, 30, 40)
	stored(t, admin, 39)
	r.Stop(t)
	exactlyOnce(t, stored(t, admin, 39), 39)
}
