package bus

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
)

// partitionHealth records, for this process's group members, the partition
// workers that failed and have not consumed since, so /readyz can say that
// a member is not doing its share (a durable missing before provisioning,
// a take-over that keeps failing) instead of staying green.
type partitionHealth struct {
	mu     sync.Mutex
	failed map[string]error // by "<service> partition <p>"
}

func partitionKey(service string, p int) string { return service + " partition " + strconv.Itoa(p) }

// set records key's failure, or clears it with err nil.
func (h *partitionHealth) set(key string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		delete(h.failed, key)
		return
	}
	if h.failed == nil {
		h.failed = map[string]error{}
	}
	h.failed[key] = err
}

// err names the first failing partition (in order) with its error, and
// how many more fail.
func (h *partitionHealth) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.failed) == 0 {
		return nil
	}
	keys := make([]string, 0, len(h.failed))
	for k := range h.failed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	more := ""
	if len(keys) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(keys)-1)
	}
	return fmt.Errorf("%s not consumed%s: %w", keys[0], more, h.failed[keys[0]])
}

// PartitionsErr reports the partitions of this process's share that are
// failing, nil when every one it holds is consumed (or it holds none): a
// readiness check (service.Main and the all-in-one register it).
func (b *Bus) PartitionsErr() error { return b.partitions.err() }
