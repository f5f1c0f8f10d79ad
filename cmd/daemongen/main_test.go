package main

import (
	"flag"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// runAsDaemongen, set to 1 in the environment, makes the test binary run as daemongen.
const runAsDaemongen = "DAEMONGEN_TEST_RUN_AS_COMMAND"

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script")

func TestMain(m *testing.M) {
	// The test binary is daemongen itself where a test runs it as a child process (to
	// send it a signal, say).
	if os.Getenv(runAsDaemongen) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"daemongen": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script, one behaviour each.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("DAEMONGEN_CACHE", env.WorkDir+"/.cache") // never the user's
			return nil
		},
	})
}
