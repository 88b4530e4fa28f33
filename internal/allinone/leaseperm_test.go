package allinone

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/headroomhq/headroom/proto"
)

// TestObserverLeavesTheLeaseBucket: the observer, which reads the
// streams, may not touch the executor's lease bucket, as deploy/nats.conf's
// gateway may not: no info, get or consumer of it. What it reads, the
// streams' and the replica bucket's info, stays allowed.
func TestObserverLeavesTheLeaseBucket(t *testing.T) {
	s, _, _ := embedded(t, time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC).UnixMilli())
	bucket := "KV_" + proto.LeaseBucket("apm")
	key := "$KV." + proto.LeaseBucket("apm") + ".shop.web"
	for _, c := range []struct {
		subject string
		allowed bool
	}{
		{"$JS.API.STREAM.INFO." + bucket, false},
		{"$JS.API.STREAM.MSG.GET." + bucket, false},
		{"$JS.API.DIRECT.GET." + bucket, false},
		{"$JS.API.DIRECT.GET." + bucket + "." + key, false},
		{"$JS.API.CONSUMER.CREATE." + bucket, false},
		{"$JS.API.CONSUMER.CREATE." + bucket + ".peek", false},
		{"$JS.API.CONSUMER.CREATE." + bucket + ".peek." + key, false},
		{"$JS.API.CONSUMER.INFO." + bucket + ".peek", false},
		{"$JS.API.CONSUMER.MSG.NEXT." + bucket + ".peek", false},
		{"$JS.API.STREAM.INFO.KV_" + proto.ReplicaBucket("apm"), true},
		{"$JS.API.STREAM.INFO.METRICS", true},
	} {
		// A connection of its own each: a refusal is its last error.
		nc, err := nats.Connect(s.ClientURL(), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
		if err != nil {
			t.Fatal(err)
		}
		if c.allowed {
			if _, err := nc.Request(c.subject, []byte(`{}`), 5*time.Second); err != nil || nc.LastError() != nil {
				t.Errorf("observer asking %s: %v (last error %v), want an answer", c.subject, err, nc.LastError())
			}
			nc.Close()
			continue
		}
		if err := nc.PublishRequest(c.subject, nc.NewRespInbox(), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		// The server answers a refused publish with an error before the
		// flush's PONG, on the same connection.
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		if last := nc.LastError(); last == nil || !strings.Contains(last.Error(), "Permissions Violation") || !strings.Contains(last.Error(), c.subject) {
			t.Errorf("observer asking %s: last error %v, want a permissions violation", c.subject, last)
		}
		nc.Close()
	}
}
