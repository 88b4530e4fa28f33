//go:build !race

package membudget

// raceEnabled shrinks TestBudget under the race detector.
const raceEnabled = false
