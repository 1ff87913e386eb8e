package config

import (
	"fmt"
	"strings"
)

// parseDetachKey reads the key sequence that detaches from an attached
// program: comma-separated control keys, each written in caret notation
// ("^]", "^A") or as "ctrl-x" (the form docker's --detach-keys uses), e.g.
// "ctrl-p,ctrl-q". It returns the bytes a terminal sends for them.
func parseDetachKey(s string) ([]byte, error) {
	var keys []byte
	for part := range strings.SplitSeq(s, ",") {
		b, err := parseControlKey(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		keys = append(keys, b)
	}
	return keys, nil
}

// parseControlKey reads one control key. Only letters and [ \ ] ^ _ are
// accepted: their control codes (0x01-0x1f) are what a terminal sends for
// Ctrl plus that key, and a printable detach key would eat ordinary input.
func parseControlKey(k string) (byte, error) {
	var c string
	switch lower := strings.ToLower(k); {
	case strings.HasPrefix(k, "^"):
		c = k[1:]
	case strings.HasPrefix(lower, "ctrl-"):
		c = k[len("ctrl-"):]
	default:
		return 0, fmt.Errorf("bad detach key %q: want ^X or ctrl-x", k)
	}
	if len(c) != 1 {
		return 0, fmt.Errorf("bad detach key %q: want ^X or ctrl-x", k)
	}
	b := c[0]
	if b >= 'a' && b <= 'z' {
		b -= 'a' - 'A'
	}
	if b < 'A' || b > '_' {
		return 0, fmt.Errorf("bad detach key %q: want a letter or one of [ \\ ] ^ _", k)
	}
	return b - '@', nil
}
