package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/conf"
	"github.com/nats-io/nats-server/v2/server"
)

// procfile returns the Procfile's processes: name to command line.
func procfile(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../Procfile")
	if err != nil {
		t.Fatal(err)
	}
	procs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		name, cmd, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("Procfile line %q is not name: command", line)
		}
		procs[name] = cmd
	}
	return procs
}

// TestProcfileRunsAsNATSConfUsers: the Procfile's NATS server serves
// deploy/nats.conf's users, permissions and bounds on loopback only
// (deploy/local.conf), and every other process connects through
// deploy/local.sh as its own user, with no password or user on its command
// line. Before, it ran an unauthenticated server any local process could
// publish decisions to.
func TestProcfileRunsAsNATSConfUsers(t *testing.T) {
	procs := procfile(t)
	if got, want := procs["nats"], "go run github.com/nats-io/nats-server/v2 -c deploy/local.conf"; got != want {
		t.Errorf("nats: %q, want %q", got, want)
	}
	for name, cmd := range procs {
		if name == "nats" {
			continue
		}
		for _, part := range strings.Split(cmd, "&&") {
			if !strings.HasPrefix(strings.TrimSpace(part), "deploy/local.sh ./services/") {
				t.Errorf("%s runs %q, not through deploy/local.sh", name, part)
			}
		}
		for _, flag := range []string{"-nats.user", "-nats.password", "-nats.url", "-nats.token", "PASSWORD"} {
			if strings.Contains(cmd, flag) {
				t.Errorf("%s: %q names %s on its command line", name, cmd, flag)
			}
		}
	}

	setPasswords(t)
	// As the Procfile runs it: from the repository root, so the include
	// resolves against local.conf's folder and the store against the root.
	t.Chdir("..")
	shared, err := server.ProcessConfigFile("deploy/nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	local, err := server.ProcessConfigFile("deploy/local.conf")
	if err != nil {
		t.Fatal(err)
	}
	if local.Host != "127.0.0.1" || local.HTTPHost != "127.0.0.1" || local.Port != shared.Port || local.HTTPPort != shared.HTTPPort {
		t.Errorf("local.conf listens on %s:%d, monitoring %s:%d; want loopback on nats.conf's ports %d, %d",
			local.Host, local.Port, local.HTTPHost, local.HTTPPort, shared.Port, shared.HTTPPort)
	}
	if local.StoreDir != "./data/nats" || !local.JetStream {
		t.Errorf("local.conf: JetStream %v in %q, want on in ./data/nats", local.JetStream, local.StoreDir)
	}
	same := []struct {
		name        string
		local, conf any
	}{
		{"users, accounts and permissions", userRights(local), userRights(shared)},
		{"max_connections", local.MaxConn, shared.MaxConn},
		{"max_subscriptions", local.MaxSubs, shared.MaxSubs},
		{"max_payload", local.MaxPayload, shared.MaxPayload},
		{"max_file_store", local.JetStreamMaxStore, shared.JetStreamMaxStore},
		{"max_memory_store", local.JetStreamMaxMemory, shared.JetStreamMaxMemory},
		{"jetstream limits", local.JetStreamLimits, shared.JetStreamLimits},
	}
	for _, s := range same {
		if !reflect.DeepEqual(s.local, s.conf) {
			t.Errorf("local.conf's %s differ from nats.conf's: %+v, want %+v", s.name, s.local, s.conf)
		}
	}
	if len(local.Users) != len(users) {
		t.Errorf("local.conf has %d users, want %d", len(local.Users), len(users))
	}
	// local.conf's jetstream block replaces nats.conf's whole block: every
	// setting but the store must be repeated there.
	blocks := map[string]map[string]any{}
	accounts := map[string]any{}
	for _, f := range []string{"deploy/nats.conf", "deploy/local.conf"} {
		m, err := conf.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := m["jetstream"].(map[string]any)
		delete(js, "store_dir")
		blocks[f] = js
		accounts[f] = m["accounts"]
	}
	if !reflect.DeepEqual(blocks["deploy/local.conf"], blocks["deploy/nats.conf"]) {
		t.Errorf("local.conf's jetstream block %v differs from nats.conf's %v (store_dir aside)", blocks["deploy/local.conf"], blocks["deploy/nats.conf"])
	}
	if !reflect.DeepEqual(accounts["deploy/local.conf"], accounts["deploy/nats.conf"]) {
		t.Error("local.conf's accounts (exports, imports) differ from nats.conf's")
	}
}

// userRight is what a configuration gives one user: its password, its
// account and its permissions.
type userRight struct {
	Password, Account string
	Permissions       *server.Permissions
}

// userRights are opts' users' rights by name (the parsed users point to
// their accounts, which compare by more than their names).
func userRights(opts *server.Options) map[string]userRight {
	out := map[string]userRight{}
	for _, u := range opts.Users {
		r := userRight{Password: u.Password, Permissions: u.Permissions}
		if u.Account != nil {
			r.Account = u.Account.Name
		}
		out[u.Username] = r
	}
	return out
}

// TestLocalShConnectsAsTheServicesUser runs deploy/local.sh with a stand-in
// go that prints what it was given: each service runs as its own user with
// its inbox prefix, the password only in its environment; provisioning
// runs as provision; and a missing password stops it before anything runs,
// naming the variable.
func TestLocalShConnectsAsTheServicesUser(t *testing.T) {
	bin := t.TempDir()
	fake := "#!/bin/sh\necho \"args=$*\"\necho \"user=$HEADROOM_NATS_USER pass=$HEADROOM_NATS_PASSWORD inbox=$HEADROOM_NATS_INBOX_PREFIX url=$HEADROOM_NATS_URL\"\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("local.sh")
	if err != nil {
		t.Fatal(err)
	}
	run := func(env []string, args ...string) (string, error) {
		cmd := exec.Command(script, args...)
		cmd.Env = append([]string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	cases := []struct {
		name string
		env  []string
		args []string
		want []string // lines of the output
		fail bool
	}{
		{"service", []string{"GATEWAY_PASSWORD=g-secret"}, []string{"./services/gateway", "-http.addr", "127.0.0.1:8081"},
			[]string{"args=run ./services/gateway -http.addr 127.0.0.1:8081", "user=gateway pass=g-secret inbox=_INBOX_gateway url=nats://127.0.0.1:4222"}, false},
		{"provision", []string{"PROVISION_PASSWORD=p-secret", "HEADROOM_NATS_URL=nats://127.0.0.1:14222"}, []string{"./services/headroom", "provision", "-wait", "5m"},
			[]string{"args=run ./services/headroom provision -wait 5m", "user=provision pass=p-secret inbox=_INBOX_provision url=nats://127.0.0.1:14222"}, false},
		{"no password", []string{"COLLECTOR_PASSWORD="}, []string{"./services/decider"},
			[]string{"deploy/local.sh: DECIDER_PASSWORD is not set: write .env with a password for each user of deploy/nats.conf, as docker-compose.yml's header shows"}, true},
		{"all-in-one", []string{"PROVISION_PASSWORD=p"}, []string{"./services/headroom"},
			[]string{"deploy/local.sh: ./services/headroom runs here only as 'provision' (the all-in-one needs no NATS of its own)"}, true},
	}
	for _, c := range cases {
		out, err := run(c.env, c.args...)
		if (err != nil) != c.fail {
			t.Errorf("%s: exit %v, want failure %v (%s)", c.name, err, c.fail, out)
		}
		if got := strings.Split(strings.TrimSpace(out), "\n"); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: output %q, want %q", c.name, got, c.want)
		}
	}
}
