package main

import (
	"flag"
	"os"
	"path/filepath"
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

// TestScripts runs the end-to-end scripts in testdata/script, one behaviour each, twice:
// cold, each script with an empty cache of its own, then warm, each with the cache its
// cold run left, in the same work folder (the cache's keys hold the specs' paths). Every
// command must say and do the same with a warm cache as with an empty one.
func TestScripts(t *testing.T) {
	workRoot, caches := t.TempDir(), t.TempDir()
	for _, pass := range []string{"cold", "warm"} {
		if *update && pass == "warm" {
			break
		}
		// The cold run's work folders, which testscript keeps until the test ends, go:
		// the warm run makes them anew at the same paths.
		entries, _ := os.ReadDir(workRoot)
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(workRoot, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(pass, func(t *testing.T) {
			testscript.Run(t, testscript.Params{
				Dir:                 "testdata/script",
				WorkdirRoot:         workRoot,
				UpdateScripts:       *update,
				RequireExplicitExec: true,
				RequireUniqueNames:  true,
				Setup: func(env *testscript.Env) error {
					// Never the user's cache; the same one for a script's two runs.
					env.Setenv("DAEMONGEN_CACHE", filepath.Join(caches, filepath.Base(env.WorkDir)))
					return nil
				},
			})
		})
	}
}
