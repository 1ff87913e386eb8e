package config

import "strings"

// unknownKey records an unknown key, suggesting the closest known one.
func (d *decoder) unknownKey(e entry, known []string) {
	path := e.val.path
	if s := suggest(e.key, known); s != "" {
		d.errorf(e.keyNode, path, "unknown key; did you mean %q?", s)
		return
	}
	d.errorf(e.keyNode, path, "unknown key; expected one of %s", strings.Join(known, ", "))
}

// maxSuggestLen is longer than any known key plus the distance allowed.
const maxSuggestLen = 64

// suggest returns the known key closest to key: within an edit distance of
// 2 (ignoring case), or one that key is the start of (3 characters at
// least, so "s" does not suggest "stdout"), which ranks as distance 1
// since a truncated key is the likelier mistake. "" when nothing is close.
func suggest(key string, known []string) string {
	if len(key) > maxSuggestLen {
		return "" // nothing is close, and the distance would cost len(key) times the known keys
	}
	lower := strings.ToLower(key)
	best, bestDist := "", 3
	for _, k := range known {
		dist := levenshtein(lower, k)
		if dist > 1 && len(lower) >= 3 && strings.HasPrefix(k, lower) {
			dist = 1
		}
		if dist < bestDist {
			best, bestDist = k, dist
		}
	}
	return best
}

// levenshtein is the edit distance between a and b, in bytes.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// keysOf lists the key names of a field table, in table order.
func keysOf[T any](fields []field[T]) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

// field is one known key of a section and how to store its value into T.
type field[T any] struct {
	name string
	set  func(d *decoder, t T, v value)
}

// decodeFields applies each entry to t through the table, and returns the
// entries by key so callers can check combinations and required keys.
func decodeFields[T any](d *decoder, t T, entries []entry, fields []field[T]) map[string]entry {
	byKey := make(map[string]entry, len(entries))
	for _, e := range entries {
		f := lookupField(fields, e.key)
		if f == nil {
			d.unknownKey(e, keysOf(fields))
			continue
		}
		byKey[e.key] = e
		f.set(d, t, e.val)
	}
	return byKey
}

func lookupField[T any](fields []field[T], name string) *field[T] {
	for i := range fields {
		if fields[i].name == name {
			return &fields[i]
		}
	}
	return nil
}
