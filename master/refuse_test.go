package master

import (
	"strings"
	"testing"

	"github.com/taskmaster/taskmaster/config"
)

// The listeners a master opened at start cannot move on a reload: a
// changed socket, XML-RPC socket or TCP listener asks for a restart.
func TestReloadRefusesListenerChanges(t *testing.T) {
	for _, key := range []string{"rundir", "statedir", "socket", "xmlrpc", "inet"} {
		err := (&Supervisor{}).refuse(config.Plan{Global: []string{key}})
		if err == nil || !strings.Contains(err.Error(), "taskmaster."+key+" changed: restart taskmaster") {
			t.Errorf("%s: %v", key, err)
		}
	}
	if err := (&Supervisor{}).refuse(config.Plan{Global: []string{"notify"}}); err != nil {
		t.Errorf("notify: %v", err)
	}
}
