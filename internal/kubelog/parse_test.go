package kubelog

import (
	"testing"

	"github.com/rs/zerolog"
)

// TestParseKlogLine: klog's header gives the level and the caller, and is
// cut from the message; a line without one is all message, at info.
func TestParseKlogLine(t *testing.T) {
	for _, c := range []struct {
		in          string
		level       zerolog.Level
		caller, msg string
	}{
		{"I1207 01:08:31.123456   12345 loader.go:402] Config loaded\n", zerolog.InfoLevel, "loader.go:402", "Config loaded"},
		{"W1207 01:08:31.123456       7 warnings.go:70] deprecated] use v2\n", zerolog.WarnLevel, "warnings.go:70", "deprecated] use v2"},
		{"E1207 01:08:31.123456 1 reflector.go:227] failed\nsecond line\n", zerolog.ErrorLevel, "reflector.go:227", "failed\nsecond line"},
		{"F1207 01:08:31.123456 1 x.go:1] fatal", zerolog.FatalLevel, "x.go:1", "fatal"},
		{"no header] at all\n", zerolog.InfoLevel, "", "no header] at all"},
		{"X1207 01:08:31.123456 1 x.go:1] unknown letter", zerolog.InfoLevel, "", "X1207 01:08:31.123456 1 x.go:1] unknown letter"},
		{"E12x7 01:08:31.123456 1 x.go:1] no date", zerolog.InfoLevel, "", "E12x7 01:08:31.123456 1 x.go:1] no date"},
		{"Eshort\nx] y", zerolog.InfoLevel, "", "Eshort\nx] y"},
		{"", zerolog.InfoLevel, "", ""},
	} {
		level, caller, msg := parseKlogLine(c.in)
		if level != c.level || caller != c.caller || msg != c.msg {
			t.Errorf("parseKlogLine(%q) = %v, %q, %q; want %v, %q, %q", c.in, level, caller, msg, c.level, c.caller, c.msg)
		}
	}
}
