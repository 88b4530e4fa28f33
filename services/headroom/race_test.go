//go:build race

package main

// raceBuild: this test binary runs under the race detector (go test
// -race), so the binary under test is built with it too: go build then
// reuses every package the test's own build compiled, a link rather than
// a cold build of the whole all-in-one, and the race detector watches the
// real process as well.
const raceBuild = true
