package redact

import (
	"net/url"
	"strings"
)

// Query parameters that carry credentials: some exporters and webhooks
// take a token in the URL (https://host/metrics?token=…, a presigned
// ?X-Amz-Signature=…), and such a URL is logged, quoted in errors and
// put in labels the way one with user information is. A parameter counts
// when its name, lower-cased with - and _ dropped, or a part of it a form
// nests (auth[private_key]), is one of credentialKeys, holds one of
// credentialParts or ends in "key" (api_key, license_key,
// subscription-key, application_key, routing_key, private_key); its value
// (up to the next & or ;, or the fragment) is replaced by Mask, its name
// kept. The fragment's parameters count too: OAuth's implicit flow puts
// the token there (#access_token=…), and so does a hash-routed page
// (#/login?token=…).
var (
	credentialKeys  = []string{"sig", "auth", "code", "pass", "pwd", "jwt", "bearer", "ticket"}
	credentialParts = []string{"token", "secret", "password", "passwd", "signature", "credential", "session", "authorization", "hmac"}
)

// credentialKey reports whether a query parameter named name (as written,
// possibly percent-encoded) carries a credential.
func credentialKey(name string) bool {
	if strings.ContainsAny(name, "%+") {
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
	}
	// Lower-cased, - and _ dropped, in one pass and one allocation: this
	// runs for every parameter of every URL of a remote-controlled text.
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '-' || c == '_':
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	// Each part of a name a form nests (auth[private_key], a.token)
	// counts alone.
	for _, part := range strings.FieldsFunc(string(b), func(r rune) bool { return r == '[' || r == ']' || r == '.' }) {
		if credentialPart(part) {
			return true
		}
	}
	return false
}

// credentialPart reports whether part, a lower-cased name or a part of
// one without - or _, carries a credential (credentialKeys).
func credentialPart(part string) bool {
	if strings.HasSuffix(part, "key") {
		return true
	}
	for _, k := range credentialKeys {
		if part == k {
			return true
		}
	}
	for _, p := range credentialParts {
		if strings.Contains(part, p) {
			return true
		}
	}
	return false
}

// maskQuery returns u, one URL's text from just after its "://" to its
// end, with the values of the credential parameters of its query and
// fragment masked (see credentialKeys). The parameters start after the
// first ? or #; each ends at an & or ;, at the # that starts the fragment,
// and within the fragment at a ? too. In text (Text's URLs), punctuation
// that may follow a URL (trailing) stays after a masked value (but never
// all of it), and JSON's escaped & (\u0026) ends a parameter too; else u
// is a URL whole. Within, u is a URL written raw in the query of the one
// before it: all of it is parameters, split as a fragment's.
// u is read once.
func maskQuery(u string, text, within bool) string {
	q := strings.IndexAny(u, "?#")
	if within {
		q = -1 // all parameters, as a fragment's are split
	} else if q < 0 {
		return u
	}
	var b strings.Builder
	changed, from, fragment := false, q+1, within || u[q] == '#'
	for i := q + 1; i <= len(u); i++ {
		sep := 0 // the length of the separator at u[i], if one
		switch {
		case i == len(u):
		case u[i] == '&' || u[i] == ';' || u[i] == '#' || u[i] == '?' && fragment:
			sep = 1
		case text && u[i] == '\\' && strings.HasPrefix(u[i:], `\u0026`):
			sep = len(`\u0026`)
		default:
			continue
		}
		if name, v, ok := strings.Cut(u[from:i], "="); ok && v != "" && credentialKey(name) {
			if !changed {
				b.Grow(len(u) + len(Mask))
				b.WriteString(u[:from])
				changed = true
			}
			// Punctuation after a URL in text (": refused", a list's
			// comma) stays, a token's last character with it; of a
			// value of nothing else, only its last character.
			kept := ""
			if text {
				t := strings.TrimRight(v, trailing)
				if t == "" {
					t = v[:len(v)-1]
				}
				kept = v[len(t):]
			}
			b.WriteString(name)
			b.WriteString("=" + Mask)
			b.WriteString(kept)
		} else if changed {
			b.WriteString(u[from:i])
		}
		if i == len(u) {
			break
		}
		if changed {
			b.WriteString(u[i : i+sep])
		}
		fragment = fragment || u[i] == '#'
		from = i + sep
		i += sep - 1
	}
	if !changed {
		return u
	}
	return b.String()
}

// trailing is the punctuation that may follow a URL in text, kept after
// a masked value.
const trailing = ",;:.)"

// maskQueries returns s, free text, with the credential parameters of the
// query of every URL in it masked (maskQuery); each URL ends where Text's
// do (textEnd), one in double quotes at the closing quote, so s is read a
// bounded number of times.
func maskQueries(s string) string {
	if !strings.ContainsAny(s, "?#") {
		return s
	}
	var b strings.Builder
	done, i := 0, 0
	var quote byte  // the character before the URL's scheme (opener)
	within := false // the URL is written raw in the query of the one before
	for {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		start := i + j + len("://")
		// Within double quotes (Go's %q, as net/http's errors quote a
		// URL: Get "https://h/x?token=a b": …, and JSON), the URL goes
		// on to the closing quote: a query's value may hold a raw space,
		// which url.Parse takes. A URL within another's query is within
		// its quotes.
		if !within {
			quote = opener(s, i+j)
		}
		end := start + textEnd(s[start:], quote == '"', quote)
		if m := maskQuery(s[start:end], true, within); m != s[start:end] {
			b.WriteString(s[done:start])
			b.WriteString(m)
			done = end
		}
		// A URL written raw in a query's value (?next=https://i/&token=…)
		// ends this one's text, but what follows it is still the
		// query's: the parameters after it are masked as the query's.
		within = (within || strings.ContainsAny(s[start:end], "?#")) &&
			strings.HasPrefix(strings.TrimLeftFunc(s[end:], func(r rune) bool { return r < 0x80 && schemeChar(byte(r)) }), "://")
		i = end
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}
