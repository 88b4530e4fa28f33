package service_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// TestProvisionCreatesDurablesOnce: provisioning creates every service
// input's durable per partition, a second run creates none (the existing
// keep their positions), METRICS's per-series cap is named, and a partition count other than the default says
// deploy/nats.conf must be written for it.
func TestProvisionCreatesDurablesOnce(t *testing.T) {
	url := natstest.RunJetStream(t)
	noenv := func(string) string { return "" }
	run := func() string {
		t.Helper()
		var out bytes.Buffer
		if err := service.Provision(context.Background(), []string{"-nats.url", url, "-stream.partitions", "4"}, noenv, &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	first := run()
	for _, want := range []string{"durables: 24 created", "regenerate it with PARTITIONS=4", "replicas 1, 300000 messages per series"} {
		if !strings.Contains(first, want) {
			t.Errorf("first run printed %q, want %q (six service inputs × four partitions)", first, want)
		}
	}
	if again := run(); !strings.Contains(again, "durables: 0 created") {
		t.Errorf("second run printed %q, want no durable created", again)
	}
}

// TestProvisionHasNoProvisionFlag: "headroom provision" provisions by what
// it is, so -nats.provision, which switches provisioning on for a service,
// is not one of its flags (it used to be listed by -h, meaning nothing).
func TestProvisionHasNoProvisionFlag(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := service.Provision(ctx, []string{"-nats.provision", "-nats.url", "nats://127.0.0.1:1", "-wait", "1ms"}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "flag provided but not defined: -nats.provision") {
		t.Fatalf("Provision(-nats.provision) = %v, want the flag refused as undefined", err)
	}
}
