package main

import (
	"slices"
	"strings"

	"github.com/taskmaster/taskmaster/master/command"
)

// completer returns the shell's Tab completion: command names first, then
// what each command takes. names lists the NAME forms (see
// command.NameCandidates); it is called only when a NAME is wanted.
func completer(names func() []string) func(line string, pos int) ([]string, int) {
	return func(line string, pos int) ([]string, int) {
		head := line[:pos]
		start := strings.LastIndexAny(head, " \t") + 1
		word := head[start:]
		prev := strings.Fields(head[:start])
		return filterPrefix(command.Complete(prev, names), word), start
	}
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
