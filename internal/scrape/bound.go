package scrape

import (
	"errors"
	"fmt"
	"io"
)

// ErrRefused is matched (errors.Is) by every error of Fetch that refuses an
// exposition for its size: a *BoundError, a body over MaxBody, more than
// MaxSeries series, a series over MaxLabels labels. Fetching the same
// target again at once gives the same refusal at the same cost, so a
// caller should not retry it within a round.
var ErrRefused = errors.New("exposition refused for its size")

// refusal is a size refusal found once the exposition was read; it matches
// ErrRefused.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

// Is reports whether target is ErrRefused.
func (r *refusal) Is(target error) bool { return target == ErrRefused }

// MaxSamples bounds the sample lines of one exposition, counted as the
// parser reads them. The text parser builds every series before MaxSeries
// can be checked, at 160 to 630 bytes of heap per line (a gauge line, a
// histogram bucket starting a series), so MaxBody alone let one target's
// 32 MiB of short lines hold over half a GiB while being parsed. Twice
// MaxSeries leaves room for an exposition at MaxSeries of gauges, or for
// thousands of histograms of a dozen buckets. A refused exposition of
// MaxBody bytes now allocates 43 MB instead of 920 MB, and one read whole
// at MaxSamples and MaxLabelPairs 115 MB, the most one target's scrape
// allocates (BenchmarkFetchRefused, BenchmarkFetchAtBounds).
//
// It is the default of Limits.Samples, the file's scrape.max_samples of an
// app: a target whose histograms take more lines (7,000 histogram series
// of the default dozen buckets, with _sum and _count, make 100,000) needs
// it raised, at about 200 bytes of heap per line and 100 per label held
// while it is parsed.
const MaxSamples = 2 * MaxSeries

// MaxLabelPairs bounds the labels of all the sample lines of one
// exposition together, counted as the parser reads them: each costs about
// 100 bytes of heap once parsed. It is an average of LabelsPerSample per
// line at MaxSamples, or MaxLabels on each of 15,000 lines; a raised
// Limits.Samples raises it in proportion.
const MaxLabelPairs = LabelsPerSample * MaxSamples

// LabelsPerSample is the average of labels per sample line allowed: the
// labels of all the lines together are bounded at this many times the
// sample lines' bound.
const LabelsPerSample = 5

// Limits are the bounds an exposition is read under, counted while it is
// read. The zero value is the default.
type Limits struct {
	// Samples bounds the sample lines (MaxSamples when 0), and at
	// LabelsPerSample times it their labels together.
	Samples int
}

// samples is the sample lines' bound.
func (l Limits) samples() int {
	if l.Samples > 0 {
		return l.Samples
	}
	return MaxSamples
}

// BoundError is an exposition refused while it was read, before the parser
// built what it held: which bound, its value and the line that passed it.
type BoundError struct {
	// Bound names the bound: "scrape.MaxSamples" or "scrape.MaxLabelPairs"
	// (both raised by Limits.Samples, an app's scrape.max_samples), or
	// "scrape.MaxLabels".
	Bound string
	// Value is the bound's value.
	Value int
	// Line is the line (from 1) that passed it.
	Line int
}

// Error says which bound the exposition passed and what raises it, e.g.
// "more than 100000 sample lines (scrape.MaxSamples), at line 100002: the
// app's scrape.max_samples raises it".
func (e *BoundError) Error() string {
	switch e.Bound {
	case "scrape.MaxLabels":
		return fmt.Sprintf("line %d has more than the %d labels a series may have, plus le or quantile (%s)", e.Line, e.Value-1, e.Bound)
	case "scrape.MaxLabelPairs":
		return fmt.Sprintf("more than %d labels on its sample lines together (%s), at line %d: the app's scrape.max_samples raises it, at %d labels per line",
			e.Value, e.Bound, e.Line, LabelsPerSample)
	default:
		return fmt.Sprintf("more than %d sample lines (%s), at line %d: the app's scrape.max_samples raises it", e.Value, e.Bound, e.Line)
	}
}

// Is reports whether target is ErrRefused: a bound passed while reading is
// a size refusal.
func (e *BoundError) Is(target error) bool { return target == ErrRefused }

// scanState is where boundReader is in the text format's line grammar.
type scanState uint8

const (
	lineStart   scanState = iota // before a line's first non-blank byte
	comment                      // a # line (HELP, TYPE or free text)
	sampleName                   // a sample line's metric name
	afterName                    // blanks after the name: labels may follow
	labelSet                     // inside a sample line's {…}, outside quotes
	quoted                       // inside a quoted label name or value
	escaped                      // after a backslash inside quotes
	sampleValue                  // a sample line after its labels
)

// boundReader passes an exposition through to the parser, counting sample
// lines and labels (an = outside quotes inside a line's braces) as they
// go by, and fails the read that passes maxSamples, maxPairs or
// MaxLabels+1 labels on one line (a histogram bucket's le or a summary's
// quantile is one label more than its series has; Fetch checks MaxLabels
// exactly once parsed). A malformed line is only counted as far as it
// goes: the parser refuses it.
type boundReader struct {
	r          io.Reader
	maxSamples int // Limits.samples()
	maxPairs   int // LabelsPerSample times maxSamples
	state      scanState
	line       int // lines ended (newlines read)
	samples    int
	pairs      int
	labels     int // on the current line
	err        *BoundError
}

// Read reads from the body and scans what it read; once a bound is passed
// it returns nothing more but the *BoundError.
func (b *boundReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	for i := range n {
		if b.scan(p[i]) {
			// Hand over what came before the line that passed the bound:
			// the parser stops at the error.
			return i, b.err
		}
	}
	return n, err
}

// scan moves the state machine by one byte and reports whether a bound was
// passed (b.err set).
func (b *boundReader) scan(c byte) bool {
	if c == '\n' {
		b.line++
		b.state = lineStart
		return false
	}
	switch b.state {
	case lineStart:
		switch c {
		case ' ', '\t':
		case '#':
			b.state = comment
		default:
			b.state, b.labels = sampleName, 0
			b.samples++
			if b.samples > b.maxSamples {
				return b.fail("scrape.MaxSamples", b.maxSamples)
			}
			if c == '{' {
				b.state = labelSet
			}
		}
	case sampleName:
		switch c {
		case '{':
			b.state = labelSet
		case ' ', '\t':
			b.state = afterName
		}
	case afterName:
		switch c {
		case ' ', '\t':
		case '{':
			b.state = labelSet
		default:
			b.state = sampleValue
		}
	case labelSet:
		switch c {
		case '"':
			b.state = quoted
		case '}':
			b.state = sampleValue
		case '=':
			b.labels++
			b.pairs++
			if b.labels > MaxLabels+1 {
				return b.fail("scrape.MaxLabels", MaxLabels+1)
			}
			if b.pairs > b.maxPairs {
				return b.fail("scrape.MaxLabelPairs", b.maxPairs)
			}
		}
	case quoted:
		switch c {
		case '\\':
			b.state = escaped
		case '"':
			b.state = labelSet
		}
	case escaped:
		b.state = quoted
	}
	return false
}

// fail records the bound passed on the current line.
func (b *boundReader) fail(bound string, value int) bool {
	b.err = &BoundError{Bound: bound, Value: value, Line: b.line + 1}
	return true
}
