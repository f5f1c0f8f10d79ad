//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRuntimeCrashExitsThree runs the built command under an address-space limit with a
// spec whose evaluation needs more (the limit leaves room for the supervising process,
// and the child reaches it within a few seconds, well below --max-memory's default):
// the Go runtime's fatal "out of memory" exits with 2,
// which callers read as a usage error; daemongen must exit with exitCrash and say why.
func TestRuntimeCrashExitsThree(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash for ulimit")
	}
	exe := buildDaemongen(t)
	dir := t.TempDir()
	spec := "package fleet\n\nimport \"list\"\n\n_n: len([for i in list.Range(0, 100000000, 1) {a: i}])\n" +
		"daemons: agent: containers: agent: {image: \"a:1\", memory: 64 + _n*0}\n"
	if err := os.WriteFile(filepath.Join(dir, "big.cue"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "-c", `ulimit -v 2500000 && exec "$0" vet --no-cache "$1"`, exe, filepath.Join(dir, "big.cue"))
	cmd.Env = append(os.Environ(), "GOMEMLIMIT=off")
	out, err := cmd.CombinedOutput()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != exitCrash {
		t.Fatalf("exit: %v, want %d; output:\n%.2000s", err, exitCrash, out)
	}
	if !strings.Contains(string(out), "daemongen: internal error: the Go runtime stopped daemongen with ") {
		t.Errorf("output does not say what happened:\n%.3000s", out)
	}
}
