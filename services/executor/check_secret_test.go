package main

import (
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/servicetest"
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
			err := servicetest.StartError(t, run, append([]string{"-executor.driver", "webhook"}, tc.args...)...)
			if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run returned %v, want the fault of %s without the secret", err, tc.want)
			}
		})
	}
}
