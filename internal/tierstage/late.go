package tierstage

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/proto"
)

// NewLateTicks returns a stage's counter of ticks its state ignored
// because their tier had already handled a tick at or after their time,
// by reason (NoteLate's), each reason's series present at 0 from the
// start so that a rule on increase() sees the first.
func NewLateTicks(name, help string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"reason"})
	for _, reason := range []string{"redelivered", "late"} {
		c.WithLabelValues(reason)
	}
	return c
}

// NoteLate counts in c (NewLateTicks) a tick its stage's state ignored,
// last being its tier's last tick handled (Unix ms): redelivered when the
// times are equal (expected after a restart), late for an older one (out
// of order, a copy stored again past the stream's duplicate window, or
// the redelivery of an older tick: the state keeps only the last time).
// It logs the tick at debug with msg.
func NoteLate(c *prometheus.CounterVec, log zerolog.Logger, tick *proto.Metrics, last int64, msg string) {
	reason := "late"
	if tick.TS == last {
		reason = "redelivered"
	}
	c.WithLabelValues(reason).Inc()
	log.Debug().Str("app", tick.App).Str("tier", tick.Tier).Time("tick_time", tick.EventTime()).Time("last", proto.Time(last)).
		Str("reason", reason).Msg(msg)
}
