package bus

import "sync"

// AppPartitions remembers which partition each app's messages came from,
// so a stage sharing its work with a group can drop the state of the apps
// of a partition it hands over (GroupSpec.Release). It is safe for
// concurrent use.
//
// Every app a message names is noted, whether or not the stage admits it
// or still holds it: a member that keeps its partitions noted every app
// name it was ever sent (a refused one, or one evicted for idleness and
// gone), until the process ended. With Held set, Note forgets the apps the
// stage no longer holds each time the record has grown by as many as it
// kept held at the last such sweep (and by pruneSlack), so it stays within
// twice the apps held plus pruneSlack, at a cost per Note that is
// constant on average. The app being noted is kept by its sweep but not
// counted: counted, a refused app that made the sweep raised the bound
// by two.
type AppPartitions struct {
	// Held says whether the stage still holds state of app. It is called
	// from Note, under the record's lock, and must not call back into it.
	Held func(app string) bool

	mu   sync.Mutex
	m    map[string]int
	kept int // apps kept by the last sweep
}

// pruneSlack is how many apps the record may grow by past twice those
// kept at the last sweep before Note sweeps again.
const pruneSlack = 16

// Note records that app's messages come from partition p (a message's
// Partition); -1, an unpartitioned message, is ignored.
func (a *AppPartitions) Note(app string, p int) {
	if p < 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]int{}
	}
	a.m[app] = p
	if a.Held != nil && len(a.m) > 2*a.kept+pruneSlack {
		kept := 0
		for o := range a.m {
			switch {
			case o == app:
				// Noted before the stage takes it: not held yet, and
				// not counted, for the stage may refuse it.
			case a.Held(o):
				kept++
			default:
				delete(a.m, o)
			}
		}
		a.kept = kept
	}
}

// Len returns how many apps are noted.
func (a *AppPartitions) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.m)
}

// Take returns the apps noted in partition p and forgets them.
func (a *AppPartitions) Take(p int) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var apps []string
	for app, q := range a.m {
		if q == p {
			apps = append(apps, app)
			delete(a.m, app)
		}
	}
	return apps
}
