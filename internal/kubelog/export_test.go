package kubelog

// Uninstall forgets the logger Install was given: lines go to stderr
// again, as before any Install.
func Uninstall() { target.Store(nil) }
