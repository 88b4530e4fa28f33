// Package executor is the service that acts on scaling decisions. It consumes
// <prefix>.decision.*.* with a durable consumer, hands each change to a
// Driver, publishes what happened on <prefix>.scaling.<app>.<tier>
// (requested, applied, ready, failed, skipped) and keeps each tier's replica
// state in the replica key-value bucket.
//
// Drivers (-executor.driver): "sim", the default, a simulated cluster per
// tier with boot delays and failure injection, its failed boots published as
// failed events; "command", a program run from an argument template such as
// "kubectl scale deployment/{tier} --replicas={replicas}", split into
// arguments once and run without a shell, with token-validated values and a
// timeout; "webhook", a JSON POST with retries and backoff. Per app
// (-executor.modes) the executor is live (the driver acts), dry-run (decide
// and log, publish skipped, never act) or shadow (act on the simulated
// cluster only). A tier the configuration file names live, held in dry-run
// or shadow by -executor.modes (the brake), keeps the count its command or
// webhook driver runs as its state, since no driver reads it back there:
// its changes are skipped, not acknowledged (see Service.braked).
//
// No driver acts on a decision the decider would not take: one whose counts
// contradict its action (an up to fewer replicas, a down to more, a hold
// that changes the count), or one that takes the tier further out of its
// replica bounds (the policy's min and max from -config; for a live tier
// a real driver acts on without them, the default policy's 1..200),
// "further out" being judged from the count the executor has on record
// (one its driver carried out, or the cluster's; not one only
// acknowledged in dry-run or without authority), never from the count the
// decision claims to start from (but a sync at the switch to live, a hold
// at the count on record or a step from it towards the bounds, has its
// count clamped into them instead: see Service.syncDue). Such a
// decision is recorded as skipped, like the refusals of a real driver
// (headroom_executor_refused_total{why="inconsistent"|"out of bounds"}).
// A decision skipped because one stamped after it, ahead of the clock, was
// handled first is recorded too (why="superseded").
//
// It is idempotent by decision: the replica state records the event time of
// the last decision applied to the tier, and survives restarts in the
// bucket, so a redelivered or replayed decision is recognised and acts once.
// The state is recorded after the driver returns, so a crash in between
// repeats the call on redelivery: drivers set absolute counts, and the
// webhook sends the decision id as Idempotency-Key. Time inside the executor
// is event time: the simulated cluster boots replicas against the decisions'
// own timestamps, so a replay at any speed gives the same replica history.
//
// Memory is bounded by the configuration's series limits (limits: in
// -config; 1,000 tiers an app and 10,000 in all by default). The executor
// holds the replica state and simulated cluster of the tiers it handles,
// read from the bucket on a tier's first decision, and dead-letters a
// decision for a tier past the limits, naming the limit
// (headroom_executor_refused_total{why="series limit"}). The replica bucket
// is bounded too (-stream.replica-max-bytes): a decision for a tier with no
// state yet is dead-lettered unacted when the bucket has no room for one
// (why="bucket full"; a tier the configuration file does not name, already
// when the room left is only what the file's tiers need: see room), and
// holds no place under the series limits, since a change whose state
// cannot be recorded would be invisible to the decider;
// tiers with a state replace their own key and go on. A tier with no
// decision for limits.idle_after of arrival time is dropped from memory
// (its state stays in the bucket and is read again when it comes back),
// and a member drops the tiers of a partition it takes over or hands on,
// or whose durable is pinned to it afresh (it may have lost the pin
// meanwhile), so it reads what another member committed; a change is
// decided from the bucket's state whenever its revision is not the held
// one's (a member still handling what it received under a pin it lost),
// and a state is recorded only over the revision it was judged from,
// else the decision is judged again from the bucket's (a hold records
// the other member's counts; a decision it moved past is already
// applied); a simulated cluster seeded from the
// bucket boots its replicas from the decision that asked for them. The
// kubernetes driver changes a workload only while it is at the count the
// decision was judged from (Request.JudgedFrom), so another member's
// older call in flight, or one judged before a kubectl scale, changes
// nothing and the decision is judged again
// (headroom_executor_refused_total{why="moved"}; see handle). The
// command and webhook drivers cannot read the count back: before calling
// one, a member takes the tier's lease in the EXEC_LEASES bucket (it
// lapses by itself after -executor.lease), and another member's change
// of the tier waits for it, retried and judged again from the state the
// holder stored (headroom_executor_lease_waits_total; see handle). An
// executor older than the lease takes none and does not wait on one:
// while such a member runs beside a newer one (a rolling upgrade), their
// command or webhook calls for a tier may still overlap: scale the
// executors to one for the upgrade, or stop the older ones before the
// newer start. A scaling event the server refuses for the executor's
// permissions (nats.conf not letting it publish <prefix>.scaling.>) is
// published again in place, after 1 s doubling to 30 s, its decision kept
// in progress, until the permissions are fixed or the executor stops (the
// decision then left for redelivery): the events record what the
// driver did, and a decision judged again finds its change running and
// makes none (see storeRefused). So is a tier's state whose write the
// server refuses (nats.conf not letting the executor write the replica
// bucket): the state records what the driver did, and the decision judged
// again from the state without the change had the driver carry it out at
// each delivery, until it was dead-lettered, its record never stored
// (see putRefused). A change made under the tier's lease
// keeps the lease, renewed every third of -executor.lease, until its
// events and state are stored, however long the server refuses them:
// lapsed during that wait, it let another member take the tier and call
// its driver, judged from a state without the change, while this one
// still held it unrecorded. Meanwhile the other members' decisions for
// the tier wait on the lease (their retries spread over it) and are
// dead-lettered at their last delivery, the decider deciding again at
// its next tick (each renewal is counted,
// headroom_executor_lease_renewals_total{result}: one lost or lapsed
// ends the keeping, the change unrecorded). A hand-over of the tier's
// partition (a member joining the group) does not end the wait, an
// action begun being finished: the member keeps the lease and records
// the change once allowed, and hands its partitions over only after. A
// member stopped during the wait releases the lease, the change
// unrecorded: its decision, left for redelivery, is judged again from
// the state without it, carried out again with its absolute count when
// it is still the tier's latest and fresh, refused when a newer decision
// superseded it (that one then carried out), and refused as stale when it
// aged past -executor.max-age meanwhile: the record then holds the count
// before the change while the workload runs the change's, until the
// decider's next change. A held
// tier takes about 540 bytes with its simulated cluster, and
// 24 more per replica booting (TestHeldMemoryPerTier, budget 2 KB).
package executor
