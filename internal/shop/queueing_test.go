package shop

import (
	"math"
	"testing"
)

func TestErlangC(t *testing.T) {
	tests := []struct {
		n    int
		a    float64
		want float64
	}{
		{1, 0.5, 0.5}, // M/M/1: the chance to wait is ρ
		{1, 0.9, 0.9},
		{2, 1, 1.0 / 3},
		{10, 8, 0.409}, // standard tables: C(10, 8) ≈ 0.409
		{3, 0, 0},
		{4, 4, 1},
		{0, 1, 0},
	}
	for _, tt := range tests {
		if got := erlangC(tt.n, tt.a); math.Abs(got-tt.want) > 1e-3 {
			t.Errorf("erlangC(%d, %v) = %.4f, want %.4f", tt.n, tt.a, got, tt.want)
		}
	}
	// Large pools stay finite and in range.
	if c := erlangC(5000, 4990); !(c > 0.5 && c <= 1) {
		t.Errorf("erlangC(5000, 4990) = %v", c)
	}
}

func TestLatencyClimbsNearSaturation(t *testing.T) {
	tc := DefaultConfig().Web
	const ready = 15
	capacity := ready * tc.Capacity
	p99 := func(rho float64) float64 { return evalTier(tc, ready, rho*capacity, 1, 1, 0).latMs[2] }
	prev := 0.0
	for rho := 0.05; rho <= 1.3; rho += 0.05 {
		if v := p99(rho); v < prev {
			t.Errorf("p99 falls from %.1f to %.1f ms at ρ %.2f", prev, v, rho)
		} else {
			prev = v
		}
	}
	low, mid, high := p99(0.5), p99(0.8), p99(0.99)
	if mid > 1.2*low {
		t.Errorf("p99 at ρ 0.8 is %.1f ms, want near the idle %.1f ms", mid, low)
	}
	if high < 3*low {
		t.Errorf("p99 at ρ 0.99 is %.1f ms, want a sharp rise over %.1f ms", high, low)
	}
	if over := p99(1.25); over != tc.TimeoutMs {
		t.Errorf("p99 at 25 %% overload %.1f ms, want the timeout %.0f ms", over, tc.TimeoutMs)
	}
}

func TestErrorsWhenOverloaded(t *testing.T) {
	tc := DefaultConfig().DB
	const ready = 4
	capacity := ready * tc.Capacity
	tests := []struct {
		rho      float64
		min, max float64
	}{
		{0.3, tc.BaseErrorRate, tc.BaseErrorRate + 1e-6},
		{0.9, tc.BaseErrorRate, tc.BaseErrorRate + 1e-3},
		{1.5, 1 - 1/1.5, 1},
		{3, 1 - 1/3.0, 1},
	}
	for _, tt := range tests {
		st := evalTier(tc, ready, tt.rho*capacity, 1, 1, 0)
		if st.errRate < tt.min || st.errRate > tt.max {
			t.Errorf("error rate at ρ %.1f = %.4f, want in [%.4f, %.4f]", tt.rho, st.errRate, tt.min, tt.max)
		}
		if st.util > 1 || st.served > capacity {
			t.Errorf("at ρ %.1f served %.0f of capacity %.0f (util %.3f)", tt.rho, st.served, capacity, st.util)
		}
	}
	if st := evalTier(tc, 0, 100, 1, 1, 0); st.errRate != 1 || st.served != 0 {
		t.Errorf("no replicas: error rate %v served %v, want 1 and 0", st.errRate, st.served)
	}
}
