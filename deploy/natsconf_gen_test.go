package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNATSConfIsGenerated: deploy/nats.conf is deploy/natsconf.py's output,
// so an edit made to the file alone is lost the next time the script runs
// (as the replica bucket's comment nearly was, and a stale collector
// comment stood twice). The head is copied verbatim from natsconf_head.txt,
// which is checked without Python; where python3 is installed the whole
// file is compared with the script's output.
func TestNATSConfIsGenerated(t *testing.T) {
	conf, err := os.ReadFile("nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	head, err := os.ReadFile("natsconf_head.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(conf, head) {
		t.Fatal("nats.conf does not begin with natsconf_head.txt: edit the head (or natsconf.py), then run python3 deploy/natsconf.py > deploy/nats.conf")
	}
	for _, u := range users {
		if n := strings.Count(string(conf), "\n      # "+u+":"); n != 1 {
			t.Errorf("user %s's comment stands %d times in nats.conf, want once", u, n)
		}
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Log("python3 not found: the users' blocks are not compared with natsconf.py's output")
		return
	}
	out, err := exec.Command(python, "natsconf.py").Output()
	if err != nil {
		t.Fatalf("python3 natsconf.py: %v", err)
	}
	if !bytes.Equal(out, conf) {
		t.Error("nats.conf differs from natsconf.py's output: run python3 deploy/natsconf.py > deploy/nats.conf")
	}
}
