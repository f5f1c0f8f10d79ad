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
