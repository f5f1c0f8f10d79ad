//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	fleetgen "github.com/daemongen/daemongen/gen/fleet"
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

// TestKilledSupervisorStopsTheWrite kills the supervising process with SIGKILL while its
// child stages a fleet: the child must not run on unseen and write, but stop as on
// SIGTERM, leaving no temporary and no output behind.
func TestKilledSupervisorStopsTheWrite(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the child's parent-death signal is Linux's")
	}
	exe := buildDaemongen(t)
	specDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(specDir, "fleet.cue"), []byte(fleetgen.Spec(1500)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(exe, "generate", "--no-cache", "-q", "-o", out, specDir)
	stderr := startStaging(t, cmd, out)
	cmd.Process.Kill()
	deadline := time.Now().Add(60 * time.Second)
	cmd.Wait()
	for time.Now().Before(deadline) && len(temporaries(out)) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if left := temporaries(out); len(left) > 0 {
		t.Errorf("%d temporaries left after the supervisor was killed; stderr:\n%s", len(left), stderr.String())
	}
	written, _ := filepath.Glob(filepath.Join(out, "*", "*.json")) // ENV/FAMILY.json
	if _, err := os.Stat(filepath.Join(out, manifestName)); err == nil || len(written) > 0 {
		t.Errorf("the child ran on and wrote %d outputs and the manifest after its supervisor was killed", len(written))
	}
}
