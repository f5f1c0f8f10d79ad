package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// supervisedEnv is set in the environment of the process that a supervising daemongen
// starts; its value is the descriptor of the pipe that carries a crash report back.
const supervisedEnv = "DAEMONGEN_SUPERVISED"

// supervisedCommands are the commands that evaluate specs, and so could meet a fatal
// error of the Go runtime; the others run in one process.
var supervisedCommands = map[string]bool{"generate": true, "vet": true, "explain": true, "import": true, "fmt": true}

// supervisedChild reports whether this process runs under a supervising daemongen, and
// returns the pipe its crash report goes to.
func supervisedChild() (*os.File, bool) {
	if os.Getenv(supervisedEnv) != "3" {
		return nil, false
	}
	os.Unsetenv(supervisedEnv)
	return os.NewFile(3, "crash report"), true
}

// supervise runs daemongen's command in a child process, so that what no recover can
// catch exits with exitCrash, never with the usage error's 2: a fatal error of the Go
// runtime (out of memory, say), whose report the child also writes to a pipe, or a death
// by a signal other than SIGINT and SIGTERM (the kernel's out-of-memory killer). The
// child has the same standard streams, environment and arguments. supervised is false
// when the command needs no child, or no child can be started; the caller runs it then.
func supervise(args []string) (code int, supervised bool) {
	if len(args) < 2 || !supervisedCommands[args[1]] {
		return 0, false
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, false
	}
	report, reportW, err := os.Pipe()
	if err != nil {
		return 0, false
	}
	defer report.Close()
	cmd := exec.Command(exe, args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), supervisedEnv+"=3")
	cmd.ExtraFiles = []*os.File{reportW}
	tieToParent(cmd)
	// SIGINT from a terminal reaches the child itself; a signal sent to this process
	// alone is passed on, so that the child cleans up as it would.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		reportW.Close()
		return 0, false
	}
	reportW.Close()
	go func() {
		for sig := range signals {
			_ = cmd.Process.Signal(sig)
		}
	}()
	crash, _ := io.ReadAll(io.LimitReader(report, 1<<20))
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case len(crash) > 0:
		fmt.Fprintf(os.Stderr, "daemongen: internal error: the Go runtime stopped daemongen with %s; please report it with the input that caused it\n", firstLine(crash))
		return exitCrash, true
	case err == nil:
		return exitOK, true
	case errors.As(err, &exit):
		if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			switch status.Signal() {
			case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP:
				return 128 + int(status.Signal()), true
			}
			fmt.Fprintf(os.Stderr, "daemongen: internal error: daemongen was killed by %v (the system's out-of-memory killer?)\n", status.Signal())
			return exitCrash, true
		}
		return exit.ExitCode(), true
	}
	fmt.Fprintf(os.Stderr, "daemongen: %v\n", err)
	return exitCrash, true
}

// firstLine returns the first line of a crash report that says what happened.
func firstLine(report []byte) string {
	s := bufio.NewScanner(bytes.NewReader(report))
	for s.Scan() {
		if line := bytes.TrimSpace(s.Bytes()); bytes.HasPrefix(line, []byte("fatal error:")) || bytes.HasPrefix(line, []byte("panic:")) {
			return "\"" + string(line) + "\""
		}
	}
	return "a fatal error (out of memory, say; its report is above)"
}
