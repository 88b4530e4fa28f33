package executor

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/headroomhq/headroom/internal/redact"
	"github.com/headroomhq/headroom/proto"
)

// Placeholders a command template may use. Each stands for a whole validated
// value, substituted inside one argument; none ever reaches a shell.
const (
	PlaceholderApp      = "{app}"
	PlaceholderTier     = "{tier}"
	PlaceholderReplicas = "{replicas}"
	PlaceholderDecision = "{decision}"
)

// ErrBadValue reports a request value that may not be substituted into a
// command: an app or tier outside the token syntax or starting with "-", a
// negative replica count, or a decision id outside [A-Za-z0-9._:-].
var ErrBadValue = errors.New("value not allowed in a command")

// Template is a command line split into arguments once, when it is parsed,
// with placeholders resolved per argument at each Expand. The program (the
// first argument) is fixed: it may not contain placeholders.
type Template struct {
	args [][]piece
}

// piece is a literal (field < 0) or a placeholder (field >= 0) in an argument.
type piece struct {
	lit   string
	field int
}

const (
	fieldApp = iota
	fieldTier
	fieldReplicas
	fieldDecision
)

var placeholders = map[string]int{
	PlaceholderApp: fieldApp, PlaceholderTier: fieldTier,
	PlaceholderReplicas: fieldReplicas, PlaceholderDecision: fieldDecision,
}

// placeholderLike matches what looks like a placeholder, so a misspelt one
// ("{teir}") is an error rather than passed on literally. Braces not of this
// form (JSON such as {"spec":{…}}) stay literal.
var placeholderLike = regexp.MustCompile(`\{[A-Za-z_]+\}`)

// ParseTemplate splits s into arguments the way a POSIX shell splits words,
// without any expansion: whitespace separates arguments, '…' quotes
// literally, "…" quotes with \" and \\ as the only escapes, and a backslash
// outside quotes escapes the next character. Nothing else is special: ;, |,
// $( ), backticks, globs and redirections are ordinary characters.
func ParseTemplate(s string) (*Template, error) {
	words, err := splitWords(s)
	if err != nil {
		return nil, fmt.Errorf("command template: %w", err)
	}
	if len(words) == 0 {
		return nil, errors.New("command template is empty")
	}
	t := &Template{args: make([][]piece, len(words))}
	for i, w := range words {
		ps, err := parsePieces(w)
		if err != nil {
			// Quoted masked: the argument may be a URL with a
			// password or a token (internal/redact).
			return nil, fmt.Errorf("command template argument %d %q: %w", i, redact.Text(w), err)
		}
		if i == 0 && (len(ps) != 1 || ps[0].field >= 0) {
			return nil, fmt.Errorf("command template: the program %q may not contain placeholders", redact.Text(w))
		}
		t.args[i] = ps
	}
	return t, nil
}

// Program returns the template's first argument, the program to run.
func (t *Template) Program() string { return t.args[0][0].lit }

// Expand returns the argument vector for r, program first. It fails with
// ErrBadValue when a value the template uses is not allowed.
func (t *Template) Expand(r Request) ([]string, error) {
	var vals [4]string
	var have [4]bool
	argv := make([]string, len(t.args))
	var b strings.Builder
	for i, ps := range t.args {
		if len(ps) == 1 && ps[0].field < 0 {
			argv[i] = ps[0].lit
			continue
		}
		b.Reset()
		for _, p := range ps {
			if p.field < 0 {
				b.WriteString(p.lit)
				continue
			}
			if !have[p.field] {
				v, err := value(r, p.field)
				if err != nil {
					return nil, err
				}
				vals[p.field], have[p.field] = v, true
			}
			b.WriteString(vals[p.field])
		}
		argv[i] = b.String()
	}
	return argv, nil
}

var decisionIDRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._:-]{0,199}$`)

// value returns one validated request field as text.
func value(r Request, field int) (string, error) {
	switch field {
	case fieldApp:
		return tokenValue("app", r.App)
	case fieldTier:
		return tokenValue("tier", r.Tier)
	case fieldReplicas:
		if r.Replicas < 0 {
			return "", fmt.Errorf("%w: replicas %d", ErrBadValue, r.Replicas)
		}
		return strconv.Itoa(r.Replicas), nil
	default:
		if !decisionIDRE.MatchString(r.DecisionID) {
			return "", fmt.Errorf("%w: decision id %q", ErrBadValue, r.DecisionID)
		}
		return r.DecisionID, nil
	}
}

// tokenValue accepts an app or tier token that cannot be read as an option.
func tokenValue(what, s string) (string, error) {
	if !proto.ValidToken(s) || s[0] == '-' {
		return "", fmt.Errorf("%w: %s %q: want [a-z0-9_-]{1,64} not starting with -", ErrBadValue, what, s)
	}
	return s, nil
}

// parsePieces cuts one argument into literals and placeholders.
func parsePieces(w string) ([]piece, error) {
	var ps []piece
	lit := 0 // start of the pending literal
	for _, loc := range placeholderLike.FindAllStringIndex(w, -1) {
		name := w[loc[0]:loc[1]]
		f, ok := placeholders[name]
		if !ok {
			return nil, fmt.Errorf("unknown placeholder %s: want {app}, {tier}, {replicas} or {decision}", name)
		}
		if loc[0] > lit {
			ps = append(ps, piece{lit: w[lit:loc[0]], field: -1})
		}
		ps = append(ps, piece{field: f})
		lit = loc[1]
	}
	if lit < len(w) || len(ps) == 0 {
		ps = append(ps, piece{lit: w[lit:], field: -1})
	}
	return ps, nil
}

// splitWords splits s into words with quoting but no expansion.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' at byte %d", i)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\') {
					j++
				}
				cur.WriteByte(s[j])
			}
			if j == len(s) {
				return nil, fmt.Errorf("unterminated \" at byte %d", i)
			}
			i = j
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
