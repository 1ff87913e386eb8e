package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/master"
)

// Exec runs one command line on s and writes its output; it returns the
// exit code for ctl: 0, or 1 when it reported an error. Safe from any
// goroutine; it blocks until the command is done (start and stop wait for
// their processes, as supervisorctl does) or ctx ends (tail -f, events).
func Exec(ctx context.Context, s *master.Supervisor, args []string, out io.Writer) int {
	ctx, end := s.Begin(ctx)
	defer end()
	if len(args) == 0 {
		return 0
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(out, "ERROR (no such command): %s\n", args[0])
		return 1
	}
	if n := len(args) - 1; n < c.min || (c.max >= 0 && n > c.max) {
		return usage(out, c.name)
	}
	return c.run(s, ctx, args[1:], out)
}

// errorLine prints err as the shell does (master.ErrorText).
func errorLine(out io.Writer, err error) int {
	fmt.Fprintln(out, master.ErrorText(err))
	return 1
}

func usage(out io.Writer, name string) int {
	c, _ := lookup(name)
	fmt.Fprintf(out, "ERROR (bad arguments): usage: %s\n", c.usage)
	return 1
}

// printLines writes lines in one Write: through ctl, each Write is a
// packet, and a status of 1000 processes was 1000 of them.
func printLines(out io.Writer, lines []string) int {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	io.WriteString(out, b.String())
	return 0
}

func cmdHelp(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
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
	for _, c := range table() {
		fmt.Fprintf(out, "  %-26s %s\n", c.usage, c.help)
	}
	fmt.Fprintln(out, "NAME is all, a program (all its processes), prog:* or one process.")
	return 0
}

func cmdStatus(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	asJSON := false
	var names []string
	for _, a := range args {
		if a == "--json" {
			asJSON = true
		} else {
			names = append(names, a)
		}
	}
	infos, err := s.Status(names)
	if err != nil {
		return errorLine(out, err)
	}
	if asJSON {
		if infos == nil {
			infos = []master.ProcessInfo{}
		}
		b, _ := json.MarshalIndent(infos, "", "  ")
		fmt.Fprintf(out, "%s\n", b)
		return 0
	}
	lines := make([]string, len(infos))
	for i, in := range infos {
		lines[i] = StatusLine(in)
	}
	return printLines(out, lines)
}

// StatusLine formats in as supervisorctl's status does.
func StatusLine(in master.ProcessInfo) string {
	return strings.TrimRight(fmt.Sprintf("%-32s %-10s%s", in.Name, in.State, in.Description), " ")
}

// opDone is a Result's success word, supervisorctl's.
var opDone = map[master.Op]string{
	master.OpStart: "started", master.OpStop: "stopped", master.OpSignal: "signalled", master.OpClear: "cleared",
}

// printResults prints one line per Result, as supervisorctl does
// (`NAME: started`, `NAME: ERROR (not running)`); 1 if any failed.
func printResults(out io.Writer, rs []master.Result, err error) int {
	if err != nil {
		return errorLine(out, err)
	}
	code := 0
	for _, r := range rs {
		if r.Err != nil {
			fmt.Fprintf(out, "%s: ERROR (%s)\n", r.Name, master.Reason(r.Err))
			code = 1
			continue
		}
		fmt.Fprintf(out, "%s: %s\n", r.Name, opDone[r.Op])
	}
	return code
}

func cmdStart(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	rs, err := s.Start(ctx, args, true)
	return printResults(out, rs, err)
}

func cmdStop(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	rs, err := s.Stop(ctx, args, true)
	return printResults(out, rs, err)
}

func cmdRestart(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	rs, err := s.Restart(ctx, args)
	return printResults(out, rs, err)
}

func cmdSignal(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	rs, err := s.SignalName(args[0], args[1:])
	return printResults(out, rs, err)
}

func cmdClear(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	rs, err := s.Clear(args)
	return printResults(out, rs, err)
}

func cmdPid(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(out, s.Pid())
		return 0
	}
	infos, err := s.Status(args)
	if err != nil {
		return errorLine(out, err)
	}
	for _, in := range infos {
		fmt.Fprintln(out, in.Pid)
	}
	return 0
}

func cmdAvail(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	for _, c := range s.Avail() {
		auto, use := "manual", "avail"
		if c.AutoStart {
			auto = "auto"
		}
		if c.InUse {
			use = "in use"
		}
		fmt.Fprintf(out, "%-32s %-9s %s\n", c.Name, use, auto)
	}
	return 0
}

// cmdAdd and cmdRemove print one line per program, as supervisorctl's
// add and remove do.
func cmdAdd(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	return eachProgram(args, out, "added", s.AddProgram)
}

func cmdRemove(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	return eachProgram(args, out, "removed", s.RemoveProgram)
}

func eachProgram(names []string, out io.Writer, done string, f func(string) error) int {
	code := 0
	for _, n := range names {
		if err := f(n); err != nil {
			code = errorLine(out, err)
			continue
		}
		fmt.Fprintf(out, "%s: %s\n", n, done)
	}
	return code
}

func cmdVersion(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	fmt.Fprintln(out, s.Version())
	return 0
}

func cmdShutdown(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	<-s.Shutdown()
	fmt.Fprintln(out, "Shut down")
	return 0
}

func cmdReread(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	plan, err := s.Reread()
	if err != nil {
		return configError(out, err)
	}
	return printLines(out, master.PlanLines(plan))
}

// cmdReload waits until every process the reload stopped has stopped, so
// a script can check the result right after.
func cmdReload(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	plan, done, err := s.Reload()
	if err != nil {
		return configError(out, err)
	}
	<-done
	return printLines(out, master.PlanLines(plan))
}

// configError prints every error of a rejected config.
func configError(out io.Writer, err error) int {
	if errs, ok := errors.AsType[config.Errors](err); ok {
		for _, e := range errs {
			fmt.Fprintln(out, e)
		}
		fmt.Fprintln(out, "ERROR (config has errors): nothing changed")
		return 1
	}
	fmt.Fprintf(out, "ERROR (%s): nothing changed\n", master.Reason(err))
	return 1
}

func cmdNotify(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	if args[0] != "on" && args[0] != "off" {
		return usage(out, "notify")
	}
	if err := s.SetNotify(args[0] == "on"); err != nil {
		return errorLine(out, err)
	}
	fmt.Fprintf(out, "notify: %s\n", args[0])
	return 0
}

// cmdEvents streams event lines (what the shell prints above its prompt)
// until ctx is done: ctl's remote shell shows them this way.
func cmdEvents(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	for line := range s.Events(ctx) {
		if _, err := fmt.Fprintln(out, line); err != nil {
			return 0
		}
	}
	return 0
}

// ErrNeedsTerminal: attach reached Exec, which has no terminal to lend.
var ErrNeedsTerminal = errors.New("attach needs a terminal")

// cmdAttach runs when attach reaches Exec: the client has no terminal to
// lend (a pipe, a script, a client that did not ask for the hand-off), or
// the line is not `attach NAME`. It answers what attaching would have
// answered, then that a terminal is needed.
func cmdAttach(s *master.Supervisor, ctx context.Context, args []string, out io.Writer) int {
	err := s.Attachable(args[0])
	if err == nil {
		err = &master.Error{Kind: ErrNeedsTerminal, Detail: "run it from the interactive shell or `taskmaster ctl attach NAME` on a terminal"}
	}
	return errorLine(out, err)
}
