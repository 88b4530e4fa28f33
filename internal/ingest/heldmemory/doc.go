// Package heldmemory holds the push API's memory test under held uploads
// (issue 10: 500 connections each holding 1 MiB less a byte of a 1 MiB
// body), and no code of its own. The test lives apart from ingest's other
// tests because it runs without the race detector, whose shadow memory
// would swamp what it measures: here it compiles only ingest's own
// dependencies, not the NATS server the other tests start.
package heldmemory
