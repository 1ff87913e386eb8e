package main

import "testing"

// With no program configured, status is empty and succeeds, as
// supervisorctl's: no "no such process: all".
func TestStatusWithoutPrograms(t *testing.T) {
	m := startMaster(t, "programs: {}\n")
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"status"}, "", 0},
		{[]string{"status", "--json"}, "[]\n", 0},
		{[]string{"status", "all"}, "", 0},
		{[]string{"stop", "all"}, "", 0},
		{[]string{"status", "web"}, "ERROR (no such process): web\n", 1},
	} {
		if out, code := m.ctl(c.args...); out != c.want || code != c.code {
			t.Errorf("ctl %v: %d %q, want %d %q", c.args, code, out, c.code, c.want)
		}
	}
}
