package command

import (
	"context"
	"io"
	"slices"
	"strings"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/master"
)

// command is one entry of the table: the one place a command is defined.
// Its help, its dispatch, its argument count and its Tab completion all
// come from here.
type command struct {
	name    string
	aliases []string
	usage   string
	help    string
	// min and max bound the argument count (max -1: no bound); a line
	// outside them gets the usage error before run is called.
	min, max int
	// complete lists what may come as the next argument, given the
	// arguments before it; names lists the NAME forms (NameCandidates),
	// called only when a NAME may come.
	complete func(args []string, names func() []string) []string
	// run writes the command's output and returns ctl's exit code.
	run func(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int
}

// Completers of the table.
var (
	noArgs   = func([]string, func() []string) []string { return nil }
	anyNames = func(_ []string, names func() []string) []string { return names() }
	programs = func(_ []string, names func() []string) []string {
		var progs []string
		for _, n := range names() {
			if n != "all" && !strings.Contains(n, ":") {
				progs = append(progs, n)
			}
		}
		return progs
	}
	oneName = func(args []string, names func() []string) []string {
		if len(args) == 0 {
			return names()
		}
		return nil
	}
)

func table() []command {
	return []command{
		{"help", nil, "help [COMMAND]", "Show the commands, or one command's usage.", 0, 1,
			func(args []string, _ func() []string) []string {
				if len(args) == 0 {
					return Names()
				}
				return nil
			}, cmdHelp},
		{"status", nil, "status [NAME...] [--json]", "Show processes' states (all without NAME).", 0, -1,
			func(_ []string, names func() []string) []string { return append(names(), "--json") }, cmdStatus},
		{"start", nil, "start NAME...", "Start processes and wait until they run or fail.", 1, -1, anyNames, cmdStart},
		{"stop", nil, "stop NAME...", "Stop processes and wait until they stopped.", 1, -1, anyNames, cmdStop},
		{"restart", nil, "restart NAME...", "Stop, then start processes.", 1, -1, anyNames, cmdRestart},
		{"signal", nil, "signal SIG NAME...", "Send a signal (TERM, SIGHUP, 9, ...) to processes.", 2, -1,
			func(args []string, names func() []string) []string {
				if len(args) == 0 {
					return config.SignalNames()
				}
				return names()
			}, cmdSignal},
		{"pid", nil, "pid [NAME...]", "Show the master's pid, or the processes' pids.", 0, -1, anyNames, cmdPid},
		{"reread", nil, "reread", "Show what a reload would change, changing nothing.", 0, -1, noArgs, cmdReread},
		{"reload", []string{"update"}, "reload", "Re-read the config and apply it; unchanged programs are untouched.", 0, -1, noArgs, cmdReload},
		{"add", nil, "add PROGRAM...", "Activate programs of the config file that are not active (after remove).", 1, -1, noArgs, cmdAdd},
		{"remove", nil, "remove PROGRAM...", "Deactivate stopped programs until add or reload.", 1, -1, programs, cmdRemove},
		{"avail", nil, "avail", "List every configured process.", 0, -1, noArgs, cmdAvail},
		{"tail", nil, "tail [-f] [-N] NAME [stdout|stderr]", "Show the last N bytes (1600) of a process's output; -f follows it.", 1, -1,
			func(args []string, names func() []string) []string {
				switch len(slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.HasPrefix(a, "-") })) {
				case 0:
					return append(names(), "-f")
				case 1:
					return []string{master.Stdout, master.Stderr}
				}
				return nil
			}, cmdTail},
		{"maintail", nil, "maintail [-f] [-N]", "Show the last N bytes (1600) of taskmaster's event log; -f follows it.", 0, -1, noArgs, cmdMaintail},
		{"clear", nil, "clear NAME...", "Empty processes' log files and kept output.", 1, -1, anyNames, cmdClear},
		{"attach", []string{"fg"}, "attach NAME", "Attach the terminal to a tty process; the detach key (config detachkey) leaves it running.", 1, 1, oneName, cmdAttach},
		{"notify", nil, "notify on|off", "Turn the shells' event lines on or off.", 1, 1,
			func(args []string, _ func() []string) []string {
				if len(args) == 0 {
					return []string{"on", "off"}
				}
				return nil
			}, cmdNotify},
		{"events", nil, "events", "Print event lines as they happen, until interrupted.", 0, 0, noArgs, cmdEvents},
		{"version", nil, "version", "Show taskmaster's version.", 0, -1, noArgs, cmdVersion},
		{"shutdown", []string{"exit", "quit"}, "shutdown", "Stop every process and exit the master.", 0, -1, noArgs, cmdShutdown},
	}
}

// Names returns the command names and aliases, sorted, for completion.
func Names() []string {
	var names []string
	for _, c := range table() {
		names = append(names, c.name)
		names = append(names, c.aliases...)
	}
	slices.Sort(names)
	return names
}

func lookup(name string) (command, bool) {
	for _, c := range table() {
		if c.name == name || slices.Contains(c.aliases, name) {
			return c, true
		}
	}
	return command{}, false
}

// is reports whether args is a line of the command called name (or an
// alias of it).
func is(args []string, name string) bool {
	if len(args) == 0 {
		return false
	}
	c, ok := lookup(args[0])
	return ok && c.name == name
}

// IsAttach reports whether a command line is `attach NAME` (or fg), which
// a terminal client hands off to the job; any other attach line runs as a
// command and answers its error.
func IsAttach(args []string) bool { return len(args) == 2 && is(args, "attach") }

// IsExit reports whether a command line ends a shell session.
func IsExit(args []string) bool { return is(args, "shutdown") }

// Follows reports whether a command line runs until interrupted (events,
// tail -f, maintail -f): a terminal client lets Ctrl-C end it.
func Follows(args []string) bool {
	return is(args, "events") || ((is(args, "tail") || is(args, "maintail")) && slices.Contains(args[1:], "-f"))
}

// Complete lists what may come after the words prev of a command line
// (the command names when prev is empty); names lists the NAME forms and
// is called only when a NAME may come.
func Complete(prev []string, names func() []string) []string {
	if len(prev) == 0 {
		return Names()
	}
	c, ok := lookup(prev[0])
	if !ok {
		return nil
	}
	return c.complete(prev[1:], names)
}

// NameCandidates derives the NAME forms from process names: all, every
// process, and each program with numprocs > 1 as `prog` and `prog:*`.
func NameCandidates(procs []string) []string {
	names := []string{"all"}
	for _, n := range procs {
		names = append(names, n)
		if prog, _, ok := strings.Cut(n, ":"); ok && !slices.Contains(names, prog) {
			names = append(names, prog, prog+":*")
		}
	}
	return names
}
