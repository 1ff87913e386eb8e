package main

import (
	"io"

	"github.com/taskmaster/taskmaster/config"
	"github.com/taskmaster/taskmaster/master"
)

// shell runs the master's foreground shell on stdin.
func shell(s *master.Supervisor, cfg *config.Config, in io.Reader, out io.Writer) {
	s.ReadCommands(in, out)
}
