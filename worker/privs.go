package worker

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// account is the passwd entry of the user a job runs as.
type account struct {
	name, home, shell string
	gid               int
}

// identity is who the job runs as, resolved before any file is opened so
// that files created for the job get its owner.
type identity struct {
	uid, gid int
	groups   []int
	acct     *account // nil when the user does not change
}

// resolveIdentity fills in the user's primary group and supplementary
// groups (initgroups semantics, never root's). uid and gid of -1 keep the
// current ones; nil means nothing changes at all.
func resolveIdentity(uid, gid int) (*identity, error) {
	if uid < 0 && gid < 0 {
		return nil, nil
	}
	id := &identity{uid: uid, gid: gid}
	if uid >= 0 {
		a, err := lookupAccount(uid)
		if err != nil {
			return nil, err
		}
		id.acct = a
		if gid < 0 {
			id.gid = a.gid
		}
	} else {
		id.uid = os.Getuid()
	}
	id.groups = []int{id.gid}
	if id.acct != nil && id.acct.name != "" {
		g, err := memberGroups(id.acct.name, id.gid)
		if err != nil {
			return nil, err
		}
		id.groups = g
	}
	return id, nil
}

// dropPrivileges switches the worker to id for good: supplementary groups,
// then gid, then uid; then it reads every id back and proves that root
// cannot be regained. syscall's Set* apply to every thread of the process.
func dropPrivileges(id *identity) error {
	if id == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		if id.uid == os.Geteuid() && id.gid == os.Getegid() {
			return nil
		}
		return fmt.Errorf("run as uid %d gid %d: taskmaster is not running as root", id.uid, id.gid)
	}
	if err := setIDs(id.uid, id.gid, id.groups); err != nil {
		return err
	}
	return verifyIDs(id.uid, id.gid, id.groups)
}

func setIDs(uid, gid int, groups []int) error {
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups %v: %w", groups, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("setgid %d: %w", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("setuid %d: %w", uid, err)
	}
	return nil
}

// verifyIDs reads the identity back rather than trusting the calls above.
func verifyIDs(uid, gid int, groups []int) error {
	r, e, s := unix.Getresuid()
	if r != uid || e != uid || s != uid {
		return fmt.Errorf("verify uid: got %d/%d/%d, want %d", r, e, s, uid)
	}
	r, e, s = unix.Getresgid()
	if r != gid || e != gid || s != gid {
		return fmt.Errorf("verify gid: got %d/%d/%d, want %d", r, e, s, gid)
	}
	got, err := syscall.Getgroups()
	if err != nil {
		return fmt.Errorf("verify groups: %w", err)
	}
	if !sameSet(got, groups) {
		return fmt.Errorf("verify groups: got %v, want %v", got, groups)
	}
	if uid != 0 {
		if err := syscall.Setuid(0); err == nil {
			return fmt.Errorf("verify drop: setuid(0) succeeded")
		}
	}
	return nil
}

func sameSet(a, b []int) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// lookupAccount reads /etc/passwd for uid. A uid with no entry is allowed
// (as with numeric `user:`): it gets its own number as group and / as home.
func lookupAccount(uid int) (*account, error) {
	a := &account{home: "/", shell: "/bin/sh", gid: uid}
	err := scanColon("/etc/passwd", func(f []string) bool {
		if len(f) < 7 || f[2] != strconv.Itoa(uid) {
			return false
		}
		gid, err := strconv.Atoi(f[3])
		if err != nil {
			return false
		}
		*a = account{name: f[0], gid: gid, home: f[5], shell: f[6]}
		return true
	})
	return a, err
}

// memberGroups is initgroups(3): the primary gid plus every group of
// /etc/group that lists name as a member.
func memberGroups(name string, gid int) ([]int, error) {
	groups := []int{gid}
	err := scanColon("/etc/group", func(f []string) bool {
		if len(f) < 4 || !slices.Contains(strings.Split(f[3], ","), name) {
			return false
		}
		if g, err := strconv.Atoi(f[2]); err == nil && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
		return false
	})
	return groups, err
}

// scanColon calls fn with the fields of each line of a colon-separated
// database until fn returns true.
func scanColon(path string, fn func([]string) bool) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if fn(strings.Split(line, ":")) {
			return nil
		}
	}
	return sc.Err()
}
