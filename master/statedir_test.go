package master

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/worker/statefile"
)

// tmpfsBase is a folder on a tmpfs standing for /run: root's, mode
// mode, removed at cleanup. It skips when /dev/shm is not a tmpfs.
func tmpfsBase(t *testing.T, mode os.FileMode) string {
	t.Helper()
	var fs unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &fs); err != nil || fs.Type != unix.TMPFS_MAGIC {
		t.Skip("SKIP: no tmpfs at /dev/shm to stand for /run")
	}
	d, err := os.MkdirTemp("/dev/shm", "tmst-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	os.Chmod(d, mode)
	return d
}

// diskRunDir is a rundir path off any tmpfs (the test skips otherwise).
func diskRunDir(t *testing.T, base string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if statefile.ParentIn(dir, "", base, 0) == dir {
		t.Skip("SKIP: the test's temporary folder is on a tmpfs")
	}
	return dir
}

// Issue 12: root with a tmpfs /run keeps the state files there, in a
// folder named by the rundir's path, made as the rundir is (0700, the
// workers folder 1733 in it) and locked by a pid file like it, so no two
// masters share it; anyone else keeps them in the rundir.
func TestStateDirUnderRunBase(t *testing.T) {
	base := tmpfsBase(t, 0o755)
	dir := diskRunDir(t, base)
	parent := statefile.ParentIn(dir, "", base, 0)
	if want := statefile.RunParent(base, dir); parent != want || !strings.HasPrefix(parent, base+"/taskmaster/") {
		t.Fatalf("root's state parent %s, want %s", parent, want)
	}
	if p := statefile.ParentIn(dir, "", base, 1000); p != dir {
		t.Errorf("not root: %s", p)
	}
	if p := statefile.ParentIn(dir, "", t.TempDir(), 0); p != dir {
		t.Errorf("a base that is no tmpfs: %s", p)
	}
	if p := statefile.ParentIn(filepath.Join(base, "run"), "", base, 0); p != filepath.Join(base, "run") {
		t.Errorf("a rundir on a tmpfs: %s", p)
	}
	if p := statefile.ParentIn(dir, "/srv/state", base, 0); p != "/srv/state" {
		t.Errorf("a statedir set: %s", p)
	}

	// A previous master's workers folder in the rundir stays readable.
	os.MkdirAll(filepath.Join(dir, "workers"), 0o700)
	rd, err := LockRunDir(dir, parent)
	if err != nil {
		t.Fatal(err)
	}
	wantMode(t, filepath.Join(base, "taskmaster"), os.ModeDir|0o700)
	wantMode(t, parent, os.ModeDir|0o700)
	wantMode(t, filepath.Join(parent, "workers"), os.ModeDir|os.ModeSticky|0o733)
	if rd.StateDir != filepath.Join(parent, "workers") || rd.Legacy == nil || rd.Legacy.Name() != filepath.Join(dir, "workers") {
		t.Fatalf("state folder %s, legacy %v", rd.StateDir, rd.Legacy)
	}
	b, _ := os.ReadFile(filepath.Join(parent, "taskmaster.pid"))
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("statedir pid file %q", b)
	}
	// Another master, another rundir, the same state folder: refused.
	other, err := LockRunDir(filepath.Join(t.TempDir(), "run"), parent)
	if err == nil {
		other.Release()
		t.Fatal("two masters share a state folder")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "statedir "+parent) {
		t.Fatalf("error %v", err)
	}
	rd.Release()
	if _, err := os.Stat(filepath.Join(parent, "workers")); err != nil {
		t.Fatalf("the state files must outlive the master: %v", err)
	}
}

// Issue 12: /run/taskmaster planted by another user (where /run is open
// to them, as a sticky /tmp would be) is refused, never followed or
// used: a folder of theirs, a symlink of theirs, a folder of root's that
// others can write.
func TestStateDirUnderRunBaseHostile(t *testing.T) {
	u := newLocalUser(t)
	v := newVictims(t)
	base := tmpfsBase(t, os.ModeSticky|0o777)
	dir := diskRunDir(t, base)
	parent := statefile.ParentIn(dir, "", base, 0)
	top := filepath.Join(base, "taskmaster")
	refused := func(want string) {
		t.Helper()
		rd, err := LockRunDir(dir, parent)
		if err == nil {
			rd.Release()
			t.Errorf("state folder %s accepted", parent)
		} else if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
		v.untouched()
		if _, err := os.Lstat(filepath.Join(dir, "workers")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("fell back to the rundir: %v", err)
		}
	}

	u.run("/bin/mkdir", "-m", "0777", top)
	refused(fmt.Sprintf("folder %s is owned by uid %d", top, u.UID))
	if ents, _ := os.ReadDir(top); len(ents) != 0 {
		t.Errorf("root created %v in the user's folder", ents)
	}
	os.RemoveAll(top)

	u.run("/bin/ln", "-s", v.folder, top)
	refused(fmt.Sprintf("%s is a symlink owned by uid %d", top, u.UID))
	os.Remove(top)

	os.Mkdir(top, 0o700)
	os.Chmod(top, 0o777)
	refused(fmt.Sprintf("folder %s (mode 0777) is writable by its group or others", top))
	os.Remove(top)

	// With it gone, root makes its own.
	rd, err := LockRunDir(dir, parent)
	if err != nil {
		t.Fatal(err)
	}
	rd.Release()
	wantMode(t, top, os.ModeDir|0o700)
}
