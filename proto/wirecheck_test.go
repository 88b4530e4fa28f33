package proto

import (
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestCheckMsgpack(t *testing.T) {
	good, err := msgpack.Marshal([]any{map[string]any{"app": "shop", "tier": "web", "time": int64(1767323045000),
		"values": map[string]any{"rps": 120.5, "n": uint64(1 << 40), "neg": -3}, "labels": map[string]string{"a": strings.Repeat("x", 300)}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckMsgpack(good); err != nil {
		t.Fatalf("valid body rejected: %v", err)
	}
	cases := []struct {
		name string
		body []byte
		want string
	}{
		{"huge map from 6 bytes", []byte("\xdf~\xc2\xa6\xe5n"), "values declared"},
		{"huge array", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}, "values declared"},
		{"huge string", []byte{0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'}, "bytes declared"},
		{"deep nesting", []byte(strings.Repeat("\x91", 20) + "\x01"), "nested deeper"},
		{"reserved byte", []byte{0xc1}, "invalid type byte"},
		{"trailing bytes", []byte{0x01, 0x02}, "after the msgpack value"},
		{"empty", nil, "truncated"},
		{"truncated length", []byte{0xde, 0x01}, "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckMsgpack(c.body)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want it to contain %q", err, c.want)
			}
		})
	}
}
