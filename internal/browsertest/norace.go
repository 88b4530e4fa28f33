//go:build !race

package browsertest

// Race is true when the test binary runs with the race detector, which
// slows the server side several times (see Limit).
const Race = false
