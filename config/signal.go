package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// signals maps the standard Linux signal names (signal(7), without the SIG
// prefix) to their numbers. It is never written after initialisation.
var signals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"ILL": syscall.SIGILL, "TRAP": syscall.SIGTRAP, "ABRT": syscall.SIGABRT,
	"BUS": syscall.SIGBUS, "FPE": syscall.SIGFPE, "KILL": syscall.SIGKILL,
	"USR1": syscall.SIGUSR1, "SEGV": syscall.SIGSEGV, "USR2": syscall.SIGUSR2,
	"PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM, "TERM": syscall.SIGTERM,
	"STKFLT": syscall.SIGSTKFLT, "CHLD": syscall.SIGCHLD, "CONT": syscall.SIGCONT,
	"STOP": syscall.SIGSTOP, "TSTP": syscall.SIGTSTP, "TTIN": syscall.SIGTTIN,
	"TTOU": syscall.SIGTTOU, "URG": syscall.SIGURG, "XCPU": syscall.SIGXCPU,
	"XFSZ": syscall.SIGXFSZ, "VTALRM": syscall.SIGVTALRM, "PROF": syscall.SIGPROF,
	"WINCH": syscall.SIGWINCH, "IO": syscall.SIGIO, "PWR": syscall.SIGPWR,
	"SYS": syscall.SIGSYS,
}

// ParseSignal reads a signal written as a name, with or without the SIG
// prefix and in any case ("TERM", "SIGTERM", "term", "sigterm"), or as its
// number ("15"). Only the signals in SignalNames are accepted; anything else
// returns an error wrapping ErrUnknownSignal.
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if SignalName(syscall.Signal(n)) == "" {
			return 0, fmt.Errorf("%w %q", ErrUnknownSignal, s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if sig, ok := signals[strings.TrimPrefix(name, "SIG")]; ok {
		return sig, nil
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownSignal, s)
}

// SignalName returns sig's name without the SIG prefix ("TERM"), or "" for
// a signal ParseSignal does not know.
func SignalName(sig syscall.Signal) string {
	for name, s := range signals {
		if s == sig {
			return name
		}
	}
	return ""
}

// SignalNames returns every name ParseSignal accepts, without the SIG
// prefix, sorted. The slice is new on each call; callers may keep it.
func SignalNames() []string {
	names := make([]string, 0, len(signals))
	for name := range signals {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
