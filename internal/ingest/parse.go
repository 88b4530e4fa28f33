package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/hostcheck"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

// Config bounds what the push API accepts.
type Config struct {
	// Token, when set, may be sent as "Authorization: Bearer <token>" to
	// push for every app. RequireToken and RequireTokenOn say when Token or
	// Tokens must be set; with either set, every request needs one of them.
	Token string
	// Tokens are bearer tokens each limited to the apps it names: a request
	// with one of them carrying a tick of any other app is refused whole
	// (403).
	Tokens []Token
	// RateLimit is the ticks per second each token may push (every sender
	// together when no token is set), RateBurst the most at once; beyond,
	// 429 with Retry-After. 0 turns the limit off. A Token may set its own.
	RateLimit float64
	RateBurst int
	// AuthFailLimit is the failed authentications (401) per second one
	// client may make, AuthFailBurst the most in a row; beyond, every
	// request from the client, one with the right token too, is refused
	// with 429 and Retry-After (reason auth_rate) until a failure's worth
	// has refilled. A success resets nothing. The client is the TCP
	// peer's address (an IPv6 one by its /64, and by its /48 with 16
	// times the allowance), or, from a peer in TrustedProxies, the
	// address its forwarding header names (see TrustedProxies,
	// ForwardedHeader). The most recently failing AuthFailAddrs
	// addresses and /48s are remembered, no more: one forgotten starts
	// afresh, so a guesser with more addresses is not held back. 0 turns
	// the limit off;
	// without a token there is nothing to guess and it does not apply.
	AuthFailLimit float64
	AuthFailBurst int
	AuthFailAddrs int
	// TrustedProxies lists the reverse proxies (config.ParseTrustedProxy:
	// CIDRs or addresses) in front of the push API. Only from a TCP peer
	// inside one of them is the forwarding header (ForwardedHeader:
	// X-Forwarded-For, or Forwarded's for=) read, for the client whose
	// failed authentications count: the right-most address in it that is
	// not itself a trusted proxy (each proxy appends the address it heard
	// from, so what a client writes lies to the left of it), the
	// left-most when every one is. A header that cannot be read there (an
	// entry not an address) leaves the peer as the client, counted in
	// headroom_push_forwarded_unreadable_total and logged, the limit on
	// or off. Empty, no forwarding header is ever read: behind a reverse
	// proxy every client then shares the proxy's allowance.
	TrustedProxies []string
	// ForwardedHeader is the header the trusted proxies append the
	// client's address to (config.ForwardedHeader): X-Forwarded-For (the
	// default, also when empty) or Forwarded (RFC 7239, its for
	// parameter), read the same way, right to left. Only that header is
	// read, never the other: a proxy appends to one and passes the other
	// on as the client wrote it.
	ForwardedHeader string
	// MaxBody is the largest body accepted, in bytes (413 beyond).
	MaxBody int64
	// MaxFutureSkew is how far past now a tick's time may be.
	MaxFutureSkew time.Duration
	// MaxAge is how far before now a tick's time may be.
	MaxAge time.Duration
	// MaxTicks is the most ticks one request may carry.
	MaxTicks int
	// MaxReplicas bounds the replicas field.
	MaxReplicas int
	// MaxConcurrent is how many requests are handled at once; more are
	// answered 429 with Retry-After before their body is read.
	MaxConcurrent int
	// ReadTimeout bounds the time to receive one request's body (408
	// beyond); 0 leaves it to the HTTP server's read timeout.
	ReadTimeout time.Duration
	// AllowedOrigins lists the browser origins (scheme://host[:port])
	// accepted besides the same origin; a request with any other Origin
	// header is refused with 403. Requests without Origin (curl, servers)
	// are not browser requests and pass.
	AllowedOrigins []string
	// AllowedHosts lists the names (host, or host:port) a request's Host
	// header may carry besides localhost, 127.0.0.1 and [::1] on the
	// listening port (internal/hostcheck, the gateway's rule); any other
	// Host is refused with 403 before anything else is read, so a page on
	// an attacker's name re-pointed at 127.0.0.1 (DNS rebinding) cannot
	// pass as same-origin. "*" allows any Host (behind a proxy that checks
	// it).
	AllowedHosts []string
	// Sources maps configured apps to their source (config.SourceSim, …):
	// a tick for an app whose source is not "push" is refused with 409.
	// Apps not in the map are accepted (decided and shown, never acted on).
	Sources map[string]string
	// Series, when set, admits the series (app.tier) of every request at
	// its arrival (the handler's clock); a request bringing a series
	// beyond its limits is refused with 422. A series not pushed for its
	// idle limit gives its place back.
	Series *limits.Recent
}

// DefaultConfig accepts bodies up to 1 MiB, times from 7 days ago to 2
// minutes ahead, and up to 10000 ticks a request, 16 requests at once,
// each body within 10 s, without a token. The future skew is the
// executor's (-executor.max-future-skew): a decision takes its tick's
// time, and one beyond the executor's skew is dead-lettered, so a tick
// further ahead is refused here, where its sender hears of it.
//
// Each token may push 100 ticks a second, in bursts of up to 20000: one
// app of 3 tiers ticking every 15 s pushes 0.2 a second, so one token
// feeds some 1500 series at that pace, and a backfill of two full requests
// (MaxTicks each) passes at once, the rest at 100 a second.
//
// Each client address may fail to authenticate 10 times in a row, then 2
// times a second (see AuthFailLimit), 10000 addresses remembered.
func DefaultConfig() Config {
	return Config{MaxBody: 1 << 20, MaxFutureSkew: 2 * time.Minute, MaxAge: 7 * 24 * time.Hour, MaxTicks: 10000, MaxReplicas: proto.MaxReplicas,
		MaxConcurrent: 16, ReadTimeout: 10 * time.Second, RateLimit: DefaultRateLimit, RateBurst: DefaultRateBurst,
		AuthFailLimit: DefaultAuthFailLimit, AuthFailBurst: DefaultAuthFailBurst, AuthFailAddrs: DefaultAuthFailAddrs}
}

// The default rate limit of each token: ticks per second, and at once.
const (
	DefaultRateLimit = 100
	DefaultRateBurst = 20000
)

// Validate checks the settings.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBody <= 0 {
		errs = append(errs, fmt.Errorf("push max body %d: want a positive size", c.MaxBody))
	}
	if c.MaxFutureSkew < 0 || c.MaxAge <= 0 {
		errs = append(errs, fmt.Errorf("push skew %v and max age %v: want skew ≥ 0 and age > 0", c.MaxFutureSkew, c.MaxAge))
	}
	if c.MaxTicks <= 0 || c.MaxReplicas <= 0 {
		errs = append(errs, fmt.Errorf("push max ticks %d and max replicas %d: want positive", c.MaxTicks, c.MaxReplicas))
	}
	if c.MaxConcurrent <= 0 {
		errs = append(errs, fmt.Errorf("push max concurrent %d: want positive", c.MaxConcurrent))
	}
	if c.ReadTimeout < 0 {
		errs = append(errs, fmt.Errorf("push read timeout %v: want ≥ 0", c.ReadTimeout))
	}
	if err := config.CheckRate(c.AuthFailLimit, "failed authentications"); err != nil {
		errs = append(errs, fmt.Errorf("push auth fail limit %w", err))
	}
	if c.AuthFailLimit > 0 {
		if err := config.CheckBurst(c.AuthFailBurst); err != nil {
			errs = append(errs, fmt.Errorf("push auth fail burst %w", err))
		}
		if c.AuthFailAddrs < 1 {
			errs = append(errs, fmt.Errorf("push auth fail addresses %d: want at least 1", c.AuthFailAddrs))
		}
	}
	for _, p := range c.TrustedProxies {
		if _, err := config.ParseTrustedProxy(p); err != nil {
			errs = append(errs, fmt.Errorf("push trusted proxy %w", err))
		}
	}
	if _, err := config.ForwardedHeader(c.ForwardedHeader); err != nil {
		errs = append(errs, fmt.Errorf("push forwarded header %w", err))
	}
	if err := c.checkTokens(); err != nil {
		errs = append(errs, err)
	}
	if err := hostcheck.Check("push allowed hosts", c.AllowedHosts); err != nil {
		errs = append(errs, err)
	}
	for _, o := range c.AllowedOrigins {
		if err := config.CheckOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("push allowed origin: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Error is a rejected request: the HTTP status, the field at fault (e.g.
// "[2].values.rps"; "body" for the request as a whole) and what was wrong.
type Error struct {
	Status  int    `json:"-"`
	Field   string `json:"field,omitempty"`
	Message string `json:"error"`
	// Reason labels the refusal in headroom_push_rejected_total where its
	// status alone does not say it ("rate" or "concurrency" for a 429);
	// empty, the status's own reason is used.
	Reason string `json:"-"`
}

// Error formats the error as "field: message".
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func bad(field, format string, a ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Field: field, Message: fmt.Sprintf(format, a...)}
}

// Format is a body encoding.
type Format int

// The body encodings.
const (
	JSON Format = iota
	MsgPack
)

// Parse decodes body (one tick object or an array of them), checks every
// field of every tick against cfg at wall time now, and returns the ticks
// as Metrics with source "push". It returns either ticks or an error, never
// both: one bad tick rejects the request.
func Parse(body []byte, f Format, now time.Time, cfg Config) ([]*proto.Metrics, *Error) {
	b, err := Decode(bytes.NewReader(body), f, now, cfg)
	if err != nil {
		return nil, err
	}
	return b.Ticks, nil
}

// Batch is a decoded request.
type Batch struct {
	// Ticks are the request's ticks in body order.
	Ticks []*proto.Metrics
	// Array says the body was an array of ticks.
	Array bool
}

// Path is the prefix naming tick i's fields in errors: "[i]" in an array,
// "" for a lone tick.
func (b *Batch) Path(i int) string { return tickPath(b.Array, i) }

func tickPath(array bool, i int) string {
	if !array {
		return ""
	}
	return "[" + strconv.Itoa(i) + "]"
}

// Decode reads a body from r and checks it as Parse does, keeping every
// tick. Scan does the same without keeping them.
func Decode(r io.Reader, f Format, now time.Time, cfg Config) (*Batch, *Error) {
	b := &Batch{}
	array, err := Scan(r, f, now, cfg, func(_ int, _ string, m *proto.Metrics) *Error {
		b.Ticks = append(b.Ticks, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.Array = array
	return b, nil
}

// Scan reads a body from r (one tick object or an array of them), checks
// every field of every tick against cfg at wall time now, and calls each
// with every tick in body order (its index and field path, "[i]" or "" for
// a lone tick), stopping at the first error, each's included. It reports
// whether the body was an array.
//
// Scan keeps nothing it has handed to each: JSON is decoded tick by tick
// as it arrives, so besides each's own keeping only the current tick's
// text is held; a msgpack body is read whole (bounded by the caller, e.g.
// with http.MaxBytesReader), checked for lying sizes, then decoded tick by
// tick. A read error from r is reported as a 400 on "body"; callers that
// need to tell it apart (413, 408) record it themselves.
func Scan(r io.Reader, f Format, now time.Time, cfg Config, each func(i int, path string, m *proto.Metrics) *Error) (array bool, err *Error) {
	if f == MsgPack {
		body, rerr := io.ReadAll(r)
		if rerr != nil {
			return false, bad("body", "read: %v", rerr)
		}
		return scanMsgpack(body, now, cfg, each)
	}
	return scanJSON(r, now, cfg, each)
}

func scanJSON(r io.Reader, now time.Time, cfg Config, each func(int, string, *proto.Metrics) *Error) (bool, *Error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err == io.EOF {
		return false, bad("body", "empty body: want a tick object or an array of tick objects")
	}
	if err != nil {
		return false, bad("body", "read: %v", err)
	}
	d := json.NewDecoder(br)
	d.UseNumber()
	array := first == '['
	emit := func(i int, v any) *Error {
		path := tickPath(array, i)
		m, perr := tick(v, path, now, cfg)
		if perr != nil {
			return perr
		}
		return each(i, path, m)
	}
	if array {
		if _, err := d.Token(); err != nil {
			return true, bad("body", "malformed JSON: %v", err)
		}
		n := 0
		for ; d.More(); n++ {
			if n >= cfg.MaxTicks {
				return true, bad("body", "more than %d ticks, at most %d per request", cfg.MaxTicks, cfg.MaxTicks)
			}
			v, err := decodeJSON(d, tickPath(true, n), 0)
			if err != nil {
				if perr, ok := err.(*Error); ok {
					return true, perr
				}
				return true, bad("body", "malformed JSON in tick %d: %v", n, err)
			}
			if perr := emit(n, v); perr != nil {
				return true, perr
			}
		}
		if _, err := d.Token(); err != nil {
			return true, bad("body", "malformed JSON: %v", err)
		}
		if n == 0 {
			return true, bad("body", "empty array: want at least one tick")
		}
	} else {
		v, err := decodeJSON(d, "", 0)
		if err != nil {
			if perr, ok := err.(*Error); ok {
				return false, perr
			}
			return false, bad("body", "malformed JSON: %v", err)
		}
		if _, ok := v.(map[string]any); !ok {
			return false, bad("body", "want a tick object or an array of tick objects")
		}
		if perr := emit(0, v); perr != nil {
			return false, perr
		}
	}
	if _, err := d.Token(); err != io.EOF {
		return array, bad("body", "malformed JSON: data after the top-level value")
	}
	return array, nil
}

// maxJSONDepth bounds how deeply a tick's JSON may nest (a tick needs 2:
// the tick, its values or labels), so decodeJSON's recursion stays short on
// a body of a million brackets.
const maxJSONDepth = 16

// decodeJSON reads the next JSON value from d as Decode into an any does
// (objects as map[string]any, arrays as []any, numbers as json.Number
// under UseNumber), but refuses an object naming a key twice, at any depth,
// with a 400 *Error on the key's path (e.g. "[1].values.rps"): Decode would
// keep the last, so a body could say one thing to a reader that keeps the
// first and another to us. path names the value read ("" for a lone
// tick). Other errors are the decoder's (malformed JSON).
//
// One call reads at most maxTickJSONValues tokens; past them it stops with
// a 400 *Error on the path it reached, so a tick padded with values no tick
// has (an array of a million numbers) is refused without being built.
func decodeJSON(d *json.Decoder, path string, depth int) (any, error) {
	left := maxTickJSONValues
	return decodeJSONLeft(d, path, depth, &left)
}

// maxTickJSONValues bounds the JSON tokens (values and keys) of one tick.
// The largest valid tick has 173: the object, its six fields with their
// values, proto.MaxMetricValues values and proto.MaxMetricLabels labels,
// keys and values; anything past it is refused whatever it holds. Without
// it a 1 MiB tick of small array elements allocated 110 MB to decode
// before its unknown field was refused, where a valid 1 MiB body of 9000
// ticks allocates 33 MB (BenchmarkParsePadded).
const maxTickJSONValues = 256

// decodeJSONLeft is decodeJSON with *left tokens left to read.
func decodeJSONLeft(d *json.Decoder, path string, depth int, left *int) (any, error) {
	if *left--; *left < 0 {
		return nil, bad(orBody(path), "more than %d JSON values and keys in one tick: a tick has at most %d values and %d labels",
			maxTickJSONValues, proto.MaxMetricValues, proto.MaxMetricLabels)
	}
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := t.(json.Delim)
	if !ok {
		return t, nil // string, json.Number, bool or nil
	}
	if depth >= maxJSONDepth {
		return nil, bad(orBody(path), "nested deeper than %d levels", maxJSONDepth)
	}
	if delim == '[' {
		a := []any{}
		for i := 0; d.More(); i++ {
			v, err := decodeJSONLeft(d, path+"["+strconv.Itoa(i)+"]", depth+1, left)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := d.Token(); err != nil { // ]
			return nil, err
		}
		return a, nil
	}
	obj := map[string]any{}
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return nil, err
		}
		k, _ := kt.(string) // the decoder allows only strings here
		field := join(path, k)
		if *left--; *left < 0 {
			return nil, bad(field, "more than %d JSON values and keys in one tick: a tick has at most %d values and %d labels",
				maxTickJSONValues, proto.MaxMetricValues, proto.MaxMetricLabels)
		}
		if _, dup := obj[k]; dup {
			return nil, bad(field, "duplicate key %q", k)
		}
		v, err := decodeJSONLeft(d, field, depth+1, left)
		if err != nil {
			return nil, err
		}
		obj[k] = v
	}
	if _, err := d.Token(); err != nil { // }
		return nil, err
	}
	return obj, nil
}

// firstByte returns the first byte after JSON white space without
// consuming it, dropping the white space so it is never buffered.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, br.UnreadByte()
	}
}

func scanMsgpack(body []byte, now time.Time, cfg Config, each func(int, string, *proto.Metrics) *Error) (bool, *Error) {
	if err := proto.CheckMsgpack(body); err != nil {
		return false, bad("body", "malformed msgpack: %v", err)
	}
	if perr := msgpackDuplicate(body); perr != nil {
		return false, perr
	}
	d := msgpack.NewDecoder(bytes.NewReader(body))
	d.UseLooseInterfaceDecoding(true)
	c, err := d.PeekCode()
	if err != nil {
		return false, bad("body", "malformed msgpack: %v", err)
	}
	array := msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32
	n := 1
	if array {
		if n, err = d.DecodeArrayLen(); err != nil {
			return true, bad("body", "malformed msgpack: %v", err)
		}
		if n == 0 {
			return true, bad("body", "empty array: want at least one tick")
		}
		if n > cfg.MaxTicks {
			return true, bad("body", "%d ticks, at most %d per request", n, cfg.MaxTicks)
		}
	}
	for i := range n {
		var v any
		if err := d.Decode(&v); err != nil {
			return array, bad("body", "malformed msgpack in tick %d: %v", i, err)
		}
		if !array {
			if _, ok := v.(map[string]any); !ok {
				return false, bad("body", "want a tick object or an array of tick objects")
			}
		}
		path := tickPath(array, i)
		m, perr := tick(v, path, now, cfg)
		if perr != nil {
			return array, perr
		}
		if perr := each(i, path, m); perr != nil {
			return array, perr
		}
	}
	if n, _ := io.Copy(io.Discard, d.Buffered()); n > 0 {
		return array, bad("body", "%d bytes after the msgpack value", n)
	}
	return array, nil
}

// msgpackDuplicate refuses, as decodeJSON does for JSON, a body (checked
// by proto.CheckMsgpack, so sized and nested within bounds) with a map that
// names a string key twice: a 400 on the key's path ("[1].values.rps").
// A body it cannot walk is left to the decode to report.
func msgpackDuplicate(body []byte) *Error {
	d := msgpack.NewDecoder(bytes.NewReader(body))
	d.UseLooseInterfaceDecoding(true)
	c, err := d.PeekCode()
	if err != nil {
		return nil
	}
	if msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32 {
		n, err := d.DecodeArrayLen()
		if err != nil {
			return nil
		}
		for i := range n {
			if perr, err := msgpackKeys(d, tickPath(true, i)); perr != nil || err != nil {
				return perr
			}
		}
		return nil
	}
	perr, _ := msgpackKeys(d, "")
	return perr
}

// msgpackKeys reads the next value from d, refusing a map in it that names
// a string key twice; path names the value.
func msgpackKeys(d *msgpack.Decoder, path string) (*Error, error) {
	c, err := d.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := d.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for range n {
			k, err := d.DecodeInterfaceLoose()
			if err != nil {
				return nil, err
			}
			field := path + "[key]"
			if ks, ok := k.(string); ok {
				field = join(path, ks)
				if seen[ks] {
					return bad(field, "duplicate key %q", ks), nil
				}
				seen[ks] = true
			}
			if perr, err := msgpackKeys(d, field); perr != nil || err != nil {
				return perr, err
			}
		}
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := d.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		for i := range n {
			if perr, err := msgpackKeys(d, path+"["+strconv.Itoa(i)+"]"); perr != nil || err != nil {
				return perr, err
			}
		}
	default:
		return nil, d.Skip()
	}
	return nil, nil
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

var fields = []string{"app", "tier", "time", "replicas", "values", "labels"}

func tick(v any, path string, now time.Time, cfg Config) (*proto.Metrics, *Error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, bad(orBody(path), "want a tick object, got %s", kind(v))
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(fields, k) {
			return nil, bad(join(path, k), "unknown field: want %s", strings.Join(fields, ", "))
		}
	}
	var toks [2]string
	for i, name := range []string{"app", "tier"} {
		s, ok := obj[name].(string)
		if !ok {
			return nil, bad(join(path, name), "want a string token, got %s", kind(obj[name]))
		}
		if !proto.ValidToken(s) {
			return nil, bad(join(path, name), "%q: want 1 to 64 characters of [a-z0-9_-]", s)
		}
		toks[i] = s
	}
	at, err := when(obj["time"], join(path, "time"))
	if err != nil {
		return nil, err
	}
	if d := at.Sub(now); d > cfg.MaxFutureSkew {
		return nil, bad(join(path, "time"), "%s is %v in the future, at most %v allowed", at.Format(time.RFC3339Nano), d.Round(time.Second), cfg.MaxFutureSkew)
	}
	if d := now.Sub(at); d > cfg.MaxAge {
		return nil, bad(join(path, "time"), "%s is %v in the past, at most %v allowed", at.Format(time.RFC3339Nano), d.Round(time.Second), cfg.MaxAge)
	}
	rf, err := number(obj["replicas"], join(path, "replicas"))
	if err != nil {
		return nil, err
	}
	if rf != math.Trunc(rf) || rf < 0 || rf > float64(cfg.MaxReplicas) {
		return nil, bad(join(path, "replicas"), "%v: want a whole number in 0..%d", rf, cfg.MaxReplicas)
	}
	vals, ok := obj["values"].(map[string]any)
	if !ok {
		return nil, bad(join(path, "values"), "want an object of named numbers, got %s", kind(obj["values"]))
	}
	if len(vals) == 0 || len(vals) > proto.MaxMetricValues {
		return nil, bad(join(path, "values"), "%d values: want 1 to %d", len(vals), proto.MaxMetricValues)
	}
	values := make(proto.Floats, len(vals))
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		x := vals[k]
		field := join(path, "values."+k)
		if !proto.MetricNameRE.MatchString(k) {
			return nil, bad(field, "bad value name: want [a-z][a-z0-9_]{0,63}")
		}
		f, err := number(x, field)
		if err != nil {
			return nil, err
		}
		if uerr := proto.CheckMetricUnit(k, f); uerr != nil {
			return nil, bad(field, "%v", uerr)
		}
		values[k] = f
	}
	m := proto.NewMetrics(toks[0], toks[1], at, int(rf), values)
	m.Source = "push"
	if lv, present := obj["labels"]; present && lv != nil {
		labels, ok := lv.(map[string]any)
		if !ok {
			return nil, bad(join(path, "labels"), "want an object of strings, got %s", kind(lv))
		}
		if len(labels) > proto.MaxMetricLabels {
			return nil, bad(join(path, "labels"), "%d labels, at most %d allowed", len(labels), proto.MaxMetricLabels)
		}
		m.Labels = make(map[string]string, len(labels))
		for _, k := range slices.Sorted(maps.Keys(labels)) {
			x := labels[k]
			s, ok := x.(string)
			if !ok {
				return nil, bad(join(path, "labels."+k), "want a string, got %s", kind(x))
			}
			m.Labels[k] = s
		}
	}
	if err := m.Validate(); err != nil {
		return nil, bad(orBody(path), "%v", err)
	}
	return m, nil
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// when reads an RFC 3339 string, a msgpack timestamp or Unix milliseconds.
func when(v any, field string) (time.Time, *Error) {
	switch x := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, bad(field, "%q is not an RFC 3339 time", x)
		}
		return t.UTC(), nil
	case time.Time:
		return x.UTC(), nil
	case nil:
		return time.Time{}, bad(field, "missing: want an RFC 3339 time or Unix milliseconds")
	}
	ms, err := number(v, field)
	if err != nil {
		return time.Time{}, err
	}
	if ms != math.Trunc(ms) || ms <= 0 || ms > 1e15 {
		return time.Time{}, bad(field, "%v is not a Unix millisecond time", ms)
	}
	return proto.Time(int64(ms)), nil
}

// number reads a finite number, naming overflow and NaN/Inf.
func number(v any, field string) (float64, *Error) {
	var f float64
	switch x := v.(type) {
	case json.Number:
		var err error
		f, err = strconv.ParseFloat(string(x), 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, bad(field, "%s overflows a float64", x)
		}
		if err != nil {
			return 0, bad(field, "%s is not a number", x)
		}
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case int:
		f = float64(x)
	case nil:
		return 0, bad(field, "missing: want a number")
	default:
		return 0, bad(field, "want a number, got %s", kind(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, bad(field, "%v is not finite", f)
	}
	return f, nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case json.Number, float64, float32, int64, uint64, int:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
