package trace

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Point is one sample of a single-valued trace.
type Point struct {
	Time  time.Time
	Value float64
}

// Table is a trace with several named value columns sharing one time axis.
type Table struct {
	// Times holds the row timestamps in increasing order.
	Times []time.Time
	// Names holds the value column names in file order.
	Names []string
	// Columns maps each name to its values, one per row.
	Columns map[string][]float64
	// Lines holds each row's line in the file (the header is line 1), so
	// a caller that checks values further can name the row.
	Lines []int
}

// ErrEmpty is returned when a trace has a header but no rows.
var ErrEmpty = errors.New("trace has no rows")

// timeLayouts are tried in order for every timestamp cell.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04"}

// ParseTime parses a timestamp in any layout the package accepts, as UTC when
// the layout carries no zone.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q is neither RFC 3339 nor \"YYYY-MM-DD hh:mm:ss\"", s)
}

// ReadTable reads a CSV trace whose first column is a timestamp and whose
// other columns are numeric values. Errors name the line and column.
func ReadTable(r io.Reader) (*Table, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if len(head) < 2 {
		return nil, fmt.Errorf("line 1: header needs a timestamp column and at least one value column, got %d column(s)", len(head))
	}
	t := &Table{Columns: make(map[string][]float64, len(head)-1)}
	for _, h := range head[1:] {
		name := strings.TrimSpace(h)
		if name == "" {
			return nil, fmt.Errorf("line 1: empty column name")
		}
		if _, dup := t.Columns[name]; dup {
			return nil, fmt.Errorf("line 1: duplicate column %q", name)
		}
		t.Names = append(t.Names, name)
		t.Columns[name] = nil
	}
	cols := make([][]float64, len(t.Names))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read row: %w", err) // a *csv.ParseError names its line
		}
		// The row's line in the file: blank lines, which the reader
		// skips, and quoted line breaks counted.
		line, _ := cr.FieldPos(0)
		ts, err := ParseTime(rec[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if n := len(t.Times); n > 0 && !ts.After(t.Times[n-1]) {
			return nil, fmt.Errorf("line %d: timestamp %s is not after the previous row's %s", line, ts.Format(time.RFC3339), t.Times[n-1].Format(time.RFC3339))
		}
		t.Times = append(t.Times, ts)
		t.Lines = append(t.Lines, line)
		for i := range t.Names {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[i+1]), 64)
			if err != nil {
				return nil, fmt.Errorf("line %d, column %q: %q is not a number", line, t.Names[i], rec[i+1])
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("line %d, column %q: value %q is not finite", line, t.Names[i], rec[i+1])
			}
			cols[i] = append(cols[i], v)
		}
	}
	if len(t.Times) == 0 {
		return nil, ErrEmpty
	}
	for i, n := range t.Names {
		t.Columns[n] = cols[i]
	}
	return t, nil
}

// Read reads a two-column CSV trace (timestamp, value).
func Read(r io.Reader) ([]Point, error) {
	t, err := ReadTable(r)
	if err != nil {
		return nil, err
	}
	if len(t.Names) != 1 {
		return nil, fmt.Errorf("want one value column, got %d (%s)", len(t.Names), strings.Join(t.Names, ", "))
	}
	vals := t.Columns[t.Names[0]]
	pts := make([]Point, len(vals))
	for i, v := range vals {
		pts[i] = Point{Time: t.Times[i], Value: v}
	}
	return pts, nil
}

// ReadFile reads a two-column CSV trace from a file.
func ReadFile(path string) ([]Point, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pts, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pts, nil
}

// ReadTableFile reads a multi-column CSV trace from a file.
func ReadTableFile(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadTable(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
