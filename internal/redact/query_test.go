package redact_test

import (
	"net/url"
	"runtime"
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
		// Names the exporters, webhooks and signed URLs in use take:
		// whatever ends in key (Datadog's application_key, New Relic's
		// license_key, Azure's subscription-key, PagerDuty's
		// routing_key), an authorization, a CAS ticket, an HMAC.
		{"https://h/x?application_key=a&license_key=b&subscription-key=c&routing_key=d&AccessKey=e",
			"https://h/x?application_key=REDACTED&license_key=REDACTED&subscription-key=REDACTED&routing_key=REDACTED&AccessKey=REDACTED"},
		// A key inside a name, as a form's arrays and objects write it.
		{"https://h/x?apikey[0]=a&auth%5Bprivate_key%5D=b", "https://h/x?apikey[0]=REDACTED&auth%5Bprivate_key%5D=REDACTED"},
		{"https://h/x?authorization=Bearer%20a&ticket=ST-1&hmac=ab12", "https://h/x?authorization=REDACTED&ticket=REDACTED&hmac=REDACTED"},
		{"https://h/x?keyword=a&author=b&passive=c&p=2&keys=d", "https://h/x?keyword=a&author=b&passive=c&p=2&keys=d"},
		// The fragment's parameters: OAuth's implicit flow, a hash-routed
		// page's query.
		{"https://h/cb#access_token=t0k3n&state=s", "https://h/cb#access_token=REDACTED&state=s"},
		{"https://h/x#a?token=t0k3n", "https://h/x#a?token=REDACTED"},
		{"https://h/x?a=1#token=t0k3n", "https://h/x?a=1#token=REDACTED"},
		{"https://h/x?a=1#L10", "https://h/x?a=1#L10"},
		// A ? in a query's value is no separator; an &amp; (HTML) is one.
		{"https://h/x?next=/a?b=1&token=t0k3n", "https://h/x?next=/a?b=1&token=REDACTED"},
		{"https://h/x?a=1&amp;token=t0k3n", "https://h/x?a=1&amp;token=REDACTED"},
		// A value of punctuation alone is masked.
		{"https://h/x?token=........", "https://h/x?token=REDACTED"},
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
		// A value's last punctuation stays in text, not in a URL whole.
		{"see https://h/x?token=t0k3n.", "see https://h/x?token=REDACTED."},
		// JSON's escaped & (encoding/json's HTML-safe output).
		{`{"url":"https://h/x?a=1\u0026token=t0k3n"}`, `{"url":"https://h/x?a=1\u0026token=REDACTED"}`},
		// A raw space in a value (url.Parse takes it; net/http's
		// error quotes the URL whole): within double quotes, the URL
		// goes on to the closing one.
		{`Get "https://h/x?token=Bearer t0k3n&a=1 b": dial tcp: refused`, `Get "https://h/x?token=REDACTED&a=1 b": dial tcp: refused`},
		{`{"target":"https://h/x?api_key=a b c"} https://i/?token=d e`, `{"target":"https://h/x?api_key=REDACTED"} https://i/?token=REDACTED e`},
		// A URL written raw in a query's value: the parameters after
		// it are still the query's (an OAuth redirect_uri, then its code).
		{"GET https://h/cb?redirect_uri=https://app/x&code=s3cret&state=1: 400", "GET https://h/cb?redirect_uri=https://app/x&code=REDACTED&state=1: 400"},
		{`Get "https://h/?next=http://i/?a=1;sig=abc d": EOF`, `Get "https://h/?next=http://i/?a=1;sig=REDACTED": EOF`},
		{"https://h/x?a=https://i/y https://j/z&token=t0k3n", "https://h/x?a=https://i/y https://j/z&token=t0k3n"},
		// A ? outside a URL is no query.
		{"why? token=abc", "why? token=abc"},
	} {
		if got := redact.Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got, want := redact.URL("https://h/x?token=t0k3n."), "https://h/x?token=REDACTED"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if got, want := redact.URLs("https://h/?token=1,https://i/?k=2&key=3"), "https://h/?token=REDACTED,https://i/?k=2&key=REDACTED"; got != want {
		t.Errorf("URLs = %q, want %q", got, want)
	}
}

// FuzzQueryCredentials: a token of at least 8 bytes, given as a credential
// parameter anywhere in a URL's query or fragment, escaped as a URL writes
// it, never shows in the masked text or URL.
func FuzzQueryCredentials(f *testing.F) {
	f.Add("token", "s3cret-t0ken", "job=web", "", "GET ", ": 503")
	f.Add("X-Amz-Signature", "abcdef0123456789", "", "page=2", `Get "`, `": refused`)
	f.Add("api_key", "key with spaces", "a=b;c=d", "e", "", "")
	f.Fuzz(func(t *testing.T, name, token, before, after, pre, post string) {
		names := []string{"token", "access_token", "api_key", "apikey", "key", "password", "secret", "client_secret", "sig", "X-Amz-Signature", "auth", "session_id",
			"application_key", "license_key", "subscription-key", "authorization"}
		name = names[len(name)%len(names)]
		value := url.QueryEscape(token)
		if len(value) < 8 {
			t.Skip("not distinctive")
		}
		for _, p := range []*string{&before, &after} {
			*p = url.PathEscape(*p) // no #, no space: within the query
		}
		// The query with the token, and with it masked as in text: its
		// last punctuation (,;:.) shown, as what may follow a URL, but
		// never all of it.
		kept := strings.TrimRight(value, ",;:.)")
		if kept == "" {
			kept = value[:len(value)-1]
		}
		tail := value[len(kept):]
		q, masked := name+"="+value, name+"="+redact.Mask+tail
		if before != "" {
			q, masked = before+"&"+q, before+"&"+masked
		}
		if after != "" {
			q, masked = q+"&"+after, masked+"&"+after
		}
		// In a query, a fragment, a hash-routed page's query, or after a
		// URL written raw in the query.
		base := []string{"https://h.example/metrics?", "https://h.example/cb#", "https://h.example/#/login?",
			"https://h.example/cb?next=https://i.example/x&"}[len(after)%4]
		u := base + q
		// Text around the URL, anything but a scheme glued to the value
		// (token=abc://…: the next URL's scheme would take its tail).
		without := pre + base + masked + post
		if strings.Contains(without, value) || strings.Contains(redact.Text(without), value) ||
			strings.HasPrefix(strings.TrimLeft(post, schemeChars), "://") {
			t.Skip("not distinctive, or the value glued to another URL's scheme")
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
	for _, unit := range []string{"x://h?token=a&", "x://h?", "?&=", "x://h?a=b&token=c ", `"x://h?token=a b `} {
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

// TestQueryAllocs: masking the queries of text made of URLs allocates in
// proportion to the text, a few times its size, not kilobytes for every
// parameter (a strings.Replacer built for each name took 32 MB for 64 KiB
// of "x://h?token=a&").
func TestQueryAllocs(t *testing.T) {
	in := strings.Repeat("x://h?token=a&", 1<<16/14)
	redact.Text(in)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	redact.Text(in)
	runtime.ReadMemStats(&after)
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(32*len(in)); got > limit {
		t.Errorf("Text of %d bytes allocated %d bytes, want at most %d", len(in), got, limit)
	}
}
