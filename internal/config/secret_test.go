package config_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/config"
)

// TestCheckSecret refuses a secret shorter than 16 bytes, naming where it
// was given and its length, never the secret.
func TestCheckSecret(t *testing.T) {
	for _, c := range []struct {
		value string
		ok    bool
	}{
		{"", false}, {"Q", false}, {"QZQZQZQZQZQZQZQ", false}, {"0123456789abcdef", true},
		{strings.Repeat("ab", 32), true},
	} {
		err := config.CheckSecret("-push.token / HEADROOM_PUSH_TOKEN", c.value)
		if (err == nil) != c.ok {
			t.Errorf("%d bytes: %v, want ok=%v", len(c.value), err, c.ok)
			continue
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, config.ErrWeakSecret) || !strings.HasPrefix(err.Error(), "-push.token / HEADROOM_PUSH_TOKEN: ") {
			t.Errorf("%d bytes: %v", len(c.value), err)
		}
		if c.value != "" && strings.Contains(err.Error(), c.value) {
			t.Errorf("the error quotes the secret: %v", err)
		}
	}
}

// TestSecretWhiteSpace refuses a secret no client could send: white space
// around it (the line break ending a secret's file), a control character
// in it, one of white space alone; never quoting it. Space inside passes.
func TestSecretWhiteSpace(t *testing.T) {
	const s = "0123456789abcdef0123"
	for _, c := range []struct {
		value string
		ok    bool
	}{
		{s, true}, {"0123456789 abcdef0123", true},
		{s + "\n", false}, {s + "\r\n", false}, {" " + s, false}, {s + " ", false}, {"\t" + s, false},
		{"0123456789\x00abcdef", false}, {"0123456789\x1babcdef", false}, {"0123456789\nabcdef", false},
		{strings.Repeat(" ", 20), false}, {s + "\u00a0", false},
	} {
		err := config.CheckSecret("gateway.token (HEADROOM_GATEWAY_TOKEN)", c.value)
		if (err == nil) != c.ok {
			t.Errorf("%q: %v, want ok=%v", c.value, err, c.ok)
			continue
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, config.ErrSecretSpace) || !strings.HasPrefix(err.Error(), "gateway.token (HEADROOM_GATEWAY_TOKEN): ") {
			t.Errorf("%q: %v", c.value, err)
		}
		if strings.Contains(err.Error(), strings.TrimSpace(c.value)) && strings.TrimSpace(c.value) != "" {
			t.Errorf("the error quotes the secret: %v", err)
		}
	}
	// The file's tokens too, at their line.
	_, err := config.Parse("x.yaml", []byte("push:\n  token: \""+s+"\\n\"\napps:\n  shop: {source: sim}\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:2: push.token: 21 bytes, begins or ends with white space") || strings.Contains(err.Error(), s) {
		t.Errorf("a file token ending in a line break: %v", err)
	}
}

// TestPushTokenTooShort refuses a plaintext push.token or push.tokens[i]
// token of the file shorter than 16 bytes, at its line, without quoting
// it; a token written as its SHA-256 cannot be measured and passes.
func TestPushTokenTooShort(t *testing.T) {
	short := "short-secret"
	sum := sha256.Sum256([]byte(short))
	hashed := "sha256:" + hex.EncodeToString(sum[:])
	for _, c := range []struct {
		name, push, want string
	}{
		{"push.token", "  token: " + short + "\n", "x.yaml:2: push.token: 12 bytes, too short: want at least 16"},
		{"push.tokens", "  tokens:\n    - {name: a, token: " + short + ", apps: [\"*\"]}\n", "x.yaml:3: push.tokens[0].token: 12 bytes, too short: want at least 16"},
		{"push.token hashed", "  token: " + hashed + "\n", ""},
		{"push.tokens hashed", "  tokens:\n    - {name: a, token: \"" + hashed + "\", apps: [\"*\"]}\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Parse("x.yaml", []byte("push:\n"+c.push+"apps:\n  shop: {source: sim}\n"))
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want %q, got %v", c.want, err)
			}
			if strings.Contains(err.Error(), short) {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}
