package deploy_test

import (
	"testing"
	"time"
)

// TestNATSConfGroupLeave: under deploy/nats.conf each service's copies can
// tell each other they leave the group ($SRV.LEAVE.<group>, what a copy
// stopping publishes so the others take its share at once): a copy
// publishes its own group's leave and another copy of it receives it. No
// identity may publish or hear another group's leave: a forged one would
// move that group's partitions about.
func TestNATSConfGroupLeave(t *testing.T) {
	url := runConfiguredServer(t)
	leave := func(svc string) string { return "$SRV.LEAVE.headroom_apm_" + svc }
	for _, svc := range []string{"collector", "forecaster", "anomaly", "decider", "executor"} {
		t.Run(svc, func(t *testing.T) {
			hearer := probe(t, url, svc)
			defer hearer.Close()
			sub, err := hearer.SubscribeSync(leave(svc))
			if err != nil {
				t.Fatal(err)
			}
			if err := hearer.FlushTimeout(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			if err := hearer.LastError(); err != nil {
				t.Fatalf("%s subscribing to its group's leave: %v", svc, err)
			}
			sayer := probe(t, url, svc)
			defer sayer.Close()
			if err := sayer.Publish(leave(svc), []byte("member-1")); err != nil {
				t.Fatal(err)
			}
			if err := sayer.FlushTimeout(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			if err := sayer.LastError(); err != nil {
				t.Fatalf("%s publishing its group's leave: %v", svc, err)
			}
			msg, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("%s's leave was not heard by another copy: %v", svc, err)
			}
			if string(msg.Data) != "member-1" {
				t.Fatalf("heard %q, want member-1", msg.Data)
			}
		})
	}
	for _, c := range []struct{ user, group string }{
		{"forecaster", "decider"},
		{"decider", "executor"},
		{"executor", "collector"},
		{"collector", "anomaly"},
		{"anomaly", "forecaster"},
		{"gateway", "decider"},
	} {
		if canPublish(t, url, c.user, leave(c.group)) {
			t.Errorf("%s may publish %s's leave", c.user, c.group)
		}
		if canSubscribe(t, url, c.user, leave(c.group)) {
			t.Errorf("%s may hear %s's leave", c.user, c.group)
		}
	}
}
