package worker

import (
	"os"
	"slices"
	"testing"

	"github.com/taskmaster/taskmaster/ipc"
)

// TestJobEnv: the master's environment, or with ClearEnv only the clean
// base, then the account, then the config's env.
func TestJobEnv(t *testing.T) {
	me, err := lookupAccount(os.Getuid())
	if err != nil {
		t.Fatal(err)
	}
	other := &identity{uid: 4242, gid: 4242, acct: &account{name: "svc", home: "/srv", shell: "/bin/false"}}
	tests := []struct {
		name string
		spec ipc.Spec
		id   *identity
		want []string
	}{
		{"inherit", ipc.Spec{Env: []string{"PATH=/x", "DB_PASSWORD=s", "USER=root"}, JobEnv: []string{"A=1"}}, nil,
			[]string{"A=1", "DB_PASSWORD=s", "PATH=/x", "USER=root"}},
		{"inherit as another user", ipc.Spec{Env: []string{"DB_PASSWORD=s", "USER=root"}}, other,
			[]string{"DB_PASSWORD=s", "HOME=/srv", "LOGNAME=svc", "SHELL=/bin/false", "USER=svc"}},
		{"clean as another user", ipc.Spec{Env: []string{"PATH=/clean"}, ClearEnv: true, JobEnv: []string{"HOME=/h"}}, other,
			[]string{"HOME=/h", "LOGNAME=svc", "PATH=/clean", "SHELL=/bin/false", "USER=svc"}},
		{"clean as itself", ipc.Spec{Env: []string{"PATH=/clean"}, ClearEnv: true}, nil,
			[]string{"HOME=" + me.home, "LOGNAME=" + me.name, "PATH=/clean", "SHELL=" + me.shell, "USER=" + me.name}},
	}
	for _, tt := range tests {
		got := jobEnv(&tt.spec, tt.id)
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}
