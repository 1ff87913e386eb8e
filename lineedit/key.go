package lineedit

import (
	"fmt"
	"unicode/utf8"
)

// KeyKind is what a decoded key is. Printable characters are KeyRune;
// control characters are KeyRune with ModCtrl (Ctrl-A is
// Key{Kind: KeyRune, Rune: 'a', Mod: ModCtrl}), except for the few that
// terminals send for dedicated keys (Enter, Tab, Backspace, Esc).
type KeyKind uint8

// Key kinds.
const (
	KeyUnknown   KeyKind = iota // a sequence DecodeKey consumed but does not know
	KeyRune                     // Rune holds the character
	KeyEnter                    // CR or LF
	KeyTab                      // HT (0x09)
	KeyBackspace                // DEL (0x7f) or BS (0x08, Ctrl-H)
	KeyEscape                   // a lone ESC
	KeyDelete                   // ESC[3~
	KeyInsert                   // ESC[2~
	KeyUp
	KeyDown
	KeyLeft
	KeyRight
	KeyHome
	KeyEnd
	KeyPageUp
	KeyPageDown
	KeyBackTab // Shift-Tab, ESC[Z
)

var kindNames = [...]string{
	KeyUnknown: "Unknown", KeyRune: "Rune", KeyEnter: "Enter", KeyTab: "Tab",
	KeyBackspace: "Backspace", KeyEscape: "Escape", KeyDelete: "Delete",
	KeyInsert: "Insert", KeyUp: "Up", KeyDown: "Down", KeyLeft: "Left",
	KeyRight: "Right", KeyHome: "Home", KeyEnd: "End", KeyPageUp: "PageUp",
	KeyPageDown: "PageDown", KeyBackTab: "BackTab",
}

func (k KeyKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("KeyKind(%d)", uint8(k))
}

// Mod is a set of modifier keys held with a key.
type Mod uint8

// Modifiers, as xterm encodes them in CSI parameters (value-1 is the bit set).
const (
	ModShift Mod = 1 << iota
	ModAlt       // also Meta: ESC followed by a key
	ModCtrl
)

// Key is one decoded key press. It is comparable.
type Key struct {
	Kind KeyKind
	Rune rune // for KeyRune: the character; with ModCtrl, the lower-case letter or one of @[\]^_
	Mod  Mod
}

func (k Key) String() string {
	s := ""
	if k.Mod&ModCtrl != 0 {
		s += "Ctrl-"
	}
	if k.Mod&ModAlt != 0 {
		s += "Alt-"
	}
	if k.Mod&ModShift != 0 {
		s += "Shift-"
	}
	if k.Kind == KeyRune {
		return s + fmt.Sprintf("%q", k.Rune)
	}
	return s + k.Kind.String()
}

const (
	esc = 0x1b
	// maxSeq bounds an escape sequence: a CSI with no final byte within
	// maxSeq bytes is consumed as KeyUnknown, so DecodeKey always makes
	// progress on a buffer of maxSeq bytes or more.
	maxSeq = 32
)

// DecodeKey decodes the first key press in b. It is a pure function.
//
// ok=false means b is a proper prefix of a key sequence (or empty) and more
// bytes are needed; n is then 0. Otherwise n > 0 is the number of bytes
// consumed. Unknown or malformed sequences are consumed whole and reported
// as KeyUnknown. Once a prefix of b decodes, appending bytes to b never
// changes the result, so input may arrive split at any point.
//
// A lone ESC is ambiguous (Esc key, or the start of a sequence): DecodeKey
// reports it as needing more bytes, and the caller decides on a timeout.
func DecodeKey(b []byte) (k Key, n int, ok bool) {
	if len(b) == 0 {
		return Key{}, 0, false
	}
	c := b[0]
	switch {
	case c == esc:
		return decodeEscape(b)
	case c < 0x20 || c == 0x7f:
		return decodeControl(c), 1, true
	case c < utf8.RuneSelf:
		return Key{Kind: KeyRune, Rune: rune(c)}, 1, true
	}
	if !utf8.FullRune(b) {
		return Key{}, 0, false
	}
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError || (r >= 0x80 && r < 0xa0) { // invalid, or a C1 control
		return Key{Kind: KeyUnknown}, size, true
	}
	return Key{Kind: KeyRune, Rune: r}, size, true
}

// decodeControl maps a C0 control byte (not ESC) or DEL to a key.
func decodeControl(c byte) Key {
	switch c {
	case '\r', '\n':
		return Key{Kind: KeyEnter}
	case '\t':
		return Key{Kind: KeyTab}
	case 0x7f, 0x08:
		return Key{Kind: KeyBackspace}
	case 0:
		return Key{Kind: KeyRune, Rune: '@', Mod: ModCtrl}
	case 0x1c, 0x1d, 0x1e, 0x1f:
		return Key{Kind: KeyRune, Rune: rune(c) + '@', Mod: ModCtrl} // \ ] ^ _
	}
	return Key{Kind: KeyRune, Rune: rune(c) + 'a' - 1, Mod: ModCtrl}
}

// decodeEscape decodes b, which starts with ESC.
func decodeEscape(b []byte) (Key, int, bool) {
	if len(b) < 2 {
		return Key{}, 0, false
	}
	switch b[1] {
	case '[':
		return decodeCSI(b)
	case 'O':
		return decodeSS3(b)
	case esc:
		// Esc pressed twice, or Esc before a sequence: the first is a
		// plain Esc and the second starts over.
		return Key{Kind: KeyEscape}, 1, true
	}
	// ESC + key is how terminals send Alt (Meta) + key.
	k, n, ok := DecodeKey(b[1:])
	if !ok {
		return Key{}, 0, false
	}
	if k.Kind == KeyUnknown {
		return k, n + 1, true
	}
	k.Mod |= ModAlt
	return k, n + 1, true
}

// decodeSS3 decodes ESC O x, sent for Home/End/arrows in application
// cursor-key mode.
func decodeSS3(b []byte) (Key, int, bool) {
	if len(b) < 3 {
		return Key{}, 0, false
	}
	c := b[2]
	if c < 0x40 || c > 0x7e {
		// Not an SS3 sequence: Alt-O, and c starts the next key.
		return Key{Kind: KeyRune, Rune: 'O', Mod: ModAlt}, 2, true
	}
	if kind, ok := finalKinds[c]; ok {
		return Key{Kind: kind}, 3, true
	}
	return Key{Kind: KeyUnknown}, 3, true
}

// finalKinds maps the final byte of CSI and SS3 sequences that have no
// numeric key code.
var finalKinds = map[byte]KeyKind{
	'A': KeyUp, 'B': KeyDown, 'C': KeyRight, 'D': KeyLeft,
	'H': KeyHome, 'F': KeyEnd, 'Z': KeyBackTab,
}

// tildeKinds maps the first parameter of CSI n ~ sequences (vt220 and
// rxvt/linux-console Home/End variants).
var tildeKinds = map[int]KeyKind{
	1: KeyHome, 7: KeyHome, 4: KeyEnd, 8: KeyEnd,
	2: KeyInsert, 3: KeyDelete, 5: KeyPageUp, 6: KeyPageDown,
}

// decodeCSI decodes ESC [ params intermediates final (ECMA-48 5.4).
func decodeCSI(b []byte) (Key, int, bool) {
	i := 2
	for ; i < len(b) && i < maxSeq; i++ {
		c := b[i]
		switch {
		case c >= 0x20 && c <= 0x3f: // parameter and intermediate bytes
			continue
		case c >= 0x40 && c <= 0x7e:
			return csiKey(b[2:i], c), i + 1, true
		default: // malformed: stop before the byte that cannot belong
			return Key{Kind: KeyUnknown}, i, true
		}
	}
	if i >= maxSeq {
		return Key{Kind: KeyUnknown}, i, true
	}
	return Key{}, 0, false
}

// csiKey interprets a complete CSI sequence with the given parameter bytes
// and final byte.
func csiKey(params []byte, final byte) Key {
	p, ok := parseParams(params)
	if !ok {
		return Key{Kind: KeyUnknown}
	}
	var kind KeyKind
	var modParam int
	switch final {
	case '~':
		if len(p) == 0 {
			return Key{Kind: KeyUnknown}
		}
		if kind, ok = tildeKinds[p[0]]; !ok {
			return Key{Kind: KeyUnknown}
		}
		if len(p) > 1 {
			modParam = p[1]
		}
	default:
		if kind, ok = finalKinds[final]; !ok {
			return Key{Kind: KeyUnknown}
		}
		if len(p) > 1 {
			modParam = p[1]
		}
	}
	if len(p) > 2 {
		return Key{Kind: KeyUnknown}
	}
	return Key{Kind: kind, Mod: xtermMod(modParam)}
}

// xtermMod decodes xterm's modifier parameter: 1 + (shift|alt<<1|ctrl<<2|meta<<3).
func xtermMod(m int) Mod {
	if m < 2 {
		return 0
	}
	m--
	var mod Mod
	if m&1 != 0 {
		mod |= ModShift
	}
	if m&(2|8) != 0 {
		mod |= ModAlt
	}
	if m&4 != 0 {
		mod |= ModCtrl
	}
	return mod
}

// parseParams parses "n;m" decimal parameters; empty means 0. It rejects
// private markers and intermediates, which no key we know uses.
func parseParams(b []byte) ([]int, bool) {
	if len(b) == 0 {
		return nil, true
	}
	p := []int{0}
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if v := &p[len(p)-1]; *v < 10000 {
				*v = *v*10 + int(c-'0')
			}
		case c == ';':
			p = append(p, 0)
		default:
			return nil, false
		}
	}
	return p, true
}
