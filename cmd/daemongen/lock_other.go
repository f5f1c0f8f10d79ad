//go:build !unix

package main

import (
	"path/filepath"

	"github.com/rogpeppe/go-internal/lockedfile"
)

// lockDir locks dir through a lock file in it, where folders cannot be locked themselves.
func lockDir(dir string) (unlock func(), err error) {
	return lockedfile.MutexAt(filepath.Join(dir, lockName)).Lock()
}

// tryLockDir cannot tell a free lock from a held one without waiting here, so it never
// claims one: recovery leaves the temporaries of such folders to a run that locks them.
func tryLockDir(string) (unlock func(), ok bool) { return nil, false }
