package limits

import "testing"

// TestDropped: an eviction keeps the later of the stored output times and
// marks the series once; holding it again clears the mark; Forget drops
// an app's series and no other's.
func TestDropped(t *testing.T) {
	d := NewDropped()
	a, b := Key{"a", "web"}, Key{"b", "web"}
	d.SetSent(a, 100)
	d.Evict(a, 50)
	if ms, ok := d.Sent(a); !ok || ms != 100 {
		t.Fatalf("sent %d %v after an eviction at an older output, want 100", ms, ok)
	}
	d.Evict(a, 200)
	if ms, _ := d.Sent(a); ms != 200 {
		t.Fatalf("sent %d, want 200", ms)
	}
	if !d.Returning(a) || d.Returning(a) {
		t.Fatal("Returning must say yes once after an eviction")
	}
	d.Evict(a, 200)
	d.Held(a)
	if d.Returning(a) {
		t.Fatal("a series held again is not returning")
	}
	d.Evict(a, 1)
	d.Mark(b)
	d.SetSent(b, 7)
	d.Forget("a")
	if _, ok := d.Sent(a); ok || d.Returning(a) {
		t.Fatal("Forget kept a's series")
	}
	if ms, ok := d.Sent(b); !ok || ms != 7 || !d.Returning(b) {
		t.Fatal("Forget of a dropped b's series")
	}
}

// TestDroppedPrune: a record is stamped by the first Prune after it is
// written and forgotten by the first Prune more than the window after the
// stamp; writing it again starts over; a zero window keeps everything.
func TestDroppedPrune(t *testing.T) {
	a := Key{"a", "web"}
	for _, c := range []struct {
		name   string
		window int64
		steps  func(d Dropped) // after SetSent(a) and Prune(100)
		kept   bool
	}{
		{"within the window", 50, func(d Dropped) { d.Prune(150, 50) }, true},
		{"past the window", 50, func(d Dropped) { d.Prune(151, 50) }, false},
		{"written again", 50, func(d Dropped) { d.Keep(a, 9); d.Prune(140, 50); d.Prune(190, 50) }, true},
		{"written again, then past", 50, func(d Dropped) { d.Mark(a); d.Prune(140, 50); d.Prune(191, 50) }, false},
		{"no window", 0, func(d Dropped) { d.Prune(1e12, 0) }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := NewDropped()
			d.SetSent(a, 7)
			if n := d.Prune(100, c.window); n != 0 {
				t.Fatalf("the first Prune forgot %d, want none (it stamps)", n)
			}
			c.steps(d)
			if _, ok := d.Sent(a); ok != c.kept || (d.Len() == 1) != c.kept {
				t.Fatalf("kept %v (%d records), want %v", ok, d.Len(), c.kept)
			}
		})
	}
}
