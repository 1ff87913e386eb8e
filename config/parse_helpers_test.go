package config

import (
	"errors"
	"slices"
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal
	}{
		{"TERM", syscall.SIGTERM}, {"SIGTERM", syscall.SIGTERM}, {"term", syscall.SIGTERM},
		{"sigterm", syscall.SIGTERM}, {"SigTerm", syscall.SIGTERM}, {"15", syscall.SIGTERM},
		{"1", syscall.SIGHUP}, {"KILL", syscall.SIGKILL}, {"USR2", syscall.SIGUSR2},
		{"STKFLT", syscall.Signal(16)}, {"PWR", syscall.Signal(30)}, {"SYS", syscall.Signal(31)},
		{"WINCH", syscall.SIGWINCH}, {"IO", syscall.SIGIO}, {"31", syscall.Signal(31)},
	}
	for _, tt := range tests {
		got, err := ParseSignal(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "SIG", "FOO", "SIGFOO", "0", "32", "-1", "99", " TERM", "SIGSIGTERM", "15.0"} {
		if sig, err := ParseSignal(bad); !errors.Is(err, ErrUnknownSignal) {
			t.Errorf("ParseSignal(%q) = %d, %v; want ErrUnknownSignal", bad, sig, err)
		}
	}
}

func TestSignalNames(t *testing.T) {
	names := SignalNames()
	if len(names) != 31 || !slices.IsSorted(names) {
		t.Fatalf("SignalNames() = %v; want 31 sorted names", names)
	}
	for _, name := range names {
		sig, err := ParseSignal("SIG" + name)
		if err != nil || SignalName(sig) != name {
			t.Errorf("%s: ParseSignal gives %d, %v; SignalName gives %q", name, sig, err, SignalName(sig))
		}
	}
	if got := SignalName(syscall.SIGTERM); got != "TERM" {
		t.Errorf("SignalName(SIGTERM) = %q", got)
	}
	if got := SignalName(syscall.Signal(64)); got != "" {
		t.Errorf("SignalName(64) = %q; want \"\"", got)
	}
	names[0] = "CHANGED"
	if SignalNames()[0] == "CHANGED" {
		t.Error("SignalNames shares its slice between calls")
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"1048576", 1048576}, {"50MB", 50 << 20}, {"50mb", 50 << 20},
		{"1GiB", 1 << 30}, {"10KB", 10 << 10}, {"1 MB", 1 << 20}, {" 2 kib ", 2048},
		{"7B", 7}, {"3K", 3072}, {"2G", 2 << 30}, {"1.5MB", 3 << 19}, {"0.5KB", 512},
		{"8589934591GB", 8589934591 << 30},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	bad := []string{"", "-1", "-1MB", "MB", "1TB", "1 M B", "1.MB", ".5MB", "1..5", "abc", "1e3",
		"8589934592GB", "99999999999999999999", "1.2.3KB", "0x10"}
	for _, in := range bad {
		if got, err := ParseSize(in); !errors.Is(err, ErrBadSize) {
			t.Errorf("ParseSize(%q) = %d, %v; want ErrBadSize", in, got, err)
		}
	}
}

func TestProcessNames(t *testing.T) {
	tests := []struct {
		n     int
		first string
		last  string
	}{
		{1, "web", "web"},
		{2, "web:web_00", "web:web_01"},
		{10, "web:web_00", "web:web_09"},
		{11, "web:web_00", "web:web_10"},
		{100, "web:web_00", "web:web_99"},
		{101, "web:web_000", "web:web_100"},
		{1001, "web:web_0000", "web:web_1000"},
	}
	for _, tt := range tests {
		names := (&Program{Name: "web", NumProcs: tt.n}).ProcessNames()
		if len(names) != tt.n || names[0] != tt.first || names[len(names)-1] != tt.last {
			t.Errorf("numprocs %d: got %d names %q … %q; want %q … %q",
				tt.n, len(names), names[0], names[len(names)-1], tt.first, tt.last)
		}
		if !slices.IsSorted(names) {
			t.Errorf("numprocs %d: names do not sort in order", tt.n)
		}
	}
}

func TestNames(t *testing.T) {
	c := &Config{
		Order: []string{"b", "a"},
		Programs: map[string]*Program{
			"a": {Name: "a", NumProcs: 2},
			"b": {Name: "b", NumProcs: 1},
		},
	}
	want := []string{"b", "a:a_00", "a:a_01"}
	if got := c.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q; want %q", got, want)
	}
}

func TestParseDetachKey(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"^]", []byte{0x1d}}, {"^A", []byte{0x01}}, {"^a", []byte{0x01}}, {"^Z", []byte{0x1a}},
		{"^[", []byte{0x1b}}, {`^\`, []byte{0x1c}}, {"^^", []byte{0x1e}}, {"^_", []byte{0x1f}},
		{"ctrl-a", []byte{0x01}}, {"CTRL-Z", []byte{0x1a}}, {"ctrl-]", []byte{0x1d}},
		{"ctrl-p,ctrl-q", []byte{0x10, 0x11}}, {"ctrl-p, ^Q", []byte{0x10, 0x11}},
	}
	for _, tt := range tests {
		got, err := parseDetachKey(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("parseDetachKey(%q) = % x, %v; want % x", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "a", "^", "^1", "^AB", "ctrl-", "ctrl-1", "ctrl-a,", "alt-a", "^@", "^`"} {
		if got, err := parseDetachKey(bad); err == nil {
			t.Errorf("parseDetachKey(%q) = % x; want an error", bad, got)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := keysOf(programFields)
	tests := map[string]string{
		"stoptme": "stoptime", "Cmd": "cmd", "CMD": "cmd", "stdout_max": "stdout_maxbytes",
		"numproc": "numprocs", "envv": "env", "usr": "user", "autorestarts": "autorestart",
		"frobnicate": "", "s": "", "": "", "xyzzy": "",
	}
	for in, want := range tests {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestLevenshtein(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"stoptme", "stoptime", 1},
	}
	for _, tt := range tests {
		if got := levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("levenshtein(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
