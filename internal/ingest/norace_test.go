//go:build !race

package ingest_test

// raceEnabled says the race detector is on.
const raceEnabled = false
