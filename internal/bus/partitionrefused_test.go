package bus_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestPartitionWorkerRefusedLogsSeldom: a group member whose partition
// durables are not provisioned, and whose user may not create them
// (deploy/nats.conf), retries each partition's worker; its failures in a
// row that the server refused are logged at error level at the first and
// every tenth after, at debug level between (bus.RefusedLevel), as the
// other refused retries are, not at error every attempt.
func TestPartitionWorkerRefusedLogsSeldom(t *testing.T) {
	r := natstest.StartRestricted(t, "forecaster", "$JS.API.CONSUMER.CREATE.METRICS.>")
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams, not the durables
	var logs natstest.Logs
	b := r.Connect(t, "forecaster", zerolog.New(&logs))
	consumeGated(t, b, bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, Group: &bus.GroupSpec{}},
		func(context.Context, *bus.Msg) ([]bus.Out, error) { return nil, nil })
	var first []map[string]any // partition 0's lines
	natstest.Eventually(t, 30*time.Second, func() error {
		first = first[:0]
		for _, l := range logs.Lines(t, "partition worker failed, restarting it") {
			if p, _ := l["partition"].(float64); p == 0 {
				first = append(first, l)
			}
		}
		if len(first) < 2 {
			return fmt.Errorf("%d failures of partition 0's worker logged", len(first))
		}
		return nil
	})
	for i, want := range []string{"error", "debug"} {
		if msg, _ := first[i]["error"].(string); !strings.Contains(msg, "Permissions Violation") {
			t.Fatalf("failure %d of the worker says %q, want the server's refusal", i+1, msg)
		}
		if first[i]["level"] != want {
			t.Errorf("refused failure %d of the worker logged at %v, want %s: %v", i+1, first[i]["level"], want, first[i])
		}
	}
}
