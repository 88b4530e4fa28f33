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
// (Errorf, Warningf), becomes one JSON line, with component "client-go",
// its level, and its message, error and values passed through
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

// Component is the value of the component field of every line routed.
const Component = "client-go"

// target is the logger lines go to, component field included: the last
// of installed, or nil.
var target atomic.Pointer[zerolog.Logger]

var (
	mu sync.Mutex
	// installed are the loggers installed and not restored, oldest first.
	installed []*zerolog.Logger
)

// fallback is where lines go with no logger installed: stderr, as
// os.Stderr is when each is written.
var fallback = zerolog.New(stderr{}).With().Str("component", Component).Logger()

type stderr struct{}

func (stderr) Write(p []byte) (int, error) { return os.Stderr.Write(p) }

func init() {
	// WriteKlogBuffer: klog's unstructured calls (Warningf, …) reach
	// writeBuffer with their header, whose first letter is the severity;
	// without it klog passes a warning to Info, unmarked.
	klog.SetLoggerWithOptions(logr.New(&sink{}), klog.WriteKlogBuffer(writeBuffer))
}

// Install makes log (with component "client-go") the logger klog's
// output goes to, masked by redact.Text, until restore is called (or
// another Install, until that one's restore): one per process, the
// service's. restore, which may be called more than once, hands the lines
// back to the logger installed before log and still in place, or to
// stderr: a service that stops calls it, lest client-go's goroutines,
// which may outlive it, log to a logger no longer served (a test's,
// whose test has ended).
func Install(log zerolog.Logger) (restore func()) {
	l := log.With().Str("component", Component).Logger()
	mu.Lock()
	defer mu.Unlock()
	installed = append(installed, &l)
	target.Store(&l)
	return sync.OnceFunc(func() {
		mu.Lock()
		defer mu.Unlock()
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

// reserved are the fields of our lines that a value klog passes may not
// take over: such a key is logged as "klog_" + key.
var reserved = map[string]bool{
	zerolog.LevelFieldName: true, zerolog.MessageFieldName: true, zerolog.TimestampFieldName: true,
	zerolog.ErrorFieldName: true, zerolog.CallerFieldName: true,
	"component": true, "service": true, "version": true, "part": true,
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
	e := current().WithLevel(level)
	if !e.Enabled() {
		return
	}
	if s.name != "" {
		e = e.Str("logger", redact.Text(s.name))
	}
	if err != nil {
		e = e.Str(zerolog.ErrorFieldName, redact.Text(fmt.Sprint(err)))
	}
	e = fields(fields(e, s.values), kv)
	e.Msg(redact.Text(msg))
}

// fields adds the key/value pairs kv to e, each value masked (a string, or
// anything else as fmt prints it, but booleans and numbers); a key without
// value gets "(MISSING)", as logr's own sinks do.
func fields(e *zerolog.Event, kv []any) *zerolog.Event {
	for i := 0; i < len(kv); i += 2 {
		key, ok := kv[i].(string)
		if !ok {
			key = fmt.Sprint(kv[i])
		}
		key = redact.Text(key)
		if reserved[key] {
			key = "klog_" + key
		}
		if i+1 == len(kv) {
			e = e.Str(key, "(MISSING)")
			break
		}
		e = value(e, key, kv[i+1])
	}
	return e
}

func value(e *zerolog.Event, key string, v any) *zerolog.Event {
	if m, ok := v.(logr.Marshaler); ok {
		v = marshalLog(m)
	}
	switch v := v.(type) {
	case nil:
		return e.Interface(key, nil)
	case string:
		return e.Str(key, redact.Text(v))
	case bool:
		return e.Bool(key, v)
	case int:
		return e.Int(key, v)
	case int32:
		return e.Int32(key, v)
	case int64:
		return e.Int64(key, v)
	case uint:
		return e.Uint(key, v)
	case uint32:
		return e.Uint32(key, v)
	case uint64:
		return e.Uint64(key, v)
	case float64:
		return e.Float64(key, v)
	}
	// fmt calls Error or String, and survives one that panics (a nil
	// pointer's).
	return e.Str(key, redact.Text(fmt.Sprint(v)))
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
	e := current().WithLevel(level)
	if !e.Enabled() {
		return
	}
	if caller != "" {
		e = e.Str(zerolog.CallerFieldName, caller)
	}
	e.Msg(redact.Text(msg))
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
