package forecaster

// Forget drops every tier of app and its place under the series limits: a
// group member calls it for the apps of a partition it hands over, so the
// member taking them is the only one holding their state.
func (ts *Tiers) Forget(app string) {
	for key, se := range ts.series {
		if se.app == app {
			delete(ts.series, key)
			ts.admit.Forget(se.app, se.tier)
		}
	}
	ts.dropped.Forget(app)
}
