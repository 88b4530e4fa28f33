// Package cli registers command-line flags whose defaults fall back to
// environment variables, so every service is configured the same way: a flag
// wins, then its variable, then the built-in default.
package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Getenv looks up an environment variable (os.Getenv in main; a map in tests).
type Getenv func(string) string

// EnvName is the variable backing a flag: HEADROOM_ plus the flag name upper-cased
// with dots and dashes as underscores (nats.url becomes HEADROOM_NATS_URL).
func EnvName(flagName string) string {
	return "HEADROOM_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(flagName))
}

// Flags wraps a FlagSet and the environment. Errors in variables are kept and
// reported by Err, so a bad HEADROOM_… value fails the start with its name.
type Flags struct {
	FS     *flag.FlagSet
	getenv Getenv
	errs   []error
}

// New returns Flags for a new ContinueOnError FlagSet named name.
func New(name string, getenv Getenv) *Flags {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &Flags{FS: flag.NewFlagSet(name, flag.ContinueOnError), getenv: getenv}
}

func (f *Flags) env(name string) (string, bool) {
	v := f.getenv(EnvName(name))
	return v, v != ""
}

func (f *Flags) usage(name, usage string) string {
	return fmt.Sprintf("%s (env %s)", usage, EnvName(name))
}

// String registers a string flag. A value its variable gives is the
// flag's value but not its default as the usage shows it (printed on -h
// and, by the flag package, on every mistyped flag, into the service's
// log): string flags carry the secrets (HEADROOM_PUSH_TOKEN,
// HEADROOM_EXECUTOR_WEBHOOK_TOKEN and _HEADER, …). The usage says the
// variable is set instead.
func (f *Flags) String(p *string, name, def, usage string) {
	v, ok := f.env(name)
	u := f.usage(name, usage)
	if ok {
		u += " (set from the environment)"
	}
	f.FS.StringVar(p, name, def, u)
	if ok {
		*p = v
	}
}

// Int registers an int flag.
func (f *Flags) Int(p *int, name string, def int, usage string) {
	if v, ok := f.env(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: not an integer", EnvName(name), v))
		} else {
			def = n
		}
	}
	f.FS.IntVar(p, name, def, f.usage(name, usage))
}

// Int64 registers an int64 flag.
func (f *Flags) Int64(p *int64, name string, def int64, usage string) {
	if v, ok := f.env(name); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: not an integer", EnvName(name), v))
		} else {
			def = n
		}
	}
	f.FS.Int64Var(p, name, def, f.usage(name, usage))
}

// Float registers a float64 flag.
func (f *Flags) Float(p *float64, name string, def float64, usage string) {
	if v, ok := f.env(name); ok {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: not a number", EnvName(name), v))
		} else {
			def = n
		}
	}
	f.FS.Float64Var(p, name, def, f.usage(name, usage))
}

// Bool registers a bool flag.
func (f *Flags) Bool(p *bool, name string, def bool, usage string) {
	if v, ok := f.env(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: not a boolean", EnvName(name), v))
		} else {
			def = b
		}
	}
	f.FS.BoolVar(p, name, def, f.usage(name, usage))
}

// Duration registers a time.Duration flag.
func (f *Flags) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	if v, ok := f.env(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: not a duration", EnvName(name), v))
		} else {
			def = d
		}
	}
	f.FS.DurationVar(p, name, def, f.usage(name, usage))
}

// Parse parses args and reports the first bad environment variable or flag,
// or an argument left over: flag parsing stops at the first word that is not
// a flag, so a misspelt subcommand or a stray word would otherwise leave
// every flag after it silently unset.
func (f *Flags) Parse(args []string) error {
	rest, err := f.ParseArgs(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%s: unexpected argument %q (the flags after it would be ignored; -h lists the flags)", f.FS.Name(), rest[0])
	}
	return nil
}

// ParseArgs is Parse for a command that takes arguments after its flags:
// it returns them.
func (f *Flags) ParseArgs(args []string) ([]string, error) {
	if len(f.errs) > 0 {
		return nil, f.errs[0]
	}
	if err := f.FS.Parse(args); err != nil {
		return nil, err
	}
	return f.FS.Args(), nil
}
