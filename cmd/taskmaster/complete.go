package main

import (
	"slices"
	"strings"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/master"
)

// completer returns the shell's Tab completion: command names first, then
// what each command takes. names lists the NAME forms (see
// master.NameCandidates); it is called only when a NAME is wanted.
func completer(names func() []string) func(line string, pos int) ([]string, int) {
	return func(line string, pos int) ([]string, int) {
		head := line[:pos]
		start := strings.LastIndexAny(head, " \t") + 1
		word := head[start:]
		prev := strings.Fields(head[:start])
		return filterPrefix(argCandidates(prev, names), word), start
	}
}

// argCandidates lists what may come after the words prev.
func argCandidates(prev []string, names func() []string) []string {
	if len(prev) == 0 {
		return master.Commands()
	}
	args := prev[1:]
	switch prev[0] {
	case "help":
		if len(args) == 0 {
			return master.Commands()
		}
	case "notify":
		if len(args) == 0 {
			return []string{"on", "off"}
		}
	case "signal":
		if len(args) == 0 {
			return config.SignalNames()
		}
		return names()
	case "status":
		return append(names(), "--json")
	case "start", "stop", "restart", "pid", "clear":
		return names()
	case "attach", "fg":
		if len(args) == 0 {
			return names()
		}
	case "tail":
		var plain []string
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				plain = append(plain, a)
			}
		}
		switch len(plain) {
		case 0:
			return append(names(), "-f")
		case 1:
			return []string{"stdout", "stderr"}
		}
	}
	return nil
}

func filterPrefix(cands []string, prefix string) []string {
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
