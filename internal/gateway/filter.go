package gateway

import (
	"fmt"
	"strings"

	"github.com/headroomhq/headroom/proto"
)

// filter is one validated subject filter of a subscription, split into tokens
// so matching a subject allocates nothing.
type filter struct {
	raw    string
	tokens []string
	kindAt int // index of the kind token (the prefix's token count)
}

// maxFilterLen bounds one filter's length; subjects are short.
const maxFilterLen = 256

// parseFilter validates a client's subject filter: it must start with the
// prefix, contain non-empty tokens of printable characters without spaces, use
// ">" only as the last token, and name a known kind (or a wildcard) right
// after the prefix.
func parseFilter(prefix, s string) (filter, error) {
	if len(s) == 0 || len(s) > maxFilterLen {
		return filter{}, fmt.Errorf("subject filter of %d bytes: want 1 to %d", len(s), maxFilterLen)
	}
	rest, ok := strings.CutPrefix(s, prefix+".")
	if !ok {
		return filter{}, fmt.Errorf("subject filter %q: must start with %q", s, prefix+".")
	}
	tokens := strings.Split(s, ".")
	for i, t := range tokens {
		if t == "" {
			return filter{}, fmt.Errorf("subject filter %q: empty token", s)
		}
		if t == ">" && i != len(tokens)-1 {
			return filter{}, fmt.Errorf("subject filter %q: \">\" must be the last token", s)
		}
		for _, r := range t {
			if r <= ' ' || r == 0x7f || (r > 0x7f) {
				return filter{}, fmt.Errorf("subject filter %q: bad character %q", s, r)
			}
		}
	}
	kind, _, _ := strings.Cut(rest, ".")
	if kind == string(proto.KindDLQ) {
		return filter{}, fmt.Errorf("subject filter %q: dead letters are not served to browsers (read them with the tail command)", s)
	}
	if kind != "*" && kind != ">" && !knownKind(proto.Kind(kind)) {
		return filter{}, fmt.Errorf("subject filter %q: unknown kind %q", s, kind)
	}
	return filter{raw: s, tokens: tokens, kindAt: strings.Count(prefix, ".") + 1}, nil
}

// isDLQToken reports whether rest (a subject from its kind token on) is a
// dead letter's.
func isDLQToken(rest string) bool {
	k := string(proto.KindDLQ)
	return strings.HasPrefix(rest, k) && (len(rest) == len(k) || rest[len(k)] == '.')
}

func knownKind(k proto.Kind) bool {
	for _, x := range proto.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// match reports whether subject matches the filter under NATS wildcard rules:
// "*" matches one token, ">" one or more trailing tokens. Dead letters never
// match: a wildcard in the kind's place is narrowed to the other kinds, so
// apm.dlq.> reaches no browser whatever the filter.
func (f filter) match(subject string) bool {
	pos, n := 0, len(subject)
	for i, t := range f.tokens {
		if pos > n {
			return false // the subject has fewer tokens
		}
		if i == f.kindAt && isDLQToken(subject[pos:]) {
			return false
		}
		if t == ">" {
			return pos < n
		}
		var tok string
		if j := strings.IndexByte(subject[pos:], '.'); j < 0 {
			tok, pos = subject[pos:], n+1
		} else {
			tok, pos = subject[pos:pos+j], pos+j+1
		}
		if t != "*" && t != tok {
			return false
		}
	}
	return pos > n // every token of the subject was matched
}

// forKind narrows the filter to the subjects of kind k: the token after the
// prefix becomes the kind. It reports false when the filter cannot match
// kind k at all.
func (f filter) forKind(prefixTokens int, k proto.Kind) (string, bool) {
	if len(f.tokens) <= prefixTokens || k == proto.KindDLQ {
		return "", false
	}
	kt := f.tokens[prefixTokens]
	switch {
	case kt == ">":
		return strings.Join(f.tokens[:prefixTokens], ".") + "." + string(k) + ".>", true
	case kt == "*" || kt == string(k):
		t := append([]string(nil), f.tokens...)
		t[prefixTokens] = string(k)
		// Dead letters have one token after the kind, the others two.
		want := prefixTokens + 3
		if k == proto.KindDLQ {
			want = prefixTokens + 2
		}
		if t[len(t)-1] != ">" && len(t) != want {
			return "", false
		}
		prefix := strings.Join(f.tokens[:prefixTokens], ".")
		return proto.StoredForm(prefix, k, strings.Join(t, ".")), true
	}
	return "", false
}

// collide reports whether two filters can match a common subject. JetStream
// refuses a consumer whose filters overlap, so colliding filters are widened.
func collide(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(at) && i < len(bt); i++ {
		x, y := at[i], bt[i]
		if x == ">" || y == ">" {
			return true
		}
		if x != "*" && y != "*" && x != y {
			return false
		}
	}
	return len(at) == len(bt)
}

// streamFilters maps each kind's stream to the consumer filters covering the
// subscription's filters on it. Overlapping filters of one stream collapse
// into the stream's whole subject space; the gateway matches every message
// against the client's own filters anyway.
func streamFilters(prefix string, fs []filter) map[proto.Kind][]string {
	pt := strings.Count(prefix, ".") + 1
	out := map[proto.Kind][]string{}
	for _, k := range proto.Kinds {
		var list []string
		overlap := false
		for _, f := range fs {
			s, ok := f.forKind(pt, k)
			if !ok {
				continue
			}
			for _, o := range list {
				if collide(o, s) {
					overlap = true
				}
			}
			list = append(list, s)
		}
		if len(list) == 0 {
			continue
		}
		if overlap {
			list = []string{prefix + "." + string(k) + ".>"}
		}
		out[k] = list
	}
	return out
}
