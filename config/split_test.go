package config

import (
	"errors"
	"slices"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"   \t\n", []string{}},
		{"ls", []string{"ls"}},
		{"  ls   -l  ", []string{"ls", "-l"}},
		{"a\tb\nc\rd", []string{"a", "b", "c", "d"}},
		{`'a b'`, []string{"a b"}},
		{`'a \n $x "q"'`, []string{`a \n $x "q"`}},
		{`"a b"`, []string{"a b"}},
		{"\"\\\" \\\\ \\$ \\`\"", []string{"\" \\ $ `"}}, // "\" \\ \$ \`"
		{`"\n \a"`, []string{`\n \a`}},
		{"\"a\\\nb\"", []string{"ab"}},
		{`a\ b`, []string{"a b"}},
		{`\'`, []string{"'"}},
		{`\\`, []string{`\`}},
		{"a\\\nb", []string{"ab"}},
		{"a \\\n b", []string{"a", "b"}},
		{`a'b c'd`, []string{"ab cd"}},
		{`"a"'b'c`, []string{"abc"}},
		{`''`, []string{""}},
		{`""`, []string{""}},
		{`a '' b`, []string{"a", "", "b"}},
		{`$HOME *.go ~`, []string{"$HOME", "*.go", "~"}},
		{`héllo 'wörld'`, []string{"héllo", "wörld"}},
	}
	for _, tt := range tests {
		got, err := SplitCommand(tt.in)
		if err != nil || !slices.Equal(got, tt.want) || got == nil {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSplitCommandErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{`'abc`, ErrUnterminatedQuote},
		{`"abc`, ErrUnterminatedQuote},
		{`"abc\"`, ErrUnterminatedQuote},
		{`a 'b' "c`, ErrUnterminatedQuote},
		{`abc\`, ErrTrailingBackslash},
		{`\`, ErrTrailingBackslash},
	}
	for _, tt := range tests {
		got, err := SplitCommand(tt.in)
		if !errors.Is(err, tt.want) || got != nil {
			t.Errorf("SplitCommand(%q) = %q, %v; want error %v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzSplitCommand checks SplitCommand never panics and that its words,
// quoted back in single quotes, split to the same words.
func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"", "a b", `a'b c'd`, `"x\"y"`, `\ `, "a\\\nb", `''`, `"$HOME" \$`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := SplitCommand(s)
		if err != nil {
			if !errors.Is(err, ErrUnterminatedQuote) && !errors.Is(err, ErrTrailingBackslash) {
				t.Fatalf("SplitCommand(%q): unexpected error %v", s, err)
			}
			return
		}
		again, err := SplitCommand(quoteWords(words))
		if err != nil || !slices.Equal(again, words) {
			t.Fatalf("SplitCommand(%q) = %q; requoted gives %q, %v", s, words, again, err)
		}
	})
}

// quoteWords quotes each word in single quotes, writing a quote as '\”.
func quoteWords(words []string) string {
	var out []byte
	for i, w := range words {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, '\'')
		for j := 0; j < len(w); j++ {
			if w[j] == '\'' {
				out = append(out, `'\''`...)
			} else {
				out = append(out, w[j])
			}
		}
		out = append(out, '\'')
	}
	return string(out)
}
