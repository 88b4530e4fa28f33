package decider

// Forget drops app's state and its tiers' places under the series limits,
// with any decisions it still had waiting to be stored: a group member
// calls it for the apps of a partition it hands over, and the member taking
// the partition makes those decisions again from the recorded inputs.
func (as *Apps) Forget(appName string) {
	if a, ok := as.apps[appName]; ok {
		delete(as.apps, appName)
		as.waiting -= len(a.join.pending)
		for _, tier := range a.tiers {
			as.admit.Forget(appName, tier)
		}
	}
	as.dropped.Forget(appName)
	delete(as.lastFrom, appName)
}
