package limits

import (
	"sync"
	"time"
)

// Recent admits series like Series, and gives back the places of an app's
// series once none of them has been admitted again for the idle limit, so
// a source's admitted series follow the series it still receives, as the
// stages' state does (their Tiers drop a tier idle for the same limit; the
// decider drops a whole app, so a quiet tier of a busy app keeps its place
// there, and here too). Without it an app sent once (a typo, a test) would
// hold its places until the process restarts, and once the limit is full
// every new series would be refused for good. Pinned series (a
// configuration file's own) keep their places however long they are
// quiet. Time is the admitting process's clock, given with each call. It
// is safe for concurrent use; its memory is bounded by the total limit.
type Recent struct {
	series *Series

	mu     sync.Mutex
	idle   Idle
	last   map[Key]int64 // ms: the last admission of each unpinned series
	pinned map[Key]struct{}
	// pinnedLast is, per app with pinned series, the last admission of
	// any of them: an app busy with its pinned series keeps its quiet
	// unpinned ones, as the decider, which drops whole apps, does.
	pinnedLast map[string]int64
}

// NewRecent returns a tracker admitting at most perApp series per app and
// total in all (≤ 0: no limit of that kind), freeing the place of a series
// not admitted for idleAfter (≤ 0: never).
func NewRecent(perApp, total int, idleAfter time.Duration) *Recent {
	return &Recent{series: NewSeries(perApp, total), idle: NewIdle(idleAfter), last: map[Key]int64{}, pinned: map[Key]struct{}{},
		pinnedLast: map[string]int64{}}
}

// Pin admits keys for good, every one or none (the *Error names the first
// key beyond a limit).
func (r *Recent) Pin(keys []Key) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.series.AdmitAll(keys); err != nil {
		return err
	}
	for _, k := range keys {
		r.pinned[k] = struct{}{}
		delete(r.last, k)
	}
	return nil
}

// AdmitAll admits every key at now, or none: when a new key would pass a
// limit, nothing is added and the *Error names the first such key. Every
// eighth of the idle limit (by now) it first frees the places of the apps
// none of whose series, pinned ones included, was admitted for the idle
// limit, so a place is free again at most 9/8 of the limit after its
// app's last admission.
func (r *Recent) AdmitAll(keys []Key, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, due, cutoff := r.idle.Seen(now.UnixMilli())
	if due {
		newest := map[string]int64{}
		for app, t := range r.pinnedLast {
			newest[app] = t
		}
		for k, t := range r.last {
			newest[k.App] = max(newest[k.App], t)
		}
		for k := range r.last {
			if newest[k.App] < cutoff {
				delete(r.last, k)
				r.series.Forget(k.App, k.Tier)
			}
		}
	}
	if err := r.series.AdmitAll(keys); err != nil {
		return err
	}
	for _, k := range keys {
		if _, ok := r.pinned[k]; ok {
			r.pinnedLast[k.App] = max(r.pinnedLast[k.App], at)
		} else {
			r.last[k] = max(r.last[k], at)
		}
	}
	return nil
}

// Len returns how many series hold a place, pinned ones included.
func (r *Recent) Len() int { return r.series.Len() }
