package ctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskmaster/taskmaster/worker/testuser"
)

// The control socket: never in a folder others can write, and what sits
// at its path is replaced only if it is a stale socket of ours.
func TestControlSocketFolderChecked(t *testing.T) {
	u := testuser.New(t, "rd", testuser.Options{})
	run := func(args ...string) {
		t.Helper()
		if out, err := u.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("as %s: %v: %v\n%s", u.Name, args, err, out)
		}
	}
	// A folder like /tmp (root's, sticky, writable by all) under folders
	// the user can reach.
	base := t.TempDir()
	os.Chmod(base, 0o755)
	os.Chmod(filepath.Dir(base), 0o755)
	shared := filepath.Join(base, "tmp")
	os.Mkdir(shared, 0o755)
	os.Chmod(shared, os.ModeSticky|0o777)
	users := filepath.Join(shared, "users")
	run("/bin/mkdir", "-m", "0755", users)
	if _, err := Listen(nil, filepath.Join(users, "tm.sock")); err == nil || !strings.Contains(err.Error(), "owned by uid") {
		t.Fatalf("socket in the user's folder: %v", err)
	}

	// root's file, which a symlink at the socket's path points at.
	victim := filepath.Join(t.TempDir(), "secret")
	const secret = "root's secret\n"
	os.WriteFile(victim, []byte(secret), 0o600)
	dir := filepath.Join(t.TempDir(), "run")
	os.Mkdir(dir, 0o700)
	sock := filepath.Join(dir, "tm.sock")
	os.Symlink(victim, sock)
	if _, err := Listen(nil, sock); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("a symlink at the socket's path: %v", err)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != secret {
		t.Errorf("root's file was written: %q %v", b, err)
	}
	if fi, err := os.Stat(victim); err != nil || fi.Mode() != 0o600 {
		t.Errorf("root's file changed: %v", err)
	}
	os.Remove(sock)

	c, err := Listen(nil, sock)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != os.ModeSocket|0o600 {
		t.Fatalf("%s: mode %v, want %v", sock, fi.Mode(), os.ModeSocket|0o600)
	}
	c.Close()
}
