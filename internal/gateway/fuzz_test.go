package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseRequest feeds a client's text frame through parseRequest and, for
// a subscribe, subscribeSpec and its filters. A refusal must say why; an
// accepted request must re-encode to a frame that parses to the same request,
// and an accepted subscription must hold 1 to maxFilters filters under the
// prefix that parse again, a consistent window and a cap within the
// gateway's; no filter may reach a dead letter.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"op":"subscribe","id":"a"}`, `{"op":"ping"}`, `{"op":"unsubscribe","id":"a.b-c"}`,
		`nope`, `{"op":"publish","id":"a"}`, `{"op":"subscribe","id":"a b"}`,
		`{"op":"subscribe","id":"x","subjects":["nats.>"]}`,
		`{"op":"subscribe","id":"s1","subjects":["apm.metrics.shop.*"],"since":10}`,
		`{"op":"subscribe","id":"s3","app":"shop","tier":"web","kinds":["metrics","decision"],"since":5,"until":9}`,
		`{"op":"subscribe","id":"s","kinds":["dlq"]}`,
		`{"op":"subscribe","id":"s","subjects":["apm.metrics.shop.*","apm.*.shop.web","apm.>"],"step_ms":180000,"max":7,"since":1}`,
		`{"op":"subscribe","id":"s","subjects":["apm..a","apm.>.a","apm.metrics.é.b","apm.dlq.>"]}`,
	} {
		f.Add([]byte(s))
	}
	const prefix, maxHistory = "apm", 100
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRequest(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("refused with an empty error")
			}
			return
		}
		switch r.Op {
		case OpSubscribe, OpUnsubscribe:
			if !idRE.MatchString(r.ID) {
				t.Fatalf("accepted id %q", r.ID)
			}
		case OpPing:
		default:
			t.Fatalf("accepted op %q", r.Op)
		}
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", r, err)
		}
		if len(enc) <= maxRequestBytes { // escaping may grow a frame past the cap
			r2, err := parseRequest(enc)
			if err != nil {
				t.Fatalf("re-encoded %s refused: %v", enc, err)
			}
			if enc2, _ := json.Marshal(r2); !bytes.Equal(enc, enc2) {
				t.Fatalf("round trip changed the request:\n%s\n%s", enc, enc2)
			}
		}
		if r.Op != OpSubscribe {
			return
		}
		s, err := subscribeSpec(prefix, r, maxHistory)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("subscription refused with an empty error")
			}
			return
		}
		if s.id != r.ID || len(s.filters) == 0 || len(s.filters) > maxFilters {
			t.Fatalf("spec id %q with %d filters", s.id, len(s.filters))
		}
		if s.since < 0 || s.until < 0 || s.step < 0 || (s.until > 0 && s.until <= s.since) || s.max < 1 || s.max > maxHistory {
			t.Fatalf("spec window since %d until %d step %d max %d", s.since, s.until, s.step, s.max)
		}
		for _, fl := range s.filters {
			again, err := parseFilter(prefix, fl.raw)
			if err != nil || again.raw != fl.raw || !strings.HasPrefix(fl.raw, prefix+".") {
				t.Fatalf("filter %q does not parse again: %v", fl.raw, err)
			}
			if fl.match(prefix + ".dlq.decider") {
				t.Fatalf("filter %q matches a dead letter", fl.raw)
			}
			if !strings.ContainsAny(fl.raw, "*>") && !fl.match(fl.raw) {
				t.Fatalf("literal filter %q does not match its own subject", fl.raw)
			}
		}
		for k, list := range streamFilters(prefix, s.filters) {
			for _, sf := range list {
				if !strings.HasPrefix(sf, prefix+"."+string(k)+".") {
					t.Fatalf("consumer filter %q outside kind %s", sf, k)
				}
			}
		}
	})
}
