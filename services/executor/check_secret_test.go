package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestBadSecretSettingBeforeNATS: a bad webhook URL, header or token fails
// the executor's start at once (NATS never answers here), naming the
// setting without printing the secret it carries.
func TestBadSecretSettingBeforeNATS(t *testing.T) {
	const secret = "hunter2"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-executor.webhook.url", "ftp://ops:" + secret + "@hooks.example/x"}, "executor.webhook.url"},
		{[]string{"-executor.webhook.url", "https://ops:" + secret + "@hooks example/%zz"}, "executor.webhook.url"},
		{[]string{"-executor.webhook.url", "https://hooks.example/", "-executor.webhook.header", "X-Api-Key: " + secret}, "executor.webhook.header"},
		{[]string{"-executor.webhook.url", "https://hooks.example/", "-executor.webhook.header", "Authorization: Basic " + secret}, "executor.webhook.header"},
		{[]string{"-executor.webhook.url", "https://hooks.example/", "-executor.webhook.header", "Bad Name: " + secret}, "executor.webhook.header"},
		{[]string{"-executor.webhook.url", "https://hooks.example/", "-executor.webhook.token", secret}, "executor.webhook.token"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			args := append([]string{"-nats.url", "nats://127.0.0.1:1", "-http.addr", "127.0.0.1:0", "-executor.driver", "webhook"}, tc.args...)
			done := make(chan error, 1)
			go func() { done <- run(ctx, args, func(string) string { return "" }) }()
			select {
			case err := <-done:
				if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("run returned %v, want the fault of %s without the secret", err, tc.want)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("the bad setting did not fail the start at once: the executor waits for NATS")
			}
		})
	}
}
