package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitProcess ends the process.
var exitProcess = os.Exit

// stopOnSignal makes SIGINT and SIGTERM stop a write cleanly: a write that has not
// committed removes its temporary files and the folders it made, one whose commit is under
// way finishes it, and the process exits as a shell reports a death by that signal (130
// for SIGINT, 143 for SIGTERM). The returned function stops listening.
func stopOnSignal(w *outputWrite, stderr io.Writer) (stop func()) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-signals:
			committed := w.interrupt()
			what := "nothing was written"
			if committed {
				what = "the write had committed and is complete"
			}
			fmt.Fprintf(stderr, "daemongen: interrupted by %v; %s\n", sig, what)
			code := 128 + int(syscall.SIGINT)
			if sig == syscall.SIGTERM {
				code = 128 + int(syscall.SIGTERM)
			}
			exitProcess(code)
		case <-done:
		}
	}()
	return func() {
		if w.interrupted() {
			// The signal's handler is cleaning up and ends the process with the signal's
			// code; returning would race it with the run's own exit code.
			select {}
		}
		signal.Stop(signals)
		close(done)
	}
}
