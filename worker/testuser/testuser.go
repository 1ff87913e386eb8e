package testuser

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Options shape the user. The zero value is a user who cannot log in:
// shell /bin/false, home /home/NAME (not created), no extra group.
type Options struct {
	// Shell is the login shell; "" is /bin/false. Jobs run through a
	// shell by the user need "/bin/sh".
	Shell string
	// Home is the home folder, which is never created; "" is /home/NAME,
	// useradd's usual choice.
	Home string
	// Group asks for a supplementary group the user is a member of.
	Group bool
}

// User is a throwaway local user, removed at the test's cleanup.
type User struct {
	Name  string
	UID   int
	GID   int // the user's own primary group
	Home  string
	Shell string
	// Group is the supplementary group; nil unless Options.Group.
	Group *Group
}

// Group is a local group.
type Group struct {
	Name string
	GID  int
}

// maxName is the longest user or group name useradd and groupadd accept.
const maxName = 32

// seq numbers the users of this test binary; with the pid it makes names
// unique across binaries running at once.
var seq atomic.Uint64

// New creates a user for t and removes it (with its processes and groups)
// at t's cleanup. tag, 1 to 8 lowercase letters, names the family of
// tests in the user's name, so a user left behind by a killed test binary
// says where it came from.
func New(t testing.TB, tag string, opt Options) *User {
	t.Helper()
	if !validTag(tag) {
		t.Fatalf("testuser: tag %q: want 1 to 8 lowercase letters", tag)
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIP: this test plays another local user, which needs root (run `make test` as root)")
	}
	tools := []string{"useradd", "userdel"}
	if opt.Group {
		tools = append(tools, "groupadd", "groupdel")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: this test plays another local user and %s is missing: %v", tool, err)
		}
	}
	u := &User{Shell: opt.Shell, Home: opt.Home}
	if u.Shell == "" {
		u.Shell = "/bin/false"
	}
	// A name left behind by an earlier binary with the same pid is taken:
	// move on to the next number.
	for tries := 0; ; tries++ {
		u.Name = fmt.Sprintf("tm%s-%d-%d", tag, os.Getpid(), seq.Add(1))
		err := u.create(t, opt)
		if err == nil {
			break
		}
		if !errors.Is(err, errTaken) || tries == 10 {
			t.Fatal(err)
		}
	}
	return u
}

// errTaken is a name or group that exists already.
var errTaken = errors.New("name taken")

// create makes the user (and its group) under u.Name and registers their
// removal; after errTaken nothing was made.
func (u *User) create(t testing.TB, opt Options) error {
	t.Helper()
	home := u.Home
	if home == "" {
		home = "/home/" + u.Name
	}
	args := []string{"--no-create-home", "--user-group", "--shell", u.Shell, "--home-dir", home}
	if opt.Group {
		g := u.Name + "-g"
		if len(g) > maxName {
			return fmt.Errorf("testuser: group name %s: longer than %d", g, maxName)
		}
		if err := tool("groupadd", g); err != nil {
			return err
		}
		t.Cleanup(func() {
			if err := tool("groupdel", g); err != nil {
				t.Errorf("testuser: %v", err)
			}
		})
		args = append(args, "--groups", g)
		u.Group = &Group{Name: g}
	}
	if len(u.Name) > maxName {
		return fmt.Errorf("testuser: user name %s: longer than %d", u.Name, maxName)
	}
	if err := tool("useradd", append(args, u.Name)...); err != nil {
		return err
	}
	// Registered after the group's, so it runs first: userdel takes the
	// user out of the group before groupdel.
	t.Cleanup(func() { u.remove(t) })
	pw, err := user.Lookup(u.Name)
	if err != nil {
		return fmt.Errorf("testuser: look up %s: %w", u.Name, err)
	}
	u.Home = pw.HomeDir
	if u.UID, err = strconv.Atoi(pw.Uid); err != nil || u.UID == 0 {
		u.UID = 0
		return fmt.Errorf("testuser: uid of %s: %q %v", u.Name, pw.Uid, err)
	}
	if u.GID, err = strconv.Atoi(pw.Gid); err != nil {
		return fmt.Errorf("testuser: gid of %s: %w", u.Name, err)
	}
	if u.Group != nil {
		gr, err := user.LookupGroup(u.Group.Name)
		if err != nil {
			return fmt.Errorf("testuser: look up group %s: %w", u.Group.Name, err)
		}
		if u.Group.GID, err = strconv.Atoi(gr.Gid); err != nil {
			return fmt.Errorf("testuser: gid of group %s: %w", u.Group.Name, err)
		}
	}
	return nil
}

// tool runs one of the shadow tools; exit status 9 (useradd, groupadd:
// name already in use) is errTaken.
func tool(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err == nil {
		return nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 9 && (name == "useradd" || name == "groupadd") {
		return fmt.Errorf("testuser: %s %s: %w: %s", name, strings.Join(args, " "), errTaken, strings.TrimSpace(string(out)))
	}
	return fmt.Errorf("testuser: %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
}

// remove kills what the user still runs, then deletes the user and its
// own group (userdel leaves it when it is not the private group it
// expects).
func (u *User) remove(t testing.TB) {
	// UID is 0 only when the look-up after useradd failed: never kill
	// root's processes for it.
	if u.UID == 0 {
		t.Errorf("testuser: %s: uid unknown, its processes are not killed", u.Name)
	} else if left := killAll(u.UID, 10*time.Second); len(left) > 0 {
		t.Errorf("testuser: processes of %s (uid %d) outlive SIGKILL: %v", u.Name, u.UID, left)
	}
	if err := tool("userdel", u.Name); err != nil {
		t.Errorf("testuser: %v", err)
		return
	}
	if _, err := user.LookupGroup(u.Name); err == nil {
		if err := tool("groupdel", u.Name); err != nil {
			t.Errorf("testuser: %v", err)
		}
	}
}

// Command is a command run as the user, with no supplementary groups, in
// /: what the user could run from a shell of its own.
func (u *User) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID)}}
	cmd.Dir = "/"
	return cmd
}

// killAll SIGKILLs every process with uid among its real, effective,
// saved or filesystem uids until none is left or the deadline passes
// (zombies stay until their parent reaps them); it returns the pids left.
func killAll(uid int, within time.Duration) []int {
	deadline := time.Now().Add(within)
	for {
		pids := processesOf(uid)
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesOf lists the processes running with uid, read from /proc.
func processesOf(uid int) []int {
	paths, _ := filepath.Glob("/proc/[0-9]*/status")
	want := strconv.Itoa(uid)
	var pids []int
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // gone meanwhile
		}
		for _, line := range strings.Split(string(b), "\n") {
			ids, ok := strings.CutPrefix(line, "Uid:")
			if !ok {
				continue
			}
			for _, id := range strings.Fields(ids) {
				if id == want {
					pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
					pids = append(pids, pid)
					break
				}
			}
			break
		}
	}
	return pids
}

func validTag(tag string) bool {
	if len(tag) < 1 || len(tag) > 8 {
		return false
	}
	for _, c := range tag {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
