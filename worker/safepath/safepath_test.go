package safepath

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/taskmaster/taskmaster/worker/testuser"
)

// mkdir makes a folder with exactly mode (no umask).
func mkdir(t *testing.T, p string, mode os.FileMode) string {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func appendTo(p string, owner Owner, data string) error {
	f, err := Open(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640, owner)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(data)
	return err
}

// Links root or the caller made in folders nobody else can write are
// followed, relative, absolute, and through "..".
func TestTrustedLinksFollowed(t *testing.T) {
	top := t.TempDir()
	real := mkdir(t, filepath.Join(top, "real"), 0o755)
	mkdir(t, filepath.Join(top, "sub"), 0o755)
	os.Symlink("real", filepath.Join(top, "rel"))
	os.Symlink(real, filepath.Join(top, "abs"))
	os.Symlink("../real", filepath.Join(top, "sub", "up"))
	for _, p := range []string{"rel/a", "abs/a", "sub/up/a", "sub/../real/a"} {
		if err := appendTo(filepath.Join(top, p), Caller, p+"\n"); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if got := read(t, filepath.Join(real, "a")); got != "rel/a\nabs/a\nsub/up/a\nsub/../real/a\n" {
		t.Fatalf("real/a: %q", got)
	}
}

// A link in a folder others can write is never followed, whoever owns it,
// and nothing is created where it points.
func TestLinkInWritableFolderRefused(t *testing.T) {
	top := t.TempDir()
	target := mkdir(t, filepath.Join(top, "target"), 0o700)
	open := mkdir(t, filepath.Join(top, "open"), 0o777) // no sticky bit
	os.Symlink(target, filepath.Join(open, "logs"))
	err := appendTo(filepath.Join(open, "logs", "app.log"), Caller, "x")
	if !errors.Is(err, ErrUntrustedLink) {
		t.Fatalf("got %v, want %v", err, ErrUntrustedLink)
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Fatalf("target gained %v", ents)
	}
	// Below an untrusted folder, no link is followed either.
	deep := mkdir(t, filepath.Join(open, "deep"), 0o700)
	os.Symlink(target, filepath.Join(deep, "logs"))
	if err := appendTo(filepath.Join(deep, "logs", "app.log"), Caller, "x"); !errors.Is(err, ErrUntrustedLink) {
		t.Fatalf("below an untrusted folder: %v", err)
	}
}

// The last component is never followed.
func TestFileLinkRefused(t *testing.T) {
	top := t.TempDir()
	write(t, filepath.Join(top, "real"), "keep")
	os.Symlink("real", filepath.Join(top, "app.log"))
	if err := appendTo(filepath.Join(top, "app.log"), Caller, "x"); !errors.Is(err, ErrSymlink) {
		t.Fatalf("got %v", err)
	}
	if got := read(t, filepath.Join(top, "real")); got != "keep" {
		t.Fatalf("real: %q", got)
	}
}

// A FIFO, with or without a reader, is refused at once; so is a folder.
func TestNotRegularRefused(t *testing.T) {
	top := t.TempDir()
	fifo := filepath.Join(top, "fifo")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- appendTo(fifo, Caller, "x") }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || err.Error() != "not a regular file (fifo)" {
			t.Fatalf("fifo: %v", err)
		}
	case <-time.After(5 * time.Second):
		os.WriteFile(fifo, nil, 0) // unblock it
		t.Fatal("open blocked on a FIFO")
	}
	// With a reader, the open itself succeeds: fstat refuses it.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := appendTo(fifo, Caller, "x"); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("fifo with a reader: %v", err)
	}
	if _, err := Open(filepath.Join(top, "ro"), os.O_RDONLY, 0, Caller); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file read: %v", err)
	}
	mkdir(t, filepath.Join(top, "dir"), 0o700)
	if err := appendTo(filepath.Join(top, "dir"), Caller, "x"); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("folder: %v", err)
	}
}

// Rename stays inside the resolved folder.
func TestDirRename(t *testing.T) {
	top := t.TempDir()
	write(t, filepath.Join(top, "a"), "1")
	d, err := OpenDir(top)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Rename("a", "a.1"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(top, "a.1")); got != "1" {
		t.Fatalf("a.1: %q", got)
	}
	if err := d.Rename("a", "a.1"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}

// As root for a user U: U's folder is untrusted. A link there is not
// followed; an existing file there must be U's; a file created is U's.
func TestUserFolder(t *testing.T) {
	tu := testuser.New(t, "sp", testuser.Options{Home: "/nonexistent"})
	uid, gid := tu.UID, tu.GID
	u := Owner{UID: uid, GID: gid}
	top := t.TempDir()
	os.Chmod(top, 0o755)
	rootDir := mkdir(t, filepath.Join(top, "root"), 0o700)
	write(t, filepath.Join(rootDir, "app.log"), "root's\n")
	a := mkdir(t, filepath.Join(top, "A"), 0o755)
	os.Chown(a, uid, gid)
	logs := mkdir(t, filepath.Join(a, "logs"), 0o755)
	os.Chown(logs, uid, gid)

	// Created for U.
	p := filepath.Join(logs, "app.log")
	if err := appendTo(p, u, "one\n"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Sys().(*syscall.Stat_t).Uid != uint32(uid) {
		t.Fatalf("created file owned by %d", fi.Sys().(*syscall.Stat_t).Uid)
	}
	// U swaps logs/ for a link to root's folder (U's own link).
	os.Rename(logs, logs+".old")
	os.Symlink(rootDir, logs)
	os.Lchown(logs, uid, gid)
	if err := appendTo(p, u, "evil\n"); !errors.Is(err, ErrUntrustedLink) {
		t.Fatalf("through U's link: %v", err)
	}
	// Even a root-owned link in U's folder is U's to have placed.
	os.Lchown(logs, 0, 0)
	if err := appendTo(p, u, "evil\n"); !errors.Is(err, ErrUntrustedLink) {
		t.Fatalf("through a root-owned link in U's folder: %v", err)
	}
	if got := read(t, filepath.Join(rootDir, "app.log")); got != "root's\n" {
		t.Fatalf("root's file: %q", got)
	}
	// A root file moved into U's folder (root did it, or a hard link):
	// not U's, refused.
	os.Remove(logs)
	os.Rename(logs+".old", logs)
	os.Remove(p)
	if err := os.Link(filepath.Join(rootDir, "app.log"), p); err != nil {
		t.Fatal(err)
	}
	if err := appendTo(p, u, "evil\n"); !errors.Is(err, ErrOwner) {
		t.Fatalf("root's hard link for U: %v", err)
	}
	// Opened for root itself (a job that keeps root's uid): a root file
	// with two links in U's folder is still refused.
	if err := appendTo(p, Caller, "evil\n"); !errors.Is(err, ErrOwner) {
		t.Fatalf("root's hard link for root: %v", err)
	}
	if got := read(t, filepath.Join(rootDir, "app.log")); got != "root's\n" {
		t.Fatalf("root's file: %q", got)
	}
}

// A sticky world-writable folder (/tmp): entries of root and the caller
// are trusted, other users' are not, as protected_symlinks decides.
func TestStickyFolder(t *testing.T) {
	tu := testuser.New(t, "sp", testuser.Options{Home: "/nonexistent"})
	uid, gid := tu.UID, tu.GID
	top := t.TempDir()
	os.Chmod(top, 0o755)
	tmp := mkdir(t, filepath.Join(top, "tmp"), os.ModeSticky|0o777)
	target := mkdir(t, filepath.Join(top, "target"), 0o700)
	mine := filepath.Join(tmp, "mine")
	os.Symlink(target, mine)
	if err := appendTo(filepath.Join(mine, "a"), Caller, "x"); err != nil {
		t.Fatalf("root's link in a sticky folder: %v", err)
	}
	theirs := filepath.Join(tmp, "theirs")
	os.Symlink(target, theirs)
	os.Lchown(theirs, uid, gid)
	if err := appendTo(filepath.Join(theirs, "b"), Caller, "x"); !errors.Is(err, ErrUntrustedLink) {
		t.Fatalf("another user's link in a sticky folder: %v", err)
	}
	// Another user's file there is refused for root, accepted for them.
	f := filepath.Join(tmp, "f")
	write(t, f, "")
	os.Chown(f, uid, gid)
	if err := appendTo(f, Caller, "x"); !errors.Is(err, ErrOwner) {
		t.Fatalf("another user's file for root: %v", err)
	}
	if err := appendTo(f, Owner{UID: uid, GID: gid}, "x"); err != nil {
		t.Fatalf("the user's own file: %v", err)
	}
}

// refusal is the walk's refusal in err, or fails the test.
func refusal(t *testing.T, err error) *UntrustedError {
	t.Helper()
	var u *UntrustedError
	if !errors.As(err, &u) {
		t.Fatalf("got %v, want an *UntrustedError", err)
	}
	return u
}

// With Create, missing folders are made 0700 on the way; the folder is
// the caller's to fchmod through File.
func TestOpenDirCreates(t *testing.T) {
	top := t.TempDir()
	p := filepath.Join(top, "a", "b")
	d, err := OpenDirWith(p, Options{Create: true, Require: Own})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, q := range []string{filepath.Join(top, "a"), p} {
		if fi, err := os.Lstat(q); err != nil || fi.Mode() != os.ModeDir|0o700 {
			t.Fatalf("%s: %v %v", q, fi.Mode(), err)
		}
	}
	f, err := d.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Name() != p || f.Chmod(0o750) != nil {
		t.Fatalf("File %s cannot be chmod'ed", f.Name())
	}
	if _, err := OpenDir(filepath.Join(top, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("without Create: %v", err)
	}
}

// Under a Require rule the first folder that someone other than root and
// the caller controls stops the walk, named with its owner and why, and
// nothing is created in or below it; the last folder is judged by the
// rule's own clause.
func TestRequireRefuses(t *testing.T) {
	tu := testuser.New(t, "sp", testuser.Options{Home: "/nonexistent"})
	uid, gid := tu.UID, tu.GID
	top := t.TempDir()
	os.Chmod(top, 0o755)
	create := Options{Create: true, Require: Safe}

	open := mkdir(t, filepath.Join(top, "open"), 0o777)
	_, err := OpenDirWith(filepath.Join(open, "a", "b"), create)
	if u := refusal(t, err); u.Path != open || u.Reason != OthersWrite || u.Perm != 0o777 || u.Last || !errors.Is(err, ErrUntrustedFolder) {
		t.Fatalf("a folder others write: %+v", u)
	}
	if _, err := os.Lstat(filepath.Join(open, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a folder was created in a folder others write")
	}

	tmp := mkdir(t, filepath.Join(top, "tmp"), os.ModeSticky|0o777)
	theirs := mkdir(t, filepath.Join(tmp, "theirs"), 0o755)
	os.Chown(theirs, uid, gid)
	_, err = OpenDirWith(filepath.Join(theirs, "run"), create)
	if u := refusal(t, err); u.Path != theirs || u.Reason != OtherOwner || u.UID != uint32(uid) {
		t.Fatalf("another user's folder: %+v", u)
	}
	link := filepath.Join(tmp, "link")
	os.Symlink(top, link)
	os.Lchown(link, uid, gid)
	_, err = OpenDirWith(filepath.Join(link, "run"), create)
	if u := refusal(t, err); u.Path != link || u.Reason != OtherLink || u.UID != uint32(uid) || !errors.Is(err, ErrUntrustedLink) {
		t.Fatalf("another user's link: %+v", u)
	}
	if _, err := os.Lstat(filepath.Join(top, "run")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a folder was created through another user's link")
	}

	// The last folder: Safe takes a sticky one, Own wants it the
	// caller's and closed to group and others.
	d, err := OpenDirWith(tmp, Options{Require: Safe})
	if err != nil {
		t.Fatalf("a sticky folder under Safe: %v", err)
	}
	d.Close()
	_, err = OpenDirWith(tmp, Options{Require: Own})
	if u := refusal(t, err); u.Path != tmp || u.Reason != OthersWrite || !u.Last {
		t.Fatalf("a sticky folder under Own: %+v", u)
	}
	_, err = OpenDirWith(theirs, Options{Require: Own})
	if u := refusal(t, err); u.Path != theirs || u.Reason != OtherOwner || !u.Last || u.UID != uint32(uid) {
		t.Fatalf("another user's folder under Own: %+v", u)
	}
	// Lenient (the logs' walk) refuses no folder.
	if d, err := OpenDir(theirs); err != nil {
		t.Fatalf("lenient: %v", err)
	} else {
		d.Close()
	}
}
