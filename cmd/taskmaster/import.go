package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/taskmaster/taskmaster/config/supervisord"
)

// runImport converts a supervisor config to taskmaster YAML: the YAML on
// stdout (or in -o FILE), every setting taskmaster cannot honour on
// stderr. A config supervisord itself would refuse is exit 2, with every
// error; a file that cannot be written is exit 1.
func runImport(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("import", stderr)
	out := fs.String("o", "", "write the YAML to FILE instead of stdout")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fmt.Fprint(stderr, usageText)
		}
		return exitUsage
	}
	hostname, _ := os.Hostname()
	home, _ := os.UserHomeDir()
	cfg, err := supervisord.Load(fs.Arg(0), supervisord.Env{Environ: os.Environ(), Hostname: hostname, Home: home})
	if err != nil {
		printConfigError(stderr, err)
		return exitUsage
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, w)
	}
	var buf bytes.Buffer
	if err := supervisord.WriteYAML(&buf, cfg); err != nil {
		fmt.Fprintf(stderr, "taskmaster: import %s: %v\n", fs.Arg(0), err)
		return exitUsage
	}
	if *out == "" {
		_, err = stdout.Write(buf.Bytes())
	} else {
		err = writeNew(*out, buf.Bytes())
	}
	if err != nil {
		fmt.Fprintf(stderr, "taskmaster: import: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// writeNew writes data to path through a temporary file renamed into
// place, so a failed import never leaves half a config behind. The file is
// 0600: an inet password may be in it.
func writeNew(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".taskmaster-import-*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
