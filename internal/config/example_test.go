package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/config"
)

// TestExampleCommentedKeys: the example's commented push keys, uncommented
// as a reader would, load, except the push token's placeholder, which must
// fail the start rather than become a token everyone who read the example
// knows (a 22-byte "<openssl rand -hex 32>" passed the secret rules).
func TestExampleCommentedKeys(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "headroom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	uncomment := func(key string) []byte {
		t.Helper()
		lines := strings.Split(string(data), "\n")
		n := 0
		for i, l := range lines {
			if strings.HasPrefix(l, "  # "+key+":") {
				lines[i] = "  " + strings.TrimPrefix(l, "  # ")
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d commented lines of push.%s in the example, want 1", n, key)
		}
		return []byte(strings.Join(lines, "\n"))
	}
	for _, key := range []string{"auth_fail_limit", "auth_fail_burst", "trusted_proxies", "forwarded_header"} {
		if _, err := config.Parse("headroom.yaml", uncomment(key)); err != nil {
			t.Errorf("push.%s uncommented: %v", key, err)
		}
	}
	_, err = config.Parse("headroom.yaml", uncomment("token"))
	if err == nil || !strings.Contains(err.Error(), "push.token") {
		t.Errorf("the push token's placeholder uncommented: %v, want push.token refused", err)
	}
}
