package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/servicetest"
)

// TestBadSettingBeforeNATS: a bad setting fails the gateway's start at once
// with its error, not after NATS answers (here it never does).
func TestBadSettingBeforeNATS(t *testing.T) {
	err := servicetest.StartError(t, run, "-gateway.max-clients", "0")
	if err == nil || !strings.Contains(err.Error(), "gateway.max-clients=0") {
		t.Fatalf("run returned %v, want the error of -gateway.max-clients 0", err)
	}
}

// TestBadProxiesBeforeNATS: -gateway.trusted-proxies and
// -gateway.forwarded-header are checked by the start's check too (on a copy
// of the settings, which New parses again), so a bad one fails at once.
func TestBadProxiesBeforeNATS(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-gateway.trusted-proxies", "10.0.0.0/8,0.0.0.0/0"}, `gateway.trusted-proxies (HEADROOM_GATEWAY_TRUSTED_PROXIES): "0.0.0.0/0" trusts every address`},
		{[]string{"-gateway.forwarded-header", "X-Real-IP"}, `gateway.forwarded-header (HEADROOM_GATEWAY_FORWARDED_HEADER): "X-Real-IP"`},
	} {
		err := servicetest.StartError(t, run, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: run returned %v, want %q", c.args, err, c.want)
		}
	}
}

// TestTokenBeyondLoopbackBeforeNATS: a gateway listening beyond loopback
// without -gateway.token fails its start at once, naming the address and
// the flag, as the standalone collector's push API does (which addresses
// and tokens pass: internal/gateway's TestTokenBeyondLoopback).
func TestTokenBeyondLoopbackBeforeNATS(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{"0.0.0.0:0", "the dashboard needs a token: it listens on 0.0.0.0:0, which is not a loopback address; set -gateway.token / HEADROOM_GATEWAY_TOKEN"},
		{"[::]:0", "it listens on [::]:0"},
		{":0", "it listens on :0"},
		{"192.0.2.1:8081", "it listens on 192.0.2.1:8081"},
	} {
		err := servicetest.StartError(t, run, "-http.addr", c.addr)
		if !errors.Is(err, gateway.ErrTokenRequired) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("-http.addr %s without a token: run returned %v, want %q", c.addr, err, c.want)
		}
	}
}
