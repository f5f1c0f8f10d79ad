//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	fleetgen "github.com/daemongen/daemongen/gen/fleet"
)

// TestSignalRemovesTemporaries interrupts a generate while it stages a fleet, with SIGINT
// and with SIGTERM: the run must exit 130 or 143, leave no temporary file and no folder it
// made, and say so.
func TestSignalRemovesTemporaries(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a fleet")
	}
	specDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(specDir, "fleet.cue"), []byte(fleetgen.Spec(1500)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(os.Args[0], "generate", "--no-cache", "-q", "-o", out, specDir)
			cmd.Env = append(os.Environ(), runAsDaemongen+"=1")
			stderr := startStaging(t, cmd, out)
			cmd.Process.Signal(tc.sig)
			err := cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tc.code {
				t.Fatalf("exit: %v, want code %d; stderr:\n%s", err, tc.code, stderr.String())
			}
			if left := temporaries(out); len(left) > 0 {
				t.Errorf("%d temporaries left, such as %s", len(left), left[0])
			}
			if !strings.Contains(stderr.String(), "interrupted by") {
				t.Errorf("stderr = %q", stderr.String())
			}
			if strings.Contains(stderr.String(), "nothing was written") {
				if _, err := os.Stat(out); err == nil {
					t.Errorf("the output folder the run made is still there")
				}
			}
		})
	}
}

// startStaging starts cmd, a generate into out, and returns once its write has staged a
// temporary file; its stderr is gathered in the builder returned.
func startStaging(t *testing.T, cmd *exec.Cmd, out string) *strings.Builder {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(temporaries(out)) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no temporary file appeared")
		}
		time.Sleep(2 * time.Millisecond)
	}
	return &stderr
}

// temporaries lists the write temporaries below dir.
func temporaries(dir string) []string {
	var found []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && tempRun(d.Name()) != "" {
			found = append(found, p)
		}
		return nil
	})
	return found
}
