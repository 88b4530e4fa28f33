package redact_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/redact"
)

// TestText: the user information of every URL in free text is masked,
// whatever the scheme, with raw @, :, /, # or spaces in the password, in
// quotes as url.Parse's errors put them, several in a string; what is no
// user information (an @ in a path or query, a mail address, a URL
// without one) is kept.
func TestText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"no url here, mail ops@example.com", "no url here, mail ops@example.com"},
		{"nats://svc:hunter2@nats.internal:4222", "nats://REDACTED@nats.internal:4222"},
		{"nats://tok3n@nats:4222", "nats://REDACTED@nats:4222"},
		{"nats://:pw@nats:4222", "nats://REDACTED@nats:4222"},
		{"nats://nats.internal:4222 is down", "nats://nats.internal:4222 is down"},
		// Several, with and without user information, comma-separated.
		{"connect nats://svc:hunter2@nats.internal:4222, tls://a:b@c:1: refused",
			"connect nats://REDACTED@nats.internal:4222, tls://REDACTED@c:1: refused"},
		{"nats://a:4222,nats://u:p@b:4222", "nats://a:4222,nats://REDACTED@b:4222"},
		{"nats://u:p@a:4222,nats://v:q@b:4222", "nats://REDACTED@a:4222,nats://REDACTED@b:4222"},
		// Quoted, as url.Parse's error quotes it.
		{`parse "https://ops:hunter2@hooks.example:bad/scale": invalid port ":bad" after host`,
			`parse "https://REDACTED@hooks.example:bad/scale": invalid port ":bad" after host`},
		{`'http://u:p@h' and "http://v:q@i" and <http://w:r@j>`, `'http://REDACTED@h' and "http://REDACTED@i" and <http://REDACTED@j>`},
		// A raw @ in the password: up to the last @ of the host part.
		{`dial "http://u:hunter2@x@host/p?q=a@b": refused`, `dial "http://REDACTED@host/p?q=a@b": refused`},
		// A raw / or # in the password: what precedes it is no host:port.
		// url.Parse's error then quotes the password up to that character
		// as the port.
		{`parse "https://ops:s3cr3t/hunter2@kube.example:bad/": invalid port ":s3cr3t" after host`,
			`parse "https://REDACTED@kube.example:bad/": invalid port ":REDACTED" after host`},
		{`parse "https://ops:a:b#c@kube.example/": invalid port ":b" after host`,
			`parse "https://REDACTED@kube.example/": invalid port ":REDACTED" after host`},
		{`parse "https://h:bad/": invalid port ":bad" after host`, `parse "https://h:bad/": invalid port ":bad" after host`},
		{"get https://ops:pa#ss@kube.example/api: refused", "get https://REDACTED@kube.example/api: refused"},
		{"get https://ops:pa?ss@kube.example/api: refused", "get https://REDACTED@kube.example/api: refused"},
		// A raw space in the password: up to the last @ of the line or quote.
		{`parse "http://u:pa ss@h/p": net/url: invalid userinfo`, `parse "http://REDACTED@h/p": net/url: invalid userinfo`},
		{"connect nats://u:pa ss word@h:4222: refused\nnext line x@y", "connect nats://REDACTED@h:4222: refused\nnext line x@y"},
		// A raw ' in a password (a sub-delim: url.Parse takes it) ends
		// only a URL opened by one; within double quotes, as %q and JSON
		// write them, \" is no end (a raw " that url.Parse refuses).
		{"GET http://u:pa'ss@h/metrics: 503", "GET http://REDACTED@h/metrics: 503"},
		{`parse "http://u:pa'ss@h:bad/": invalid port ":bad" after host`, `parse "http://REDACTED@h:bad/": invalid port ":bad" after host`},
		{`parse "http://u:pa'ss/x@h/": invalid port ":pa'ss" after host`, `parse "http://REDACTED@h/": invalid port ":REDACTED" after host`},
		{`parse "http://u:pa\"ss@h/": net/url: invalid userinfo`, `parse "http://REDACTED@h/": net/url: invalid userinfo`},
		{`{"url":"http://u:pa\"ss@h/x"}`, `{"url":"http://REDACTED@h/x"}`},
		{"see 'http://h/x', then a@b", "see 'http://h/x', then a@b"},
		// An @ in a path, query or fragment is not user information.
		{"see http://docs.example/x, mail ops@example.com", "see http://docs.example/x, mail ops@example.com"},
		{"http://host:8080/users/@me", "http://host:8080/users/@me"},
		{"http://[::1]:8080/p?q=a@b#c@d", "http://[::1]:8080/p?q=a@b#c@d"},
		{"(see http://h:80), x@y", "(see http://h:80), x@y"},
		// IPv6 and bracket faults.
		{"nats://u:s3cret@[::1", "nats://REDACTED@[::1"},
		{"nats://u:s3cret@[::1]:4222", "nats://REDACTED@[::1]:4222"},
		// A scheme-less "://" and a URL glued to text.
		{"x://u:p@h", "x://REDACTED@h"},
		{"://u:p@h", "://REDACTED@h"},
		{"errnats://u:p@h", "errnats://REDACTED@h"},
		// A raw "://" in a password starts another URL (as a list's next
		// one does): only what follows it is masked; escaped, it all is.
		{"nats://u:p://q@h", "nats://u:p://REDACTED@h"},
		{"nats://u:p:%2F%2Fq@h", "nats://REDACTED@h"},
	} {
		if got := redact.Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestURLs: a configured URL, or each URL of a list, with or without its scheme,
// well-formed or not, has its user information masked and is otherwise
// left as it was.
func TestURLs(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://u:s3cret@h:4222", "nats://REDACTED@h:4222"},
		{"nats://tok@h:4222", "nats://REDACTED@h:4222"},
		{"u:s3cret@h:4222,h2:4222", "REDACTED@h:4222,h2:4222"},
		{"nats://u:p@a:1, nats://b:2,tls://v:q@c:3", "nats://REDACTED@a:1, nats://b:2,tls://REDACTED@c:3"},
		{"nats://u:s3cret@[::1", "nats://REDACTED@[::1"},
		{"nats://u:s3cret@bad host:4222", "nats://REDACTED@bad host:4222"},
		{"nats://u:s3cret@%zz:4222", "nats://REDACTED@%zz:4222"},
		{"nats://u:pa ss@h:4222", "nats://REDACTED@h:4222"},
		{"https://u:a/b#c@h/p", "https://REDACTED@h/p"},
		{"https://u:x@y@h/p?q=a@b", "https://REDACTED@h/p?q=a@b"},
		{"https://h/p?q=a@b", "https://h/p?q=a@b"},
	} {
		if !strings.Contains(c.in, ",") {
			if got := redact.URL(c.in); got != c.want {
				t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
			}
		}
		if got := redact.URLs(c.in); got != c.want {
			t.Errorf("URLs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestError: an error's message is masked and the error it masks still
// found through it; one with nothing to mask is returned as it is.
func TestError(t *testing.T) {
	if redact.Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
	plain := errors.New("nats://h:4222: refused")
	if got := redact.Error(plain); got != plain {
		t.Errorf("Error(%v) = %v, want it unchanged", plain, got)
	}
	err := fmt.Errorf("open http://u:hunter2@h/x: %w", fs.ErrNotExist)
	got := redact.Error(err)
	if got.Error() != "open http://REDACTED@h/x: file does not exist" || !errors.Is(got, fs.ErrNotExist) || !errors.Is(got, err) {
		t.Errorf("Error(%v) = %v, want its URL masked and it wrapped", err, got)
	}
}

// rawSafe reports whether a user name or password written raw into a URL
// keeps its user information recognisable in free text: no white space,
// quote, <>, /, ?, #, or "://". The rest is only ever written escaped.
func rawSafe(s string) bool {
	if strings.Contains(s, "://") {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("\"'`<>/?#", r) {
			return false
		}
	}
	return true
}

// schemeChars are the characters of a URL's scheme.
const schemeChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."

// digits reports whether s is decimal digits only ("" too).
func digits(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}

// FuzzText: for any user and password, escaped as a URL writes them or
// raw when the characters allow (a raw /, ? or # too, when what precedes
// it in the password is no port; a raw ' unless one opens the URL), and
// any text around the URL, the
// password as the URL writes it does not survive Text, nor URL, nor URLs
// of the URL in a list (when it holds no comma, which separates the
// list's URLs); unless it is not distinctive (under 8 bytes, or found in
// the text without the secret).
func FuzzText(f *testing.F) {
	f.Add("svc", "hunter2-0123", "connect ", ": refused", "nats", "nats.internal:4222", "", false)
	f.Add("ops", "pa@ss:w0rd!", `parse "`, `": invalid port`, "https", "hooks.example:bad", "/scale?q=a@b", true)
	f.Add("", "tok/en+base64==", "dial ", "", "tls", "[::1]:1", "#x", false)
	f.Add("ops", "pass word with spaces", "connect ", ": refused", "nats", "h:4222", "", false)
	f.Add("ops", "s3cr3t/hunter2", `parse "`, `": invalid port ":s3cr3t" after host`, "https", "kube.example:bad", "/", true)
	f.Fuzz(func(t *testing.T, user, pass, before, after, scheme, host, path string, raw bool) {
		if len(pass) < 8 {
			t.Skip("not distinctive")
		}
		// A raw ' in a password ends only a URL a ' opened.
		ends := "/?#'"
		if strings.HasSuffix(strings.TrimRight(before, schemeChars), "'") {
			ends = "/?#"
		}
		if !rawSafe(user) || !rawSafe(strings.Map(func(r rune) rune {
			if strings.ContainsRune(ends, r) {
				return 'x'
			}
			return r
		}, pass)) || strings.ContainsAny(user, ":@[") {
			raw = false
		}
		// A raw /, ? or # in the password ends the host part where a
		// parser would: Text hides the password only when what stands
		// before it reads as no host:port (a port that is not a number)
		// and holds no @ (which a parser takes to end the user
		// information: user 0, host 0000 in 0://0:@0000#00@h); a user
		// starting with [ would make it an IPv6 host ([:0]#@h).
		if k := strings.IndexAny(pass, "/?#"); k >= 0 && (digits(strings.TrimRight(pass[:k], ",;.)")) || strings.Contains(pass[:k], "@")) {
			raw = false
		}
		// A scheme and host the URL could hold: the secret is the subject.
		if scheme == "" || strings.IndexFunc(scheme, func(r rune) bool {
			return r > 0x7f || !strings.ContainsRune(schemeChars, r)
		}) >= 0 {
			scheme = "nats"
		}
		if strings.ContainsAny(host, "@/?#\"'`<> \t\r\n") || strings.Contains(host, "://") {
			host = "h:4222"
		}
		if path != "" && path[0] != '/' && path[0] != '?' && path[0] != '#' {
			path = "/" + path
		}
		if strings.ContainsAny(path, "\"'`<> \t\r\n\x00") || strings.Contains(path, "://") {
			path = ""
		}
		userinfo := url.UserPassword(user, pass).String()
		if raw {
			userinfo = user + ":" + pass
		}
		// The password as the URL writes it: escaped, the raw one is in
		// no URL, and finding it in none would prove nothing.
		_, secret, _ := strings.Cut(userinfo, ":")
		if len(secret) < 8 {
			t.Skip("not distinctive")
		}
		u := scheme + "://" + userinfo + "@" + host + path
		masked := scheme + "://" + redact.Mask + "@" + host + path
		without := before + masked + after
		if strings.Contains(without, secret) || strings.Contains(redact.Text(without), secret) {
			t.Skip("not distinctive")
		}
		if got := redact.Text(before + u + after); strings.Contains(got, secret) {
			t.Errorf("Text(%q) = %q: shows the password %q", before+u+after, got, secret)
		}
		if got := redact.URL(u); strings.Contains(got, secret) {
			t.Errorf("URL(%q) = %q: shows the password %q", u, got, secret)
		}
		if strings.Contains(userinfo+host+path, ",") {
			return // a comma separates URLs in a list (NATS splits on it too)
		}
		list := "nats://a:1," + u + ",b:2"
		if got := redact.URLs(list); strings.Contains(got, secret) {
			t.Errorf("URLs(%q) = %q: shows the password %q", list, got, secret)
		}
	})
}

// TestTextLinear: Text takes time in proportion to its input, even one
// made of URLs without user information or with url.Parse's port quoted
// for each (an error may quote what a scrape target or an API server
// answered): a MiB of them is masked in well under the deadline, where
// scanning to the end of the text for every URL took minutes.
func TestTextLinear(t *testing.T) {
	const size = 1 << 20
	for _, unit := range []string{
		"x://",                           // a URL start, nothing else
		"x://a:b/ ",                      // no host[:port], no @ on the line
		"x://a:b/c@h ",                   // a port url.Parse would quote, each one
		`invalid port ":b" x://a:b/c@h `, // and the error quoting it
	} {
		in := strings.Repeat(unit, size/len(unit))
		done := make(chan string, 1)
		go func() { done <- redact.Text(in) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Text of %d bytes of %q: not done in 10s", len(in), unit)
		}
	}
}

func BenchmarkText(b *testing.B) {
	for _, c := range []struct{ name, in string }{
		{"error", `dial "nats://svc:hunter2@nats.internal:4222": connection refused`},
		{"plain", "scale api/web to 3 replicas: the deployment is being rolled out"},
		{"x:// 64KiB", strings.Repeat("x://", 1<<14)},
		{"x://a:b/ 64KiB", strings.Repeat("x://a:b/ ", 1<<16/9)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				redact.Text(c.in)
			}
		})
	}
}
