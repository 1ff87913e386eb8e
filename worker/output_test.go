package worker

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRing(t *testing.T) {
	r := ring{size: 8}
	if d, from, next := r.read(0, 100); len(d) != 0 || from != 0 || next != 0 {
		t.Fatalf("empty: %q %d %d", d, from, next)
	}
	r.write([]byte("abcde"))
	r.write([]byte("fghij")) // wraps: keeps "cdefghij"
	cases := []struct {
		off      int64
		max      int
		want     string
		from     int64
		wantNext int64
	}{
		{0, 100, "cdefghij", 2, 10},
		{5, 100, "fghij", 5, 10},
		{5, 3, "fgh", 5, 10},
		{10, 100, "", 10, 10},
		{99, 100, "", 10, 10},
		{-3, 100, "hij", 7, 10},
		{-50, 100, "cdefghij", 2, 10},
	}
	for _, c := range cases {
		d, from, next := r.read(c.off, c.max)
		if string(d) != c.want || from != c.from || next != c.wantNext {
			t.Errorf("read(%d,%d) = %q %d %d, want %q %d %d", c.off, c.max, d, from, next, c.want, c.from, c.wantNext)
		}
	}
	r.write([]byte("0123456789xyz")) // larger than the ring
	if d, from, _ := r.read(0, 100); string(d) != "56789xyz" || from != 15 {
		t.Errorf("after a long write: %q from %d", d, from)
	}
	r.reset()
	if d, from, next := r.read(0, 100); len(d) != 0 || from != 23 || next != 23 {
		t.Errorf("after reset: %q %d %d", d, from, next)
	}
	r.write([]byte("new"))
	if d, _, _ := r.read(0, 100); string(d) != "new" {
		t.Errorf("after reset and write: %q", d)
	}
}

// Rotation at maxBytes keeps at most backups old files of exactly
// maxBytes, the newest bytes in the live file.
func TestLogFileRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	l, err := openLogFile(path, 1000, 3, false, nil, func(msg string, _ bool) { t.Errorf("warning: %s", msg) })
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for i := 0; i < 55; i++ {
		chunk := bytes.Repeat([]byte{byte('a' + i%26)}, 100)
		all.Write(chunk)
		l.write(chunk)
	}
	data := all.Bytes() // 5500 bytes: live 500, .1 .2 .3 full, the rest dropped
	want := map[string][]byte{
		"out":   data[5000:],
		"out.1": data[4000:5000],
		"out.2": data[3000:4000],
		"out.3": data[2000:3000],
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(want) {
		t.Fatalf("%d files, want %d", len(ents), len(want))
	}
	for name, w := range want {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(b, w) {
			t.Errorf("%s: %d bytes, wrong content", name, len(b))
		}
	}
}

func TestLogFileNoBackupsTruncates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	l, err := openLogFile(path, 10, 0, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.write([]byte("0123456789abc"))
	if b, _ := os.ReadFile(path); string(b) != "abc" {
		t.Fatalf("got %q", b)
	}
}

// An outside truncation (copytruncate, clear) leaves no hole.
func TestLogFileFollowsTruncation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	l, _ := openLogFile(path, 0, 0, false, nil, nil)
	l.write([]byte("before\n"))
	os.Truncate(path, 0)
	l.write([]byte("after\n"))
	if b, _ := os.ReadFile(path); string(b) != "after\n" {
		t.Fatalf("got %q", b)
	}
}

func TestLogFileReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	l, _ := openLogFile(path, 0, 0, false, nil, nil)
	l.write([]byte("one\n"))
	os.Rename(path, path+".old")
	l.Reopen()
	l.write([]byte("two\n"))
	a, _ := os.ReadFile(path + ".old")
	b, _ := os.ReadFile(path)
	if string(a) != "one\n" || string(b) != "two\n" {
		t.Fatalf("old %q new %q", a, b)
	}
}

// Rotation the job's user may not do is reported once, then writing goes
// on in the same file.
func TestLogFileRotationFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	var warnings []string
	l, _ := openLogFile(path, 10, 1, false, nil, func(m string, _ bool) { warnings = append(warnings, m) })
	os.Mkdir(path+".1", 0o755) // rename out -> out.1 fails: a directory is there
	os.WriteFile(filepath.Join(path+".1", "x"), nil, 0o644)
	l.write([]byte("0123456789"))
	l.write([]byte("abc"))
	l.write([]byte("def"))
	if len(warnings) != 1 {
		t.Fatalf("warnings %q", warnings)
	}
	if b, _ := os.ReadFile(path); string(b) != "0123456789abcdef" {
		t.Fatalf("got %q", b)
	}
}

// Two writers of one shared file (numprocs > 1) rotate it once between
// them and keep writing to the live file.
func TestSharedLogFileRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	a, _ := openLogFile(path, 100, 5, true, nil, func(m string, _ bool) { t.Errorf("warning: %s", m) })
	b, _ := openLogFile(path, 100, 5, true, nil, func(m string, _ bool) { t.Errorf("warning: %s", m) })
	for i := 0; i < 6; i++ {
		a.write(bytes.Repeat([]byte{'a'}, 20))
		b.write(bytes.Repeat([]byte{'b'}, 20))
	}
	// 240 bytes in all: two full backups of 100 and 40 live bytes.
	sizes := map[string]int{}
	ents, _ := os.ReadDir(dir)
	total := 0
	for _, e := range ents {
		fi, _ := e.Info()
		sizes[e.Name()] = int(fi.Size())
		total += int(fi.Size())
	}
	if total != 240 || sizes["out.1"] != 100 || sizes["out.2"] != 100 || sizes["out"] != 40 {
		t.Fatalf("files %v", sizes)
	}
}
