//go:build unix

package safefile

import (
	"errors"
	"os"
	"syscall"
)

// open opens name for reading without blocking on a FIFO (O_NONBLOCK has no effect on a
// regular file), and, with noFollow, without following a link in its last element.
func open(name string, noFollow bool) (*os.File, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK
	if noFollow {
		flags |= syscall.O_NOFOLLOW
	}
	return os.OpenFile(name, flags, 0)
}

// isLoopError reports the error O_NOFOLLOW gives for a link.
func isLoopError(err error) bool { return errors.Is(err, syscall.ELOOP) }
