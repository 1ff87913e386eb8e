package master

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/worker/statefile"
)

// ServeOptions describe one run of the master.
type ServeOptions struct {
	Config *config.Config
	// Shell runs the foreground shell; nil runs headless (--no-shell).
	// It must return when the master shuts down or on its own EOF (after
	// asking for shutdown).
	Shell func(s *Supervisor)
	// Notify receives event lines (see Options.Notify).
	Notify func(line string)
	// OnPanic: see Options.OnPanic.
	OnPanic func()
	// Interactive says Shell edits lines on a terminal. SIGINT then does
	// not shut down: Ctrl-C there is a key that clears the line, and a
	// SIGINT can only come from a terminal left cooked or from kill,
	// never a reason to stop every program. SIGTERM, `shutdown` and
	// Ctrl-D still do. Headless and piped masters shut down on SIGINT.
	Interactive bool
	Stderr      io.Writer
	// Faces are the servers of the control API (the ctl socket, the
	// XML-RPC server), made in order once the Supervisor is built and
	// served until the master exits. An error making one ends the start.
	Faces []func(s *Supervisor) (Face, error)
}

// Face is a server of the control API. Serve returns after Close.
type Face interface {
	Serve()
	Close() error
}

// Serve runs a master until it is shut down and returns the exit code.
func Serve(o ServeOptions) int {
	// Descriptors inherited from whoever started us must not reach jobs.
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	cfg := o.Config
	rd, err := LockRunDir(cfg.Global.RunDir, statefile.Parent(cfg.Global.RunDir, cfg.Global.StateDir, os.Geteuid()))
	if err != nil {
		fmt.Fprintf(o.Stderr, "taskmaster: %v\n", err)
		return 1
	}
	defer rd.Release()
	log, err := OpenEventLog(cfg.Global.LogFile, RealClock{})
	if err != nil {
		fmt.Fprintf(o.Stderr, "taskmaster: %v\n", err)
		return 1
	}
	defer log.Close()
	if e := cfg.Exposed(os.Geteuid(), os.Environ()); !e.Empty() {
		fmt.Fprintf(o.Stderr, "taskmaster: warning: %s\n", e)
		log.Logf("WARN", "%s", e)
	}
	if b, err := CheckFDBudget(cfg); err == nil && b.Short() {
		fmt.Fprintf(o.Stderr, "taskmaster: warning: %s\n", b.Warning())
		log.Logf("WARN", "%s", b.Warning())
	} else if err == nil && b.Limit > fdReserve() {
		log.Logf("INFO", "open files limit %d: room for %d processes, the config has %d", b.Limit, b.Limit-fdReserve(), b.Processes)
	}
	// Nothing starts while a previous master's workers still run.
	var longest time.Duration
	for _, prog := range cfg.Programs {
		longest = max(longest, prog.StopTime)
	}
	gen := waitPrevious(rd.States, log, o.Stderr, longest+DefaultShutdownGrace, DefaultShutdownGrace)
	if rd.Legacy != nil { // a previous master that kept them in the rundir
		gen = max(gen, waitPrevious(rd.Legacy, log, o.Stderr, longest+DefaultShutdownGrace, DefaultShutdownGrace))
	}
	s := New(cfg, log, Options{Notify: o.Notify, OnPanic: o.OnPanic, StateDir: rd.StateDir, States: rd.States, Generation: gen})
	// Opened now, so the master's descriptors are the same before the
	// first spawn and after the last worker is gone.
	if _, err := s.devNull(); err != nil {
		fmt.Fprintf(o.Stderr, "taskmaster: %v\n", err)
		return 1
	}
	for _, newFace := range o.Faces {
		f, err := newFace(s)
		if err != nil {
			fmt.Fprintf(o.Stderr, "taskmaster: %v\n", err)
			return 1
		}
		defer f.Close()
		s.GoSafe(f.Serve)
	}

	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	s.GoSafe(func() { s.handleSignals(sigs, o.Interactive) })
	if o.Shell != nil {
		s.GoSafe(func() { o.Shell(s) })
	}
	s.Run()
	// Let commands in flight (`shutdown` itself) print their answer.
	s.execs.wait(5 * time.Second)
	return 0
}

func (s *Supervisor) handleSignals(sigs <-chan os.Signal, interactive bool) {
	for sig := range sigs {
		switch sig {
		case syscall.SIGTERM, syscall.SIGINT:
			if sig == syscall.SIGINT && interactive {
				s.log.Logf("INFO", "received SIGINT: ignored, the shell runs on a terminal (shutdown, Ctrl-D or SIGTERM stop the master)")
				continue
			}
			s.log.Logf("INFO", "received %s", sig)
			s.Shutdown()
		case syscall.SIGUSR2:
			s.ReopenLogs()
		case syscall.SIGHUP:
			s.log.Logf("INFO", "received SIGHUP: reloading")
			s.RequestReload()
		}
	}
}
