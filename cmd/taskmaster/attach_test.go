package main

import (
	"testing"
)

func TestDetacher(t *testing.T) {
	cases := []struct {
		key    string
		input  []string // successive reads
		fwd    string
		detach bool
		held   bool // waiting to know (pending or partial)
	}{
		{"\x1d", []string{"abc"}, "abc", false, false},
		{"\x1d", []string{"ab\x1d"}, "ab", false, true},
		{"\x1d", []string{"ab\x1d", "x"}, "ab", true, false},
		{"\x1d", []string{"\x1d\x1d", "x"}, "\x1dx", false, false},
		{"\x1d", []string{"\x1d", "\x1dhi"}, "\x1dhi", false, false},
		{"\x10\x11", []string{"a\x10"}, "a", false, true},
		{"\x10\x11", []string{"a\x10", "b"}, "a\x10b", false, false},
		{"\x10\x11", []string{"a\x10", "\x11"}, "a", false, true},
		{"\x10\x11", []string{"\x10\x11", "z"}, "", true, false},
		{"\x10\x11", []string{"\x10\x10\x11"}, "\x10", false, true},
		{"\x10\x11", []string{"\x10\x11\x10\x11"}, "\x10\x11", false, false},
	}
	for _, c := range cases {
		d := detacher{key: []byte(c.key)}
		var fwd []byte
		detach := false
		for _, in := range c.input {
			f, det := d.feed([]byte(in))
			fwd = append(fwd, f...)
			if det {
				detach = true
				break
			}
		}
		held := d.pending || d.matched > 0
		if string(fwd) != c.fwd || detach != c.detach || (!detach && held != c.held) {
			t.Errorf("key %q input %q: fwd %q detach %v held %v; want %q %v %v", c.key, c.input, fwd, detach, held, c.fwd, c.detach, c.held)
		}
	}

}
