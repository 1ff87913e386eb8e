package lineedit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func ctrl(r rune) Key    { return Key{Kind: KeyRune, Rune: r, Mod: ModCtrl} }
func alt(r rune) Key     { return Key{Kind: KeyRune, Rune: r, Mod: ModAlt} }
func kind(k KeyKind) Key { return Key{Kind: k} }
func char(r rune) Key    { return Key{Kind: KeyRune, Rune: r} }

var decodeTests = []struct {
	in   string
	want Key
}{
	{"a", char('a')},
	{" ", char(' ')},
	{"é", char('é')},
	{"世", char('世')},
	{"😀", char('😀')},
	{"\u0301", char('\u0301')},
	{"\r", kind(KeyEnter)},
	{"\n", kind(KeyEnter)},
	{"\t", kind(KeyTab)},
	{"\x7f", kind(KeyBackspace)},
	{"\x08", kind(KeyBackspace)},
	{"\x00", ctrl('@')},
	{"\x01", ctrl('a')},
	{"\x02", ctrl('b')},
	{"\x03", ctrl('c')},
	{"\x04", ctrl('d')},
	{"\x05", ctrl('e')},
	{"\x06", ctrl('f')},
	{"\x07", ctrl('g')},
	{"\x0b", ctrl('k')},
	{"\x0c", ctrl('l')},
	{"\x0e", ctrl('n')},
	{"\x10", ctrl('p')},
	{"\x11", ctrl('q')},
	{"\x12", ctrl('r')},
	{"\x13", ctrl('s')},
	{"\x14", ctrl('t')},
	{"\x15", ctrl('u')},
	{"\x17", ctrl('w')},
	{"\x19", ctrl('y')},
	{"\x1a", ctrl('z')},
	{"\x1c", ctrl('\\')},
	{"\x1f", ctrl('_')},
	{"\x1b[A", kind(KeyUp)},
	{"\x1b[B", kind(KeyDown)},
	{"\x1b[C", kind(KeyRight)},
	{"\x1b[D", kind(KeyLeft)},
	{"\x1bOA", kind(KeyUp)},
	{"\x1bOD", kind(KeyLeft)},
	{"\x1b[H", kind(KeyHome)},
	{"\x1b[F", kind(KeyEnd)},
	{"\x1b[1~", kind(KeyHome)},
	{"\x1b[4~", kind(KeyEnd)},
	{"\x1b[7~", kind(KeyHome)},
	{"\x1b[8~", kind(KeyEnd)},
	{"\x1bOH", kind(KeyHome)},
	{"\x1bOF", kind(KeyEnd)},
	{"\x1b[3~", kind(KeyDelete)},
	{"\x1b[2~", kind(KeyInsert)},
	{"\x1b[5~", kind(KeyPageUp)},
	{"\x1b[6~", kind(KeyPageDown)},
	{"\x1b[Z", kind(KeyBackTab)},
	{"\x1b[1;5D", Key{Kind: KeyLeft, Mod: ModCtrl}},
	{"\x1b[1;5C", Key{Kind: KeyRight, Mod: ModCtrl}},
	{"\x1b[1;3D", Key{Kind: KeyLeft, Mod: ModAlt}},
	{"\x1b[1;2A", Key{Kind: KeyUp, Mod: ModShift}},
	{"\x1b[1;8H", Key{Kind: KeyHome, Mod: ModShift | ModAlt | ModCtrl}},
	{"\x1b[3;5~", Key{Kind: KeyDelete, Mod: ModCtrl}},
	{"\x1bb", alt('b')},
	{"\x1bf", alt('f')},
	{"\x1bd", alt('d')},
	{"\x1bB", alt('B')},
	{"\x1bé", alt('é')},
	{"\x1b\x7f", Key{Kind: KeyBackspace, Mod: ModAlt}},
	{"\x1b\x01", Key{Kind: KeyRune, Rune: 'a', Mod: ModCtrl | ModAlt}},
	{"\x1b[200~", kind(KeyUnknown)},
	{"\x1b[?1h", kind(KeyUnknown)},
	{"\x1b[1;2;3A", kind(KeyUnknown)},
	{"\x1b[99~", kind(KeyUnknown)},
	{"\x1b[~", kind(KeyUnknown)},
	{"\x1b[x", kind(KeyUnknown)},
	{"\x1bOP", kind(KeyUnknown)}, // F1
	{"\xff", kind(KeyUnknown)},
	{"\xc2\x85", kind(KeyUnknown)}, // C1 NEL
}

func TestDecodeKey(t *testing.T) {
	for _, tt := range decodeTests {
		k, n, ok := DecodeKey([]byte(tt.in + "x"))
		if !ok || k != tt.want || n != len(tt.in) {
			t.Errorf("DecodeKey(%q+x) = %v, %d, %v; want %v, %d, true", tt.in, k, n, ok, tt.want, len(tt.in))
		}
		// A complete key decodes without look-ahead.
		k, n, ok = DecodeKey([]byte(tt.in))
		if !ok || k != tt.want || n != len(tt.in) {
			t.Errorf("DecodeKey(%q) = %v, %d, %v; want %v, %d, true", tt.in, k, n, ok, tt.want, len(tt.in))
		}
		// Every proper prefix needs more bytes: input split anywhere
		// decodes the same.
		for i := range len(tt.in) {
			if k, n, ok := DecodeKey([]byte(tt.in[:i])); ok {
				t.Errorf("DecodeKey(%q) = %v, %d, true; want need more", tt.in[:i], k, n)
			}
		}
	}
}

func TestDecodeKeyMalformed(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Key
		n    int
	}{
		{"\x1b[\x01", kind(KeyUnknown), 2},     // control inside CSI
		{"\x1b[12\x1b[A", kind(KeyUnknown), 4}, // new ESC inside CSI
		{"\x1bO\x01", alt('O'), 2},             // not SS3
		{"\x1b\xff", kind(KeyUnknown), 2},
		{"\x1b\x1b[A", kind(KeyEscape), 1}, // Esc, then a sequence      // Alt + invalid UTF-8
		{"\x1b[" + string(bytes.Repeat([]byte("1"), 40)), kind(KeyUnknown), maxSeq},
	} {
		k, n, ok := DecodeKey([]byte(tt.in))
		if !ok || k != tt.want || n != tt.n {
			t.Errorf("DecodeKey(%q) = %v, %d, %v; want %v, %d, true", tt.in, k, n, ok, tt.want, tt.n)
		}
	}
	for _, in := range []string{"", "\x1b", "\x1b[", "\x1b[1;5", "\x1bO", "\xe4\xb8", "\x1b\xe4"} {
		if k, n, ok := DecodeKey([]byte(in)); ok || n != 0 {
			t.Errorf("DecodeKey(%q) = %v, %d, %v; want need more", in, k, n, ok)
		}
	}
}

// FuzzDecodeKey checks DecodeKey never panics, consumes 0 < n <= len(b)
// bytes when ok, always makes progress on maxSeq bytes, and that appending
// bytes never changes an already complete decode (so any split of the
// input decodes the same).
func FuzzDecodeKey(f *testing.F) {
	for _, tt := range decodeTests {
		f.Add([]byte(tt.in), []byte("x"))
	}
	f.Fuzz(func(t *testing.T, b, more []byte) {
		k, n, ok := DecodeKey(b)
		if !ok {
			if n != 0 {
				t.Fatalf("DecodeKey(%q) = _, %d, false", b, n)
			}
			if len(b) >= maxSeq {
				t.Fatalf("DecodeKey(%q) needs more after %d bytes", b, len(b))
			}
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("DecodeKey(%q) consumed %d", b, n)
		}
		k2, n2, ok2 := DecodeKey(append(b[:len(b):len(b)], more...))
		if !ok2 || k2 != k || n2 != n {
			t.Fatalf("DecodeKey(%q) = %v, %d; with %q appended: %v, %d, %v", b, k, n, more, k2, n2, ok2)
		}
		_ = k.String()
	})
}

// TestFuzzCorpusPresent keeps the checked-in seed corpus from silently
// disappearing: plain go test runs it.
func TestFuzzCorpusPresent(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecodeKey", "*"))
	if len(files) < 5 {
		t.Fatalf("seed corpus has %d files", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.HasPrefix(b, []byte("go test fuzz v1\n")) {
			t.Errorf("%s: not a fuzz corpus file (%v)", f, err)
		}
	}
}

func TestKeyString(t *testing.T) {
	for k, want := range map[Key]string{
		ctrl('a'):                     "Ctrl-'a'",
		{Kind: KeyLeft, Mod: ModCtrl}: "Ctrl-Left",
		alt('b'):                      "Alt-'b'",
		kind(KeyKind(200)):            "KeyKind(200)",
		{Kind: KeyUp, Mod: ModShift}:  "Shift-Up",
	} {
		if got := k.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", k, got, want)
		}
	}
}
