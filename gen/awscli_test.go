package gen

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/internal/testcases"
)

// TestAWSCLIAcceptsOutputs runs the aws CLI's own parameter validation, which happens before
// any request, on every example output. The endpoint is a closed loopback port, so nothing
// leaves the machine: a file the CLI accepts fails only at the connection. Fields newer than
// the installed CLI (pidMode, ipcMode, logDriverVolumeConfiguration) are left out for it.
func TestAWSCLIAcceptsOutputs(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the aws CLI is not installed")
	}
	run := func(t *testing.T, doc map[string]any) string {
		t.Helper()
		input := filepath.Join(t.TempDir(), "input.json")
		b, _ := json.Marshal(doc)
		if err := os.WriteFile(input, b, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(aws, "ecs", "register-daemon-task-definition", "--cli-input-json", "file://"+input,
			"--endpoint-url", "http://127.0.0.1:9", "--cli-connect-timeout", "2")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SECRET", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_MAX_ATTEMPTS=1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	// The check must be able to fail: an ordinary task definition's field is rejected.
	if out := run(t, map[string]any{"family": "x", "networkMode": "awsvpc", "containerDefinitions": []any{}}); !strings.Contains(out, "Parameter validation failed") {
		t.Skipf("this aws CLI does not validate register-daemon-task-definition offline: %s", out)
	}
	for _, file := range testcases.OutputFiles(t) {
		t.Run(filepath.ToSlash(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			delete(doc, "pidMode")
			delete(doc, "ipcMode")
			if out := run(t, doc); !strings.Contains(out, "Could not connect to the endpoint URL") {
				t.Errorf("the aws CLI rejected it:\n%s", out)
			}
		})
	}
}
