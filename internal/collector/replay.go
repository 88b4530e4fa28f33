package collector

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// ReplayConfig says which recorded ticks to republish under which name.
type ReplayConfig struct {
	// App is the recorded application.
	App string
	// As is the shadow app the ticks are republished under.
	As string
	// From and To bound the ticks' event times: From ≤ ts < To. Zero From
	// starts at the first tick, zero To ends at the last.
	From, To time.Time
	// Speed is event seconds per real second; 0 republishes as fast as the
	// bus takes them.
	Speed float64
}

// Validate checks the settings.
func (c ReplayConfig) Validate() error {
	if err := proto.CheckToken("app", c.App); err != nil {
		return err
	}
	if err := proto.CheckToken("as", c.As); err != nil {
		return err
	}
	if c.App == c.As {
		return fmt.Errorf("as %q: the shadow app must differ from the recorded one", c.As)
	}
	if !c.To.IsZero() && !c.To.After(c.From) {
		return fmt.Errorf("to %s is not after from %s", c.To.Format(time.RFC3339), c.From.Format(time.RFC3339))
	}
	if c.Speed < 0 {
		return fmt.Errorf("speed %v: want ≥ 0", c.Speed)
	}
	return nil
}

// ReplayStats counts what a replay did.
type ReplayStats struct {
	// Read is the recorded ticks of the app scanned; Published those in the
	// time range, republished.
	Read, Published int
	// First and Last are the event times of the first and last republished tick.
	First, Last time.Time
}

// Replay reads app's ticks recorded in the METRICS stream up to the moment
// it starts, keeps those whose event time (the Headroom-Ts header) is in
// [From, To), and republishes each under the shadow app with its original
// event time, values and replicas, source "replay" and a label replay_of.
// Ids are built from the shadow name, so a replay run twice stores each
// tick once, and the whole pipeline (forecaster, anomaly, decider with the
// shadow app's policy) runs on the recording beside the live app. Ticks
// leave in recorded order, paced by event time at Speed.
func Replay(ctx context.Context, b *bus.Bus, c ReplayConfig, log zerolog.Logger) (ReplayStats, error) {
	var st ReplayStats
	if err := c.Validate(); err != nil {
		return st, err
	}
	stream, err := b.Stream(ctx, proto.KindMetrics)
	if err != nil {
		return st, err
	}
	filter := proto.AppFilter(b.Prefix(), proto.KindMetrics, c.App)
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return st, fmt.Errorf("replay: stream info: %w", err)
	}
	var total uint64
	for _, n := range info.State.Subjects {
		total += n
	}
	if total == 0 {
		return st, fmt.Errorf("replay: no recorded ticks of app %q", c.App)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		return st, fmt.Errorf("replay: consumer: %w", err)
	}
	from, to := proto.Millis(c.From), proto.Millis(c.To)
	var wallStart time.Time
	var firstTS int64
	for uint64(st.Read) < total {
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			return st, fmt.Errorf("replay: read after %d of %d ticks: %w", st.Read, total, err)
		}
		st.Read++
		ts, err := strconv.ParseInt(msg.Headers().Get(bus.HeaderEventTime), 10, 64)
		if err != nil {
			log.Warn().Str("subject", msg.Subject()).Msg("recorded tick without event time, skipped")
			continue
		}
		if (!c.From.IsZero() && ts < from) || (!c.To.IsZero() && ts >= to) {
			continue
		}
		var m proto.Metrics
		if err := proto.Decode(msg.Data(), &m); err != nil {
			log.Warn().Err(err).Str("subject", msg.Subject()).Msg("recorded tick undecodable, skipped")
			continue
		}
		if c.Speed > 0 {
			if wallStart.IsZero() {
				wallStart, firstTS = time.Now(), ts
			}
			due := wallStart.Add(time.Duration(float64(time.Duration(ts-firstTS)*time.Millisecond) / c.Speed))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return st, ctx.Err()
				case <-time.After(d):
				}
			}
		}
		shadow := m
		shadow.App, shadow.ID, shadow.Source = c.As, proto.MetricsID(c.As, m.Tier, m.TS), "replay"
		shadow.Labels = maps.Clone(m.Labels)
		if len(shadow.Labels) < proto.MaxMetricLabels {
			if shadow.Labels == nil {
				shadow.Labels = map[string]string{}
			}
			shadow.Labels["replay_of"] = c.App
		}
		if _, err := b.PublishAsync(bus.Out{Subject: proto.MetricsSubject(b.Prefix(), c.As, m.Tier), Msg: &shadow}); err != nil {
			return st, err
		}
		if st.Published == 0 {
			st.First = m.EventTime()
		}
		st.Published++
		st.Last = m.EventTime()
		if st.Published%4096 == 0 {
			if err := b.Flush(ctx); err != nil {
				return st, err
			}
			log.Info().Int("ticks", st.Published).Time("at", st.Last).Msg("replay progress")
		}
	}
	if err := b.Flush(ctx); err != nil {
		return st, err
	}
	return st, nil
}
