package testuser

import (
	"os"
	"os/user"
	"strconv"
	"strings"
	"testing"
)

// A user with a group exists as asked during the test; after its
// cleanup, though a process of the user was still running, the process,
// the user and both groups are gone.
func TestUserLifecycle(t *testing.T) {
	var u *User
	var pid int
	var sub *testing.T
	t.Run("user", func(t *testing.T) {
		sub = t
		u = New(t, "us", Options{Shell: "/bin/sh", Group: true})
		if !strings.HasPrefix(u.Name, "tmus-"+strconv.Itoa(os.Getpid())+"-") || len(u.Name) > maxName {
			t.Errorf("name %q", u.Name)
		}
		pw, err := user.Lookup(u.Name)
		if err != nil {
			t.Fatal(err)
		}
		if pw.Uid != strconv.Itoa(u.UID) || pw.Gid != strconv.Itoa(u.GID) || pw.HomeDir != "/home/"+u.Name || u.Home != pw.HomeDir || u.UID == 0 {
			t.Errorf("passwd %+v, User %+v", pw, u)
		}
		if _, err := os.Stat(u.Home); err == nil {
			t.Errorf("home %s was created", u.Home)
		}
		if u.Group == nil || u.Group.GID == u.GID {
			t.Fatalf("group %+v", u.Group)
		}
		if ids, _ := pw.GroupIds(); !contains(ids, strconv.Itoa(u.Group.GID)) {
			t.Errorf("%s's groups %v lack %d", u.Name, ids, u.Group.GID)
		}
		// A process the test leaves behind, in a session of its own so
		// that only the cleanup kills it.
		cmd := u.Command("/bin/sh", "-c", "exec sleep 1000")
		cmd.SysProcAttr.Setsid = true
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid = cmd.Process.Pid
		go cmd.Wait() // reap it once killed
		if got := processesOf(u.UID); !contains(itoa(got), strconv.Itoa(pid)) {
			t.Errorf("processesOf(%d) = %v, lacks %d", u.UID, got, pid)
		}
	})
	if sub.Skipped() {
		t.Skip("SKIP: the user was not made")
	}
	if _, err := user.Lookup(u.Name); err == nil {
		t.Errorf("user %s left behind", u.Name)
	}
	for _, g := range []string{u.Name, u.Group.Name} {
		if _, err := user.LookupGroup(g); err == nil {
			t.Errorf("group %s left behind", g)
		}
	}
	if left := processesOf(u.UID); len(left) > 0 {
		t.Errorf("processes of uid %d left (the sleep was %d): %v", u.UID, pid, left)
	}
}

// Defaults: /bin/false, home under /home, no group; names differ within
// one binary.
func TestDefaultsAndUniqueNames(t *testing.T) {
	a := New(t, "us", Options{})
	b := New(t, "us", Options{Home: "/nonexistent"})
	if a.Name == b.Name || a.UID == b.UID {
		t.Errorf("two users share %s/%d", a.Name, a.UID)
	}
	if a.Shell != "/bin/false" || a.Group != nil || a.Home != "/home/"+a.Name {
		t.Errorf("defaults: %+v", a)
	}
	if b.Home != "/nonexistent" {
		t.Errorf("home %q", b.Home)
	}
}

func TestBadTag(t *testing.T) {
	for _, tag := range []string{"", "Up", "a1", "toolongtag"} {
		if validTag(tag) {
			t.Errorf("tag %q accepted", tag)
		}
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

func itoa(ns []int) []string {
	var s []string
	for _, n := range ns {
		s = append(s, strconv.Itoa(n))
	}
	return s
}
