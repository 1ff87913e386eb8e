package supervisord

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"reflect"
	"testing"
)

// pyCase is one input for testdata/pysemantics.py.
type pyCase struct {
	Kind string `json:"kind"`
	Arg  string `json:"arg"`
}

// pyAnswer is Python's result: ok, or the name of the exception.
type pyAnswer struct {
	OK  json.RawMessage `json:"ok"`
	Err string          `json:"err"`
}

// semanticsCases are the inputs whose handling decides what a job gets:
// comments, continuation lines, quoting, escapes, % forms.
var semanticsCases = []pyCase{
	{"ini", "[a]\nk = v ; comment\nk2 = v;not\nk3=v #c\nk4 = x#y\n"},
	{"ini", "[a]\nk = a ;b #c\nk2 = x#y ;z\nk3 = x;y #z\nk4 = ;all comment\n"},
	{"ini", "[a]\nk = first\n  second\n\n  after blank\n\nother = 1\n"},
	{"ini", "[a]\nk = first\n  ; indented comment\n  second\n"},
	{"ini", "[DEFAULT]\nd = 1\n[a]\nK: v:w=x\nUPPER = Y\n"},
	{"ini", "[a]\nk = 1\n[b]\nk = 2\n[a]\nk = 3\nj = 4\n"},
	{"ini", "[a] trailing\nk=\n[x]y]\nz = 1\n"},
	{"ini", "\r\n[a]\r\nk = v\r\n  w\rl = m\n"},
	{"ini", "k = v\n"},
	{"ini", "[a]\nno delimiter\n"},
	{"ini", "[a]\n = v\n"},
	{"ini", "[a]\nk = v\n\t\ttab continued\n  \n"},
	{"ini", "[a]\nk = \u00a0v\u3000\n"},
	{"ini", "[]\n"},
	{"ini", "[a]\n\x1ck = v\x1f\n"},
	{"env", `A=1,B=2`},
	{"env", `KEY="val,ue",K2=v`},
	{"env", `A='x y',B="a\"b",C=a\ b`},
	{"env", `A=x#comment
,B=2`},
	{"env", `A=1,A=2,B=3`},
	{"env", `PATH=/usr/bin:/bin,X=a.b+c-d(e)`},
	{"env", `A=$HOME`},
	{"env", `A=1;B=2`},
	{"env", `A=`},
	{"env", `A=""`},
	{"env", `A="unclosed`},
	{"env", `A=é€`},
	{"env", `A = 1 , B = 2`},
	{"env", "A=1,\n B=2"},
	{"env", `A="x\y\\z"`},
	{"env", `"A=B"=c`},
	{"split", `/bin/sh -c 'echo "$HOME"; exit 3'`},
	{"split", `a\ b "c d" 'e f' g"h"i`},
	{"split", `"a\$b" "a\"b" "a\\b" 'a\b'`},
	{"split", `a # not a comment`},
	{"split", `"unclosed`},
	{"split", `trailing\`},
	{"split", `""`},
	{"split", "x\ty\nz"},
	{"expand", `%(program_name)s_%(process_num)02d`},
	{"expand", `%(process_num)x %(process_num)X %(process_num)#o %(process_num)#x %(process_num)o`},
	{"expand", `%(program_name)-6s| %(program_name)6s| %(program_name).1s %(program_name)06s`},
	{"expand", `%(process_num)+d %(process_num) d %(process_num)-4d| %(process_num).3d %(process_num)5.3d`},
	{"expand", `100%% %(here)s`},
	{"expand", `%(program_name)r %(process_num)r %(process_num)c`},
	{"expand", `%(process_num)e %(process_num)f %(process_num)g %(process_num).2f`},
	{"expand", `%(program_name)d`},
	{"expand", `%(nope)s`},
	{"expand", `%(program_name)`},
	{"expand", `50%`},
	{"expand", `%(program_name)q`},
	{"expand", `%(process_num)ld %(process_num)hd`},
	{"expand", `%(ENV_X)s`},
}

// TestPythonSemantics checks the INI reader, the shlex replicas and the %
// expansion against Python itself, on the cases where they are subtle.
func TestPythonSemantics(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("SKIP: no python3 to compare with")
	}
	in, _ := json.Marshal(semanticsCases)
	cmd := exec.Command(python, "testdata/pysemantics.py")
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pysemantics.py: %v", err)
	}
	var answers []pyAnswer
	if err := json.Unmarshal(out, &answers); err != nil {
		t.Fatal(err)
	}
	for i, c := range semanticsCases {
		got, gotErr := goSemantics(c)
		want := answers[i]
		switch {
		case want.Err != "" && gotErr == nil:
			t.Errorf("%s %q: Python raises %s, Go gives %s", c.Kind, c.Arg, want.Err, got)
		case want.Err == "" && gotErr != nil:
			t.Errorf("%s %q: Python gives %s, Go fails: %v", c.Kind, c.Arg, want.OK, gotErr)
		case want.Err == "" && !jsonEqual(got, want.OK):
			t.Errorf("%s %q:\n Go:     %s\n Python: %s", c.Kind, c.Arg, got, want.OK)
		}
	}
}

func goSemantics(c pyCase) ([]byte, error) {
	var v any
	var err error
	switch c.Kind {
	case "ini":
		v, err = iniDump(c.Arg)
	case "env":
		var env []EnvVar
		env, err = ParseEnvironment(c.Arg)
		pairs := [][]string{}
		for _, e := range env {
			pairs = append(pairs, []string{e.Name, e.Value})
		}
		v = pairs
	case "split":
		v, err = SplitCommand(c.Arg)
	case "expand":
		v, err = Expand(c.Arg, Vars{"program_name": "web", "here": "/etc", "process_num": 7, "numprocs": 12, "ENV_X": "x"})
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// iniDump renders an INI as pysemantics.py does: DEFAULT, then each
// section with its keys in order.
func iniDump(text string) (any, error) {
	c := NewINI()
	if err := c.Parse("t.conf", []byte(text)); err != nil {
		return nil, err
	}
	dump := func(s *Section) []any {
		keys := []any{}
		for _, k := range s.Keys {
			keys = append(keys, []string{k.Name, k.Value})
		}
		return []any{s.Name, keys}
	}
	out := []any{dump(c.Defaults)}
	for _, s := range c.Sections {
		out = append(out, dump(s))
	}
	return out, nil
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
