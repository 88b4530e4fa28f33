package web_test

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/web"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	cases := []struct {
		method, path string
		status       int
		typ, body    string
	}{
		{"GET", "/", 200, "text/html", "<title>Headroom"},
		{"GET", "/static/app.js", 200, "javascript", "new Feed"},
		{"GET", "/static/app.css", 200, "text/css", "--bg"},
		{"GET", "/vendor/uplot/uPlot.iife.min.js", 200, "javascript", "uPlot"},
		{"GET", "/vendor/msgpack/msgpack.min.js", 200, "javascript", "MessagePack"},
		{"GET", "/vendor/uplot/LICENSE", 200, "", "MIT"},
		{"GET", "/nope.js", 404, "", ""},
		{"POST", "/", 405, "", ""},
	}
	for _, c := range cases {
		t.Run(c.method+c.path, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), c.typ) {
				t.Fatalf("content type %q, want %q", resp.Header.Get("Content-Type"), c.typ)
			}
			if !strings.Contains(string(body), c.body) {
				t.Fatalf("body lacks %q", c.body)
			}
			if c.status == 200 && resp.Header.Get("Content-Security-Policy") == "" {
				t.Fatal("no content security policy")
			}
		})
	}
}

// TestHandlerServesOnlyEmbedded: a request for a path outside the
// embedded files, written as a client would send it on the wire (.., its
// escapes, files of the package left out of the embed), is not served:
// nothing of the package's sources or the module reaches the client.
func TestHandlerServesOnlyEmbedded(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Raw, so no client cleans the path before it is sent.
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := get("/static/app.css"); status != http.StatusOK || !strings.Contains(body, "--bg") {
		t.Fatalf("raw GET of an embedded file: %d, want 200 with its content", status)
	}
	for _, path := range []string{
		"/web.go", "/doc.go", "/vendor/SHA256SUMS", "/vendor/refresh.sh", "/vendor/VERSIONS",
		"/../go.mod", "/../web/web.go", "/static/../../go.mod", "/static/../web.go",
		"/static/..%2f..%2fgo.mod", "/%2e%2e/go.mod", "/static/%2e%2e%2fweb.go", "/static/..%5c..%5cgo.mod",
		"/static/%2e%2e/web.go", "//etc/passwd", "/..\\web.go",
	} {
		status, body := get(path)
		if status == http.StatusOK || strings.Contains(body, "package web") || strings.Contains(body, "module github.com") {
			t.Errorf("GET %s: %d, %.80q; want it refused", path, status, body)
		}
	}
}

// TestVendoredFilesMatchSums: the vendored libraries the dashboard embeds
// are exactly the bytes vendor/refresh.sh fetched (vendor/SHA256SUMS), and
// nothing unlisted is embedded beside them: a hand edit or a stray file
// fails here instead of shipping.
func TestVendoredFilesMatchSums(t *testing.T) {
	sums, err := os.ReadFile("vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		want, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q: want \"<sum>  <file>\"", line)
		}
		data, err := os.ReadFile(filepath.Join("vendor", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(data)); got != want {
			t.Errorf("vendor/%s: sha256 %s, SHA256SUMS says %s (re-run vendor/refresh.sh rather than edit it)", name, got, want)
		}
		listed[name] = true
	}
	for _, dir := range []string{"uplot", "msgpack"} {
		entries, err := os.ReadDir(filepath.Join("vendor", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if name := dir + "/" + e.Name(); !listed[name] {
				t.Errorf("vendor/%s is embedded but not in SHA256SUMS", name)
			}
		}
	}
}
