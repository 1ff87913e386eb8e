package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Warnings returns problems that do not make the config invalid, one
// formatted line each (FILE:LINE:COL: key.path: message), programs in file
// order. Today that is an executable that cannot be found: supervisor
// treats it as a spawn error rather than a config error, because the file
// may appear before the program is started. The file system is checked
// when Warnings is called, not when the config was parsed.
func (c *Config) Warnings() []string {
	var out []string
	for _, name := range c.Order {
		p := c.Programs[name]
		at := c.cmdAt[name]
		if p == nil || at == nil || len(p.Argv) == 0 {
			continue
		}
		if !findable(p.Argv[0], searchPath(p)) {
			w := *at
			w.Msg = fmt.Sprintf("can't find command %q", p.Argv[0])
			out = append(out, w.Error())
		}
	}
	return out
}

// searchPath is the PATH a program's command is looked up in: its own env
// PATH if set, else CleanPath with clearenv, else taskmaster's.
func searchPath(p *Program) string {
	if path, ok := p.Env["PATH"]; ok {
		return path
	}
	if p.ClearEnv {
		return CleanPath
	}
	return os.Getenv("PATH")
}

// findable reports whether exec could find cmd: a path (anything with a
// '/') must name an executable file; a bare name must be one in an
// absolute PATH entry. Relative entries, "." included, are skipped as Go's
// os/exec does since Go 1.19 (exec.ErrDot): they depend on the working
// directory at the time of the exec.
func findable(cmd, pathEnv string) bool {
	if strings.Contains(cmd, "/") {
		return isExecutable(cmd)
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if filepath.IsAbs(dir) && isExecutable(filepath.Join(dir, cmd)) {
			return true
		}
	}
	return false
}

// isExecutable reports whether path is a regular file with an execute bit
// set; whose bit matters depends on the user the job will run as, which is
// the worker's business.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
