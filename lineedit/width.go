package lineedit

import (
	"sort"
	"unicode"
)

// runeWidth is the number of terminal columns r occupies: 0 for combining
// marks (Mn, Me) and format characters (Cf, e.g. ZWJ), 2 for East Asian
// Wide/Fullwidth characters and emoji, 1 otherwise. Control characters are
// never inserted in a line, so their width is irrelevant and reported as 0.
func runeWidth(r rune) int {
	switch {
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return 0
	case r < 0x300:
		return 1 // fast path: Latin, no marks below U+0300
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r >= 0x1160 && r <= 0x11ff:
		return 0 // Hangul medial vowels and final consonants combine
	case isWide(r):
		return 2
	}
	return 1
}

// isWide reports whether r is in wideTable.
func isWide(r rune) bool {
	i := sort.Search(len(wideTable), func(i int) bool { return wideTable[i].hi >= r })
	return i < len(wideTable) && wideTable[i].lo <= r
}

// wideTable lists, sorted, the ranges of East Asian Wide (W) and Fullwidth
// (F) characters from Unicode's EastAsianWidth.txt, including the emoji
// with default emoji presentation, which terminals draw two columns wide.
// It is hand-written and coarse in places (unassigned code points inside a
// block count as wide), which costs nothing: they never display anyway.
var wideTable = []struct{ lo, hi rune }{
	{0x1100, 0x115f}, // Hangul Jamo initial consonants
	{0x231a, 0x231b}, // watch, hourglass
	{0x2329, 0x232a}, // angle brackets
	{0x23e9, 0x23ec},
	{0x23f0, 0x23f0},
	{0x23f3, 0x23f3},
	{0x25fd, 0x25fe},
	{0x2614, 0x2615},
	{0x2648, 0x2653}, // zodiac
	{0x267f, 0x267f},
	{0x2693, 0x2693},
	{0x26a1, 0x26a1},
	{0x26aa, 0x26ab},
	{0x26bd, 0x26be},
	{0x26c4, 0x26c5},
	{0x26ce, 0x26ce},
	{0x26d4, 0x26d4},
	{0x26ea, 0x26ea},
	{0x26f2, 0x26f3},
	{0x26f5, 0x26f5},
	{0x26fa, 0x26fa},
	{0x26fd, 0x26fd},
	{0x2705, 0x2705},
	{0x270a, 0x270b},
	{0x2728, 0x2728},
	{0x274c, 0x274c},
	{0x274e, 0x274e},
	{0x2753, 0x2755},
	{0x2757, 0x2757},
	{0x2795, 0x2797},
	{0x27b0, 0x27b0},
	{0x27bf, 0x27bf},
	{0x2b1b, 0x2b1c},
	{0x2b50, 0x2b50},
	{0x2b55, 0x2b55},
	{0x2e80, 0x303e},   // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
	{0x3041, 0x33ff},   // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes, enclosed CJK, CJK compatibility
	{0x3400, 0x4dbf},   // CJK extension A
	{0x4e00, 0x9fff},   // CJK unified ideographs
	{0xa000, 0xa4cf},   // Yi
	{0xa960, 0xa97f},   // Hangul Jamo extended-A
	{0xac00, 0xd7a3},   // Hangul syllables
	{0xf900, 0xfaff},   // CJK compatibility ideographs
	{0xfe10, 0xfe19},   // vertical forms
	{0xfe30, 0xfe6f},   // CJK compatibility forms, small form variants
	{0xff00, 0xff60},   // fullwidth forms
	{0xffe0, 0xffe6},   // fullwidth signs
	{0x16fe0, 0x16fe4}, // ideographic symbols
	{0x17000, 0x18cff}, // Tangut, Khitan
	{0x1b000, 0x1b2ff}, // Kana supplement and extensions, Nushu
	{0x1f004, 0x1f004}, // mahjong red dragon
	{0x1f0cf, 0x1f0cf}, // joker
	{0x1f18e, 0x1f18e},
	{0x1f191, 0x1f19a},
	{0x1f200, 0x1f2ff}, // enclosed ideographic supplement
	{0x1f300, 0x1f320}, // misc symbols and pictographs (emoji presentation parts)
	{0x1f32d, 0x1f335},
	{0x1f337, 0x1f37c},
	{0x1f37e, 0x1f393},
	{0x1f3a0, 0x1f3ca},
	{0x1f3cf, 0x1f3d3},
	{0x1f3e0, 0x1f3f0},
	{0x1f3f4, 0x1f3f4},
	{0x1f3f8, 0x1f43e},
	{0x1f440, 0x1f440},
	{0x1f442, 0x1f4fc},
	{0x1f4ff, 0x1f53d},
	{0x1f54b, 0x1f54e},
	{0x1f550, 0x1f567},
	{0x1f57a, 0x1f57a},
	{0x1f595, 0x1f596},
	{0x1f5a4, 0x1f5a4},
	{0x1f5fb, 0x1f64f}, // ... and emoticons
	{0x1f680, 0x1f6c5}, // transport and map symbols
	{0x1f6cc, 0x1f6cc},
	{0x1f6d0, 0x1f6d2},
	{0x1f6d5, 0x1f6d7},
	{0x1f6dc, 0x1f6df},
	{0x1f6eb, 0x1f6ec},
	{0x1f6f4, 0x1f6fc},
	{0x1f7e0, 0x1f7eb}, // geometric shapes extended
	{0x1f7f0, 0x1f7f0},
	{0x1f90c, 0x1f93a}, // supplemental symbols and pictographs
	{0x1f93c, 0x1f945},
	{0x1f947, 0x1f9ff},
	{0x1fa70, 0x1faff}, // symbols and pictographs extended-A
	{0x20000, 0x2fffd}, // CJK extensions B-F, compatibility supplement
	{0x30000, 0x3fffd}, // CJK extensions G-H
}
