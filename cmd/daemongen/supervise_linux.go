package main

import (
	"os/exec"
	"runtime"
	"syscall"
)

// tieToParent makes the child get SIGTERM when the supervising process dies, even by
// SIGKILL, so that it removes what its write staged instead of running on unseen. The
// signal goes when the thread that started the child ends, so that thread stays this
// goroutine's until the process exits.
func tieToParent(cmd *exec.Cmd) {
	runtime.LockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
