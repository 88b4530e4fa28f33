package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/headroomhq/headroom/internal/scrape"
)

// Error is one problem in the file, at a line and a field.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the error as "file:line: field: message".
func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// Load reads and validates the file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse validates a configuration held in memory; name is used in errors
// and relative trace paths are resolved against its folder. Every problem
// is reported, in line order, as an *Error joined into the returned error.
func Parse(name string, data []byte) (*File, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, (&index{}).wrap(name, err)
	}
	ix := newIndex(&root)
	if errs := ix.aliases(name, &root); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var raw rawFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, ix.wrap(name, err)
	}
	v := &validator{file: name, ix: ix, dir: filepath.Dir(name)}
	f := v.root(raw)
	if len(v.errs) > 0 {
		sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
		errs := make([]error, len(v.errs))
		for i, e := range v.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	f.Path = name
	return f, nil
}

// aliases reports, in line order, every anchor (&a), alias (*a) and merge
// key (<<) under n. They are refused anywhere in the file: with them a
// setting such as mode: live reaches an app from another app's section
// (c: {<<: *b} made c live), while the file must say mode: live under
// each app it grants. Aliases are not followed.
func (ix *index) aliases(file string, n *yaml.Node) []error {
	var errs []error
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch {
		case n.Kind == yaml.AliasNode:
			errs = append(errs, &Error{File: file, Line: n.Line, Field: ix.paths[n.Line], Msg: fmt.Sprintf("alias *%s: YAML aliases are not allowed, write the settings out in full", n.Value)})
			return
		case n.Anchor != "":
			errs = append(errs, &Error{File: file, Line: n.Line, Field: ix.paths[n.Line], Msg: fmt.Sprintf("anchor &%s: YAML anchors are not allowed, write the settings out in full", n.Anchor)})
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!merge":
			errs = append(errs, &Error{File: file, Line: n.Line, Field: ix.paths[n.Line], Msg: "merge key <<: YAML merge keys are not allowed, write the settings out in full"})
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return errs
}

// wrap turns a yaml.v3 error into located Errors.
func (ix *index) wrap(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, 0, len(te.Errors))
		for _, m := range te.Errors {
			errs = append(errs, ix.fromYAML(file, m))
		}
		return errors.Join(errs...)
	}
	msg := err.Error()
	if len(msg) > 6 && msg[:6] == "yaml: " {
		msg = msg[6:]
	}
	return ix.fromYAML(file, msg)
}

// App returns the named app.
func (f *File) App(name string) (*App, bool) {
	i := slices.IndexFunc(f.Apps, func(a App) bool { return a.Name == name })
	if i < 0 {
		return nil, false
	}
	return &f.Apps[i], true
}

// Live reports whether the app is named with mode: live, the only
// authority a real executor driver acts on.
func (a App) Live() bool { return a.Mode == "live" }

// GrantsLive reports whether the file names any app mode: live.
func (f *File) GrantsLive() bool { return slices.ContainsFunc(f.Apps, App.Live) }

// AppsWith returns the apps whose source is kind.
func (f *File) AppsWith(kind string) []App {
	var out []App
	for _, a := range f.Apps {
		if a.Source == kind {
			out = append(out, a)
		}
	}
	return out
}

func toRules(raw []rawRule) []scrape.Rule {
	out := make([]scrape.Rule, len(raw))
	for i, r := range raw {
		out[i] = scrape.Rule{Name: r.Name, Series: r.Series, Kind: scrape.Kind(r.Kind), Match: r.Match, Over: r.Over, Quantile: r.Quantile, Scale: r.Scale, Agg: r.Agg}
	}
	return out
}
