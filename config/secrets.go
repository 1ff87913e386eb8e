package config

import (
	"fmt"
	"slices"
	"strings"
)

// CleanPath is the PATH of a job started with clearenv: the standard
// system folders, as sudo's secure_path and systemd use.
const CleanPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Exposure is what the master's environment hands to jobs of other users:
// the variables whose names look like secrets, and the programs that run
// as another user without clearenv. It is empty when nothing is exposed.
type Exposure struct {
	Vars     []string // names only, sorted; never the values
	Programs []string // in file order
}

// Empty reports whether nothing is exposed.
func (e Exposure) Empty() bool { return len(e.Vars) == 0 || len(e.Programs) == 0 }

// String is the warning `taskmaster check` prints and the master logs at
// start.
func (e Exposure) String() string {
	return fmt.Sprintf("taskmaster runs as root and passes its environment to programs that run as other users (%s); "+
		"it holds variables that look like secrets (%s): set clearenv: true for those programs, or in defaults",
		strings.Join(e.Programs, ", "), strings.Join(e.Vars, ", "))
}

// Exposed finds what environ, the environment of a master running with
// effective uid euid, would expose through c (issue 10, point 10). Only
// root can run jobs as other users, so only root exposes anything.
func (c *Config) Exposed(euid int, environ []string) Exposure {
	var e Exposure
	if euid != 0 {
		return e
	}
	for _, name := range c.Order {
		if p := c.Programs[name]; p.UID >= 0 && p.UID != euid && !p.ClearEnv {
			e.Programs = append(e.Programs, name)
		}
	}
	for _, kv := range environ {
		if name, _, _ := strings.Cut(kv, "="); looksSecret(name) && !slices.Contains(e.Vars, name) {
			e.Vars = append(e.Vars, name)
		}
	}
	slices.Sort(e.Vars)
	return e
}

// looksSecret says whether an environment variable's name suggests a
// credential: DB_PASSWORD, AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN, API_KEY...
func looksSecret(name string) bool {
	n := strings.ToUpper(name)
	for _, word := range []string{"PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE"} {
		if strings.Contains(n, word) {
			return true
		}
	}
	return strings.HasSuffix(n, "_KEY") || strings.HasSuffix(n, "_PASS") || strings.HasSuffix(n, "APIKEY")
}
