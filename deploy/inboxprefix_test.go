package deploy_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/service"
)

// inboxFailFast is how soon a client without its inbox prefix must fail:
// well under the 20 s a JetStream request of it would wait before.
const inboxFailFast = 5 * time.Second

// TestNATSConfMissingInboxPrefixSaysSo: deploy/nats.conf lets each user
// subscribe only under _INBOX_<user>. A client of any of its users
// connected without -nats.inbox-prefix (a service, gateway tail: both wait
// with WaitConnected) fails at once with ErrInboxRefused naming the flag to
// set, not after a request's timeout; with the prefix it connects.
func TestNATSConfMissingInboxPrefixSaysSo(t *testing.T) {
	url := runConfiguredServer(t)
	for _, user := range users {
		t.Run(user, func(t *testing.T) {
			for _, prefix := range []string{"", "_INBOX_" + user} {
				b := connectConfigured(t, url, user, zerolog.Nop(), func(c *bus.Config) { c.InboxPrefix = prefix })
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				start := time.Now()
				err := b.WaitConnected(ctx, 5*time.Second)
				took := time.Since(start)
				cancel()
				if prefix != "" {
					if err != nil {
						t.Errorf("with -nats.inbox-prefix %s: %v", prefix, err)
					}
					continue
				}
				if !errors.Is(err, bus.ErrInboxRefused) || !bus.IsRefused(err) || took > inboxFailFast {
					t.Fatalf("without an inbox prefix: %v after %v, want ErrInboxRefused (a refusal) within %v", err, took, inboxFailFast)
				}
				if want := "-nats.inbox-prefix _INBOX_" + user; !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// TestProvisionWithoutInboxPrefixFailsFast: "headroom provision" as the
// provisioning user without -nats.inbox-prefix fails within inboxFailFast,
// naming the refused inbox and the flag to set, not "context deadline
// exceeded" after 20 s with a hint at the user's provisioning rights.
func TestProvisionWithoutInboxPrefixFailsFast(t *testing.T) {
	url := runConfiguredServer(t)
	env := map[string]string{"HEADROOM_NATS_URL": url, "HEADROOM_NATS_USER": "provision", "HEADROOM_NATS_PASSWORD": "provision-secret"}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	err := service.Provision(ctx, nil, getenv, io.Discard)
	took := time.Since(start)
	if err == nil || took > inboxFailFast {
		t.Fatalf("provision without an inbox prefix: %v after %v, want a failure within %v", err, took, inboxFailFast)
	}
	for _, want := range []string{"-nats.inbox-prefix _INBOX_provision", "HEADROOM_NATS_INBOX_PREFIX", `Subscription to "_INBOX.`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "provisioning rights") {
		t.Errorf("error %q blames the user's provisioning rights", err)
	}
	env["HEADROOM_NATS_INBOX_PREFIX"] = "_INBOX_provision"
	if err := service.Provision(ctx, nil, getenv, io.Discard); err != nil {
		t.Fatalf("provision with the inbox prefix: %v", err)
	}
}
