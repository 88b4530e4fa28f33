package trace_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/trace"
)

func TestRead(t *testing.T) {
	pts, err := trace.Read(strings.NewReader("timestamp,value\n1995-07-01T00:00:00Z,0.7\n2013-07-04 00:01:00,1.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2 || pts[0].Value != 0.7 || pts[1].Value != 1.5 {
		t.Fatalf("got %+v", pts)
	}
	if want := time.Date(2013, 7, 4, 0, 1, 0, 0, time.UTC); !pts[1].Time.Equal(want) {
		t.Fatalf("time %v, want %v", pts[1].Time, want)
	}
}

func TestReadErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", "no rows"},
		{"header only", "timestamp,value\n", "no rows"},
		{"one column", "timestamp\n", "header needs"},
		{"bad time", "timestamp,value\nyesterday,1\n", "line 2: timestamp \"yesterday\""},
		{"bad number", "timestamp,value\n2020-01-01T00:00:00Z,abc\n", "line 2, column \"value\": \"abc\" is not a number"},
		{"nan", "timestamp,value\n2020-01-01T00:00:00Z,NaN\n", "not finite"},
		{"order", "timestamp,value\n2020-01-01T00:01:00Z,1\n2020-01-01T00:00:00Z,1\n", "line 3: timestamp"},
		{"two columns", "timestamp,a,b\n2020-01-01T00:00:00Z,1,2\n", "want one value column"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := trace.Read(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestReadTable(t *testing.T) {
	tb, err := trace.ReadTable(strings.NewReader("timestamp,rps,cpu\n2020-01-01T00:00:00Z,10,0.5\n2020-01-01T00:01:00Z,12,0.6\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Names) != 2 || tb.Columns["cpu"][1] != 0.6 || len(tb.Times) != 2 {
		t.Fatalf("got %+v", tb)
	}
	// Lines are the file's, blank lines (which the reader skips) counted.
	tb, err = trace.ReadTable(strings.NewReader("timestamp,rps\n\n2020-01-01T00:00:00Z,10\n\n\n2020-01-01T00:01:00Z,12\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{3, 6}; !slices.Equal(tb.Lines, want) {
		t.Fatalf("lines %v, want %v", tb.Lines, want)
	}
}

// FuzzReadTable feeds arbitrary text to the CSV reader: it must not panic,
// and what it accepts must be in strictly increasing time with one finite
// value per column per row.
func FuzzReadTable(f *testing.F) {
	f.Add("timestamp,value\n1995-07-01T00:00:00Z,0.7\n1995-07-01T00:01:00Z,1\n")
	f.Add("timestamp,a,b\n2013-07-04 00:00:00,1,2\n")
	f.Add("timestamp,value\n\"2020-01-01T00:00:00Z\",1e400\n")
	f.Fuzz(func(t *testing.T, in string) {
		tb, err := trace.ReadTable(strings.NewReader(in))
		if err != nil {
			return
		}
		if len(tb.Lines) != len(tb.Times) {
			t.Fatalf("%d line numbers for %d rows", len(tb.Lines), len(tb.Times))
		}
		for i := 1; i < len(tb.Times); i++ {
			if !tb.Times[i].After(tb.Times[i-1]) {
				t.Fatalf("row %d not after row %d", i, i-1)
			}
			if tb.Lines[i] <= tb.Lines[i-1] || tb.Lines[0] < 2 {
				t.Fatalf("row %d on line %d, row %d on line %d", i, tb.Lines[i], i-1, tb.Lines[i-1])
			}
		}
		for _, n := range tb.Names {
			if len(tb.Columns[n]) != len(tb.Times) {
				t.Fatalf("column %s has %d values for %d rows", n, len(tb.Columns[n]), len(tb.Times))
			}
			for _, v := range tb.Columns[n] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("column %s holds %v", n, v)
				}
			}
		}
	})
}
