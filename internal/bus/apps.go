package bus

import "sync"

// AppPartitions remembers which partition each app's messages came from,
// so a stage sharing its work with a group can drop the state of the apps
// of a partition it hands over (GroupSpec.Release). It is safe for
// concurrent use.
type AppPartitions struct {
	mu sync.Mutex
	m  map[string]int
}

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
