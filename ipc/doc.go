// Package ipc is taskmaster's wire protocol: the typed messages exchanged by
// the master and its workers, and by `taskmaster ctl` and the master.
//
// Transport: every message is one packet on a SOCK_SEQPACKET unix socket
// (a socketpair between master and worker, a listening socket for ctl), so
// the kernel keeps message boundaries and no framing is needed. A packet is
// one byte of Kind followed by the msgpack encoding of that kind's struct.
//
// Master and worker:
//
//	master                          worker
//	  │ ── Spec ─────────────────────▶ │  once, first: everything the job needs
//	  │ ◀──────────────────── Ready ── │  set up done, privileges dropped
//	  │ ── Start ────────────────────▶ │  fork/exec the job
//	  │ ◀── Started | SpawnError ───── │
//	  │ ── Stop | Signal ────────────▶ │
//	  │ ◀──────────────────── Exited ─ │  exact status, once per Started
//	  │ ── Status ───────────────────▶ │  the master's view, for the state file
//	  │ ── Tail ─────────────────────▶ │  output: the log file (its fd), or kept
//	  │ ◀────────────────── TailData ─ │  one answer per Tail
//	  │ ── Clear ────────────────────▶ │  truncate the job's logs (its fds)
//	  │ ◀─────────────────── Cleared ─ │  one answer per Clear
//	  │ ── Reopen ───────────────────▶ │  reopen the job's logs (SIGUSR2)
//	  │ ── Input ────────────────────▶ │  a tty job's stdin (sendProcessStdin)
//	  │ ◀──────────────────── Notice ─ │  any time: a log write/rotation problem
//	  │ ── Quit ─────────────────────▶ │  the slot is done: stop the job, exit
//
// EOF on the socketpair, in either direction, ends the relationship: the
// worker stops its job and exits; the master treats the worker as dead.
//
// ctl and master: the client sends one Request; the master answers with any
// number of Output packets and one Done carrying the exit code.
//
// Attach: for `attach NAME` in a Request with Attach set (a client with a
// terminal), the master answers nothing itself. It passes
// the client's connection to the job's worker in an Attach (SCM_RIGHTS),
// and the worker serves the client directly, so no attach byte crosses the
// master:
//
//	client                          worker
//	  │ ◀──────────────────── Attached │  then the recent output, replayed
//	  │ ◀──────────────────── Output ─ │  the job's terminal, live
//	  │ ── Input | Resize ───────────▶ │
//	  │ ◀───────────────── JobExited ─ │  the job ended; the worker hangs up
//
// The client detaches by closing the connection. An error (no such
// process, not a tty job) comes from the master as Output and Done.
//
// Invariants: Decode treats its input as hostile. Packets are bounded by
// MaxPacket, unknown kinds and unknown fields are rejected, trailing bytes
// are rejected, and no input makes it panic.
package ipc
