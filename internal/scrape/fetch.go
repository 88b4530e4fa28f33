package scrape

import (
	"context"
	"fmt"
	"io"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// MaxBody bounds the exposition Fetch reads from one target.
const MaxBody = 32 << 20

// acceptText asks for the plain text exposition format, which every
// Prometheus client library serves.
const acceptText = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

// Fetch GETs url and parses its text exposition with prometheus/common's
// parser. The caller bounds the time with ctx. Any status but 200, a body
// over MaxBody or a parse error is an error naming the url.
func Fetch(ctx context.Context, client *http.Client, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", acceptText)
	req.Header.Set("User-Agent", "headroom-collector")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("scrape %s: status %s", url, resp.Status)
	}
	lr := &io.LimitedReader{R: resp.Body, N: MaxBody + 1}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(lr)
	if lr.N <= 0 {
		return nil, fmt.Errorf("scrape %s: exposition larger than %d bytes", url, MaxBody)
	}
	if err != nil {
		return nil, fmt.Errorf("scrape %s: parse: %w", url, err)
	}
	return fams, nil
}
