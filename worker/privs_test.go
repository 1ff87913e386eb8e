package worker

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/taskmaster/taskmaster/ipc"
)

// throwawayUser creates a user with one supplementary group and removes
// both at cleanup. It skips, loudly, where that needs root.
func throwawayUser(t *testing.T) (u *user.User, extra *user.Group) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: privilege de-escalation tests need root (run `make test` as root)")
	}
	for _, tool := range []string{"useradd", "userdel", "groupadd", "groupdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: %s not found", tool)
		}
	}
	name := fmt.Sprintf("tmt%d", os.Getpid()%100000)
	group := name + "x"
	run := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("groupadd", group)
	t.Cleanup(func() { exec.Command("groupdel", group).Run() })
	run("useradd", "--no-create-home", "--shell", "/bin/false", "--home-dir", "/nonexistent", "-G", group, name)
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	extra, err = user.LookupGroup(group)
	if err != nil {
		t.Fatal(err)
	}
	return u, extra
}

// The job, and the worker itself, run with exactly the user's ids and
// groups: all four uid/gid fields, no group 0.
func TestPrivilegeDrop(t *testing.T) {
	u, extra := throwawayUser(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	out := filepath.Join(dir, "out")
	spec := baseSpec("/bin/sh", "-c", `echo "$HOME $USER $LOGNAME $SHELL"; exec sleep 1000`)
	spec.Env = []string{"PATH=/usr/bin:/bin", "HOME=/root", "USER=root"}
	spec.Stdout = out
	fmt.Sscan(u.Uid, &spec.UID)
	w := spawn(t, spec)
	ready := expect[*ipc.Ready](w)
	if fmt.Sprint(ready.UID) != u.Uid || fmt.Sprint(ready.GID) != u.Gid {
		t.Fatalf("worker reports %d/%d, want %s/%s", ready.UID, ready.GID, u.Uid, u.Gid)
	}
	w.send(&ipc.Start{})
	st := expect[*ipc.Started](w)
	defer w.send(&ipc.Quit{})
	for _, pid := range []int{st.Pid, w.proc.Pid} {
		uids := procStatus(t, pid, "Uid")
		gids := procStatus(t, pid, "Gid")
		want := strings.Repeat(u.Uid+" ", 4)
		if uids+" " != want {
			t.Errorf("pid %d: Uid %q, want %q", pid, uids, want)
		}
		if gids+" " != strings.Repeat(u.Gid+" ", 4) {
			t.Errorf("pid %d: Gid %q", pid, gids)
		}
		groups := strings.Fields(procStatus(t, pid, "Groups"))
		if len(groups) != 2 || !contains(groups, u.Gid) || !contains(groups, extra.Gid) || contains(groups, "0") {
			t.Errorf("pid %d: Groups %v, want %s and %s", pid, groups, u.Gid, extra.Gid)
		}
	}
	want := fmt.Sprintf("/nonexistent %s %s /bin/false\n", u.Username, u.Username)
	b := waitContent(t, out, len(want))
	if string(b) != want {
		t.Errorf("job env %q, want %q", b, want)
	}
	// The worker created the log before the drop and gave it to the user.
	fi, _ := os.Stat(out)
	if st := fi.Sys().(*syscall.Stat_t); fmt.Sprint(st.Uid) != u.Uid || fmt.Sprint(st.Gid) != u.Gid {
		t.Errorf("stdout owned by %d:%d, want %s:%s", st.Uid, st.Gid, u.Uid, u.Gid)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
