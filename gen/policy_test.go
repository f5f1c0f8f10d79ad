package gen

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lint"
)

// policyRun generates spec (fleet.cue) under the policy text (org.cue) on the day today,
// and returns its diagnostics, formatted.
func policyRun(t *testing.T, policyText, spec, today string) []string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"policy/org.cue": policyText, "spec/fleet.cue": spec} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The security lints have tests of their own.
	return generateDiags(t, Config{Dir: dir, Paths: []string{"spec"}, Policies: []string{"policy"}, Today: today},
		func(d *hcl.Diagnostic) bool { return slices.Contains(lint.IDs(), diag.WarningID(d)) })
}

const policyHead = "package policy\n\nimport \"list\"\n\n_list: list.MatchN\n"

// TestPolicyForms has a passing and a failing daemon for each form a rule takes: a field
// constraint, a pattern, list membership, an environment's scope and a family's.
func TestPolicyForms(t *testing.T) {
	daemon := func(extra string) string {
		return "package fleet\n\nenvironments: {dev: {}, prod: {}}\ndaemons: agent: {\n\ttags: team: \"obs\"\n\tcontainers: agent: {image: \"public.ecr.aws/agent:1.0\", memory: 64" + extra + "}\n}\n"
	}
	for _, tc := range []struct {
		name, rule, ok, bad, want string
	}{
		{"field", `rules: "no-privileged": check: containerDefinitions: [...{privileged?: false}]`, daemon(""), daemon(", privileged: true"),
			`spec/fleet.cue:6:69: containerDefinitions[agent].privileged: violates the policy rule "no-privileged" (policy/org.cue:7:8): conflicting values false and true (in agent/dev, agent/prod)`},
		{"pattern", `rules: registry: check: containerDefinitions: [...{image: =~"^public\\.ecr\\.aws/"}]`, daemon(""), strings.Replace(daemon(""), "public.ecr.aws/agent", "docker.io/agent", 1),
			`spec/fleet.cue:6:22: containerDefinitions[agent].image: violates the policy rule "registry" (policy/org.cue:7:8): invalid value "docker.io/agent:1.0" (out of bound =~"^public\\.ecr\\.aws/") (in agent/dev, agent/prod)`},
		{"list membership", `rules: "team-tag": check: tags: list.MatchN(>=1, {key: "team"})`, daemon(""), strings.Replace(daemon(""), "tags: team:", "tags: owner:", 1),
			`spec/fleet.cue:5:2: tags: violates the policy rule "team-tag" (policy/org.cue:7:8): invalid value [{key:"owner",value:"obs"}] (does not satisfy list.MatchN) (in agent/dev, agent/prod)`},
		{"environment scope", `rules: "prod-pinned": {envs: ["prod"], check: containerDefinitions: [...{image: !~":latest$"}]}`,
			strings.Replace(daemon(""), "}\n}\n", "}\n}\nenvironments: dev: daemons: agent: containers: agent: image: \"public.ecr.aws/agent:latest\"\n", 1),
			strings.Replace(daemon(""), "}\n}\n", "}\n}\nenvironments: prod: daemons: agent: containers: agent: image: \"public.ecr.aws/agent:latest\"\n", 1),
			`spec/fleet.cue:8:56: containerDefinitions[agent].image: violates the policy rule "prod-pinned" (policy/org.cue:7:8): invalid value "public.ecr.aws/agent:latest" (out of bound !~":latest$") (in agent/prod)`},
		{"required field", `rules: "task-role": check: taskRoleArn: =~"^arn:aws:iam::"`, strings.Replace(daemon(""), "tags: team:", "taskRoleArn: \"arn:aws:iam::123456789012:role/a\"\n\ttags: team:", 1), daemon(""),
			`spec/fleet.cue:4:10: taskRoleArn: violates the policy rule "task-role" (policy/org.cue:7:8): not set, and the rule requires it (in agent/dev, agent/prod)`},
		{"family scope", `rules: "agent-small": {families: ["agent"], check: containerDefinitions: [...{memory: <=64}]}`, daemon(""), strings.Replace(daemon(""), "memory: 64", "memory: 128", 1),
			`spec/fleet.cue:6:57: containerDefinitions[agent].memory: violates the policy rule "agent-small" (policy/org.cue:7:8): invalid value 128 (out of bound <=64) (in agent/dev, agent/prod)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := policyRun(t, policyHead+"\n"+tc.rule+"\n", tc.ok, "2026-12-01"); len(got) > 0 {
				t.Errorf("ok case: %q", got)
			}
			got := policyRun(t, policyHead+"\n"+tc.rule+"\n", tc.bad, "2026-12-01")
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("bad case:\ngot  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestPolicyLayers sets privileged: true in a group, in an environment's overlay and in a
// daemon: each is rejected at its own line, and no ignoreWarnings lets it through.
func TestPolicyLayers(t *testing.T) {
	rule := policyHead + "\nrules: \"no-privileged\": check: containerDefinitions: [...{privileged?: false}]\n"
	spec := `package fleet

environments: {dev: {}, prod: {}}
defaults: ignoreWarnings: ["privileged", "writable-root"]
groups: hosts: defaults: container: privileged: true
daemons: a: {group: "hosts", containers: a: {image: "a:1", memory: 64}}
daemons: b: containers: b: {image: "b:1", memory: 64}
environments: prod: daemons: b: containers: b: privileged: true
daemons: c: containers: c: {image: "c:1", memory: 64, privileged: true}
`
	want := []string{
		`spec/fleet.cue:5:37: containerDefinitions[a].privileged: violates the policy rule "no-privileged" (policy/org.cue:7:8): conflicting values false and true (in a/dev, a/prod)`,
		`spec/fleet.cue:8:48: containerDefinitions[b].privileged: violates the policy rule "no-privileged" (policy/org.cue:7:8): conflicting values false and true (in b/prod)`,
		`spec/fleet.cue:9:55: containerDefinitions[c].privileged: violates the policy rule "no-privileged" (policy/org.cue:7:8): conflicting values false and true (in c/dev, c/prod)`,
	}
	if got := policyRun(t, rule, spec, "2026-12-01"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestPolicyExceptions lets one family through until its date: the day after, the run
// fails saying the exception expired; an exception that lets nothing through is a warning.
func TestPolicyExceptions(t *testing.T) {
	rule := policyHead + `
rules: "no-privileged": check: containerDefinitions: [...{privileged?: false}]
exceptions: [
	{family: "falco", env: "prod", rule: "no-privileged", reason: "its driver", expires: "2026-12-31"},
	{family: "agent", rule: "no-privileged", reason: "no longer needed"},
]
`
	spec := `package fleet

environments: {prod: {}}
daemons: falco: {ignoreWarnings: ["privileged", "writable-root"], containers: falco: {image: "falco:1", memory: 64, privileged: true}}
daemons: agent: containers: agent: {image: "agent:1", memory: 64}
`
	unused := `policy/org.cue:10:2: warning: exceptions: the exception for agent from the rule "no-privileged" lets nothing through: agent does not break it; remove the exception [unused-policy-exception]`
	if got := policyRun(t, rule, spec, "2026-12-31"); len(got) != 1 || got[0] != unused {
		t.Errorf("on the last day: %q, want only %q", got, unused)
	}
	got := policyRun(t, rule, spec, "2027-01-01")
	want := `spec/fleet.cue:4:117: containerDefinitions[falco].privileged: violates the policy rule "no-privileged" (policy/org.cue:7:8): conflicting values false and true; its exception (policy/org.cue:9:2) expired after 2026-12-31 (in falco/prod)`
	if len(got) != 2 || got[1] != want {
		t.Errorf("the day after:\ngot  %q\nwant %q", got, want)
	}
}

// TestPolicyProblems reports a policy that does not compile, or that constrains a field
// the API lacks, at the policy's own line, before any daemon is checked.
func TestPolicyProblems(t *testing.T) {
	spec := "package fleet\n\ndaemons: agent: containers: agent: {image: \"agent:1\", memory: 1}\n"
	for name, tc := range map[string]struct{ policy, want string }{
		"syntax":        {"package policy\n\nrules: x: check: {\n", "policy/org.cue:3:20: expected '}', found 'EOF'"},
		"unknown field": {"package policy\n\nrules: x: check: containerDefinitions: [...{privilegd?: false}]\n", `policy/org.cue:3:45: check.containerDefinitions.*.privilegd: the API has no such field; did you mean "privileged"?`},
		"import":        {"package policy\n\nimport \"tool/exec\"\n\n_x: exec.Run\nrules: {}\n", `policy/org.cue:3:8: a policy may import the standard library only, and none of tool/...: "tool/exec"`},
		"long list":     {"package policy\n\nrules: x: check: tags: [" + strings.Repeat("{key: \"k\"}, ", MaxListLength+1) + "]\n", "policy/org.cue:3:24: a list of 10001 elements; lists may have at most 10000"},
		"exception":     {"package policy\n\nexceptions: [{family: \"a\", rule: \"r\"}]\n", "policy/org.cue:3:14: "},
	} {
		t.Run(name, func(t *testing.T) {
			got := policyRun(t, tc.policy, spec, "2026-12-01")
			if len(got) == 0 || !strings.HasPrefix(got[0], tc.want) || strings.Contains(strings.Join(got, "\n"), "spec/fleet.cue") {
				t.Errorf("got %q, want the policy's problem first (%s) and no daemon checked", got, tc.want)
			}
		})
	}
}

// TestExamplePolicy holds the shipped example policy to what the README says: the
// monorepo's teams satisfy it, found in policy/ at the root of their CUE module, and
// Falco's dated exception lets it through until its date, no later.
func TestExamplePolicy(t *testing.T) {
	dir, err := filepath.Abs("../examples/monorepo")
	if err != nil {
		t.Fatal(err)
	}
	if got := defaultPolicy(filepath.Join(dir, "teams")); got != filepath.Join(dir, PolicyFolder) {
		t.Errorf("the default policy from the monorepo: %q", got)
	}
	run := func(today string) []string {
		return generateDiags(t, Config{Dir: dir, Paths: []string{"teams/logging", "teams/security"}, Today: today}, nil)
	}
	if got := run("2027-06-30"); len(got) > 0 {
		t.Errorf("on the exception's last day: %q", got)
	}
	got := run("2027-07-01")
	if len(got) != 1 || !strings.HasPrefix(got[0], `teams/security/falco.cue:19:3: containerDefinitions[falco].privileged: violates the policy rule "no-privileged-in-prod" (policy/org.cue:`) {
		t.Errorf("the day after: %q", got)
	}
}
