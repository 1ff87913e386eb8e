package main

import (
	"reflect"
	"testing"
)

func TestCompleter(t *testing.T) {
	names := func() []string { return []string{"all", "web", "web:*", "web:web_00", "web:web_01", "worker"} }
	complete := completer(names)
	cases := []struct {
		line  string
		want  []string
		start int
	}{
		{"stat", []string{"status"}, 0},
		{"st", []string{"start", "status", "stop"}, 0},
		{"start w", []string{"web", "web:*", "web:web_00", "web:web_01", "worker"}, 6},
		{"stop web:web_0", []string{"web:web_00", "web:web_01"}, 5},
		{"signal TE", []string{"TERM"}, 7},
		{"signal TERM wo", []string{"worker"}, 12},
		{"tail -f web:web_00 std", []string{"stderr", "stdout"}, 19},
		{"tail web ", []string{"stderr", "stdout"}, 9},
		{"help sh", []string{"shutdown"}, 5},
		{"notify o", []string{"off", "on"}, 7},
		{"version x", nil, 8},
		{"status --j", []string{"--json"}, 7},
	}
	for _, c := range cases {
		got, start := complete(c.line, len(c.line))
		if !reflect.DeepEqual(got, c.want) || start != c.start {
			t.Errorf("%q: %q at %d, want %q at %d", c.line, got, start, c.want, c.start)
		}
	}
	// Completion looks only at what is before the cursor.
	if got, _ := complete("stat web", 4); !reflect.DeepEqual(got, []string{"status"}) {
		t.Errorf("mid-line: %q", got)
	}
}
