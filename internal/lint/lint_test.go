package lint

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/daemongen/daemongen/internal/node"
)

// def builds a one-container definition from the container's JSON and the task's.
func def(t *testing.T, container, task string) *node.Node {
	t.Helper()
	var v map[string]any
	if task == "" {
		task = "{}"
	}
	if err := json.Unmarshal([]byte(task), &v); err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(container), &c); err != nil {
		t.Fatal(err)
	}
	c["name"] = "agent"
	v["family"] = "agent"
	v["containerDefinitions"] = []any{c}
	return node.FromJSON(v)
}

// TestLints holds each lint to what it must and must not find, on the shapes real agents
// use: references to secrets, settings about them, pinned images, read-only mounts.
func TestLints(t *testing.T) {
	for _, tc := range []struct {
		name, container, task string
		want                  []string // the ids found
	}{
		{"clean", `{"image": "agent:1.2"}`, "", nil},
		{"secret references and settings", `{"image": "a:1", "environment": [
			{"name": "DD_API_KEY_SECRET_ARN", "value": "arn:aws:secretsmanager:eu-west-1:1:secret:x"},
			{"name": "TOKEN_FILE", "value": "/var/run/secrets/token"},
			{"name": "VAULT_TOKEN_PATH", "value": "secret/agent"},
			{"name": "DD_APM_TOKEN_ENABLED", "value": "true"},
			{"name": "OTEL_EXPORTER_OTLP_HEADERS_URL", "value": "https://x"},
			{"name": "PASSWORD_MIN_LENGTH", "value": "12"},
			{"name": "API_KEY", "value": ""},
			{"name": "SECRET", "value": "${SECRET}"}]}`, "", nil},
		{"secrets in plain text", `{"image": "a:1", "environment": [
			{"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
			{"name": "X", "value": "-----BEGIN OPENSSH PRIVATE KEY-----"},
			{"name": "api_key", "value": "abc123def"}]}`, "", []string{"plaintext-secret", "plaintext-secret", "plaintext-secret"}},
		{"pinned images", `{"image": "registry.example.com:5000/team/agent:1.2"}`, "", nil},
		{"a digest pins even latest", `{"image": "agent:latest@sha256:0123456789012345678901234567890123456789012345678901234567890123"}`, "", nil},
		{"a registry port is no tag", `{"image": "registry.example.com:5000/agent"}`, "", []string{"floating-image"}},
		{"read-only sensitive mounts", `{"image": "a:1", "mountPoints": [{"sourceVolume": "etc", "containerPath": "/h", "readOnly": true}, {"sourceVolume": "run", "containerPath": "/r", "readOnly": true}]}`,
			`{"volumes": [{"name": "etc", "host": {"sourcePath": "/etc"}}, {"name": "run", "host": {"sourcePath": "/var/run"}}]}`, nil},
		{"a folder that holds the socket", `{"image": "a:1", "mountPoints": [{"sourceVolume": "run", "containerPath": "/r"}]}`,
			`{"volumes": [{"name": "run", "host": {"sourcePath": "/var/run/"}}]}`, []string{"runtime-socket"}},
		{"writable /", `{"image": "a:1", "mountPoints": [{"sourceVolume": "root", "containerPath": "/host"}]}`,
			`{"volumes": [{"name": "root", "host": {"sourcePath": "/"}}]}`, []string{"sensitive-host-path"}},
		{"a writable path that is not sensitive", `{"image": "a:1", "mountPoints": [{"sourceVolume": "logs", "containerPath": "/logs"}]}`,
			`{"volumes": [{"name": "logs", "host": {"sourcePath": "/var/log/agent"}}]}`, nil},
		{"shared PID namespace alone", `{"image": "a:1"}`, `{"pidMode": "shared"}`, nil},
		{"shared IPC with a privileged container", `{"image": "a:1", "privileged": true, "readonlyRootFilesystem": true}`, `{"ipcMode": "shared"}`, []string{"privileged", "host-namespaces"}},
		{"narrow capabilities", `{"image": "a:1", "linuxParameters": {"capabilities": {"add": ["NET_ADMIN", "SYS_PTRACE", "BPF", "PERFMON"]}}}`, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range Check(def(t, tc.container, tc.task)) {
				got = append(got, f.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("found %q, want %q", got, tc.want)
			}
		})
	}
}
