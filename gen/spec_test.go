package gen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/daemongen/daemongen/internal/diag"
)

// generateSpec writes spec as spec.cue and generates it.
func generateSpec(t *testing.T, spec string) (map[string]string, []string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spec.cue"), []byte("package fleet\n\n"+spec), 0o644); err != nil {
		t.Fatal(err)
	}
	files, diags, err := Generate(Config{Dir: dir, Paths: []string{"spec.cue"}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, b := range files {
		out[name] = string(b)
	}
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, diag.FormatDiagnostic(d, dir))
	}
	return out, msgs
}

// compactOf renders a generated file as one line of JSON, for short expectations.
func compactOf(t *testing.T, file string) string {
	t.Helper()
	n := fromJSON(jsonValue(t, []byte(file)))
	return n.Compact()
}

// TestLayering checks how layers combine: each case generates agent.json and compares it
// in compact form.
func TestLayering(t *testing.T) {
	tests := []struct{ name, spec, want string }{
		{
			name: "a daemon's value wins over defaults; structs merge",
			spec: `defaults: {memory: "256", container: {memory: 64, essential: true}}
daemons: agent: {memory: "512", containers: agent: {image: "a:1"}}`,
			want: `{"containerDefinitions": [{"essential": true, "image": "a:1", "memory": 64, "name": "agent"}], "family": "agent", "memory": "512"}`,
		},
		{
			name: "null removes what a lower layer set",
			spec: `defaults: {executionRoleArn: "arn:aws:iam::123456789012:role/x", container: {memory: 64, user: "1000"}}
daemons: agent: {executionRoleArn: null, containers: agent: {image: "a:1", user: null}}`,
			want: `{"containerDefinitions": [{"image": "a:1", "memory": 64, "name": "agent"}], "family": "agent"}`,
		},
		{
			name: "lists are replaced, not merged",
			spec: `defaults: container: {memory: 64, command: ["a", "b"]}
daemons: agent: containers: agent: {image: "a:1", command: ["c"]}`,
			want: `{"containerDefinitions": [{"command": ["c"], "image": "a:1", "memory": 64, "name": "agent"}], "family": "agent"}`,
		},
		{
			name: "a changed logDriver replaces the whole log configuration",
			spec: `defaults: container: {memory: 64, logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s", "splunk-token": "t"}}}
daemons: agent: containers: {
	agent: {image: "a:1", logConfiguration: {logDriver: "awsfirelens", options: Name: "stdout"}}
	router: {image: "fluent-bit:1", firelensConfiguration: type: "fluentbit"}
}`,
			want: `{"containerDefinitions": [{"image": "a:1", "logConfiguration": {"logDriver": "awsfirelens", "options": {"Name": "stdout"}}, "memory": 64, "name": "agent"}, {"firelensConfiguration": {"type": "fluentbit"}, "image": "fluent-bit:1", "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": "t", "splunk-url": "https://s"}}, "memory": 64, "name": "router"}], "family": "agent"}`,
		},
		{
			name: "every-container defaults apply to the list form too",
			spec: `defaults: container: memoryReservation: 32
daemons: agent: containerDefinitions: [{name: "agent", image: "a:1"}]`,
			want: `{"containerDefinitions": [{"image": "a:1", "memoryReservation": 32, "name": "agent"}], "family": "agent"}`,
		},
		{
			name: "group defaults sit between defaults and the daemon",
			spec: `defaults: {cpu: "128", memory: "256"}
groups: big: defaults: {cpu: "1024", memory: "2048"}
daemons: agent: {group: "big", memory: "512", containers: agent: {image: "a:1", memory: 64}}`,
			want: `{"containerDefinitions": [{"image": "a:1", "memory": 64, "name": "agent"}], "cpu": "1024", "family": "agent", "memory": "512"}`,
		},
		{
			name: "the family defaults to the key, and can be set",
			spec: `daemons: agent: {family: "agent", containers: agent: {image: "a:1", memory: 64}}`,
			want: `{"containerDefinitions": [{"image": "a:1", "memory": 64, "name": "agent"}], "family": "agent"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files, diags := generateSpec(t, tt.spec)
			if len(diags) > 0 {
				t.Fatalf("diagnostics: %q", diags)
			}
			if diff := cmp.Diff(tt.want, compactOf(t, files["agent.json"])); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestLowering checks the concise forms' shorthands and their mistakes.
func TestLowering(t *testing.T) {
	tests := []struct{ name, spec, want, wantErr string }{
		{
			name: "shorthands",
			spec: `daemons: agent: {
	volumes: {logs: "/var/log", tasks: logDriverVolumeConfiguration: driver: "json-file"}
	tags: {b: "2", a: "1"}
	containers: {
		agent: {
			image: "a:1", memory: 64
			environment: {PORT: 8125, DEBUG: true, NAME: "x"}
			mountPoints: {logs: "/logs", tasks: {containerPath: "/tasks", readOnly: true}}
			ulimits: {nofile: 1024, core: {softLimit: 0, hardLimit: 10}}
			dependsOn: init: "SUCCESS"
			systemControls: "net.core.somaxconn": "1024"
		}
		init: {image: "busybox:1.36", memory: 8, essential: false}
	}
}`,
			want: `{"containerDefinitions": [{"dependsOn": [{"condition": "SUCCESS", "containerName": "init"}], "environment": [{"name": "DEBUG", "value": "true"}, {"name": "NAME", "value": "x"}, {"name": "PORT", "value": "8125"}], "image": "a:1", "memory": 64, "mountPoints": [{"containerPath": "/logs", "sourceVolume": "logs"}, {"containerPath": "/tasks", "readOnly": true, "sourceVolume": "tasks"}], "name": "agent", "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}], "ulimits": [{"hardLimit": 10, "name": "core", "softLimit": 0}, {"hardLimit": 1024, "name": "nofile", "softLimit": 1024}]}, {"essential": false, "image": "busybox:1.36", "memory": 8, "name": "init"}], "family": "agent", "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}], "volumes": [{"host": {"sourcePath": "/var/log"}, "name": "logs"}, {"logDriverVolumeConfiguration": {"driver": "json-file"}, "name": "tasks"}]}`,
		},
		{
			name:    "a name that differs from its key",
			spec:    `daemons: agent: containers: agent: {name: "other", image: "a:1", memory: 64}`,
			wantErr: `spec.cue:3:37: containers.agent.name: invalid value "other": differs from its key "agent"; leave name out, the key sets it (in agent)`,
		},
		{
			name:    "both forms of containers",
			spec:    `daemons: agent: {containers: a: {image: "a:1", memory: 64}, containerDefinitions: [{name: "b", image: "b:1", memory: 64}]}`,
			wantErr: `spec.cue:3:18: containers: set either containers (keyed by name) or containerDefinitions (a list), not both (in agent)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files, diags := generateSpec(t, tt.spec)
			if tt.wantErr != "" {
				if !strings.Contains(strings.Join(diags, "\n"), tt.wantErr) {
					t.Errorf("diagnostics %q lack %q", diags, tt.wantErr)
				}
				return
			}
			if len(diags) > 0 {
				t.Fatalf("diagnostics: %q", diags)
			}
			if diff := cmp.Diff(tt.want, compactOf(t, files["agent.json"])); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
