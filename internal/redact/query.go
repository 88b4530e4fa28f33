package redact

import (
	"net/url"
	"strings"
)

// Query parameters that carry credentials: some exporters and webhooks
// take a token in the URL (https://host/metrics?token=…, a presigned
// ?X-Amz-Signature=…), and such a URL is logged, quoted in errors and
// put in labels the way one with user information is. A parameter counts
// when its name, lower-cased with - and _ dropped, is one of credentialKeys
// or holds one of credentialParts; its value (up to the next & or ;, or
// the fragment) is replaced by Mask, its name kept.
var (
	credentialKeys  = []string{"key", "sig", "auth", "code", "pass", "pwd", "jwt", "bearer"}
	credentialParts = []string{"token", "secret", "password", "passwd", "apikey", "signature", "credential", "session"}
)

// credentialKey reports whether a query parameter named name (as written,
// possibly percent-encoded) carries a credential.
func credentialKey(name string) bool {
	if n, err := url.QueryUnescape(name); err == nil {
		name = n
	}
	name = strings.ToLower(name)
	name = strings.NewReplacer("-", "", "_", "").Replace(name)
	for _, k := range credentialKeys {
		if name == k {
			return true
		}
	}
	for _, p := range credentialParts {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}

// maskQuery returns u, one URL's text from just after its "://" to its
// end, with the values of its credential parameters masked (see
// credentialKeys). The query starts at the first ? (unless a # comes
// before it) and ends at a #; u is read once.
func maskQuery(u string) string {
	q := strings.IndexByte(u, '?')
	if q < 0 || strings.IndexByte(u[:q], '#') >= 0 { // none, or the fragment's
		return u
	}
	end := len(u)
	if f := strings.IndexByte(u[q:], '#'); f >= 0 {
		end = q + f
	}
	var b strings.Builder
	b.WriteString(u[:q+1])
	changed, from := false, q+1
	for i := q + 1; i <= end; i++ {
		if i < end && u[i] != '&' && u[i] != ';' {
			continue
		}
		if name, v, ok := strings.Cut(u[from:i], "="); ok && strings.TrimRight(v, trailing) != "" && credentialKey(name) {
			// Punctuation after a URL in text (": refused", a list's
			// comma) stays, a token's last character with it.
			b.WriteString(name + "=" + Mask + v[len(strings.TrimRight(v, trailing)):])
			changed = true
		} else {
			b.WriteString(u[from:i])
		}
		if i < end {
			b.WriteByte(u[i])
		}
		from = i + 1
	}
	if !changed {
		return u
	}
	b.WriteString(u[end:])
	return b.String()
}

// trailing is the punctuation that may follow a URL in text, kept after
// a masked value.
const trailing = ",;:.)"

// maskQueries returns s, free text, with the credential parameters of the
// query of every URL in it masked (maskQuery); each URL ends where Text's
// do (textEnd), so s is read a bounded number of times.
func maskQueries(s string) string {
	if !strings.Contains(s, "?") {
		return s
	}
	var b strings.Builder
	done, i := 0, 0
	for {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		start := i + j + len("://")
		end := start + textEnd(s[start:], false, opener(s, i+j))
		if m := maskQuery(s[start:end]); m != s[start:end] {
			b.WriteString(s[done:start])
			b.WriteString(m)
			done = end
		}
		i = end
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}
