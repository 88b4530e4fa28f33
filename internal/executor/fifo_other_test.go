//go:build !unix

package executor_test

import "errors"

// mkfifo fails: no named pipes here (the command rigs' scripts are
// shell scripts too).
func mkfifo(string) error { return errors.New("no named pipes on this system") }
