package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func parseTest(t *testing.T, yaml string) *Config {
	t.Helper()
	c, err := Parse("test.yaml", []byte(yaml), Env{Euid: 0, Home: "/home/u"})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}

func TestDiff(t *testing.T) {
	base := `
programs:
  web: {cmd: "sleep 10", env: {A: "1"}}
  pool: {cmd: "sleep 10", numprocs: 2}
  batch: {cmd: "sleep 10", stoptime: 5}
  old: {cmd: "sleep 10"}
  same: {cmd: "sleep 10"}
`
	cases := []struct {
		name, new string
		want      []string
		global    []string
	}{
		{"no change", base, nil, nil},
		{"everything", `
programs:
  same: {cmd: "sleep 10"}
  web: {cmd: "sleep 11", env: {A: "2"}}
  pool: {cmd: "sleep 10", numprocs: 4}
  batch: {cmd: "sleep 10", stoptime: 6, autorestart: always}
  api: {cmd: "sleep 10"}
`, []string{
			"web: changed (cmd, env)", "pool: numprocs 2 -> 4", "batch: policy changed (autorestart, stoptime)",
			"api: added", "old: removed",
		}, nil},
		{"numprocs with policy", `
programs:
  web: {cmd: "sleep 10", env: {A: "1"}}
  pool: {cmd: "sleep 10", numprocs: 1, startretries: 9}
  batch: {cmd: "sleep 10", stoptime: 5}
  old: {cmd: "sleep 10"}
  same: {cmd: "sleep 10"}
`, []string{"pool: numprocs 2 -> 1, policy changed (startretries)"}, nil},
		{"shape beats numprocs", `
programs:
  web: {cmd: "sleep 10", env: {A: "1"}}
  pool: {cmd: "sleep 10", numprocs: 3, umask: "077"}
  batch: {cmd: "sleep 10", stoptime: 5}
  old: {cmd: "sleep 10"}
  same: {cmd: "sleep 10"}
`, []string{"pool: changed (numprocs, umask)"}, nil},
		{"cmd spelled differently, same words", `
programs:
  web: {cmd: "sleep  '10'", env: {A: "1"}}
  pool: {cmd: "sleep 10", numprocs: 2}
  batch: {cmd: "sleep 10", stoptime: 5}
  old: {cmd: "sleep 10"}
  same: {cmd: "sleep 10"}
`, nil, nil},
		{"global", "taskmaster: {logfile: other.log, notify: false}\n" + base, nil, []string{"logfile", "notify"}},
		{"xml-rpc", "taskmaster: {xmlrpc: none, inet: {listen: \"127.0.0.1:9001\"}}\n" + base, nil, []string{"xmlrpc", "inet"}},
	}
	old := parseTest(t, base)
	for _, c := range cases {
		plan := Diff(old, parseTest(t, c.new))
		var got []string
		for _, ch := range plan.Changes {
			got = append(got, ch.String())
		}
		if !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(plan.Global, c.global) {
			t.Errorf("%s:\n got %q %q\nwant %q %q", c.name, got, plan.Global, c.want, c.global)
		}
		if plan.Empty() != (c.want == nil && c.global == nil) {
			t.Errorf("%s: Empty() = %v", c.name, plan.Empty())
		}
	}
}

// Every Program field must be compared by some key, or a reload would
// miss a change to it.
func TestDiffCoversEveryField(t *testing.T) {
	a := parseTest(t, "programs: {p: {cmd: \"sleep 1\"}}").Programs["p"]
	// Fields derived from another compared field.
	derived := map[string]bool{"Name": true, "Cmd": true, "User": true, "Group": true}
	typ := reflect.TypeOf(*a)
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if derived[f.Name] || !f.IsExported() {
			continue
		}
		b := *a
		v := reflect.ValueOf(&b).Elem().Field(i)
		switch v.Kind() {
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 1)
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), v.Len()+1, v.Len()+1))
		case reflect.Map:
			v.Set(reflect.MakeMapWithSize(v.Type(), 1))
			v.SetMapIndex(reflect.ValueOf("NEW"), reflect.ValueOf("1"))
		default:
			t.Fatalf("field %s: kind %s not handled by this test", f.Name, v.Kind())
		}
		if kind, keys := ComparePrograms(a, &b); kind == 0 {
			t.Errorf("a change to Program.%s is not seen by Diff", f.Name)
		} else if len(keys) != 1 {
			t.Errorf("Program.%s maps to keys %v", f.Name, keys)
		}
	}
}

func TestChangeString(t *testing.T) {
	c := Change{Program: "pool", Kind: NumProcs, Keys: []string{"numprocs", "stoptime"}, OldNum: 2, NewNum: 4}
	if got := c.String(); !strings.HasPrefix(got, "pool: numprocs 2 -> 4, policy changed (stoptime)") {
		t.Fatal(got)
	}
}

func TestLoadGlobalDespiteErrors(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/t.yaml"
	os.WriteFile(path, []byte("taskmaster: {socket: s.sock}\nprograms:\n  web: {cmd: sleep 1, stopsignal: FOO}\n"), 0o644)
	g, err := LoadGlobal(path)
	if err != nil || g.Socket != dir+"/s.sock" || g.RunDir != dir+"/run" {
		t.Fatalf("got %+v, %v", g, err)
	}
	os.WriteFile(path, []byte("taskmaster: {socket: 3, bogus: 1}\nprograms: {}\n"), 0o644)
	if _, err := LoadGlobal(path); err == nil {
		t.Fatal("no error for a broken taskmaster section")
	}
}
