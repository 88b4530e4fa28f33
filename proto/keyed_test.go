package proto

import (
	"errors"
	"testing"
	"time"
)

func TestDecodeOnRefusesForeignSubjects(t *testing.T) {
	m := NewMetrics("victim", "web", time.Unix(1_700_000_000, 0), 2, map[string]float64{MetricRPS: 1})
	data, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		subject string
		kind    Kind
		wantErr error
	}{
		{"apm.metrics.victim.web", KindMetrics, nil},
		{"apm.metrics.shop.web", KindMetrics, ErrSubjectMismatch},
		{"apm.metrics.victim.db", KindMetrics, ErrSubjectMismatch},
		{"apm.decision.victim.web", KindMetrics, ErrSubjectMismatch},
		{"other.metrics.victim.web", KindMetrics, ErrBadSubject},
		{"apm.metrics.victim", KindMetrics, ErrBadSubject},
	} {
		var got Metrics
		err := DecodeOn("apm", tc.kind, tc.subject, data, &got)
		if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err %v, want %v", tc.subject, err, tc.wantErr)
		}
	}
}
