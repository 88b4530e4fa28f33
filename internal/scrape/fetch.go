package scrape

import (
	"context"
	"fmt"
	"io"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/headroomhq/headroom/internal/redact"
)

// MaxBody bounds the exposition Fetch reads from one target.
const MaxBody = 32 << 20

// MaxSeries bounds the series one target may expose: the metrics of every
// family, each label set counted once (a histogram or a summary is one
// series here, not one per bucket or quantile). One service's /metrics
// plausibly holds a few hundred series of runtime and process metrics plus
// its own instrumentation; even a per-route, per-status histogram over
// 50 routes and 5 statuses is 250 series, and a large service exposes a few
// thousand. 50,000 is ten times that, yet well under the ~500,000 lines of
// 64 bytes that MaxBody lets through: more is a cardinality explosion (a
// label taking user input, a per-request id) or not one service's
// endpoint, and the scrape is refused.
const MaxSeries = 50_000

// MaxLabels bounds the labels of one series. Instrumented services label a
// series with a handful of dimensions (method, route, status, instance);
// 32 leaves room for Kubernetes-style pod labels copied onto every series
// and refuses only an exposition whose labels grow without bound.
const MaxLabels = 32

// acceptText asks for the plain text exposition format, which every
// Prometheus client library serves.
const acceptText = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

// Fetch GETs url and parses its text exposition with prometheus/common's
// parser. The caller bounds the time with ctx. Any status but 200, a body
// over MaxBody, a parse error, more than MaxSeries series or a series with
// more than MaxLabels labels is an error naming the url (its user
// information masked: redact.URL) and the bound; the refusals for size
// match ErrRefused.
// MaxSamples, MaxLabelPairs and MaxLabels (plus le or quantile) are counted
// while the body is read, so the parser stops at them rather than build the
// whole exposition first (a *BoundError).
func Fetch(ctx context.Context, client *http.Client, url string) (map[string]*dto.MetricFamily, error) {
	return FetchLimits(ctx, client, url, Limits{})
}

// FetchLimits is Fetch with the sample lines (and so the labels in all)
// counted while reading bounded by lim instead of the defaults.
func FetchLimits(ctx context.Context, client *http.Client, url string, lim Limits) (map[string]*dto.MetricFamily, error) {
	// Errors name the target without its user information, which the
	// collector's log would show: url.Parse's and net/http's errors quote
	// the URL too (net/http hides a password, not a user or token).
	name := redact.URL(url)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", name, redact.Error(err))
	}
	req.Header.Set("Accept", acceptText)
	req.Header.Set("User-Agent", "headroom-collector")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", name, redact.Error(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("scrape %s: status %s", name, resp.Status)
	}
	lr := &io.LimitedReader{R: resp.Body, N: MaxBody + 1}
	br := &boundReader{r: lr, maxSamples: lim.samples(), maxPairs: LabelsPerSample * lim.samples()}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(br)
	if br.err != nil {
		return nil, fmt.Errorf("scrape %s: %w", name, br.err)
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("scrape %s: %w", name, &refusal{fmt.Sprintf("exposition larger than %d bytes", MaxBody)})
	}
	if err != nil {
		return nil, fmt.Errorf("scrape %s: parse: %w", name, err)
	}
	if err := checkBounds(fams); err != nil {
		return nil, fmt.Errorf("scrape %s: %w", name, err)
	}
	return fams, nil
}

// checkBounds refuses an exposition over MaxSeries series or with a series
// over MaxLabels labels.
func checkBounds(fams map[string]*dto.MetricFamily) error {
	n := 0
	for name, f := range fams {
		n += len(f.GetMetric())
		for _, m := range f.GetMetric() {
			if l := len(m.GetLabel()); l > MaxLabels {
				return &refusal{fmt.Sprintf("a series of %s has %d labels, more than the %d a series may have (scrape.MaxLabels)", name, l, MaxLabels)}
			}
		}
	}
	if n > MaxSeries {
		return &refusal{fmt.Sprintf("%d series, more than the %d a target may expose (scrape.MaxSeries)", n, MaxSeries)}
	}
	return nil
}
