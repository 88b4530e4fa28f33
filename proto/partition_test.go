package proto

import "testing"

func TestSplitStored(t *testing.T) {
	for _, tc := range []struct {
		in, subject string
		part        int
	}{
		{"apm.metrics.shop.web.3", "apm.metrics.shop.web", 3},
		{"apm.metrics.shop.web", "apm.metrics.shop.web", -1},
		{"apm.metrics.shop.1", "apm.metrics.shop.1", -1}, // tier "1", no partition
		{"apm.metrics.shop.web.x", "apm.metrics.shop.web.x", -1},
		{"apm.metrics.shop.web.-1", "apm.metrics.shop.web.-1", -1},
		{"apm.metrics.shop.web.+1", "apm.metrics.shop.web.+1", -1},
		{"other.metrics.shop.web.3", "other.metrics.shop.web.3", -1},
		{"apm.dlq.forecaster", "apm.dlq.forecaster", -1},
	} {
		s, p := SplitStored("apm", tc.in)
		if s != tc.subject || p != tc.part {
			t.Errorf("SplitStored(%q) = %q, %d; want %q, %d", tc.in, s, p, tc.subject, tc.part)
		}
	}
	if _, app, tier, err := ParseSubject("apm", "apm.decision.shop.web.7"); err != nil || app != "shop" || tier != "web" {
		t.Errorf("ParseSubject of a stored subject: %s %s %v", app, tier, err)
	}
	if err := CheckSubject("apm", KindMetrics, "apm.metrics.shop.web.2", &Metrics{App: "shop", Tier: "db"}); err == nil {
		t.Error("a stored subject naming another tier passed CheckSubject")
	}
}

func TestPartitionsOf(t *testing.T) {
	_, dest := PartitionTransform("apm", KindMetrics, 12)
	if n, err := PartitionsOf(dest); err != nil || n != 12 {
		t.Fatalf("PartitionsOf(%q) = %d, %v", dest, n, err)
	}
	for _, bad := range []string{"apm.metrics.{{wildcard(1)}}", "x.{{partition(0,1)}}", "x.{{partition(9999,1)}}"} {
		if _, err := PartitionsOf(bad); err == nil {
			t.Errorf("PartitionsOf(%q) accepted", bad)
		}
	}
}
