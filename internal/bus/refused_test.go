package bus

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestConsumerRefusalsRemembersEveryStream: each stream the server refused
// a consumer on is remembered from its permission error, not only the
// last error's; other errors and other subjects name no stream.
func TestConsumerRefusalsRemembersEveryStream(t *testing.T) {
	violation := func(subject string) error {
		return fmt.Errorf("%w: Permissions Violation for Publish to %q", nats.ErrPermissionViolation, subject)
	}
	c := &consumerRefusals{streams: map[string]error{}}
	for _, err := range []error{
		violation("$JS.API.CONSUMER.CREATE.DLQ.tail-1.apm.dlq.>"),
		violation("$JS.API.CONSUMER.CREATE.SCALING.tail-2"),
		violation("$JS.API.CONSUMER.CREATE.ANOMALIES"),
		violation("$JS.API.STREAM.INFO.METRICS"),
		violation("$JS.API.CONSUMER.CREATE."),
		errors.New("nats: timeout on $JS.API.CONSUMER.CREATE.FORECASTS.x"),
	} {
		c.see(err)
	}
	for stream, want := range map[string]bool{"DLQ": true, "SCALING": true, "ANOMALIES": true, "METRICS": false, "FORECASTS": false, "": false} {
		err := c.of(stream)
		if got := err != nil; got != want {
			t.Errorf("refused %q: %v, want refused %v", stream, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), consumerCreate+stream+".") && !strings.HasSuffix(err.Error(), consumerCreate+stream+`"`) {
			t.Errorf("refusal of %q is another stream's: %v", stream, err)
		}
	}
	if len(c.streams) != 3 {
		t.Errorf("remembered %v, want the three refused streams only", c.streams)
	}
}
