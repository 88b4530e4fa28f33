// Package proto holds Headroom's wire contract: the message types carried on
// NATS subjects, the subject builders, filters and parsers, the token rules for
// application and tier names, and the MessagePack codec.
//
// Every package of Headroom imports proto and proto imports none of them, so
// another team's consumer can depend on it alone. README.md beside this file
// specifies every subject and field for consumers written in other languages,
// and testdata/ holds golden MessagePack vectors to check a decoder against.
//
// Every message carries a schema version (field "v"), its event time ("ts",
// Unix milliseconds UTC: the time of the data, never of the processing) and a
// deterministic id ("id"), which publishers also send as the Nats-Msg-Id
// header so that JetStream drops duplicates after a restart.
package proto
