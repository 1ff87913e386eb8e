// Command taskmaster is the supervisor: the master with its shell, the ctl
// client, the config checker and the state-file reader. Run as tm-worker
// (argv[0]), it is a worker.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/config/supervisord"
	"github.com/taskmaster/taskmaster/master"
	"github.com/taskmaster/taskmaster/master/command"
	"github.com/taskmaster/taskmaster/master/ctl"
	"github.com/taskmaster/taskmaster/worker"
)

// Exit codes, as DESIGN.md fixes them.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	// The worker entry comes before anything else: no flags, no config.
	if filepath.Base(os.Args[0]) == "tm-worker" {
		worker.Main()
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "ctl":
			return runCtl(args[1:], stdin, stdout, stderr)
		case "check":
			return runCheck(args[1:], stdout, stderr)
		case "state":
			return runState(args[1:], stdout, stderr)
		case "import":
			return runImport(args[1:], stdout, stderr)
		case "version":
			fmt.Fprintf(stdout, "taskmaster %s\n", master.Version)
			return exitOK
		case "help", "-h", "--help":
			fmt.Fprint(stdout, usageText)
			return exitOK
		}
	}
	return runMaster(args, stdin, stdout, stderr)
}

const usageText = `usage:
  taskmaster [-c FILE] [--no-shell]      run the master in the foreground
  taskmaster ctl [-c FILE | -s SOCKET] [COMMAND [ARGS...]]
  taskmaster check [-c FILE]             validate the config, print every error
  taskmaster state [-c FILE | RUNDIR]    print the workers' state files
  taskmaster import [-o FILE] SUPERVISORD.CONF
                                         convert a supervisor config to taskmaster YAML
  taskmaster version
`

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	return fs
}

// findConfig applies -c's default: ./taskmaster.yaml, then the system one.
func findConfig(path string) string {
	if path != "" {
		return path
	}
	for _, p := range []string{"taskmaster.yaml", "/etc/taskmaster/taskmaster.yaml"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "taskmaster.yaml"
}

// loadConfig loads and validates, printing every error.
func loadConfig(path string, stderr io.Writer) (*config.Config, bool) {
	cfg, err := config.Load(findConfig(path))
	if err != nil {
		printConfigError(stderr, err)
		return nil, false
	}
	return cfg, true
}

// printConfigError prints every error of a config, taskmaster's or a
// supervisor file being imported, one per line.
func printConfigError(w io.Writer, err error) {
	if errs, ok := errors.AsType[config.Errors](err); ok {
		printEach(w, errs)
		return
	}
	if errs, ok := errors.AsType[supervisord.Errors](err); ok {
		printEach(w, errs)
		return
	}
	fmt.Fprintf(w, "taskmaster: %v\n", err)
}

func printEach[E error](w io.Writer, errs []E) {
	for _, e := range errs {
		fmt.Fprintln(w, e)
	}
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr)
	cfgPath := fs.String("c", "", "config file")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitUsage
	}
	cfg, ok := loadConfig(*cfgPath, stdout)
	if !ok {
		return exitUsage
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	if e := cfg.Exposed(os.Geteuid(), os.Environ()); !e.Empty() {
		fmt.Fprintf(stdout, "warning: %s\n", e)
	}
	// The limit here stands for the master's: check runs where it would.
	if b, err := master.CheckFDBudget(cfg); err == nil && b.Short() {
		fmt.Fprintf(stdout, "warning: %s\n", b.Warning())
	}
	fmt.Fprintln(stdout, "OK")
	return exitOK
}

func runMaster(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("taskmaster", stderr)
	cfgPath := fs.String("c", "", "config file")
	noShell := fs.Bool("no-shell", false, "run headless until SIGTERM/SIGINT")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if fs.NArg() != 0 {
			fmt.Fprintf(stderr, "taskmaster: unexpected argument %q\n", fs.Arg(0))
		}
		return exitUsage
	}
	paceGC()
	cfg, ok := loadConfig(*cfgPath, stderr)
	if !ok {
		return exitUsage
	}
	opts := master.ServeOptions{Config: cfg, Stderr: stderr, Faces: []func(*master.Supervisor) (master.Face, error){
		func(s *master.Supervisor) (master.Face, error) { return ctl.Listen(s, cfg.Global.Socket) },
		func(s *master.Supervisor) (master.Face, error) { return master.XMLRPCFace(s, cfg.Global) },
	}}
	if *noShell {
		return master.Serve(opts)
	}
	var term *terminal
	if in, ok := stdin.(*os.File); ok && isTerminal(in) {
		out, _ := stdout.(*os.File)
		var names func() []string
		var err error
		term, err = openTerminal(in, out, stderr, "taskmaster", prompt, cfg.Global.History, completer(func() []string { return names() }))
		if err != nil {
			fmt.Fprintf(stderr, "taskmaster: terminal: %v\n", err)
			return exitFailure
		}
		// Every way out of Serve comes back here: restore the terminal.
		defer term.Close()
		opts.Notify = term.Event
		opts.Interactive = true
		opts.OnPanic = term.Close
		opts.Shell = func(s *master.Supervisor) {
			names = func() []string { return command.NameCandidates(s.ProcessNames()) }
			shell(s, term, stdin, stdout)
		}
	} else {
		opts.Shell = func(s *master.Supervisor) { shell(s, nil, stdin, stdout) }
	}
	return master.Serve(opts)
}
