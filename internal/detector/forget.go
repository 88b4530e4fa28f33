package detector

// Forget drops every tier of app and its place under the series limits: a
// group member calls it for the apps of a partition it hands over, so the
// member taking them is the only one holding their state.
func (ts *Tiers) Forget(app string) {
	for key, tr := range ts.tiers {
		if tr.app == app {
			delete(ts.tiers, key)
			ts.admit.Forget(tr.app, tr.name)
		}
	}
	ts.dropped.Forget(app)
}
