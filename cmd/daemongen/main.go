// Command daemongen generates register-ready ECS daemon task definitions from CUE and HCL
// specs with shared defaults and per-environment overlays. See the README.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	tuneGC()
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// tuneGC makes the collector less eager: checking daemons allocates much short-lived
// memory, and GOGC=400 runs a 1000-daemon fleet about a quarter faster. The soft memory
// limit bounds what that costs. GOGC and GOMEMLIMIT in the environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(768 << 20)
	}
}
