// Package statefile is the contract of the workers' state files, shared by
// the worker (which writes its slot's file), the master (which writes the
// file of a slot that has no worker, and reads them all at start to wait
// for a previous master's workers) and `taskmaster state` (which prints
// them with no master running).
//
// Layout: RUNDIR/workers (Dir) is a folder of mode DirMode (1733: every
// user's worker may create files there, each may replace only its own),
// inside the 0700 rundir. Each slot has NAME.json, a State encoded as
// JSON (one line), and .NAME.lock, the flock(2) that orders its writers.
//
// Invariants: a file is replaced in one rename, never rewritten in place;
// a writer never replaces or removes the file of a higher Generation
// (ErrSuperseded); a lock is waited on for a bounded time (ErrBusy).
// Readers open every file with O_NOFOLLOW|O_NONBLOCK, read only regular
// files and at most 64 KiB of each: what workers of other users wrote
// there is untrusted.
package statefile
