package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes ParseSize accepts, upper-cased. As in
// supervisor, KB, MB and GB mean powers of 1024, the same as KiB, MiB, GiB:
// log rotation sizes are never meant in powers of 1000.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10,
	"M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20,
	"G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30,
}

// ParseSize reads a byte count: a plain number ("1048576") or a number with
// a unit ("50MB", "50mb", "1GiB", "10KB", "1 MB", "1.5MB"). Fractions are
// truncated to whole bytes. A negative, malformed or overflowing size
// returns an error wrapping ErrBadSize.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("%w %q: must not be negative", ErrBadSize, s)
	}
	cut := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if cut < 0 {
		cut = len(t)
	}
	num, unit := t[:cut], strings.ToUpper(strings.TrimSpace(t[cut:]))
	mult, ok := sizeUnits[unit]
	if !ok || !validNumber(num) {
		return 0, fmt.Errorf("%w %q: want a number of bytes, optionally with KB, MB or GB", ErrBadSize, s)
	}
	return scaleSize(num, mult, s)
}

// validNumber reports whether num is digits with at most one inner '.'.
func validNumber(num string) bool {
	whole, frac, hasDot := strings.Cut(num, ".")
	if whole == "" || (hasDot && frac == "") {
		return false
	}
	return strings.Trim(whole+frac, "0123456789") == ""
}

func scaleSize(num string, mult int64, orig string) (int64, error) {
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/mult {
			return 0, fmt.Errorf("%w %q: too large", ErrBadSize, orig)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	f *= float64(mult)
	// 2^63 is exactly representable; anything at or above it overflows int64.
	if err != nil || f >= math.Exp2(63) {
		return 0, fmt.Errorf("%w %q: too large", ErrBadSize, orig)
	}
	return int64(f), nil
}
