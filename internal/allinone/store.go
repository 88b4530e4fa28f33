package allinone

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// storeLimit is the file store the embedded server lets its streams
// reserve (its max_file_store): what provisioning reserves with the
// all-in-one's stream flags (rs, bus.StreamLimits.Reservations), so that
// provisioning fits whatever the disk free. Without a limit of ours the
// server takes 75 % of the disk free at its start, and refuses the default
// six 2 GiB streams (insufficient storage resources) on a disk with less
// than some 17 GB free.
//
// A stream recovered from the data folder (recovered, its cap by name)
// keeps the cap it was provisioned with until provisioning updates it,
// and the server checks each update against everything reserved at that
// moment: each stream counts at the larger of its old and new cap, so
// provisioning with a lowered -stream.max-bytes is not refused, and a
// recovered stream provisioning does not make (another subject prefix's)
// counts at its own.
//
// A stream with no cap (-stream.max-bytes -1) leaves nothing but the disk
// to bound what the streams take, and the server its default limit
// (dflt: 75 % of the disk free, as nats-server computes it; 0 when
// unknown), unless the data folder's streams still hold caps: the server
// checks each one's update to no cap against what they all reserve, so
// the limit is then at least that (else such a folder, provisioned with
// caps larger than the disk free, would be refused at -1).
func storeLimit(rs []bus.Reservation, recovered map[string]int64, dflt int64) int64 {
	limit, uncapped := int64(0), false
	seen := make(map[string]bool, len(rs))
	for _, r := range rs {
		if r.Bytes < 0 {
			uncapped = true
		}
		limit += max(r.Bytes, recovered[r.Stream], 0)
		seen[r.Stream] = true
	}
	for name, b := range recovered {
		if !seen[name] {
			limit += max(b, 0)
		}
	}
	if !uncapped {
		return limit
	}
	held := int64(0)
	for _, b := range recovered {
		held += max(b, 0)
	}
	if held == 0 {
		return 0
	}
	if dflt <= 0 {
		dflt = server.JetStreamMaxStoreDefault
	}
	return max(limit, dflt)
}

// defaultStore is the file store nats-server lets its streams reserve when
// none is configured: 75 % of the disk free under dir, 0 when unknown.
func defaultStore(dir string) int64 {
	free, ok := freeDisk(dir)
	if !ok {
		return 0
	}
	return free / 4 * 3
}

// recoveredCaps reads the caps (MaxBytes) of the file streams the server
// will recover from store (the server's store dir), from each stream's
// configuration file (<store>/jetstream/<account>/streams/<name>/meta.inf,
// as nats-server writes it unencrypted). A stream whose file is missing
// or unreadable is left out: the server reports it as it recovers.
func recoveredCaps(store string) map[string]int64 {
	caps := make(map[string]int64)
	metas, _ := filepath.Glob(filepath.Join(store, server.JetStreamStoreDir, streamsAccount, "streams", "*", server.JetStreamMetaFile))
	for _, m := range metas {
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		var cfg struct {
			Name     string `json:"name"`
			MaxBytes int64  `json:"max_bytes"`
			Storage  string `json:"storage"`
		}
		if json.Unmarshal(b, &cfg) != nil || cfg.Name == "" || cfg.Storage == "memory" {
			continue
		}
		caps[cfg.Name] = cfg.MaxBytes
	}
	return caps
}

// storeReport says what the data folder's disk must hold: Reserved is the
// server's file store limit (0: none of ours), Stored what the streams
// hold already, Free what the disk has free (ok false when unknown).
type storeReport struct {
	Reserved, Stored, Free int64
	FreeKnown              bool
	// Streams is how many streams -stream.max-bytes caps; Buckets what
	// the buckets reserve beside them.
	Streams int
	Buckets int64
}

// short reports whether the disk has less free than the streams may
// still grow by (Reserved less what they hold), and if so the largest
// -stream.max-bytes that would fit (0 when none would).
func (r storeReport) short() (short bool, fits int64) {
	if r.Reserved <= 0 || !r.FreeKnown {
		return false, 0
	}
	if r.Free >= r.Reserved-r.Stored {
		return false, 0
	}
	return true, max((r.Free+r.Stored-r.Buckets)/int64(r.Streams), 0)
}

// logStore logs once, as the all-in-one starts, what its streams reserve
// and the disk free under dir, and warns when the disk cannot hold what
// the streams may grow to. It does not refuse to run: the streams fill
// over days (-stream.max-age), and a trial run never gets near. A disk
// that fills later stops the pipeline: the server stores nothing more,
// and the parts log only that their outputs are not acknowledged ("output
// not stored, retrying"), nothing about the disk. This warning is the
// word about it, before, naming the flags that lower the need.
func logStore(log zerolog.Logger, s *server.Server, dir string, limits bus.StreamLimits) {
	reserved := int64(0)
	if _, capped := bus.Reserved(limits.Reservations(proto.DefaultPrefix)); capped {
		if c := s.JetStreamConfig(); c != nil {
			reserved = c.MaxStore
		}
	}
	rep := storeReport{Reserved: reserved, Streams: len(proto.Kinds), Buckets: limits.ReplicaMaxBytes + limits.LeaseMaxBytes()}
	if info, err := s.Jsz(nil); err == nil {
		rep.Stored = int64(info.Store)
	}
	rep.Free, rep.FreeKnown = freeDisk(dir)
	short, fits := rep.short()
	ev := log.Info()
	if short {
		ev = log.Warn()
	}
	ev = ev.Str("data", dir).Int64("stored_bytes", rep.Stored)
	if rep.FreeKnown {
		ev = ev.Int64("disk_free_bytes", rep.Free).Str("disk_free", bus.FormatBytes(rep.Free))
	}
	if reserved <= 0 {
		ev.Msg("jetstream store: the streams have no cap (-stream.max-bytes -1), and grow until the server's default limit (75% of the disk free at its start, or the caps the data folder's streams still hold, if more) or the disk is full")
		return
	}
	ev = ev.Int64("reserved_bytes", reserved).Str("reserved", bus.FormatBytes(reserved)).Int64("stream_max_bytes", limits.MaxBytes)
	if !short {
		ev.Msgf("jetstream store: the streams may hold up to %s (%d streams at -stream.max-bytes and the buckets)", bus.FormatBytes(reserved), rep.Streams)
		return
	}
	// -stream.max-bytes 0 is no cap at all: never the advice.
	lower := "no -stream.max-bytes fits beside the buckets, so free disk or give -data a larger disk"
	if fits > 0 {
		ev = ev.Int64("fitting_stream_max_bytes", fits)
		lower = fmt.Sprintf("free disk, give -data a larger disk, or lower -stream.max-bytes (to %d, %s, fits) or -stream.max-age", fits, bus.FormatBytes(fits))
	}
	ev.Msgf("jetstream store: the disk of -data has %s free, less than the %s the streams may still grow by (%d streams at -stream.max-bytes %s, the buckets, less the %s stored): "+
		"running on, but once the disk is full NATS stops storing and the pipeline stops; %s",
		bus.FormatBytes(rep.Free), bus.FormatBytes(reserved-rep.Stored), rep.Streams, bus.FormatBytes(limits.MaxBytes), bus.FormatBytes(rep.Stored), lower)
}
