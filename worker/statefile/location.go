package statefile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// RunBase is where a master run as root keeps its state files when it
// is a tmpfs, as containerd and systemd keep theirs: a write there costs
// no disk and no journal.
const RunBase = "/run"

// Parent is the folder whose DirName subfolder holds the state files of
// a master with this rundir (absolute, as the config says it): statedir
// when set; else, for root when RunBase is a tmpfs and the rundir is not,
// RunBase/taskmaster/HASH, HASH named by the rundir's path alone so that
// the master and `taskmaster state` find the same folder; else the rundir.
func Parent(rundir, statedir string, euid int) string {
	return ParentIn(rundir, statedir, RunBase, euid)
}

// ParentIn is Parent with base in place of RunBase.
func ParentIn(rundir, statedir, base string, euid int) string {
	if statedir != "" {
		return statedir
	}
	if euid != 0 || !onTmpfs(base) || onTmpfs(rundir) {
		return rundir
	}
	return RunParent(base, rundir)
}

// RunParent is rundir's folder under base: base/taskmaster/HASH, HASH 16
// hex digits of the SHA-256 of the rundir's cleaned path.
func RunParent(base, rundir string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(rundir)))
	return filepath.Join(base, "taskmaster", hex.EncodeToString(sum[:8]))
}

// onTmpfs reports whether path, or the nearest folder above it that
// exists (a rundir is created at start), is on a tmpfs. Only the file
// system's type is read: nothing is opened.
func onTmpfs(path string) bool {
	for {
		var fs unix.Statfs_t
		err := unix.Statfs(path, &fs)
		if err == nil {
			return fs.Type == unix.TMPFS_MAGIC
		}
		parent := filepath.Dir(path)
		if !errors.Is(err, unix.ENOENT) || parent == path {
			return false
		}
		path = parent
	}
}
