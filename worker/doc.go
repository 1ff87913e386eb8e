// Package worker is tm-worker: the process that owns one supervised job.
//
// The master re-execs its own binary with argv[0] "tm-worker" and argv[1]
// the process name, the worker's end of a SOCK_SEQPACKET socketpair on fd 3.
// Main runs before anything else in that process and never returns. In
// order, the worker:
//
//  1. reads its ipc.Spec (the only source of job settings);
//  2. does the privileged set-up: opens the job's output files;
//  3. drops privileges irrevocably (setgroups, setgid, setuid), reads them
//     back and verifies that setuid(0) now fails;
//  4. applies umask and working directory;
//  5. reports Ready, then runs jobs on the master's orders, one at a time.
//
// Invariants: the worker is the job's parent and reaps it, so an exit
// status is reported exactly once per Started and no zombie remains. The
// worker and each job lead sessions of their own: no job has a
// controlling terminal but the pty of a tty job, so none can reach the
// terminal the master was started from. The job runs with
// PR_SET_PDEATHSIG (from the one locked OS thread that forks: the main
// thread, which set up and lives until the worker exits; the loop runs
// on an unlocked goroutine and hands it each fork), so it dies with its
// worker. The job sees exactly fds 0, 1 and 2, default signal
// dispositions and an empty signal mask. When the job exits, however it
// ends, its group and everything it left to the worker (a subreaper) are
// killed and reaped before the exit is reported. When the master's end of
// the socket closes, the worker stops its job (stopsignal, then SIGKILL
// after stoptime) and exits.
//
// The worker keeps its slot's state file (RUNDIR/workers/NAME.json) as
// the contract in worker/statefile says, through a descriptor of the
// folder opened before the privilege drop.
//
// The worker does not decide policy: restarts, backoff and states are the
// master's. It only executes and reports.
package worker
