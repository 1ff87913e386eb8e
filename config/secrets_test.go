package config

import (
	"slices"
	"testing"
)

func TestExposed(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(`
programs:
  web: {cmd: /bin/true, user: www-data}
  clean: {cmd: /bin/true, user: www-data, clearenv: true}
  mine: {cmd: /bin/true}
  api: {cmd: /bin/true, user: alice}
`), testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	environ := []string{"PATH=/bin", "DB_PASSWORD=x", "AWS_SECRET_ACCESS_KEY=y", "GITHUB_TOKEN=z", "API_KEY=k",
		"MYSQL_PASS=p", "SSH_AUTH_SOCK=/s", "OLDPWD=/", "KEYBOARD=us", "db_passwd=q", "DB_PASSWORD=again"}
	e := cfg.Exposed(0, environ)
	wantVars := []string{"API_KEY", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "GITHUB_TOKEN", "MYSQL_PASS", "db_passwd"}
	if !slices.Equal(e.Vars, wantVars) || !slices.Equal(e.Programs, []string{"web", "api"}) || e.Empty() {
		t.Fatalf("Exposed = %+v", e)
	}
	if !cfg.Exposed(1000, environ).Empty() {
		t.Error("a master that is not root exposes nothing to other users")
	}
	if !cfg.Exposed(0, []string{"PATH=/bin", "HOME=/root"}).Empty() {
		t.Error("no secret-looking name: nothing to warn about")
	}
}
