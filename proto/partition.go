package proto

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DefaultPartitions is how many partitions each partitioned stream hashes
// its apps into unless provisioning says otherwise. It caps how many members
// of one service can share the work, so it is set above any group size a
// single installation is expected to run.
const DefaultPartitions = 8

// MaxPartitions bounds the partition count a stream may be provisioned with.
const MaxPartitions = 256

// Partitioned reports whether kind k's stream stores its messages with a
// trailing partition token: the inputs of the stateful stages (metrics,
// forecasts, anomalies) and of the executor (decisions). Scaling events and
// dead letters are read whole and are not partitioned.
func Partitioned(k Kind) bool {
	switch k {
	case KindMetrics, KindForecast, KindAnomaly, KindDecision:
		return true
	}
	return false
}

// PartitionTransform is the stream subject transform that stores
// <prefix>.<kind>.<app>.<tier> as <prefix>.<kind>.<app>.<tier>.<p>, where p
// is NATS's partition(n) hash of the app token. Publishers keep publishing
// the four-token subject; the server adds p as it stores the message, so one
// app's tiers always land in one partition and every kind agrees on it.
func PartitionTransform(prefix string, k Kind, n int) (src, dest string) {
	return PublishFilter(prefix, k), prefix + "." + string(k) + ".{{wildcard(1)}}.{{wildcard(2)}}.{{partition(" + strconv.Itoa(n) + ",1)}}"
}

var partitionRE = regexp.MustCompile(`\{\{\s*partition\(\s*(\d+)\s*,`)

// PartitionsOf returns the partition count of a transform destination made
// by PartitionTransform.
func PartitionsOf(dest string) (int, error) {
	m := partitionRE.FindStringSubmatch(dest)
	if m == nil {
		return 0, fmt.Errorf("%w: subject transform %q has no partition()", ErrBadSubject, dest)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || n > MaxPartitions {
		return 0, fmt.Errorf("%w: subject transform %q: partition count %s out of 1..%d", ErrBadSubject, dest, m[1], MaxPartitions)
	}
	return n, nil
}

// PartitionFilter matches kind k's stored subjects in partition p:
// <prefix>.<kind>.*.*.<p>.
func PartitionFilter(prefix string, k Kind, p int) string {
	return PublishFilter(prefix, k) + "." + strconv.Itoa(p)
}

// SplitStored splits a stored subject into the subject it was published on
// and its partition: "apm.metrics.shop.web.3" gives "apm.metrics.shop.web"
// and 3. A subject without a partition token (a stream provisioned before
// partitions, or one not partitioned) comes back as it is with -1.
func SplitStored(prefix, subject string) (string, int) {
	rest, ok := strings.CutPrefix(subject, prefix+".")
	if !ok || strings.Count(rest, ".") != 3 {
		return subject, -1
	}
	i := strings.LastIndexByte(subject, '.')
	p, err := strconv.Atoi(subject[i+1:])
	if err != nil || p < 0 || subject[i+1] == '+' {
		return subject, -1
	}
	return subject[:i], p
}

// StoredForm turns a subscription filter for kind k's published subjects
// (<prefix>.<kind>.<app>.<tier>, wildcards allowed) into the filter matching
// the same messages as stored: a partitioned kind's four-token filter gains a
// trailing "*" for the partition. Filters ending in ">" match both already.
func StoredForm(prefix string, k Kind, filter string) string {
	if !Partitioned(k) || strings.HasSuffix(filter, ">") {
		return filter
	}
	rest, ok := strings.CutPrefix(filter, prefix+".")
	if !ok || strings.Count(rest, ".") != 2 {
		return filter
	}
	return filter + ".*"
}
