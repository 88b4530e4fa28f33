package bus_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// startInboxServer starts a server (no JetStream) whose one user, "svc"
// (password "s3cret-svc"), may subscribe only under _INBOX_svc.
func startInboxServer(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: os.Getenv("NATS_LOGGING") == "", NoSigs: true,
		Users: []*server.User{{Username: "svc", Password: "s3cret-svc", Permissions: &server.Permissions{
			Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX_svc.>"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	return s
}

// TestWaitConnectedChecksInboxWithoutDeadline: the services, gateway tail
// and collector replay wait with a context that has no deadline (their
// signal context), and the inbox check must hold for them as for
// provision's bounded wait: a client whose inbox the server refuses gets
// ErrInboxRefused, naming the flag while it has no prefix of its own and
// the refused prefix when it has; with the allowed prefix it connects.
func TestWaitConnectedChecksInboxWithoutDeadline(t *testing.T) {
	s := startInboxServer(t)
	for _, tc := range []struct {
		name, prefix string
		deadline     bool
		want         []string // in the error; none: connects
	}{
		{"no prefix, no deadline", "", false, []string{"-nats.inbox-prefix _INBOX_svc", "HEADROOM_NATS_INBOX_PREFIX"}},
		{"no prefix, deadline", "", true, []string{"-nats.inbox-prefix _INBOX_svc", "HEADROOM_NATS_INBOX_PREFIX"}},
		{"another's prefix, no deadline", "_INBOX_other", false, []string{"-nats.inbox-prefix _INBOX_other", "refused"}},
		{"own prefix, no deadline", "_INBOX_svc", false, nil},
		{"own prefix, deadline", "_INBOX_svc", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := bus.DefaultConfig()
			cfg.URL, cfg.Name, cfg.User, cfg.Password, cfg.InboxPrefix = s.ClientURL(), "inbox-check", "svc", "s3cret-svc", tc.prefix
			b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = b.Close(time.Second) }()
			ctx := context.Background()
			if tc.deadline {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
			}
			err = b.WaitConnected(ctx, 5*time.Second)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("with prefix %q: %v", tc.prefix, err)
				}
				return
			}
			if !errors.Is(err, bus.ErrInboxRefused) {
				t.Fatalf("with prefix %q: %v, want ErrInboxRefused", tc.prefix, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestRefusedSubscriptionsSummed: the server's refusals of subscriptions
// (here the inbox's, one per check) reach the connection's error handler
// each time; repeated, they are logged once and the rest counted into the
// summary at close, as publish refusals are, not a "nats async error" line
// each.
func TestRefusedSubscriptionsSummed(t *testing.T) {
	s := startInboxServer(t)
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.User, cfg.Password = s.ClientURL(), "sub-refused", "svc", "s3cret-svc"
	var logs natstest.Logs
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(&logs), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	const refusals = 20
	for range refusals {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := b.WaitConnected(ctx, 5*time.Second)
		cancel()
		if !errors.Is(err, bus.ErrInboxRefused) {
			t.Fatalf("WaitConnected: %v, want ErrInboxRefused", err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); len(logs.Lines(t, "nats async error")) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no refusal logged in 10s")
		}
		time.Sleep(10 * time.Millisecond) // polls the log; not a synchronisation
	}
	if err := b.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(logs.Lines(t, "nats async error")); n != 1 {
		t.Errorf("%d \"nats async error\" lines for %d refused subscriptions, want 1", n, refusals)
	}
	sum := logs.Lines(t, "nats async errors not logged: more of the refusal logged before")
	if len(sum) != 1 || sum[0]["refused"] != "subscribe" {
		t.Errorf("summaries at close %v, want one of the refused subscriptions", sum)
	}
}
