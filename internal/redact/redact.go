// Package redact keeps credentials out of logs, errors and /readyz, and a
// client's long values from taking them over (Clip): it
// masks the user information (user:password@, or a token@) of URLs, in
// free text such as an error's message (Text), in an error that keeps
// wrapping its cause (Error), or in a configured URL (URL) or
// comma-separated list of them (URLs). They replace the whole user
// information, user name included, by Mask and keep the rest as it was.
// It takes values and returns values.
//
// What counts as user information is what stands between "://" and the
// last @ before the host ends, so a raw @ or : in a password is hidden
// with it. A password that holds a raw /, ?, # or space (which a URL
// should escape) ends the host where a parser would; it is still hidden
// when what stands before that character is no host[:port] (user:pass…,
// a port that is not a number), but not when it could be one (a user name
// alone, or a password whose first characters are digits): such a URL
// reads like a host with a path, and an @ in a path (?q=a@b) is kept.
//
// Credentials in a URL's query (?token=…, ?api_key=…, a presigned
// ?X-Amz-Signature=…) or fragment (#access_token=…) are masked too,
// parameter by parameter: the value of
// each one whose name says it carries a credential becomes Mask, its name
// and the other parameters kept (https://h/metrics?token=REDACTED&job=web).
package redact

import (
	"strconv"
	"strings"
)

// Mask is what replaces the user information: scheme://REDACTED@host.
const Mask = "REDACTED"

// Text returns s with the user information of every URL in it masked
// (scheme://Mask@host), and its query's credentials: an error may quote a URL whole (url.Parse's does,
// and so do clients' connection errors), several of them, or in quotes.
// A URL ends at white space, a double quote or backquote, <>, a single
// quote if one opened it (else it may be a password's, which a URL holds
// raw), or where another one starts (within double quotes, as %q and
// JSON write them, \" is an escaped quote, no end); one whose host part
// is no host[:port] is taken to go on to the last @ before the end of its
// line or a quote (a space in its password). The
// port url.Parse's error quotes for such a URL ("invalid port \":pa\"
// after host", the password up to its raw /, ? or #) is masked too.
func Text(s string) string {
	var b strings.Builder
	var ports map[string]bool // what url.Parse reads as the ports of the URLs masked
	done, i := 0, 0           // s[:done] is written; the next "://" is looked for from i
	for {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		start := i + j + len("://")
		at := userinfoEnd(s[start:], true, opener(s, i+j))
		if at < 0 {
			i = start
			continue
		}
		if p := parsedPort(s[start : start+at]); p != "" {
			if ports == nil {
				ports = map[string]bool{}
			}
			// As the error quotes it: within a quoted URL, p is already
			// escaped as the port is.
			ports[p] = true
			ports[strings.Trim(strconv.Quote(p), `"`)] = true
		}
		b.WriteString(s[done:start])
		b.WriteString(Mask)
		done = start + at // the @
		i = done
	}
	if done == 0 {
		return maskQueries(s)
	}
	b.WriteString(s[done:])
	out := b.String()
	if ports != nil {
		out = maskPorts(out, ports)
	}
	return maskQueries(out)
}

// maskPorts returns s with every port of ports that url.Parse's error
// quotes ("invalid port \":pa\" after host") masked (":Mask"), in one
// pass: whatever the ports, s is read a bounded number of times.
func maskPorts(s string, ports map[string]bool) string {
	const before, after = `invalid port "`, `" after host`
	var b strings.Builder
	done, i := 0, 0
	for {
		k := strings.Index(s[i:], before)
		if k < 0 {
			break
		}
		from := i + k + len(before)
		// The port quoted holds no quote: the URL's user information
		// ends at one.
		to := strings.IndexByte(s[from:], '"')
		if to < 0 {
			break
		}
		to += from
		if ports[s[from:to]] && strings.HasPrefix(s[to:], after) {
			b.WriteString(s[done:from])
			b.WriteString(":" + Mask)
			done = to
		}
		i = to
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// parsedPort returns what url.Parse takes for the port of a URL whose
// user information is userinfo and holds a raw /, ? or # (which end the
// host part early): from the last : before that character, or "". Its
// error ("invalid port \":pass\" after host") quotes it: a password's
// first characters.
func parsedPort(userinfo string) string {
	k := strings.IndexAny(userinfo, "/?#")
	if k < 0 {
		return ""
	}
	host := userinfo[:k]
	if c := strings.LastIndexByte(host, ':'); c >= 0 {
		return host[c:]
	}
	return ""
}

// URLs returns s, one URL or a comma-separated list of them (as NATS
// takes, each with or without its scheme://), with the user information
// of each masked as URL masks it.
func URLs(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = URL(p)
	}
	return strings.Join(parts, ",")
}

// URL returns s, one URL with or without its scheme://, with its user
// information masked (scheme://Mask@host), and its query's credentials. s is a URL whole, spaces
// included: one that does not parse is masked all the same.
func URL(s string) string {
	start := 0
	if k := strings.Index(s, "://"); k >= 0 {
		start = k + len("://")
	}
	if at := userinfoEnd(s[start:], false, 0); at >= 0 {
		s = s[:start] + Mask + s[start+at:]
	}
	return s[:start] + maskQuery(s[start:], false, false)
}

// opener returns the character before the scheme of the URL whose "://"
// is at s[k:], or 0: the quote it may stand in.
func opener(s string, k int) byte {
	for k > 0 && schemeChar(s[k-1]) {
		k--
	}
	if k == 0 {
		return 0
	}
	return s[k-1]
}

// userinfoEnd returns the index in rest (what follows a "://") of the @
// that ends its user information, or -1 if it has none. In text, the URL
// ends at a character no URL holds or where another URL starts (quote is
// the character before its scheme: textEnd); else rest is the URL's whole
// remainder.
func userinfoEnd(rest string, text bool, quote byte) int {
	url := rest
	if text {
		url = rest[:textEnd(rest, false, quote)]
	}
	// The host part as a parser reads it: up to the path, query or fragment.
	host := url
	if k := strings.IndexAny(url, "/?#"); k >= 0 {
		host = url[:k]
	}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		return at
	}
	if hostPort(host) {
		return -1 // an @ after it is in the path, query or fragment
	}
	// No host: a raw /, ?, # or space ended the user information early.
	if at := strings.LastIndexByte(url, '@'); at >= 0 || !text {
		return at
	}
	return strings.LastIndexByte(rest[:textEnd(rest, true, quote)], '@')
}

// textEnd returns where the URL starting rest ends in free text: at white
// space (line ends only if line), a double quote, a backquote, < or >
// (which a URL escapes), a single quote if quote is one (a user
// information may hold it raw: a sub-delim), or the scheme of the next
// URL. Within double quotes (quote '"': Go's %q, JSON) a backslash escapes
// the character after it, so \" does not end the URL.
func textEnd(rest string, line bool, quote byte) int {
	// One pass up to the first end: a scan to the end of the text for
	// every URL in it would take time in the square of its length.
	for k := 0; k < len(rest); k++ {
		switch c := rest[k]; {
		case c == '\\' && quote == '"':
			k++
		case c == '"' || c == '\'' && quote == '\'' || c == '`' || c == '<' || c == '>' || c == '\n' || c == '\r' ||
			!line && (c <= ' ' || c == 0x7f):
			return k
		case c == ':' && strings.HasPrefix(rest[k:], "://"):
			// Back over the next URL's scheme.
			for k > 0 && schemeChar(rest[k-1]) {
				k--
			}
			return k
		}
	}
	return len(rest)
}

// schemeChar reports whether c may stand in a URL's scheme.
func schemeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}

// hostPort reports whether h reads as a host with an optional numeric port
// ("name", "name:443", "[::1]:443", ""), punctuation that may follow a URL
// in text (",;.)") aside.
func hostPort(h string) bool {
	h = strings.TrimRight(h, ",;.)")
	if strings.HasPrefix(h, "[") {
		k := strings.IndexByte(h, ']')
		if k < 0 {
			return false
		}
		h = h[k+1:]
		if h == "" {
			return true
		}
		if h[0] != ':' {
			return false
		}
		return digits(h[1:])
	}
	_, port, found := strings.Cut(h, ":")
	return !found || digits(port)
}

// digits reports whether s is decimal digits only ("" too: "host:" is a
// host with an empty port).
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Snippet returns b, text another program wrote (a command's output, a
// response body), as an error message may quote it: invalid UTF-8 (a cut
// within a character, or binary output) replaced by ?, and masked as Text
// masks it. cut says b is only the first bytes of a longer text, cut right
// after its end (kept up to a bound): a cut within a URL's user
// information leaves no @ for Text to find, so the start of a password
// (https://ops:hunt) would show; a URL the cut ends in, whose part before
// any /, ? or # holds no @ and reads as no host[:port], has that part
// masked whole (scheme://Mask). As in Text, a part that could be a host
// (a user name alone, user:digits) is kept. A query parameter cut in its
// value is masked by Text already, its name being whole. Every quote of
// such text goes through it, so none masks a cut one as a whole one.
func Snippet(b []byte, cut bool) string {
	s := strings.ToValidUTF8(string(b), "?")
	if cut {
		return textCut(s)
	}
	return Text(s)
}

// textCut returns s, the first bytes of a longer text, masked (see
// Snippet).
func textCut(s string) string {
	if k := strings.LastIndex(s, "://"); k >= 0 {
		start := k + len("://")
		rest, quote := s[start:], opener(s, k)
		host := rest
		if h := strings.IndexAny(rest, "/?#"); h >= 0 {
			host = rest[:h]
		}
		if textEnd(rest, false, quote) == len(rest) && userinfoEnd(rest, true, quote) < 0 && host != "" && !hostPort(host) {
			s = s[:start] + Mask + rest[len(host):]
		}
	}
	return Text(s)
}

// Clip returns s, a value a client sent (a header, a field), as a log
// line quotes it: its first n bytes, cut at valid UTF-8, and its length
// when longer, so that a request of up to the server's header or body
// limit cannot take over the log.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// Error returns err with its message masked as Text masks it, still
// wrapping err (errors.Is and As see through it), or nil for nil: for an
// error from code that quotes URLs whole (a client library's).
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := Text(err.Error())
	if msg == err.Error() {
		return err
	}
	return masked{msg: msg, err: err}
}

// masked is an error with its message masked (Error).
type masked struct {
	msg string
	err error
}

func (m masked) Error() string { return m.msg }
func (m masked) Unwrap() error { return m.err }
