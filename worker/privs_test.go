package worker

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/taskmaster/taskmaster/ipc"
	"github.com/taskmaster/taskmaster/worker/testuser"
)

// The job, and the worker itself, run with exactly the user's ids and
// groups: all four uid/gid fields, no group 0.
func TestPrivilegeDrop(t *testing.T) {
	tu := testuser.New(t, "pr", testuser.Options{Home: "/nonexistent", Group: true})
	// The ids as /proc/PID/status and the worker's Ready spell them.
	uid, gid, extraGid := strconv.Itoa(tu.UID), strconv.Itoa(tu.GID), strconv.Itoa(tu.Group.GID)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	out := filepath.Join(dir, "out")
	spec := baseSpec("/bin/sh", "-c", `echo "$HOME $USER $LOGNAME $SHELL"; exec sleep 1000`)
	spec.Env = []string{"PATH=/usr/bin:/bin", "HOME=/root", "USER=root"}
	spec.Stdout = out
	spec.UID = tu.UID
	w := spawn(t, spec)
	ready := expect[*ipc.Ready](w)
	if fmt.Sprint(ready.UID) != uid || fmt.Sprint(ready.GID) != gid {
		t.Fatalf("worker reports %d/%d, want %s/%s", ready.UID, ready.GID, uid, gid)
	}
	w.send(&ipc.Start{})
	st := expect[*ipc.Started](w)
	defer w.send(&ipc.Quit{})
	for _, pid := range []int{st.Pid, w.proc.Pid} {
		uids := procStatus(t, pid, "Uid")
		gids := procStatus(t, pid, "Gid")
		want := strings.Repeat(uid+" ", 4)
		if uids+" " != want {
			t.Errorf("pid %d: Uid %q, want %q", pid, uids, want)
		}
		if gids+" " != strings.Repeat(gid+" ", 4) {
			t.Errorf("pid %d: Gid %q", pid, gids)
		}
		groups := strings.Fields(procStatus(t, pid, "Groups"))
		if len(groups) != 2 || !contains(groups, gid) || !contains(groups, extraGid) || contains(groups, "0") {
			t.Errorf("pid %d: Groups %v, want %s and %s", pid, groups, gid, extraGid)
		}
	}
	want := fmt.Sprintf("/nonexistent %s %s /bin/false\n", tu.Name, tu.Name)
	b := waitContent(t, out, len(want))
	if string(b) != want {
		t.Errorf("job env %q, want %q", b, want)
	}
	// The worker created the log before the drop and gave it to the user.
	fi, _ := os.Stat(out)
	if st := fi.Sys().(*syscall.Stat_t); fmt.Sprint(st.Uid) != uid || fmt.Sprint(st.Gid) != gid {
		t.Errorf("stdout owned by %d:%d, want %s:%s", st.Uid, st.Gid, uid, gid)
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
