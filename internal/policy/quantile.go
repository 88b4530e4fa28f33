package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseQuantile reads a quantile written as "p90", "p99.5", "90%" or "0.9"
// and returns it as a fraction in (0, 1).
func ParseQuantile(s string) (float64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	scale := 1.0
	switch {
	case strings.HasPrefix(t, "p"):
		t, scale = t[1:], 100
	case strings.HasSuffix(t, "%"):
		t, scale = strings.TrimSpace(t[:len(t)-1]), 100
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, fmt.Errorf("quantile %q: want p90, 90%% or 0.9", s)
	}
	q := v / scale
	if !(q > 0 && q < 1) {
		return 0, fmt.Errorf("quantile %q is not strictly between 0 and 1", s)
	}
	return q, nil
}
