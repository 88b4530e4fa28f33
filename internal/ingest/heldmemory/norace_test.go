//go:build !race

package heldmemory_test

// raceEnabled says the race detector is on.
const raceEnabled = false
