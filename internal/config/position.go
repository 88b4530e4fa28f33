package config

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// index maps field paths ("apps.shop.tiers[0].target") to the line of their
// key, and lines back to the deepest path starting there, so every error
// can name both.
type index struct {
	lines map[string]int
	paths map[int]string
}

func newIndex(root *yaml.Node) *index {
	ix := &index{lines: map[string]int{}, paths: map[int]string{}}
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		ix.walk(root.Content[0], "")
	}
	return ix
}

func (ix *index) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			ix.lines[p] = k.Line
			ix.paths[k.Line] = p
			ix.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			ix.lines[p] = v.Line
			if _, ok := ix.paths[v.Line]; !ok {
				ix.paths[v.Line] = p
			}
			ix.walk(v, p)
		}
	}
}

// line returns the line of path, or of its nearest present ancestor (a
// missing field is reported where its parent is).
func (ix *index) line(path string) int {
	for p := path; p != ""; {
		if l, ok := ix.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 1
}

var yamlLineRE = regexp.MustCompile(`^line (\d+): (.*)$`)
var unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

// fromYAML turns one of yaml.v3's "line N: …" messages into an Error with
// the field found at that line.
func (ix *index) fromYAML(file, msg string) *Error {
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: file, Line: 1, Msg: msg}
	}
	line, _ := strconv.Atoi(m[1])
	text := m[2]
	if u := unknownFieldRE.FindStringSubmatch(text); u != nil {
		text = "unknown field " + strconv.Quote(u[1])
	}
	return &Error{File: file, Line: line, Field: ix.paths[line], Msg: text}
}
