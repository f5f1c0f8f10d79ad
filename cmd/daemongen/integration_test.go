//go:build unix

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// buildOnce builds the daemongen command for the tests that run it as a program.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "daemongen-build-")
	if err != nil {
		return "", err
	}
	exe := filepath.Join(dir, "daemongen")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		return "", &buildError{err, out}
	}
	return exe, nil
})

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// buildDaemongen returns the built command, building it once.
func buildDaemongen(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the command")
	}
	exe, err := buildOnce()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	return exe
}

// preCommitHook is a hook of .pre-commit-hooks.yaml, with the keys pre-commit requires.
type preCommitHook struct {
	ID            string `yaml:"id"`
	Name          string `yaml:"name"`
	Description   string `yaml:"description"`
	Entry         string `yaml:"entry"`
	Language      string `yaml:"language"`
	Files         string `yaml:"files"`
	Exclude       string `yaml:"exclude"`
	PassFilenames *bool  `yaml:"pass_filenames"`
}

// TestPreCommitHooks parses .pre-commit-hooks.yaml as pre-commit reads it and runs each
// hook's entry as pre-commit would, on the guide example: each passes there, and fails on
// a spec with a mistake.
func TestPreCommitHooks(t *testing.T) {
	b, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hooks []preCommitHook
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&hooks); err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 3 {
		t.Fatalf("%d hooks, want fmt, vet and generate --check", len(hooks))
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "fleet.cue"), []byte("package fleet\n\ndaemons: agent: containers: agent: {image: \"a:1\",   memory: 1}\n"), 0o644)
	for _, h := range hooks {
		t.Run(h.ID, func(t *testing.T) {
			if h.ID == "" || h.Name == "" || h.Entry == "" || h.Language != "golang" {
				t.Fatalf("hook %+v lacks a key pre-commit requires, or is not built with go", h)
			}
			files := regexp.MustCompile(h.Files)
			entry := strings.Fields(h.Entry)
			if entry[0] != "daemongen" {
				t.Fatalf("entry %q does not run daemongen", h.Entry)
			}
			var good, wrong []string
			if h.PassFilenames == nil || *h.PassFilenames {
				// pre-commit passes the changed files that match.
				names, _ := filepath.Glob("../../examples/guide/cue/*")
				for _, n := range names {
					if files.MatchString(n) {
						good = append(good, n)
					}
				}
				wrong = []string{filepath.Join(bad, "fleet.cue")}
			} else if strings.Contains(h.Entry, "generate") {
				good = []string{"-o", "../../examples/guide/out", "../../examples/guide/cue"}
				wrong = []string{"-o", t.TempDir(), "../../examples/guide/cue"}
			} else {
				good, wrong = []string{"../../examples/guide/cue"}, []string{bad}
			}
			if len(good) == 0 {
				t.Fatalf("files %q matches no spec of the example", h.Files)
			}
			var stderr strings.Builder
			if code := Main(append(entry[1:], good...), &strings.Builder{}, &stderr); code != exitOK {
				t.Errorf("%s %s: exit %d\n%s", h.Entry, strings.Join(good, " "), code, stderr.String())
			}
			if code := Main(append(entry[1:], wrong...), &strings.Builder{}, &strings.Builder{}); code != exitInvalid {
				t.Errorf("%s on a mistake: exit %d, want %d", h.Entry, code, exitInvalid)
			}
		})
	}
}

// TestActionSteps parses action.yml and runs its steps' commands with bash, as a runner
// would, with daemongen built from this checkout on the PATH: the check passes on the
// guide example and the SARIF step writes a SARIF log.
func TestActionSteps(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	exe := buildDaemongen(t)
	b, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Name   string `yaml:"name"`
		Inputs map[string]struct {
			Required bool   `yaml:"required"`
			Default  string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				Name string            `yaml:"name"`
				If   string            `yaml:"if"`
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatal(err)
	}
	if action.Runs.Using != "composite" || !action.Inputs["paths"].Required {
		t.Fatalf("not a composite action that takes paths: %+v", action)
	}
	sarif := filepath.Join(t.TempDir(), "daemongen.sarif")
	inputs := map[string]string{"paths": "../../examples/guide/cue", "out": "../../examples/guide/out", "version": "v1.2.3", "args": "", "sarif": sarif}
	input := regexp.MustCompile(`\$\{\{\s*inputs\.([a-z-]+)\s*\}\}`)
	ran := 0
	for _, step := range action.Runs.Steps {
		if step.Run == "" {
			continue
		}
		env := os.Environ()
		env = append(env, "PATH="+filepath.Dir(exe)+":"+os.Getenv("PATH"))
		for k, v := range step.Env {
			env = append(env, k+"="+input.ReplaceAllStringFunc(v, func(m string) string { return inputs[input.FindStringSubmatch(m)[1]] }))
		}
		if strings.HasPrefix(step.Run, "go install ") {
			// Installing a released daemongen needs the network; the step must name the
			// command and the version asked for.
			if !strings.Contains(step.Run, "github.com/daemongen/daemongen/cmd/daemongen@${DAEMONGEN_VERSION}") {
				t.Errorf("the install step does not install the pinned command: %s", step.Run)
			}
			continue
		}
		cmd := exec.Command(bash, "-e", "-c", step.Run)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("step %q: %v\n%s", step.Name, err, out)
		}
		ran++
	}
	if ran != 2 {
		t.Errorf("ran %d steps, want the check and the SARIF step", ran)
	}
	data, err := os.ReadFile(sarif)
	var log struct {
		Version string `json:"version"`
	}
	if err != nil || json.Unmarshal(data, &log) != nil || log.Version != "2.1.0" {
		t.Errorf("the SARIF step wrote %q, %v", data, err)
	}
}
