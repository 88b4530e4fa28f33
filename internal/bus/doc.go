// Package bus is Headroom's only door to NATS JetStream: it connects (with
// credentials, TLS and endless reconnects), creates or updates the streams and
// the replica key-value bucket, publishes proto messages with their
// deterministic ids as Nats-Msg-Id, and runs durable pull consumers.
//
// A consumer hands each message to a Handler, which returns the messages to
// publish in response. The bus publishes them asynchronously and acknowledges
// the input only once every output is stored, so a crash re-delivers the input
// and the ids drop the duplicate outputs (a take-over's rebuild stores them
// with PublishAll, which drops, logs and counts an output refused for
// itself, as no retry can store it, where a live delivery is retried and
// dead-lettered). A handler that stores its outputs
// itself (a stage's outbox) takes the acknowledgement with Msg.Defer and
// gives it once they are stored. The Handler's error decides the rest
// in one place: a Permanent error (undecodable or invalid input) sends the
// original bytes and the reason to <prefix>.dlq.<service> and terminates the
// message; any other error naks it with a delay, and after the last allowed
// delivery it too goes to the dead-letter queue. Nothing is dropped silently:
// a dead letter that cannot be stored naks the message, which the server
// redelivers without limit (the durables' MaxDeliver is unlimited; the bus
// counts deliveries against ConsumerSpec.MaxDeliver itself), to this
// consumer or another after a stop or a hand-over, until one is stored.
// A service that cannot take input for a while (its outputs cannot be
// stored and it holds as many as it may) refuses through a Gate instead
// (gate.go): its consumers stop fetching and keep what they fetched, in
// order and unacknowledged, until it opens the gate, so an outage of any
// length counts at most one delivery against MaxDeliver (that of a message
// in flight as a consumer stops).
// A delivery lost in flight (a node killed with it, which the server
// redelivers only after AckWait) shows as a gap in the consumer sequence:
// the consumer then reads the missing messages from the stream and hands
// them over first, so a handler sees its input in stream order (gap.go).
//
// A consumer with a GroupSpec is a stage shared by every running copy of its
// service (group.go, member.go). The copies find each other with NATS micro
// discovery and split the stream's partitions (the trailing token the
// streams store, NATS's partition() of the app) by rendezvous hashing with
// bounded loads, so each gets its fair share; each partition is read
// through its own durable, <name>-p<i>, whose priority group pins one
// client at a time, so the server, not the members' views,
// guarantees a partition is handled by one copy. A copy taking a partition
// over reloads what was published for it (GroupSpec.Acquire) and rebuilds
// its apps' state from the recorded stream through batched direct gets;
// one handing a partition over drains, unpins and drops that state
// (GroupSpec.Release). A member tells a pin change by the Nats-Pin-Id the
// server puts on each delivery. JetStream accepts and stores a message
// whose publisher set that header itself (the bus's publishers set no
// header but Nats-Msg-Id and Headroom-Ts; another client with the right
// to publish can), and on delivery appends its own value after the
// publisher's: the bus reads the last value, so a forged id neither fires
// GroupSpec.Repinned nor hides a real repin, nor misleads the pin's
// renewals (pinkeep.go). The NATS client reads the first value, takes the
// forged id for its pin and loses the pin: the bus logs the message and
// unpins the durable, so its next pull is pinned afresh at once (a
// Repinned) rather than once the pin lapses, PinnedTTL later.
//
// Roles that only look (the gateway, the collector's replay, the tail
// command) read through read.go and watch.go: a StreamReader for direct
// reads (a stream's state and subjects, a message by sequence, the next or
// last one on a filter, the consumers' state) and Watch or Follow for
// ordered, unacknowledged reads from a time, a sequence, the start or the
// end. Subjects go in and come out as published; the partition token is
// the bus's business. The replica bucket is Replicas (kv.go). There is no
// raw JetStream accessor, and TestOnlyTheBusImportsNATS fails when code
// outside this package and internal/natstest imports the NATS client.
package bus
