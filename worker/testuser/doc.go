// Package testuser gives a test a throwaway local user to play: a job's
// user, an attacker, anyone but root. It is support code for tests only;
// no program imports it.
//
// New creates a uniquely named local user with useradd (and, if asked, a
// supplementary group with groupadd) for one test, and returns its name,
// ids, home and shell. The test skips, loudly ("SKIP: ..."), when it does
// not run as root or when the tools are missing; any other failure to
// create the user fails the test.
//
// Invariants: names are "tm" + the caller's tag + "-" + the test binary's
// pid + "-" + a counter, so tests running concurrently, in one binary or
// in several, never share a user, and every name fits useradd's 32
// characters. At t.Cleanup, even when the test fails, every process still
// running with the user's uid is killed, then the user, its own group and
// the supplementary group are removed; what cannot be removed fails the
// test rather than being left behind silently. The home folder is never
// created.
package testuser
