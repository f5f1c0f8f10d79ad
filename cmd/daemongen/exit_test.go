package main

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestExitCodes checks the exit status contract: 0 valid, 1 invalid, 2 usage.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.cue", `daemons: a: containers: a: {image: "busybox", memory: 64}`)
	bad := write("bad.cue", `daemons: a: containers: a: {image: "busybox", memory: 1}`)
	envs := write("envs.cue", `environments: dev: {}
daemons: a: containers: a: {image: "busybox", memory: 64}`)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"vet valid", []string{"vet", good}, exitOK},
		{"vet invalid", []string{"vet", bad}, exitInvalid},
		{"generate invalid", []string{"generate", "-o", filepath.Join(dir, "out"), bad}, exitInvalid},
		{"generate valid", []string{"generate", "-o", filepath.Join(dir, "out"), good}, exitOK},
		{"no command", nil, exitUsage},
		{"unknown command", []string{"frobnicate"}, exitUsage},
		{"unknown flag", []string{"vet", "--frob", good}, exitUsage},
		{"no path", []string{"vet"}, exitUsage},
		{"missing path", []string{"vet", filepath.Join(dir, "missing.cue")}, exitUsage},
		{"unknown environment", []string{"vet", "--env", "prod", envs}, exitUsage},
		{"malformed --var", []string{"vet", "--var", "account", good}, exitUsage},
		{"missing --var-file", []string{"vet", "--var-file", filepath.Join(dir, "none.vars.hcl"), good}, exitUsage},
		{"prune with check", []string{"generate", "--check", "--prune", good}, exitUsage},
		{"check current", []string{"generate", "--check", "-o", filepath.Join(dir, "out"), good}, exitOK},
		{"check stale", []string{"generate", "--check", "-o", dir, good}, exitInvalid},
		{"help", []string{"help"}, exitOK},
		{"zero timeout", []string{"vet", "--timeout", "0", good}, exitUsage},
		{"negative timeout", []string{"vet", "--timeout", "-1s", good}, exitUsage},
		{"empty output folder", []string{"generate", "-o", "", good}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := Main(tt.args, &stdout, &stderr); got != tt.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", got, tt.want, stderr.String())
			}
		})
	}
}

// TestGoGenerate runs the go:generate hook of examples/guide: it succeeds, prints nothing,
// and leaves the committed output as it is.
func TestGoGenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds daemongen with go run")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "examples", "guide", "out")
	before := snapshot(t, out)
	cmd := exec.Command("go", "generate", "./examples/guide")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DAEMONGEN_CACHE="+t.TempDir()) // never the user's cache
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go generate: %v\n%s", err, output)
	}
	if len(output) > 0 {
		t.Errorf("go generate printed:\n%s", output)
	}
	if after := snapshot(t, out); !maps.EqualFunc(before, after, func(a, b fileState) bool { return a == b }) {
		t.Errorf("go generate changed examples/guide/out")
	}
}

type fileState struct {
	content string
	modTime int64
}

// snapshot records the content and modification time of the files in dir.
func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]fileState{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		info, _ := e.Info()
		files[e.Name()] = fileState{string(b), info.ModTime().UnixNano()}
	}
	return files
}
