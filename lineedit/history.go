package lineedit

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// historyMax caps the number of entries kept in memory and in the file.
const historyMax = 1000

// history is the list of entered lines, oldest first, optionally persisted
// to a file. It is guarded by Editor.mu.
type history struct {
	entries   []string
	path      string // "" means no persistence
	max       int
	fileLines int // lines in the file, to know when to compact it
}

// loadHistory reads path (creating it, mode 0600, if missing) and keeps the
// last max acceptable entries. A file longer than max is compacted at once.
func loadHistory(path string, max int) (*history, error) {
	h := &history{path: path, max: max}
	if path == "" {
		return h, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, historyError("open", path, err)
	}
	defer f.Close()
	// History can hold secrets typed at the prompt: keep it private even
	// if it was created by something else.
	if err := f.Chmod(0o600); err != nil {
		return nil, historyError("chmod", path, err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		h.fileLines++
		h.push(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, historyError("read", path, err)
	}
	if h.fileLines > h.max {
		if err := h.compact(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// historyError names the operation and the file once: the *PathError
// that os returns would name the file a second time.
func historyError(op, path string, err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		err = pe.Err
	}
	return fmt.Errorf("%s history %s: %w", op, path, err)
}

// keep reports whether line belongs in history: not blank, not starting
// with a space (the shell convention for "don't record this"), no newline.
func keep(line string) bool {
	return strings.TrimSpace(line) != "" && line[0] != ' ' &&
		!strings.ContainsAny(line, "\r\n")
}

// push appends line in memory unless it is unwanted or repeats the last
// entry, and reports whether it did.
func (h *history) push(line string) bool {
	if !keep(line) || (len(h.entries) > 0 && h.entries[len(h.entries)-1] == line) {
		return false
	}
	h.entries = append(h.entries, line)
	if len(h.entries) > h.max {
		h.entries = append(h.entries[:0:0], h.entries[len(h.entries)-h.max:]...)
	}
	return true
}

// add records line and appends it to the file at once, so a crash loses
// nothing; past the cap the file is rewritten compacted. It reports
// whether line was recorded.
func (h *history) add(line string) (bool, error) {
	if !h.push(line) {
		return false, nil
	}
	return true, h.save(line)
}

// save appends line to the file.
func (h *history) save(line string) error {
	if h.path == "" {
		return nil
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return historyError("append", h.path, err)
	}
	_, err = f.WriteString(line + "\n") // one write(2) with O_APPEND
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return historyError("append", h.path, err)
	}
	h.fileLines++
	if h.fileLines > h.max {
		return h.compact()
	}
	return nil
}

// compact atomically replaces the file with the entries in memory: write a
// temporary file in the same directory, fsync, rename over the original.
func (h *history) compact() (err error) {
	dir, base := filepath.Split(h.path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return historyError("compact", h.path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = historyError("compact", h.path, err)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	w := bufio.NewWriter(tmp)
	for _, e := range h.entries {
		w.WriteString(e)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), h.path); err != nil {
		return err
	}
	h.fileLines = len(h.entries)
	return nil
}
