// Package kubelog routes the logging of the Kubernetes client libraries
// into a service's zerolog logger, masked. client-go, and the apimachinery
// it uses, log through k8s.io/klog/v2, which by default writes its own text
// lines to stderr, outside the service's JSON log: a reflector's "Failed to
// watch" quotes the request URL, and net/http hides a password there but
// not a user (a token given as the server URL's user shows in full).
//
// The package hands klog a logr.LogSink of its own
// (klog.SetLoggerWithOptions) as it is initialised, before main and so
// before any goroutine logs: klog sets its logger without a lock, and
// expects it set while nothing logs. Every line klog would have written,
// structured (ErrorS, InfoS, a reflector's contextual logger) or not
// (Errorf, Warningf), becomes one JSON line, with logger "client-go" (or
// "client-go/" and the contextual logger's name: not component, which the
// all-in-one gives each of its parts already, and zerolog would write
// twice), its level, and its message, error and values passed through
// redact.Text; klog writes nothing to stderr itself. The lines go to the
// logger Install was last given (until its restore), or, with none, to
// stderr (as JSON, masked all the same, without the service's fields).
//
// Verbosity stays low: klog's own -v (0: nothing here sets it) drops V(1)
// and above before they reach the sink, and the sink drops structured
// V(1) and above again whatever -v says, so client-go's request and watch
// chatter (V(2) to V(10), structured) is never logged.
package kubelog

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	"github.com/rs/zerolog"
	"k8s.io/klog/v2"

	"github.com/headroomhq/headroom/internal/redact"
)

// Component is the logger field of every line routed, or its start, with
// "/" and the name of the contextual logger that logged it
// ("client-go/UnhandledError").
const Component = "client-go"

// target is the logger lines go to: the last of installed, or nil.
var target atomic.Pointer[zerolog.Logger]

var (
	mu sync.Mutex
	// installed are the loggers installed and not restored, oldest first.
	installed []*zerolog.Logger
)

// writing is read-held while a line is written to the logger target
// names, and write-held by a restore once it has moved target on: restore
// returns only after every line still being written to the logger it
// removes is written (a test's logger panics when written after its test
// ended). No code of klog's callers (an error's Error, a value's String)
// runs while it is held: they could log again.
var writing sync.RWMutex

// fallback is where lines go with no logger installed: stderr, as
// os.Stderr is when each is written.
var fallback = zerolog.New(stderr{})

type stderr struct{}

func (stderr) Write(p []byte) (int, error) { return os.Stderr.Write(p) }

func init() {
	// WriteKlogBuffer: klog's unstructured calls (Warningf, …) reach
	// writeBuffer with their header, whose first letter is the severity;
	// without it klog passes a warning to Info, unmarked.
	klog.SetLoggerWithOptions(logr.New(&sink{}), klog.WriteKlogBuffer(writeBuffer))
}

// Install makes log the logger klog's output goes to, masked by
// redact.Text, until restore is called (or another Install, until that
// one's restore): one per process, the service's. restore, which may be called more than once, hands the lines
// back to the logger installed before log and still in place, or to
// stderr, and returns once no line is being written to log any more: a
// service that stops calls it, lest client-go's goroutines, which may
// outlive it, log to a logger no longer served (a test's, whose test has
// ended).
func Install(log zerolog.Logger) (restore func()) {
	l := log
	mu.Lock()
	defer mu.Unlock()
	installed = append(installed, &l)
	target.Store(&l)
	return sync.OnceFunc(func() {
		mu.Lock()
		for i, p := range installed {
			if p == &l {
				installed = append(installed[:i], installed[i+1:]...)
				break
			}
		}
		if n := len(installed); n > 0 {
			target.Store(installed[n-1])
		} else {
			target.Store(nil)
		}
		mu.Unlock()
		// Lines begun before the Store are written once this has the
		// lock; lines begun after go to the new target.
		writing.Lock()
		//lint:ignore SA2001 an empty critical section: a barrier
		writing.Unlock()
	})
}

// current returns the logger lines go to now.
func current() *zerolog.Logger {
	if l := target.Load(); l != nil {
		return l
	}
	return &fallback
}

// maxVerbosity is the highest klog V-level logged: V(0), what klog logs
// by default. client-go logs requests, responses and watch events at V(2)
// and above.
const maxVerbosity = 0

// reserved are the fields of our lines, and those the services' loggers
// carry, that a value klog passes may not take over: such a key is logged
// as "klog_" + key.
var reserved = map[string]bool{
	zerolog.LevelFieldName: true, zerolog.MessageFieldName: true, zerolog.TimestampFieldName: true,
	zerolog.ErrorFieldName: true, zerolog.CallerFieldName: true,
	"component": true, "service": true, "version": true, "part": true, "logger": true,
}

// sink is the logr.LogSink klog calls: structured calls come to Info and
// Error with their values, contextual loggers' names and values through
// WithName and WithValues.
type sink struct {
	name   string // WithName's, joined with "/"
	values []any  // WithValues', key, value, …
}

var _ logr.LogSink = (*sink)(nil)

// Init is part of logr.LogSink; the sink logs no caller for structured
// calls, so it needs no call depth.
func (s *sink) Init(logr.RuntimeInfo) {}

// Enabled reports whether a V-level is logged: V(0) only.
func (s *sink) Enabled(level int) bool { return level <= maxVerbosity }

// Info logs an informational line at info level.
func (s *sink) Info(level int, msg string, kv ...any) {
	if level > maxVerbosity {
		return
	}
	s.write(zerolog.InfoLevel, nil, msg, kv)
}

// Error logs an error line at error level, with err masked as "error".
func (s *sink) Error(err error, msg string, kv ...any) {
	s.write(zerolog.ErrorLevel, err, msg, kv)
}

// WithValues returns a sink that adds kv to every line.
func (s *sink) WithValues(kv ...any) logr.LogSink {
	c := *s
	c.values = append(append([]any(nil), s.values...), kv...)
	return &c
}

// WithName returns a sink whose lines carry name, after the names it has
// already (joined with "/"), as the logger field.
func (s *sink) WithName(name string) logr.LogSink {
	c := *s
	if c.name != "" {
		name = c.name + "/" + name
	}
	c.name = name
	return &c
}

func (s *sink) write(level zerolog.Level, err error, msg string, kv []any) {
	if !enabled(level) {
		return
	}
	// Masked and printed before the line is begun: see writing.
	logger := Component
	if s.name != "" {
		logger += "/" + redact.Text(s.name)
	}
	out := []any{"logger", logger}
	if err != nil {
		out = append(out, zerolog.ErrorFieldName, redact.Text(fmt.Sprint(err)))
	}
	out = fields(fields(out, s.values), kv)
	msg = redact.Text(msg)
	writing.RLock()
	defer writing.RUnlock()
	current().WithLevel(level).Fields(out).Msg(msg)
}

// enabled reports whether the logger lines go to now writes level (as far
// as its level and zerolog's global level say; WithLevel decides).
func enabled(level zerolog.Level) bool {
	return level >= current().GetLevel() && level >= zerolog.GlobalLevel()
}

// fields appends to out (whose first pair is the logger field) the
// key/value pairs kv, each value masked (a string, or anything else as fmt
// prints it, but booleans and numbers); a key without value gets
// "(MISSING)", as logr's own sinks do. A key out has already (WithValues'
// given again at the call) takes the later value in place: zerolog would
// write it twice.
func fields(out, kv []any) []any {
	for i := 0; i < len(kv); i += 2 {
		key, ok := kv[i].(string)
		if !ok {
			key = fmt.Sprint(kv[i])
		}
		key = redact.Text(key)
		v := any("(MISSING)")
		if i+1 < len(kv) {
			v = value(kv[i+1])
		}
		if name, ok := v.(string); ok && key == "logger" && i+1 < len(kv) {
			// klog's own logr sink (klog.Background's) passes the
			// logger's name so: it joins the logger field.
			out[1] = out[1].(string) + "/" + name
			continue
		}
		if reserved[key] {
			key = "klog_" + key
		}
		out = set(out, key, v)
	}
	return out
}

// set gives key the value v in the key/value pairs out: in place if key is
// there, else appended.
func set(out []any, key string, v any) []any {
	for j := 0; j < len(out); j += 2 {
		if out[j] == key {
			out[j+1] = v
			return out
		}
	}
	return append(out, key, v)
}

// value returns v as logged: a boolean, a number or nil as it is, anything
// else as a masked string.
func value(v any) any {
	if m, ok := v.(logr.Marshaler); ok {
		v = marshalLog(m)
	}
	switch v := v.(type) {
	case nil, bool, int, int32, int64, uint, uint32, uint64, float64:
		return v
	case string:
		return redact.Text(v)
	}
	// fmt calls Error or String, and survives one that panics (a nil
	// pointer's).
	return redact.Text(fmt.Sprint(v))
}

// marshalLog returns what m logs as, or how it panicked.
func marshalLog(m logr.Marshaler) (v any) {
	defer func() {
		if r := recover(); r != nil {
			v = fmt.Sprintf("<MarshalLog panicked: %v>", r)
		}
	}()
	return m.MarshalLog()
}

// writeBuffer logs a line of klog's unstructured calls (Infof, Warningf,
// Errorf, Fatalf, and V(n).Infof when klog's -v lets it through), which
// klog hands over formatted, with its header: at the header's severity,
// with the header's file:line as caller.
func writeBuffer(b []byte) {
	level, caller, msg := parseKlogLine(string(b))
	if !enabled(level) {
		return
	}
	msg = redact.Text(msg)
	writing.RLock()
	defer writing.RUnlock()
	e := current().WithLevel(level).Str("logger", Component)
	if caller != "" {
		e = e.Str(zerolog.CallerFieldName, caller)
	}
	e.Msg(msg)
}

// parseKlogLine splits a line as klog formats it,
// "Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg", into the level its
// severity letter L (I, W, E, F) stands for, its file:line and its
// message, with the trailing line break cut. A line without that header is
// all message, at info level.
func parseKlogLine(s string) (level zerolog.Level, caller, msg string) {
	s = strings.TrimSuffix(s, "\n")
	level = zerolog.InfoLevel
	end := strings.Index(s, "] ")
	if end < len("Lmmdd hh:mm:ss") || strings.ContainsRune(s[:end], '\n') || s[5] != ' ' || strings.Trim(s[1:5], "0123456789") != "" {
		return level, "", s
	}
	switch s[0] {
	case 'I':
	case 'W':
		level = zerolog.WarnLevel
	case 'E':
		level = zerolog.ErrorLevel
	case 'F':
		level = zerolog.FatalLevel
	default:
		return level, "", s
	}
	header := s[:end]
	if sp := strings.LastIndexByte(header, ' '); sp >= 0 {
		caller = header[sp+1:]
	}
	return level, caller, s[end+len("] "):]
}
