package master

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/taskmaster/taskmaster/config"
)

// command is one shell command. run writes its output and returns the
// exit code for ctl (0, or 1 when it reported an error).
type command struct {
	name    string
	aliases []string
	usage   string
	help    string
	run     func(s *Supervisor, ctx context.Context, args []string, out io.Writer) int
}

func commands() []command {
	return []command{
		{"help", nil, "help [COMMAND]", "Show the commands, or one command's usage.", cmdHelp},
		{"status", nil, "status [NAME...] [--json]", "Show processes' states (all without NAME).", cmdStatus},
		{"start", nil, "start NAME...", "Start processes and wait until they run or fail.", cmdStart},
		{"stop", nil, "stop NAME...", "Stop processes and wait until they stopped.", cmdStop},
		{"restart", nil, "restart NAME...", "Stop, then start processes.", cmdRestart},
		{"signal", nil, "signal SIG NAME...", "Send a signal (TERM, SIGHUP, 9, ...) to processes.", cmdSignal},
		{"pid", nil, "pid [NAME...]", "Show the master's pid, or the processes' pids.", cmdPid},
		{"reread", nil, "reread", "Show what a reload would change, changing nothing.", cmdReread},
		{"reload", []string{"update"}, "reload", "Re-read the config and apply it; unchanged programs are untouched.", cmdReload},
		{"avail", nil, "avail", "List every configured process.", cmdAvail},
		{"tail", nil, "tail [-f] [-N] NAME [stdout|stderr]", "Show the last N bytes (1600) of a process's output; -f follows it.", cmdTail},
		{"maintail", nil, "maintail [-f] [-N]", "Show the last N bytes (1600) of taskmaster's event log; -f follows it.", cmdMaintail},
		{"clear", nil, "clear NAME...", "Empty processes' log files and kept output.", cmdClear},
		{"attach", []string{"fg"}, "attach NAME", "Attach the terminal to a tty process; the detach key (config detachkey) leaves it running.", cmdAttach},
		{"notify", nil, "notify on|off", "Turn the shells' event lines on or off.", cmdNotify},
		{"events", nil, "events", "Print event lines as they happen, until interrupted.", cmdEvents},
		{"version", nil, "version", "Show taskmaster's version.", cmdVersion},
		{"shutdown", []string{"exit", "quit"}, "shutdown", "Stop every process and exit the master.", cmdShutdown},
	}
}

// Commands returns the command names and aliases, for completion.
func Commands() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
		names = append(names, c.aliases...)
	}
	slices.Sort(names)
	return names
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name || slices.Contains(c.aliases, name) {
			return c, true
		}
	}
	return command{}, false
}

// Exec runs one command line and writes its output. Safe from any
// goroutine; it blocks until the command is done (start and stop wait for
// their processes, as supervisorctl does).
func (s *Supervisor) Exec(args []string, out io.Writer) int {
	return s.ExecContext(context.Background(), args, out)
}

// ExecContext is Exec for commands that can be interrupted: `tail -f`
// ends when ctx is done (Ctrl-C in the shell, a ctl client gone).
func (s *Supervisor) ExecContext(ctx context.Context, args []string, out io.Writer) int {
	s.execs.add(1)
	defer s.execs.add(-1)
	if len(args) == 0 {
		return 0
	}
	// A command still running when the master's loop ends (a follower,
	// tail -f) ends with it instead of holding the exit back.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.life, cancel)()
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(out, "ERROR (no such command): %s\n", args[0])
		return 1
	}
	return c.run(s, ctx, args[1:], out)
}

// resolve maps NAMEs (all, prog, prog:*, prog:proc) to processes, in
// status order without duplicates. `all` is every process, and no
// process at all is no error: with no program configured, `status` prints
// nothing and succeeds, as supervisorctl does. Loop only.
func (s *Supervisor) resolve(names []string) ([]*Process, error) {
	var ps []*Process
	for _, n := range names {
		found := s.match(n)
		if len(found) == 0 && n != "all" {
			return nil, noSuchProcess(n)
		}
		for _, p := range found {
			if !slices.Contains(ps, p) {
				ps = append(ps, p)
			}
		}
	}
	return ps, nil
}

func (s *Supervisor) match(name string) []*Process {
	if name == "all" {
		return slices.Clone(s.order)
	}
	if p, ok := s.procs[name]; ok {
		return []*Process{p}
	}
	group, proc, hasColon := strings.Cut(name, ":")
	var ps []*Process
	for _, p := range s.order {
		if p.Program.Name != group {
			continue
		}
		if !hasColon || proc == "*" || (proc == group && p.Name == group) {
			ps = append(ps, p)
		}
	}
	return ps
}

// errorLine prints err as the shell does; see ErrorText.
func errorLine(out io.Writer, err error) int {
	fmt.Fprintln(out, ErrorText(err))
	return 1
}

// resolveOne maps a NAME that must name exactly one process. Loop only.
func (s *Supervisor) resolveOne(command, name string) (*Process, error) {
	ps, err := s.resolve([]string{name})
	if err != nil {
		return nil, err
	}
	if len(ps) != 1 {
		return nil, refusal{"bad arguments", fmt.Sprintf("%s takes one process; %s names %d", command, name, len(ps))}
	}
	return ps[0], nil
}

func usage(out io.Writer, name string) int {
	c, _ := lookup(name)
	fmt.Fprintf(out, "ERROR (bad arguments): usage: %s\n", c.usage)
	return 1
}

func cmdHelp(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	if len(args) > 0 {
		c, ok := lookup(args[0])
		if !ok {
			fmt.Fprintf(out, "ERROR (no such command): %s\n", args[0])
			return 1
		}
		fmt.Fprintf(out, "%s\n    %s\n", c.usage, c.help)
		if len(c.aliases) > 0 {
			fmt.Fprintf(out, "    Aliases: %s\n", strings.Join(c.aliases, ", "))
		}
		return 0
	}
	fmt.Fprintln(out, "Commands (help COMMAND for details):")
	for _, c := range commands() {
		fmt.Fprintf(out, "  %-26s %s\n", c.usage, c.help)
	}
	fmt.Fprintln(out, "NAME is all, a program (all its processes), prog:* or one process.")
	return 0
}

func cmdStatus(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	asJSON := false
	var names []string
	for _, a := range args {
		if a == "--json" {
			asJSON = true
		} else {
			names = append(names, a)
		}
	}
	if len(names) == 0 {
		names = []string{"all"}
	}
	var infos []ProcessInfo
	err := s.onEach(names, func(p *Process) { infos = append(infos, p.info(s.clock.Now())) })
	if err != nil {
		return errorLine(out, err)
	}
	if asJSON {
		if infos == nil {
			infos = []ProcessInfo{}
		}
		b, _ := json.MarshalIndent(infos, "", "  ")
		fmt.Fprintf(out, "%s\n", b)
		return 0
	}
	for _, in := range infos {
		fmt.Fprintln(out, statusLine(in))
	}
	return 0
}

// result is one process's outcome line of start/stop.
type result struct {
	p  *Process
	ch chan string
}

func (r result) print(out io.Writer) int {
	msg := <-r.ch
	if msg == "" {
		return 0
	}
	fmt.Fprintf(out, "%s: %s\n", r.p.Name, msg)
	if strings.HasPrefix(msg, "ERROR") {
		return 1
	}
	return 0
}

// each resolves names and calls f on the loop for every process, then
// prints each outcome in order as it arrives.
func (s *Supervisor) each(name string, args []string, out io.Writer, f func(p *Process, done func(string))) int {
	if len(args) == 0 {
		return usage(out, name)
	}
	var rs []result
	var err error
	s.do(func() {
		var ps []*Process
		if ps, err = s.resolve(args); err != nil {
			return
		}
		for _, p := range ps {
			r := result{p, make(chan string, 1)}
			rs = append(rs, r)
			f(p, func(msg string) { r.ch <- msg })
		}
	})
	if err != nil {
		return errorLine(out, err)
	}
	code := 0
	for _, r := range rs {
		code |= r.print(out)
	}
	return code
}

func cmdStart(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	return s.each("start", args, out, s.startOne)
}

func (s *Supervisor) startOne(p *Process, done func(string)) {
	if err := p.Start(); err != nil {
		done(fmt.Sprintf("ERROR (%v)", err))
		return
	}
	s.Watch(p, func(p *Process) bool {
		switch p.state {
		case Starting:
			return false
		case Running:
			done("started")
		case Backoff, Fatal:
			if p.spawn != "" {
				done("ERROR (spawn error)")
			} else {
				done("ERROR (abnormal termination)")
			}
		default:
			done("ERROR (abnormal termination)")
		}
		return true
	})
}

func cmdStop(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	return s.each("stop", args, out, s.stopOne)
}

func (s *Supervisor) stopOne(p *Process, done func(string)) {
	if err := p.Stop(); err != nil {
		done("ERROR (not running)")
		return
	}
	s.Watch(p, func(p *Process) bool {
		if p.state == Stopping {
			return false
		}
		done("stopped")
		return true
	})
}

func cmdRestart(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	if len(args) == 0 {
		return usage(out, "restart")
	}
	code := s.each("restart", args, out, func(p *Process, done func(string)) {
		if p.state.active() || p.state == Stopping {
			s.stopOne(p, done)
			return
		}
		done("")
	})
	if code != 0 {
		return code
	}
	return cmdStart(s, ctx, args, out)
}

func cmdSignal(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	if len(args) < 2 {
		return usage(out, "signal")
	}
	sig, err := config.ParseSignal(args[0])
	if err != nil {
		fmt.Fprintf(out, "ERROR (bad signal name): %s\n", args[0])
		return 1
	}
	return s.each("signal", args[1:], out, func(p *Process, done func(string)) {
		if err := p.Signal(sig); err != nil {
			done("ERROR (not running)")
			return
		}
		done("signalled")
	})
}

func cmdPid(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(out, os.Getpid())
		return 0
	}
	var pids []string
	if err := s.onEach(args, func(p *Process) { pids = append(pids, fmt.Sprint(p.pid)) }); err != nil {
		return errorLine(out, err)
	}
	return printLines(out, pids)
}

// onEach resolves names and calls f for each process, on the loop.
func (s *Supervisor) onEach(names []string, f func(*Process)) error {
	var err error
	s.do(func() {
		var ps []*Process
		if ps, err = s.resolve(names); err == nil {
			for _, p := range ps {
				f(p)
			}
		}
	})
	return err
}

func printLines(out io.Writer, lines []string) int {
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	return 0
}

func cmdAvail(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	var lines []string
	s.do(func() {
		for _, p := range s.order {
			auto := "manual"
			if p.Program.AutoStart {
				auto = "auto"
			}
			lines = append(lines, fmt.Sprintf("%-32s %-9s %s", p.Name, "in use", auto))
		}
	})
	return printLines(out, lines)
}

func cmdVersion(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	fmt.Fprintln(out, Version)
	return 0
}

func cmdShutdown(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	<-s.Shutdown()
	fmt.Fprintln(out, "Shut down")
	return 0
}

func cmdReread(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	lines, err := s.Reread()
	if err != nil {
		return configError(out, err)
	}
	return printLines(out, lines)
}

// cmdReload waits until every process the reload stopped has stopped, so
// a script can check the result right after.
func cmdReload(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	lines, done, err := s.Reload()
	if err != nil {
		return configError(out, err)
	}
	<-done
	return printLines(out, lines)
}

// configError prints every error of a rejected config.
func configError(out io.Writer, err error) int {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(out, e)
		}
		fmt.Fprintln(out, "ERROR (config has errors): nothing changed")
		return 1
	}
	fmt.Fprintf(out, "ERROR (%v): nothing changed\n", err)
	return 1
}

func cmdNotify(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	if len(args) != 1 || (args[0] != "on" && args[0] != "off") {
		return usage(out, "notify")
	}
	s.do(func() { s.notify = args[0] == "on" })
	fmt.Fprintf(out, "notify: %s\n", args[0])
	return 0
}

// IsAttach reports whether a command line is attach (or fg), which a
// terminal client runs itself.
func IsAttach(args []string) bool {
	if len(args) == 0 {
		return false
	}
	c, ok := lookup(args[0])
	return ok && c.name == "attach"
}

// cmdEvents streams event lines (what the shell prints above its prompt)
// until ctx is done: ctl's remote shell shows them this way.
func cmdEvents(s *Supervisor, ctx context.Context, args []string, out io.Writer) int {
	if len(args) != 0 {
		return usage(out, "events")
	}
	ch := make(chan string, 64)
	if !s.do(func() { s.subs[ch] = true }) {
		return 0
	}
	defer s.Post(func() { delete(s.subs, ch) })
	for {
		select {
		case line := <-ch:
			if _, err := fmt.Fprintln(out, line); err != nil {
				return 0
			}
		case <-ctx.Done():
			return 0
		case <-s.closed:
			return 0
		}
	}
}
