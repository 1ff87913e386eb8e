// Package statefile is the contract of the workers' state files, shared by
// the worker (which writes its slot's file), the master (which writes the
// file of a slot that has no worker, and reads them all at start to wait
// for a previous master's workers) and `taskmaster state` (which prints
// them with no master running).
//
// Layout: PARENT/workers (Dir) is a folder of mode DirMode (1733: every
// user's worker may create files there, each may replace only its own),
// inside a 0700 PARENT: the rundir, or (Parent) a configured statedir, or
// for root with a tmpfs /run, /run/taskmaster/HASH of the rundir. Each
// slot has NAME.json, a State encoded as JSON (one line, maybe padded
// with spaces), and .NAME.lock, the flock(2) that orders its writers; a
// Writer also keeps a spare, .NAME.json.PID.tmp, which it swaps with
// NAME.json (renameat2 RENAME_EXCHANGE) and removes when closed.
//
// Invariants: NAME.json is replaced in one rename or exchange, never
// rewritten in place; a spare is rewritten only under a write lease, so
// no reader has it open, and one opening it waits until it is complete;
// a writer never replaces or removes the file of a higher Generation
// (ErrSuperseded), and a Writer that skips reading the file's generation
// does so only while the file there is the very inode it last wrote (held
// open, so its number cannot be reused); a lock is waited on for a
// bounded time (ErrBusy).
// Readers open every file with O_NOFOLLOW|O_NONBLOCK, read only regular
// files and at most 64 KiB of each: what workers of other users wrote
// there is untrusted.
package statefile
