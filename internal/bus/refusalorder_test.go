package bus_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// heldLog is a log writer that holds the first line it is given naming a
// permissions violation until released: the connection's error handler,
// which logs each refusal, is then held in its queue with the refusals
// after it.
type heldLog struct {
	once    sync.Once
	held    chan struct{} // closed once a line is held
	release chan struct{}
}

func (h *heldLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("Permissions Violation")) {
		h.once.Do(func() {
			close(h.held)
			<-h.release
		})
	}
	return len(p), nil
}

// TestConsumerRefusalBeforeItsHandler: a consumer refusal is told for its
// stream as soon as the request fails, even while nats.go's queue has not
// yet run the error handler that remembers it (held here behind the
// handler of an earlier refusal). Remembered only by the handler, the
// newest refusal read as no refusal, and the tail failed instead of
// leaving its stream out.
func TestConsumerRefusalBeforeItsHandler(t *testing.T) {
	r := natstest.StartRestricted(t, "observer", "$JS.API.CONSUMER.CREATE.DLQ.>", "$JS.API.CONSUMER.CREATE.SCALING.>")
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	h := &heldLog{held: make(chan struct{}), release: make(chan struct{})}
	obs := r.Connect(t, "observer", zerolog.New(h))
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(h.release) }) }
	t.Cleanup(release) // before the bus closes
	create := func(k proto.Kind) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s, err := obs.StreamOf(ctx, k)
		if err != nil {
			return err
		}
		_, err = s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Name: "refused-" + string(k), InactiveThreshold: time.Minute})
		return err
	}
	if err := create(proto.KindDLQ); err == nil {
		t.Fatal("the observer created a consumer on the DLQ")
	}
	select {
	case <-h.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the DLQ's refusal never reached the error handler")
	}
	if err := obs.ConsumerRefusal("DLQ"); err == nil {
		t.Fatal("the DLQ's refusal, handled, is not told")
	}
	if err := create(proto.KindScaling); err == nil {
		t.Fatal("the observer created a consumer on SCALING")
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		if err := obs.LastError(); err == nil || !strings.Contains(err.Error(), "CONSUMER.CREATE.SCALING.") {
			return fmt.Errorf("last error %v, want SCALING's refusal", err)
		}
		return nil
	})
	err := obs.ConsumerRefusal("SCALING")
	if err == nil || !strings.Contains(err.Error(), "CONSUMER.CREATE.SCALING.") {
		t.Errorf("SCALING refused, its handler still queued: told %v, want its refusal", err)
	}
	if err := obs.ConsumerRefusal("METRICS"); err != nil {
		t.Errorf("METRICS told refused: %v", err)
	}
	if err := obs.ConsumerRefusal(""); err != nil {
		t.Errorf("no stream told refused: %v", err)
	}
}
