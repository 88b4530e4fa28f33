package ingest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecodeJSONMatchesDecode: on a value naming no key twice and nesting
// within maxJSONDepth and maxTickJSONValues, decodeJSON gives what
// encoding/json's Decode into an any gives (with UseNumber), and fails
// where it fails; on one naming a key twice it refuses with a 400 on the
// key's path.
func FuzzDecodeJSONMatchesDecode(f *testing.F) {
	for _, s := range []string{
		`{"app":"shop","tier":"web","time":"2026-01-02T03:04:05Z","replicas":3,"values":{"rps":120.5,"cpu":0.41}}`,
		`{"app":"decoy","app":"shop"}`, `{"a":{"b":1,"b":2}}`, `[{"a":1},{"a":1,"a":2}]`, `{"\u0061":1,"a":2}`,
		`{"a":[[[1]]],"b":null,"c":true,"d":"x\"y"}`, `[]`, `{}`, `{"a":1e999}`, `{"a":-0.0,"b":[]}`, `{"a":`, `[1,]`, `{"a" 1}`,
		strings.Repeat(`[`, 20) + strings.Repeat(`]`, 20),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		var want any
		werr := d.Decode(&want)

		d = json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		got, gerr := decodeJSON(d, "", 0)
		if perr, ok := gerr.(*Error); ok {
			// Refused on its own grounds: a key named twice (Decode keeps
			// the last), nesting or tokens beyond the bounds.
			if perr.Status != 400 || !(strings.Contains(perr.Message, "duplicate key") || strings.Contains(perr.Message, "nested deeper") ||
				strings.Contains(perr.Message, "JSON values and keys in one tick")) {
				t.Fatalf("refused %q with %v", body, perr)
			}
			return
		}
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: Decode error %v, decodeJSON error %v", body, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decodeJSON %#v, Decode %#v", body, got, want)
		}
	})
}
