package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
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
