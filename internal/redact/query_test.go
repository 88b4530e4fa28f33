package redact_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/redact"
)

// TestQueryCredentials: the value of every query parameter whose name says
// it carries a credential is masked, in free text and in a configured URL,
// its name and every other parameter kept; a ? of the fragment, a
// parameter without a value, and ordinary names (q, job, page) are kept.
func TestQueryCredentials(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://h/metrics?token=s3cret", "https://h/metrics?token=REDACTED"},
		{"https://h/metrics?job=web&access_token=s3cret&page=2", "https://h/metrics?job=web&access_token=REDACTED&page=2"},
		{"https://h/x?API-Key=a&apikey=b&key=c&sig=d;X-Amz-Signature=e#frag", "https://h/x?API-Key=REDACTED&apikey=REDACTED&key=REDACTED&sig=REDACTED;X-Amz-Signature=REDACTED#frag"},
		{"https://h/x?client%5Fsecret=a&password=b&auth=c", "https://h/x?client%5Fsecret=REDACTED&password=REDACTED&auth=REDACTED"},
		{"https://u:p@h/x?token=t0k3n", "https://REDACTED@h/x?token=REDACTED"},
		{"https://h/x?q=token&job=secret", "https://h/x?q=token&job=secret"},
		{"https://h/x?token=&token", "https://h/x?token=&token"},
		{"https://h/x#a?token=t0k3n", "https://h/x#a?token=t0k3n"},
		{"https://h/x?a=1#token=t0k3n", "https://h/x?a=1#token=t0k3n"},
		{"https://h/x", "https://h/x"},
	} {
		if got := redact.URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := redact.Text("GET " + c.in + ": 503"); got != "GET "+c.want+": 503" {
			t.Errorf("Text(GET %q: 503) = %q, want GET %q: 503", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		// As net/http's errors quote a URL, several in a line.
		{`Get "https://h/m?token=abc&x=1": dial tcp: refused`, `Get "https://h/m?token=REDACTED&x=1": dial tcp: refused`},
		{"a https://h/?token=1 b http://i/?secret=2&q=3 c", "a https://h/?token=REDACTED b http://i/?secret=REDACTED&q=3 c"},
		{"https://h/?token=1,https://i/?token=2", "https://h/?token=REDACTED,https://i/?token=REDACTED"},
		// A ? outside a URL is no query.
		{"why? token=abc", "why? token=abc"},
	} {
		if got := redact.Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got, want := redact.URLs("https://h/?token=1,https://i/?k=2&key=3"), "https://h/?token=REDACTED,https://i/?k=2&key=REDACTED"; got != want {
		t.Errorf("URLs = %q, want %q", got, want)
	}
}

// FuzzQueryCredentials: a token of at least 8 bytes, given as a credential
// parameter anywhere in a URL's query, escaped as a URL writes it, never
// shows in the masked text or URL.
func FuzzQueryCredentials(f *testing.F) {
	f.Add("token", "s3cret-t0ken", "job=web", "", "GET ", ": 503")
	f.Add("X-Amz-Signature", "abcdef0123456789", "", "page=2", `Get "`, `": refused`)
	f.Add("api_key", "key with spaces", "a=b;c=d", "e", "", "")
	f.Fuzz(func(t *testing.T, name, token, before, after, pre, post string) {
		names := []string{"token", "access_token", "api_key", "apikey", "key", "password", "secret", "client_secret", "sig", "X-Amz-Signature", "auth", "session_id"}
		name = names[len(name)%len(names)]
		value := url.QueryEscape(token)
		if len(value) < 8 {
			t.Skip("not distinctive")
		}
		for _, p := range []*string{&before, &after} {
			*p = url.PathEscape(*p) // no #, no space: within the query
		}
		q := name + "=" + value
		if before != "" {
			q = before + "&" + q
		}
		if after != "" {
			q += "&" + after
		}
		u := "https://h.example/metrics?" + q
		if strings.Contains(redact.Text(pre+"https://h.example/metrics"+post), value) ||
			strings.ContainsAny(pre+post, "\"'`<> \t\r\n") && !strings.HasSuffix(pre, `"`) {
			t.Skip("not distinctive, or not a URL's end")
		}
		if got := redact.URL(u); strings.Contains(got, value) {
			t.Errorf("URL(%q) = %q: shows the token", u, got)
		}
		if got := redact.Text(pre + u + post); strings.Contains(got, value) {
			t.Errorf("Text(%q) = %q: shows the token", pre+u+post, got)
		}
	})
}

// TestQueryLinear: masking queries takes time in proportion to the text.
func TestQueryLinear(t *testing.T) {
	const size = 1 << 20
	for _, unit := range []string{"x://h?token=a&", "x://h?", "?&=", "x://h?a=b&token=c "} {
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
