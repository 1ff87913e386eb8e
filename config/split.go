package config

import (
	"fmt"
	"strings"
)

// SplitCommand splits s into words the way a POSIX shell would, without
// running one: no variable expansion, globbing, redirection or command
// substitution, so what the user wrote is exactly what gets exec'd.
//
// Whitespace (space, tab, newline, carriage return) separates words. Single
// quotes keep everything literal. Inside double quotes a backslash escapes
// only ", \, $, ` and newline (sh(1), "Double-Quotes"), and any other
// backslash stays as written. Outside quotes a backslash escapes the next
// character; a backslash-newline is a line continuation and vanishes.
// Adjacent parts join into one word (a'b c'd is "ab cd"), and an empty
// pair of quotes alone is an empty word.
//
// An unterminated quote returns an error wrapping ErrUnterminatedQuote, a
// trailing backslash one wrapping ErrTrailingBackslash. A string with no
// words returns an empty, non-nil slice.
func SplitCommand(s string) ([]string, error) {
	sp := splitter{words: []string{}}
	for i := 0; i < len(s); i++ {
		var err error
		i, err = sp.step(s, i)
		if err != nil {
			return nil, err
		}
	}
	sp.endWord()
	return sp.words, nil
}

// splitter is SplitCommand's state: the words so far and the one being
// built. inWord distinguishes "no word yet" from "an empty word" (a pair
// of empty quotes).
type splitter struct {
	words  []string
	cur    strings.Builder
	inWord bool
}

func (sp *splitter) endWord() {
	if sp.inWord {
		sp.words = append(sp.words, sp.cur.String())
		sp.cur.Reset()
		sp.inWord = false
	}
}

// step consumes the construct starting at s[i] and returns the index of its
// last byte. Quotes and backslashes are ASCII, so working on bytes keeps
// UTF-8 text intact.
func (sp *splitter) step(s string, i int) (int, error) {
	switch c := s[i]; c {
	case ' ', '\t', '\n', '\r':
		sp.endWord()
		return i, nil
	case '\'':
		return sp.singleQuoted(s, i)
	case '"':
		return sp.doubleQuoted(s, i)
	case '\\':
		return sp.escaped(s, i)
	default:
		sp.inWord = true
		sp.cur.WriteByte(c)
		return i, nil
	}
}

func (sp *splitter) singleQuoted(s string, i int) (int, error) {
	end := strings.IndexByte(s[i+1:], '\'')
	if end < 0 {
		return 0, fmt.Errorf("%w: single quote at byte %d", ErrUnterminatedQuote, i)
	}
	sp.inWord = true
	sp.cur.WriteString(s[i+1 : i+1+end])
	return i + 1 + end, nil
}

func (sp *splitter) doubleQuoted(s string, start int) (int, error) {
	sp.inWord = true
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i, nil
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i++ // line continuation: both characters vanish
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
			i++
			sp.cur.WriteByte(s[i])
		default:
			sp.cur.WriteByte(c)
		}
	}
	return 0, fmt.Errorf("%w: double quote at byte %d", ErrUnterminatedQuote, start)
}

func (sp *splitter) escaped(s string, i int) (int, error) {
	if i+1 >= len(s) {
		return 0, ErrTrailingBackslash
	}
	if s[i+1] == '\n' {
		return i + 1, nil // line continuation, not part of any word
	}
	sp.inWord = true
	sp.cur.WriteByte(s[i+1])
	return i + 1, nil
}
