package executor

import "testing"

// TestWhichDriversReadBack: only the kubernetes driver reads a tier's
// desired count back from what runs it (readsBack), so only its tiers
// acknowledge changes while -executor.modes brakes them (a release reads
// the workload's count again); the command and webhook drivers' braked
// tiers keep the count their driver runs on record (Service.braked). The
// simulated cluster is no real driver: braked tiers acknowledge with it.
func TestWhichDriversReadBack(t *testing.T) {
	for _, c := range []struct {
		name string
		drv  Driver
		want bool
	}{
		{DriverKubernetes, &KubeDriver{}, true},
		{DriverCommand, &CommandDriver{}, false},
		{DriverWebhook, &WebhookDriver{}, false},
		{DriverSim, &SimDriver{}, false},
	} {
		if _, got := c.drv.(readsBack); got != c.want {
			t.Errorf("%s driver reads the count back: %v, want %v", c.name, got, c.want)
		}
	}
}
