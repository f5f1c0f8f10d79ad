package gen

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lint"
)

// hclLintCases are a passing and a failing HCL daemon for every lint; bad's » marks the
// position of its warning, and path is the warning's path in HCL's names.
var hclLintCases = []struct {
	id, ok, bad, path string
}{
	{"plaintext-secret", `environment = { DB_PASSWORD_FILE = "/run/secrets/db" }`, `environment = { »DB_PASSWORD = "hunter2" }`, "container.agent.environment.DB_PASSWORD"},
	{"floating-image", `image = "agent:1.2"`, `»image = "agent"`, "container.agent.image"},
	{"privileged", `privileged = false`, "»privileged = true\nreadonly_root_filesystem = true", "container.agent.privileged"},
	{"dangerous-capability", "linux_parameters {\ncapabilities {\nadd = [\"BPF\"]\n}\n}", "linux_parameters {\ncapabilities {\nadd = [»\"ALL\"]\n}\n}", "container.agent.linux_parameters.capabilities.add.0"},
	{"runtime-socket", "mount_point \"sock\" {\ncontainer_path = \"/var/run/docker.sock\"\nread_only = true\n}", "mount_point \"sock\" {\ncontainer_path = \"/var/run/docker.sock\"\n»read_only = false\n}", "container.agent.mount_point.sock.read_only"},
	{"sensitive-host-path", "mount_point \"root\" {\ncontainer_path = \"/host/root\"\nread_only = true\n}", "mount_point \"root\" {\ncontainer_path = \"/host/root\"\n»read_only = false\n}", "container.agent.mount_point.root.read_only"},
	{"host-namespaces", "linux_parameters {\ncapabilities {\nadd = [\"NET_ADMIN\"]\n}\n}", "linux_parameters {\ncapabilities {\nadd = [\"SYS_PTRACE\"]\n}\n}", "pid_mode"},
	{"writable-root", "privileged = true\nreadonly_root_filesystem = true", "privileged = true\n»readonly_root_filesystem = false", "container.agent.readonly_root_filesystem"},
}

// TestLintsInHCL runs every lint on an HCL daemon: the passing case has no warning of the
// lint, the failing one exactly one, at its line and column, in HCL's names.
func TestLintsInHCL(t *testing.T) {
	if len(hclLintCases) != len(lint.Rules) {
		t.Errorf("%d HCL cases for %d lints", len(hclLintCases), len(lint.Rules))
	}
	spec := func(container string) string {
		image := "    image = \"agent:1.0\"\n"
		if strings.Contains(container, "image") {
			image = ""
		}
		return "daemon \"agent\" {\n  pid_mode = \"shared\"\n  volumes = { sock = \"/var/run/docker.sock\", root = \"/\" }\n  container \"agent\" {\n" + image + "    memory = 64\n" + container + "\n  }\n}\n"
	}
	for _, tc := range hclLintCases {
		t.Run(tc.id, func(t *testing.T) {
			run := func(container string) (found []string) {
				dir := t.TempDir()
				text := spec(strings.ReplaceAll(container, "»", ""))
				if err := os.WriteFile(filepath.Join(dir, "fleet.hcl"), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				_, diags, err := Generate(Config{Dir: dir, Paths: []string{"fleet.hcl"}, CheckOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range diags {
					if diag.WarningID(d) == tc.id {
						found = append(found, diag.FormatDiagnostic(d, dir))
					}
				}
				return found
			}
			if got := run(tc.ok); len(got) > 0 {
				t.Errorf("ok case: %q", got)
			}
			got := run(tc.bad)
			want := "fleet.hcl:" + markerPos(spec(tc.bad)) + ": warning: " + tc.path + ": "
			if tc.id == "host-namespaces" {
				want = "fleet.hcl:2:3: warning: " + tc.path + ": "
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], want) {
				t.Errorf("bad case: %q, want one starting %q", got, want)
			}
		})
	}
}

// markerPos returns the line:column of the » in text, counting it out.
func markerPos(text string) string {
	before, _, _ := strings.Cut(text, "»")
	line := strings.Count(before, "\n") + 1
	col := len(before) - strings.LastIndex(before, "\n")
	return strconv.Itoa(line) + ":" + strconv.Itoa(col)
}
