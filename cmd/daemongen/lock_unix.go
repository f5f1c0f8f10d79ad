//go:build unix

package main

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive lock on the folder dir itself, so that no lock file is left
// in it. flock locks belong to an open file, so two runs, or two writes of one process,
// exclude each other.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing the file releases its lock
}

// tryLockDir is lockDir without waiting: ok is false when another run holds the lock (or
// the folder cannot be opened), so that the caller leaves that folder alone.
func tryLockDir(dir string) (unlock func(), ok bool) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}
