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
