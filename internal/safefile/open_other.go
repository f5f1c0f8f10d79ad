//go:build !unix

package safefile

import "os"

// open opens name for reading; where O_NONBLOCK and O_NOFOLLOW do not exist, the Lstat
// of ReadNoFollow and the Stat after the open are the checks.
func open(name string, _ bool) (*os.File, error) { return os.Open(name) }

func isLoopError(error) bool { return false }
