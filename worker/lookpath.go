package worker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// envPath is the job's PATH: where its command is looked up.
func envPath(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return v
		}
	}
	return "/usr/local/bin:/usr/bin:/bin"
}

// lookPath finds the executable as supervisor does, with its messages.
func lookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		return file, checkExecutable(file)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("can't find command '%s'", file)
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("can't find command '%s'", p)
	}
	if st.IsDir() || unix.Access(p, unix.X_OK) != nil {
		return fmt.Errorf("command at '%s' is not executable", p)
	}
	return nil
}

func execError(path string, err error) string {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return fmt.Sprintf("can't find command '%s'", path)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.ENOEXEC):
		return fmt.Sprintf("command at '%s' is not executable", path)
	}
	return fmt.Sprintf("couldn't exec %s: %v", path, err)
}
