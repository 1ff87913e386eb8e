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

// dropPrivileges switches the worker to uid and gid for good: supplementary
// groups (initgroups semantics, never root's), then gid, then uid, then
// reads every id back and proves that root cannot be regained. uid and gid
// of -1 leave the identity unchanged. It returns the user's account when
// the user changed. syscall's Set* apply to every thread of the process.
func dropPrivileges(uid, gid int) (*account, error) {
	if uid < 0 && gid < 0 {
		return nil, nil
	}
	var acct *account
	if uid >= 0 {
		a, err := lookupAccount(uid)
		if err != nil {
			return nil, err
		}
		acct = a
		if gid < 0 {
			gid = a.gid
		}
	}
	if uid < 0 {
		uid = os.Getuid()
	}
	groups := []int{gid}
	if acct != nil && acct.name != "" {
		g, err := memberGroups(acct.name, gid)
		if err != nil {
			return nil, err
		}
		groups = g
	}
	if os.Geteuid() != 0 {
		if uid == os.Geteuid() && gid == os.Getegid() {
			return acct, nil
		}
		return nil, fmt.Errorf("run as uid %d gid %d: taskmaster is not running as root", uid, gid)
	}
	if err := setIDs(uid, gid, groups); err != nil {
		return nil, err
	}
	return acct, verifyIDs(uid, gid, groups)
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
