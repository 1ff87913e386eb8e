package supervisord

import (
	"fmt"
	"strings"
)

// lexer is Python's shlex.shlex in posix mode, the tokenizer supervisor
// uses for `environment` (dict_of_key_value_pairs) and, through
// shlex.split, for `command`. Its quirks are kept on purpose, since they
// decide what a job receives: in the environment form, '#' starts a
// comment to the end of the line, and a character that is neither a word
// character, a quote, a backslash nor whitespace (",", "=", "$", ...) is a
// token of its own.
type lexer struct {
	src        []rune
	pos        int
	wordchars  string
	commenters string
	split      bool // whitespace_split: only whitespace ends a word
	escaped    rune // the state an escape returns to
}

// posixWordchars is shlex's wordchars in posix mode.
const posixWordchars = "abcdfeghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_" +
	"ßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ"

const shlexSpace = " \t\r\n"

// tokens returns every token, or an error wrapping ErrUnclosed or
// ErrEscape as shlex raises "No closing quotation" and "No escaped
// character".
func (lx *lexer) tokens() ([]string, error) {
	var out []string
	for {
		tok, ok, err := lx.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, tok)
	}
}

// next is shlex.read_token: ok is false at the end of input.
func (lx *lexer) next() (string, bool, error) {
	var tok strings.Builder
	quoted := false
	state := ' '
	for {
		if lx.pos >= len(lx.src) {
			switch {
			case state == '\'' || state == '"':
				return "", false, fmt.Errorf("%w", ErrUnclosed)
			case state == '\\':
				return "", false, fmt.Errorf("%w", ErrEscape)
			}
			return tok.String(), tok.Len() > 0 || quoted, nil
		}
		c := lx.src[lx.pos]
		lx.pos++
		switch state {
		case ' ':
			switch {
			case strings.ContainsRune(shlexSpace, c):
			case strings.ContainsRune(lx.commenters, c):
				lx.skipLine()
			case c == '\\':
				state, lx.escaped = '\\', 'a'
			case strings.ContainsRune(lx.wordchars, c):
				tok.WriteRune(c)
				state = 'a'
			case c == '\'' || c == '"':
				state = c
			case lx.split:
				tok.WriteRune(c)
				state = 'a'
			default:
				return string(c), true, nil
			}
		case '\'', '"':
			quoted = true
			switch {
			case c == state:
				state = 'a'
			case c == '\\' && state == '"':
				lx.escaped, state = state, '\\'
			default:
				tok.WriteRune(c)
			}
		case '\\':
			// Inside double quotes only the quote and the backslash
			// itself may be escaped; elsewhere the backslash stays.
			if lx.escaped == '"' && c != '"' && c != '\\' {
				tok.WriteRune('\\')
			}
			tok.WriteRune(c)
			state = lx.escaped
		case 'a':
			switch {
			case strings.ContainsRune(shlexSpace, c):
				return tok.String(), true, nil
			case strings.ContainsRune(lx.commenters, c):
				lx.skipLine()
				if tok.Len() > 0 || quoted {
					return tok.String(), true, nil
				}
				state = ' '
			case c == '\'' || c == '"':
				state = c
			case c == '\\':
				state, lx.escaped = '\\', 'a'
			case strings.ContainsRune(lx.wordchars, c) || lx.split:
				tok.WriteRune(c)
			default:
				lx.pos-- // pushed back: it is the next token
				return tok.String(), true, nil
			}
		}
	}
}

func (lx *lexer) skipLine() {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		lx.pos++
		if c == '\n' {
			return
		}
	}
}

// SplitCommand splits a command as supervisor does before exec
// (shlex.split: posix rules, no comments, no expansion).
func SplitCommand(s string) ([]string, error) {
	lx := &lexer{src: []rune(s), wordchars: posixWordchars, split: true}
	return lx.tokens()
}

// EnvVar is one variable of an `environment` value.
type EnvVar struct {
	Name, Value string
}

// ParseEnvironment reads supervisor's `environment` value,
// `KEY="val,ue",K2=v`, exactly as dict_of_key_value_pairs does: shlex
// tokens taken three at a time (name, "=", value), the fourth (normally
// ",") skipped whatever it is. A name given twice keeps its first place
// and its last value.
func ParseEnvironment(s string) ([]EnvVar, error) {
	lx := &lexer{src: []rune(s), wordchars: posixWordchars + "/.+-():", commenters: "#"}
	toks, err := lx.tokens()
	if err != nil {
		return nil, err
	}
	var out []EnvVar
	for i := 0; i < len(toks); i += 4 {
		if i+3 > len(toks) || toks[i+1] != "=" {
			return nil, fmt.Errorf("%w in %q", ErrPairs, s)
		}
		out = setEnv(out, toks[i], toks[i+2])
	}
	return out, nil
}

func setEnv(env []EnvVar, name, value string) []EnvVar {
	for i := range env {
		if env[i].Name == name {
			env[i].Value = value
			return env
		}
	}
	return append(env, EnvVar{name, value})
}
