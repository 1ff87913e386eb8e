package master

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/taskmaster/taskmaster/worker/testuser"
)

// A fresh rundir is created 0700 with a 1733 workers folder and our pid;
// an existing one of ours that others could read is closed to them.
func TestLockRunDirCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "run")
	rd, err := LockRunDir(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	rd.Release()
	wantMode(t, dir, os.ModeDir|0o700)
	wantMode(t, filepath.Join(dir, "workers"), os.ModeDir|os.ModeSticky|0o733)

	os.Chmod(dir, 0o755)
	rd, err = LockRunDir(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	wantMode(t, dir, os.ModeDir|0o700)
	b, _ := os.ReadFile(filepath.Join(dir, "taskmaster.pid"))
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pid file %q", b)
	}
}

// A rundir reached through a symlink root owns (/var/run -> /run) is fine.
func TestLockRunDirThroughOwnSymlink(t *testing.T) {
	base := t.TempDir()
	os.Mkdir(filepath.Join(base, "real"), 0o700)
	os.Symlink("real", filepath.Join(base, "link"))
	rd, err := LockRunDir(filepath.Join(base, "link", "run"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	if _, err := os.Stat(filepath.Join(base, "real", "run", "taskmaster.pid")); err != nil {
		t.Fatal(err)
	}
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Fatalf("%s: mode %v, want %v", path, fi.Mode(), want)
	}
}

// victims are root's files an attacker points symlinks at; untouched
// checks that nothing of them changed.
type victims struct {
	t      *testing.T
	file   string // root's 0600 file
	folder string // root's 0755 folder
}

const secret = "root's secret\n"

func newVictims(t *testing.T) *victims {
	d := t.TempDir()
	v := &victims{t: t, file: filepath.Join(d, "secret"), folder: filepath.Join(d, "private")}
	if err := os.WriteFile(v.file, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(v.folder, 0o755); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v *victims) untouched() {
	v.t.Helper()
	b, err := os.ReadFile(v.file)
	if err != nil || string(b) != secret {
		v.t.Errorf("root's file was written: %q %v", b, err)
	}
	wantMode(v.t, v.file, 0o600)
	wantMode(v.t, v.folder, os.ModeDir|0o755)
	if ents, _ := os.ReadDir(v.folder); len(ents) != 0 {
		v.t.Errorf("root's folder got %d entries", len(ents))
	}
}

// localUser is a throwaway user, removed at cleanup; the test skips,
// loudly, when not root.
type localUser struct {
	t *testing.T
	*testuser.User
}

func newLocalUser(t *testing.T) *localUser {
	t.Helper()
	return &localUser{t: t, User: testuser.New(t, "rd", testuser.Options{})}
}

// run runs a command as the user, as the attacker would.
func (u *localUser) run(args ...string) {
	u.t.Helper()
	if out, err := u.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		u.t.Fatalf("as %s: %v: %v\n%s", u.Name, args, err, out)
	}
}

// plant puts the attack in dir: the pid file a symlink to root's file,
// the workers folder a symlink to root's folder.
func (u *localUser) plant(dir string, v *victims) {
	u.run("/bin/ln", "-s", v.file, filepath.Join(dir, "taskmaster.pid"))
	u.run("/bin/ln", "-s", v.folder, filepath.Join(dir, "workers"))
}

// openParent is a folder the user can reach: root's, mode 0755 (and the
// test's folder above it too).
func openParent(t *testing.T) string {
	d := t.TempDir()
	os.Chmod(d, 0o755)
	os.Chmod(filepath.Dir(d), 0o755)
	return d
}

// shared is a folder like /tmp: root's, sticky, writable by all.
func shared(t *testing.T) string {
	d := filepath.Join(openParent(t), "tmp")
	os.Mkdir(d, 0o755)
	os.Chmod(d, os.ModeSticky|0o777)
	return d
}

func wantRefused(t *testing.T, dir string, want ...string) {
	t.Helper()
	rd, err := LockRunDir(dir, "")
	if err == nil {
		rd.Release()
		t.Errorf("rundir %s accepted", dir) // and go on: were root's files hit?
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

// Issue 10, point 2: a user pre-creates root's rundir with the pid file
// and the workers folder as symlinks to root's own; root must refuse it,
// saying how to fix it, and touch nothing.
func TestRunDirOfAnotherUserRefused(t *testing.T) {
	u := newLocalUser(t)
	v := newVictims(t)
	dir := filepath.Join(shared(t), "run")
	u.run("/bin/mkdir", "-m", "0700", dir)
	u.plant(dir, v)
	wantRefused(t, dir, fmt.Sprintf("rundir %s: owned by uid %d, not 0; remove it or chown root %s && chmod 700 %s", dir, u.UID, dir, dir))
	v.untouched()
}

// Root's rundir, but writable by all: the user planted the symlinks.
func TestRunDirWritableByOthersRefused(t *testing.T) {
	u := newLocalUser(t)
	v := newVictims(t)
	dir := filepath.Join(openParent(t), "run")
	os.Mkdir(dir, 0o700)
	os.Chmod(dir, 0o777)
	u.plant(dir, v)
	wantRefused(t, dir, "mode 0777 lets its group or others write it; chmod 700 "+dir)
	v.untouched()
}

// Root's 0700 rundir that still holds symlinks (planted while it was
// open, then closed): neither is followed.
func TestRunDirSymlinksNotFollowed(t *testing.T) {
	v := newVictims(t)
	dir := filepath.Join(t.TempDir(), "run")
	os.Mkdir(dir, 0o700)
	os.Symlink(v.file, filepath.Join(dir, "taskmaster.pid"))
	wantRefused(t, dir, "taskmaster.pid: is a symbolic link")
	v.untouched()

	os.Remove(filepath.Join(dir, "taskmaster.pid"))
	os.Symlink(v.folder, filepath.Join(dir, "workers"))
	wantRefused(t, dir, "workers")
	v.untouched()

	// A hard link to root's file would be written through as well.
	os.Remove(filepath.Join(dir, "workers"))
	if err := os.Link(v.file, filepath.Join(dir, "taskmaster.pid")); err == nil {
		wantRefused(t, dir, "hard links")
		v.untouched()
	}
}

// A rundir is only as safe as the folders above it: one the user owns, or
// can write (not sticky), lets them rename the rundir away and put their
// own in its place; a symlink the user owns on the way points anywhere.
func TestRunDirParentsChecked(t *testing.T) {
	u := newLocalUser(t)
	base := openParent(t)

	users := filepath.Join(shared(t), "users")
	u.run("/bin/mkdir", "-m", "0777", users)
	inUsers := filepath.Join(users, "run")
	os.Mkdir(inUsers, 0o700)
	wantRefused(t, inUsers, fmt.Sprintf("folder %s is owned by uid %d, who could move it away", users, u.UID))

	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o777)
	wantRefused(t, filepath.Join(open, "run"), fmt.Sprintf("folder %s (mode 0777) is writable by its group or others", open))

	sticky := filepath.Join(base, "sticky")
	os.Mkdir(sticky, 0o755)
	os.Chmod(sticky, os.ModeSticky|0o777)
	rd, err := LockRunDir(filepath.Join(sticky, "run"), "")
	if err != nil {
		t.Fatalf("a rundir of ours in a sticky folder: %v", err)
	}
	rd.Release()

	v := newVictims(t)
	link := filepath.Join(sticky, "link")
	u.run("/bin/ln", "-s", filepath.Dir(v.folder), link)
	wantRefused(t, filepath.Join(link, "run"), fmt.Sprintf("%s is a symlink owned by uid %d", link, u.UID))
	if _, err := os.Lstat(filepath.Join(filepath.Dir(v.folder), "run")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a rundir was created through the user's symlink")
	}
}
