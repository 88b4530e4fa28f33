//go:build race

package membudget

// raceEnabled shrinks TestBudget under the race detector, which slows the
// feed several times and does not change the heap the state holds.
const raceEnabled = true
