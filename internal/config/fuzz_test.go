package config_test

import (
	"testing"

	"github.com/headroomhq/headroom/internal/config"
)

// FuzzParse feeds arbitrary YAML to the configuration loader: it must not
// panic, and a file it accepts must name only valid apps.
func FuzzParse(f *testing.F) {
	f.Add([]byte("apps:\n  shop:\n    source: sim\n"))
	f.Add([]byte("apps:\n  api:\n    source: push\n    mode: shadow\n    tiers: [{name: web, target: 0.7}]\n"))
	f.Add([]byte("push: {max_body_bytes: -1}\napps: {x: {source: trace}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := config.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, a := range file.Apps {
			if a.Name == "" {
				t.Fatalf("accepted an app without a name: %+v", a)
			}
		}
	})
}
