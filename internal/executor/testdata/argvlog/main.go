// Command argvlog is a test helper for the command driver. It appends one JSON
// line {"argv": [...], "app": $HEADROOM_APP, "env": [names of HEADROOM_*
// variables]} to the file named by its first
// argument (with "time": $HEADROOM_DECISION_TIME), then acts on its second argument: "hang" writes its pid to
// <file>.pid, starts a child "sleep" of itself whose pid goes to
// <file>.child, and sleeps; "sleep" just sleeps; "fail" prints to stderr and
// exits 3; "spew" prints 1 MiB and exits 1. Anything else exits 0.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	file := os.Args[1]
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "HEADROOM_") {
			env = append(env, name)
		}
	}
	sort.Strings(env)
	line, _ := json.Marshal(map[string]any{"argv": os.Args, "app": os.Getenv("HEADROOM_APP"), "time": os.Getenv("HEADROOM_DECISION_TIME"), "env": env})
	_, _ = f.Write(append(line, '\n'))
	_ = f.Close()
	mode := ""
	if len(os.Args) > 2 {
		mode = os.Args[2]
	}
	switch mode {
	case "hang":
		child := exec.Command(os.Args[0], file+".childlog", "sleep")
		child.Stdout = os.Stdout // holds the output pipe open, as a stray child would
		if err := child.Start(); err != nil {
			os.Exit(2)
		}
		_ = os.WriteFile(file+".child", []byte(strconv.Itoa(child.Process.Pid)), 0o600)
		_ = os.WriteFile(file+".pid", []byte(strconv.Itoa(os.Getpid())), 0o600)
		time.Sleep(time.Hour)
	case "sleep":
		time.Sleep(time.Hour)
	case "fail":
		fmt.Fprintln(os.Stderr, "error: deployments.apps \"web\" not found")
		os.Exit(3)
	case "spew":
		fmt.Print(strings.Repeat("x", 1<<20))
		os.Exit(1)
	}
}
