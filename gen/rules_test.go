package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/fleetcheck"
	"github.com/daemongen/daemongen/internal/spec"

	"github.com/daemongen/daemongen/internal/lint"

	"github.com/hashicorp/hcl/v2"
)

// marker marks, in a test case's text, where the expected diagnostic must point.
const marker = "»"

// apiDaemon writes a daemon task definition in API form (CUE syntax): top-level fields
// top, and one container "a" with the fields container.
func apiDaemon(top, container string) string {
	return fmt.Sprintf("family: \"d\"\n%s\ncontainerDefinitions: [{\n\tname: \"a\"\n\timage: \"busybox:1.36\"\n\tmemory: 64\n%s\n}]\n", top, container)
}

// vetText validates text as test.cue and returns the diagnostics, and the position of the
// marker as "test.cue:LINE:COL" (empty without a marker).
func vetText(t *testing.T, text string) (hcl.Diagnostics, string) {
	t.Helper()
	pos := ""
	if i := strings.Index(text, marker); i >= 0 {
		before := text[:i]
		line := strings.Count(before, "\n") + 1
		col := i - strings.LastIndex(before, "\n")
		pos = fmt.Sprintf("test.cue:%d:%d", line, col)
		text = before + text[i+len(marker):]
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "test.cue"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags, err := Generate(Config{Dir: dir, Paths: []string{"test.cue"}})
	if err != nil {
		t.Fatal(err)
	}
	return diags, pos
}

// ruleCase is one rule: ok satisfies it, bad breaks it once, and want is the diagnostic
// bad gets (after the position, which bad marks).
type ruleCase struct {
	rule, ok, bad, want string
	// warning is the id of the warning bad gets, "" when it gets an error.
	warning string
}

var ruleCases = []ruleCase{
	// Top level.
	{rule: "family pattern", ok: apiDaemon("", ""), bad: strings.Replace(apiDaemon("", ""), `family: "d"`, `»family: "my daemon"`, 1),
		want: `family: invalid value "my daemon": must be 1 to 255 letters, digits, hyphens and underscores`},
	{rule: "family length", ok: apiDaemon("", ""), bad: strings.Replace(apiDaemon("", ""), `family: "d"`, `»family: "`+strings.Repeat("x", 256)+`"`, 1),
		want: `family: invalid value "` + strings.Repeat("x", 256) + `": must be 1 to 255 letters, digits, hyphens and underscores`},
	{rule: "family fits a file name", ok: strings.Replace(apiDaemon("", ""), `family: "d"`, `family: "`+strings.Repeat("x", 250)+`"`, 1), bad: strings.Replace(apiDaemon("", ""), `family: "d"`, `»family: "`+strings.Repeat("x", 251)+`"`, 1),
		want: `family: a family of 251 characters makes the output file name 256 bytes long, and file systems allow 255: use at most 250 characters`},
	{rule: "unknown field", ok: apiDaemon(`taskRoleArn: "app"`, ""), bad: apiDaemon(`»taskRole: "app"`, ""),
		want: `taskRole: unknown field; did you mean "taskRoleArn"?`},
	{rule: "unsupported field", ok: apiDaemon("", ""), bad: apiDaemon(`»networkMode: "awsvpc"`, ""),
		want: `networkMode: daemon task definitions do not support networkMode: daemons always use the daemon_bridge network mode that ECS sets`},
	{rule: "taskRoleArn", ok: apiDaemon(`taskRoleArn: "arn:aws:iam::123456789012:role/agent"`, ""), bad: apiDaemon(`»taskRoleArn: "arn:aws:s3:::bucket"`, ""),
		want: `taskRoleArn: invalid value "arn:aws:s3:::bucket": must be an IAM role name or role ARN (arn:aws:iam::123456789012:role/NAME)`},
	{rule: "executionRoleArn", ok: apiDaemon(`executionRoleArn: "arn:aws:iam::123456789012:role/exec"`, ""), bad: apiDaemon(`»executionRoleArn: "exec"`, ""),
		want: `executionRoleArn: invalid value "exec": must be an IAM role ARN (arn:aws:iam::123456789012:role/NAME)`},
	{rule: "task cpu is a string", ok: apiDaemon(`cpu: "256"`, ""), bad: apiDaemon(`»cpu: 256`, ""),
		want: `cpu: invalid value 256: must be a whole number of CPU units written as a string, for example "256" (1024 units = 1 vCPU)`},
	{rule: "task memory digits", ok: apiDaemon(`memory: "512"`, ""), bad: apiDaemon(`»memory: "512MiB"`, ""),
		want: `memory: invalid value "512MiB": must be a whole number of MiB written as a string, for example "512"`},
	{rule: "pidMode", ok: apiDaemon(`pidMode: "shared"`, ""), bad: apiDaemon(`»pidMode: "host"`, ""),
		want: `pidMode: invalid value "host": must be "none" or "shared"`},
	{rule: "ipcMode", ok: apiDaemon(`ipcMode: "none"`, ""), bad: apiDaemon(`»ipcMode: "task"`, ""),
		want: `ipcMode: invalid value "task": must be "none" or "shared"`},
	{rule: "at least one container", ok: apiDaemon("", ""), bad: "family: \"d\"\n»containerDefinitions: []\n",
		want: `containerDefinitions: must list at least one container`},
	{rule: "an essential container", ok: apiDaemon("", "essential: true"), bad: strings.Replace(apiDaemon("", "essential: false"), "containerDefinitions: [", "»containerDefinitions: [", 1),
		want: `containerDefinitions: at least one container must be essential (essential is true when omitted)`},
	{rule: "cpu fits the task", ok: apiDaemon(`cpu: "512"`, "cpu: 512"), bad: apiDaemon(`»cpu: "256"`, "cpu: 512"),
		want: `cpu: 256 CPU units are fewer than the 512 the containers reserve together`},
	{rule: "memory fits the task", ok: apiDaemon(`memory: "64"`, ""), bad: apiDaemon(`»memory: "32"`, ""),
		want: `memory: 32 MiB is less than the 64 MiB the containers reserve together`},
	{rule: "at most 50 tags", ok: apiDaemon(`tags: [{key: "a"}]`, ""), bad: apiDaemon(`»tags: [`+strings.Repeat(`{key: "k", value: "v"}, `, 0)+tagList(51)+`]`, ""),
		want: `tags: has 51 tags; at most 50 are allowed`},
	{rule: "tag key prefix", ok: apiDaemon(`tags: [{key: "team", value: "x"}]`, ""), bad: apiDaemon(`tags: [{»key: "aws:team", value: "x"}]`, ""),
		want: `tags[aws:team].key: invalid value "aws:team": must be 1 to 128 letters, digits, spaces and _ . : / = + - @, not starting with aws:`},
	{rule: "tag value prefix", ok: apiDaemon(`tags: [{key: "team", value: "x"}]`, ""), bad: apiDaemon(`tags: [{key: "team", »value: "AWS:x"}]`, ""),
		want: `tags[team].value: invalid value "AWS:x": must be up to 256 letters, digits, spaces and _ . : / = + - @, not starting with aws:`},
	{rule: "tag key length", ok: apiDaemon(`tags: [{key: "`+strings.Repeat("k", 128)+`"}]`, ""), bad: apiDaemon(`tags: [{»key: "`+strings.Repeat("k", 129)+`"}]`, ""),
		want: `tags[` + strings.Repeat("k", 129) + `].key: invalid value "` + strings.Repeat("k", 129) + `": must be 1 to 128 letters, digits, spaces and _ . : / = + - @, not starting with aws:`},
	{rule: "tag keys unique", ok: apiDaemon(`tags: [{key: "a"}, {key: "b"}]`, ""), bad: apiDaemon(`tags: [{key: "a"}, {»key: "a"}]`, ""),
		want: `tags[a].key: tag key "a" appears more than once; keys must be unique`},

	// Containers.
	{rule: "container name", ok: apiDaemon("", ""), bad: strings.Replace(apiDaemon("", ""), `name: "a"`, `»name: "a.b"`, 1),
		want: `containerDefinitions[a.b].name: invalid value "a.b": must be 1 to 255 letters, digits, hyphens and underscores`},
	{rule: "container name required", ok: apiDaemon("", ""), bad: "family: \"d\"\ncontainerDefinitions: [»{image: \"busybox\", memory: 64}]\n",
		want: `containerDefinitions[0]: missing required field name`},
	{rule: "image required", ok: apiDaemon("", ""), bad: "family: \"d\"\ncontainerDefinitions: [»{name: \"a\", memory: 64}]\n",
		want: `containerDefinitions[a]: missing required field image`},
	{rule: "image pattern", ok: apiDaemon("", ""), bad: strings.Replace(apiDaemon("", ""), `image: "busybox:1.36"`, `»image: "busy box"`, 1),
		want: `containerDefinitions[a].image: invalid value "busy box": must be an image reference of up to 255 letters, digits and - _ : . / #, optionally followed by @sha256: and 64 hex digits`},
	{rule: "image digest", ok: strings.Replace(apiDaemon("", ""), `busybox:1.36`, `busybox@sha256:`+strings.Repeat("a", 64), 1), bad: strings.Replace(apiDaemon("", ""), `image: "busybox:1.36"`, `»image: "busybox@sha256:abc"`, 1),
		want: `containerDefinitions[a].image: invalid value "busybox@sha256:abc": must be an image reference of up to 255 letters, digits and - _ : . / #, optionally followed by @sha256: and 64 hex digits`},
	{rule: "container names unique", ok: "family: \"d\"\ncontainerDefinitions: [{name: \"a\", image: \"x:1\", memory: 64}, {name: \"b\", image: \"x:1\", memory: 64}]\n",
		bad:  "family: \"d\"\ncontainerDefinitions: [{name: \"a\", image: \"x:1\", memory: 64}, {»name: \"a\", image: \"x:1\", memory: 64}]\n",
		want: `containerDefinitions[a].name: container name "a" is used by more than one container; names must be unique`},
	{rule: "container cpu", ok: apiDaemon("", "cpu: 128"), bad: apiDaemon("", "»cpu: 0"),
		want: `containerDefinitions[a].cpu: invalid value 0: must be a whole number of CPU units from 1 to 2147483647; omit cpu to reserve none`},
	{rule: "memory minimum", ok: apiDaemon("", "memoryReservation: 32"), bad: strings.Replace(apiDaemon("", ""), "memory: 64", "»memory: 2", 1),
		want: `containerDefinitions[a].memory: invalid value 2: must be a whole number of MiB from 4 to 2147483647`},
	{rule: "memory maximum", ok: strings.Replace(apiDaemon("", ""), "memory: 64", "memory: 2147483647", 1), bad: strings.Replace(apiDaemon("", ""), "memory: 64", "»memory: 2147483648", 1),
		want: `containerDefinitions[a].memory: invalid value 2147483648: must be a whole number of MiB from 4 to 2147483647`},
	{rule: "whole number written with an exponent", ok: strings.Replace(apiDaemon("", ""), "memory: 64", "memory: 512", 1), bad: strings.Replace(apiDaemon("", ""), "memory: 64", "»memory: 0.512e3", 1),
		want: `containerDefinitions[a].memory: invalid value 512.0: must be a whole number of MiB from 4 to 2147483647`},
	{rule: "int32 range", ok: apiDaemon("", "cpu: 2147483647"), bad: apiDaemon("", "»cpu: 2147483648"),
		want: `containerDefinitions[a].cpu: invalid value 2147483648: must be a whole number of CPU units from 1 to 2147483647; omit cpu to reserve none`},
	{rule: "memoryReservation within memory", ok: apiDaemon("", "memoryReservation: 32"), bad: apiDaemon("", "»memoryReservation: 65"),
		want: `containerDefinitions[a].memoryReservation: memoryReservation (65 MiB) must not exceed memory (64 MiB)`},
	{rule: "memory without task memory", ok: "family: \"d\"\nmemory: \"128\"\ncontainerDefinitions: [{name: \"a\", image: \"x:1\"}]\n", bad: "family: \"d\"\ncontainerDefinitions: [»{name: \"a\", image: \"x:1\"}]\n",
		want: `containerDefinitions[a]: needs memory or memoryReservation, because the task sets no memory`},
	{rule: "user", ok: apiDaemon("", `user: "1000:1000"`), bad: apiDaemon("", `»user: "-1"`),
		want: `containerDefinitions[a].user: invalid value "-1": must be user, user:group, uid, uid:gid, user:gid or uid:group, with non-negative numeric ids`},
	{rule: "essential is a boolean", ok: apiDaemon("", "essential: true"), bad: apiDaemon("", `»essential: "yes"`),
		want: `containerDefinitions[a].essential: invalid value "yes": must be true or false`},
	{rule: "environment names unique", ok: apiDaemon("", `environment: [{name: "A", value: "1"}, {name: "B", value: "2"}]`), bad: apiDaemon("", `environment: [{name: "A", value: "1"}, {»name: "A", value: "2"}]`),
		want: `containerDefinitions[a].environment[A].name: environment variable "A" is set more than once`},
	{rule: "secret names unique", ok: execRole(`secrets: [{name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]`), bad: execRole(`secrets: [{name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}, {»name: "A", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/y"}]`),
		want: `containerDefinitions[a].secrets[A].name: secret "A" is set more than once`},
	{rule: "secret and variable", ok: execRole(`environment: [{name: "B", value: "1"}], secrets: [{name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]`), bad: execRole(`environment: [{name: "A", value: "1"}], secrets: [{»name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]`),
		want: `containerDefinitions[a].secrets[A].name: "A" is both an environment variable and a secret`},
	{rule: "secret valueFrom", ok: execRole(`secrets: [{name: "A", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/team/token"}, {name: "B", valueFrom: "/team/token"}, {name: "C", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::"}]`), bad: execRole(`secrets: [{name: "TOKEN", »valueFrom: "arn:aws:s3:::bucket/token"}]`),
		want: `containerDefinitions[a].secrets[TOKEN].valueFrom: invalid value "arn:aws:s3:::bucket/token": must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) or of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME), or an SSM parameter name`},
	{rule: "secretOptions valueFrom", ok: execRole(`logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s"}, secretOptions: [{name: "splunk-token", valueFrom: "splunk/token"}]}`), bad: execRole(`logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s"}, secretOptions: [{name: "splunk-token", »valueFrom: "arn:aws:iam::123456789012:role/x"}]}`),
		want: `containerDefinitions[a].logConfiguration.secretOptions[splunk-token].valueFrom: invalid value "arn:aws:iam::123456789012:role/x": must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) or of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME), or an SSM parameter name`},
	{rule: "repositoryCredentials parameter", ok: execRole(`repositoryCredentials: credentialsParameter: "registry/creds"`), bad: execRole(`repositoryCredentials: »credentialsParameter: "arn:aws:ssm:eu-west-1:123456789012:parameter/creds"`),
		want: `containerDefinitions[a].repositoryCredentials.credentialsParameter: invalid value "arn:aws:ssm:eu-west-1:123456789012:parameter/creds": must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), or its name`},
	{rule: "environment files count", ok: execRole(`environmentFiles: [` + envFiles(10) + `]`), bad: execRole(`»environmentFiles: [` + envFiles(11) + `]`),
		want: `containerDefinitions[a].environmentFiles: has 11 files; at most 10 are allowed`},
	{rule: "environment file name", ok: execRole(`environmentFiles: [{value: "arn:aws:s3:::b/app.env", type: "s3"}]`), bad: execRole(`environmentFiles: [{»value: "arn:aws:s3:::b/app.txt", type: "s3"}]`),
		want: `containerDefinitions[a].environmentFiles[0].value: invalid value "arn:aws:s3:::b/app.txt": must be the ARN of an S3 object whose name ends in .env, for example arn:aws:s3:::bucket/path/app.env`},
	{rule: "environment file type", ok: execRole(`environmentFiles: [{value: "arn:aws:s3:::b/app.env", type: "s3"}]`), bad: execRole(`environmentFiles: [{value: "arn:aws:s3:::b/app.env", »type: "S3"}]`),
		want: `containerDefinitions[a].environmentFiles[0].type: invalid value "S3": must be "s3"; did you mean "s3"?`},
	{rule: "mount names a volume", ok: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/var/log"}]`, `mountPoints: [{sourceVolume: "v", containerPath: "/logs"}]`), bad: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/var/log"}]`, `mountPoints: [{»sourceVolume: "w", containerPath: "/logs"}]`),
		want: `containerDefinitions[a].mountPoints[w].sourceVolume: names no volume of this daemon task definition; volumes: v`},
	{rule: "mount path absolute", ok: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/var/log"}]`, `mountPoints: [{sourceVolume: "v", containerPath: "/logs"}]`), bad: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/var/log"}]`, `mountPoints: [{sourceVolume: "v", »containerPath: "logs"}]`),
		want: `containerDefinitions[a].mountPoints[v].containerPath: invalid value "logs": must be an absolute path`},
	{rule: "dependsOn target exists", ok: twoContainers(`dependsOn: [{containerName: "b", condition: "START"}]`, ""), bad: twoContainers(`dependsOn: [{»containerName: "c", condition: "START"}]`, ""),
		want: `containerDefinitions[a].dependsOn[c].containerName: names no container of this daemon task definition; containers: a, b`},
	{rule: "dependsOn not itself", ok: twoContainers(`dependsOn: [{containerName: "b", condition: "START"}]`, ""), bad: twoContainers(`dependsOn: [{»containerName: "a", condition: "START"}]`, ""),
		want: `containerDefinitions[a].dependsOn[a].containerName: container "a" cannot depend on itself`},
	{rule: "dependsOn condition", ok: twoContainers(`dependsOn: [{containerName: "b", condition: "START"}]`, ""), bad: twoContainers(`dependsOn: [{containerName: "b", »condition: "READY"}]`, ""),
		want: `containerDefinitions[a].dependsOn[b].condition: invalid value "READY": must be "START", "COMPLETE", "SUCCESS" or "HEALTHY"`},
	{rule: "COMPLETE needs a non-essential target", ok: twoContainers(`dependsOn: [{containerName: "b", condition: "COMPLETE"}]`, "essential: false"), bad: twoContainers(`dependsOn: [{containerName: "b", »condition: "SUCCESS"}]`, ""),
		want: `containerDefinitions[a].dependsOn[b].condition: SUCCESS needs a non-essential target, and container "b" is essential; set essential: false on it, or use START or HEALTHY`},
	{rule: "HEALTHY needs a healthCheck", ok: twoContainers(`dependsOn: [{containerName: "b", condition: "HEALTHY"}]`, `healthCheck: command: ["CMD", "true"]`), bad: twoContainers(`dependsOn: [{containerName: "b", »condition: "HEALTHY"}]`, ""),
		want: `containerDefinitions[a].dependsOn[b].condition: HEALTHY needs a healthCheck on container "b", which has none`},
	{rule: "dependsOn cycle", ok: twoContainers(`dependsOn: [{containerName: "b", condition: "START"}]`, ""), bad: twoContainers(`»dependsOn: [{containerName: "b", condition: "START"}]`, `dependsOn: [{containerName: "a", condition: "START"}]`),
		want: `containerDefinitions[a].dependsOn: dependsOn forms a cycle: container "a" waits, directly or through other containers, for itself`},
	{rule: "healthCheck command", ok: apiDaemon("", `healthCheck: command: ["CMD-SHELL", "true"]`), bad: apiDaemon("", `healthCheck: command: [»"RUN", "true"]`),
		want: `containerDefinitions[a].healthCheck.command[0]: invalid value "RUN": must be "CMD" or "CMD-SHELL"`},
	{rule: "healthCheck command required", ok: apiDaemon("", `healthCheck: command: ["CMD", "true"]`), bad: apiDaemon("", `»healthCheck: {interval: 30}`),
		want: `containerDefinitions[a].healthCheck: missing required field command`},
	{rule: "healthCheck interval", ok: apiDaemon("", `healthCheck: {command: ["CMD", "true"], interval: 5}`), bad: apiDaemon("", `healthCheck: {command: ["CMD", "true"], »interval: 301}`),
		want: `containerDefinitions[a].healthCheck.interval: invalid value 301: must be a whole number of seconds from 5 to 300`},
	{rule: "healthCheck timeout", ok: apiDaemon("", `healthCheck: {command: ["CMD", "true"], timeout: 2}`), bad: apiDaemon("", `healthCheck: {command: ["CMD", "true"], interval: 300, »timeout: 61}`),
		want: `containerDefinitions[a].healthCheck.timeout: invalid value 61: must be a whole number of seconds from 2 to 60`},
	{rule: "healthCheck retries", ok: apiDaemon("", `healthCheck: {command: ["CMD", "true"], retries: 10}`), bad: apiDaemon("", `healthCheck: {command: ["CMD", "true"], »retries: 0}`),
		want: `containerDefinitions[a].healthCheck.retries: invalid value 0: must be a whole number from 1 to 10`},
	{rule: "healthCheck startPeriod", ok: apiDaemon("", `healthCheck: {command: ["CMD", "true"], startPeriod: 0}`), bad: apiDaemon("", `healthCheck: {command: ["CMD", "true"], »startPeriod: 301}`),
		want: `containerDefinitions[a].healthCheck.startPeriod: invalid value 301: must be a whole number of seconds from 0 to 300`},
	{rule: "restart period", ok: apiDaemon("", `restartPolicy: {enabled: true, restartAttemptPeriod: 60}`), bad: apiDaemon("", `restartPolicy: {enabled: true, »restartAttemptPeriod: 59}`),
		want: `containerDefinitions[a].restartPolicy.restartAttemptPeriod: invalid value 59: must be a whole number of seconds from 60 to 1800`},
	{rule: "restart enabled required", ok: apiDaemon("", `restartPolicy: enabled: false`), bad: apiDaemon("", `»restartPolicy: {restartAttemptPeriod: 60}`),
		want: `containerDefinitions[a].restartPolicy: missing required field enabled`},
	{rule: "ignored exit codes", ok: apiDaemon("", `restartPolicy: {enabled: true, ignoredExitCodes: [`+ints(50)+`]}`), bad: apiDaemon("", `restartPolicy: {enabled: true, »ignoredExitCodes: [`+ints(51)+`]}`),
		want: `containerDefinitions[a].restartPolicy.ignoredExitCodes: has 51 exit codes; at most 50 are allowed`},
	{rule: "ulimit name", ok: apiDaemon("", `ulimits: [{name: "nofile", softLimit: 1, hardLimit: 2}]`), bad: apiDaemon("", `ulimits: [{»name: "files", softLimit: 1, hardLimit: 2}]`),
		want: `containerDefinitions[a].ulimits[files].name: invalid value "files": must be one of core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack; did you mean "nofile"?`},
	{rule: "ulimit soft within hard", ok: apiDaemon("", `ulimits: [{name: "nofile", softLimit: 2, hardLimit: 2}]`), bad: apiDaemon("", `ulimits: [{name: "nofile", »softLimit: 3, hardLimit: 2}]`),
		want: `containerDefinitions[a].ulimits[nofile].softLimit: softLimit (3) must not exceed hardLimit (2)`},
	{rule: "ulimit once", ok: apiDaemon("", `ulimits: [{name: "nofile", softLimit: 1, hardLimit: 2}]`), bad: apiDaemon("", `ulimits: [{name: "nofile", softLimit: 1, hardLimit: 2}, {»name: "nofile", softLimit: 1, hardLimit: 2}]`),
		want: `containerDefinitions[a].ulimits[nofile].name: ulimit "nofile" is set more than once`},
	{rule: "ulimit limits required", ok: apiDaemon("", `ulimits: [{name: "core", softLimit: 0, hardLimit: 0}]`), bad: apiDaemon("", `ulimits: [»{name: "core", softLimit: 0}]`),
		want: `containerDefinitions[a].ulimits[core]: missing required field hardLimit`},
	{rule: "capability", ok: apiDaemon("", `linuxParameters: capabilities: add: ["BPF", "NET_ADMIN"]`), bad: apiDaemon("", `linuxParameters: capabilities: drop: [»"CAP_NET_RAW"]`),
		want: `containerDefinitions[a].linuxParameters.capabilities.drop[0]: invalid value "CAP_NET_RAW": must be a Linux capability without the CAP_ prefix, such as NET_ADMIN, SYS_PTRACE or BPF; did you mean "NET_RAW"?`},
	{rule: "device permissions", ok: apiDaemon("", `linuxParameters: devices: [{hostPath: "/dev/fuse", permissions: ["read", "mknod"]}]`), bad: apiDaemon("", `linuxParameters: devices: [{hostPath: "/dev/fuse", permissions: [»"rw"]}]`),
		want: `containerDefinitions[a].linuxParameters.devices[/dev/fuse].permissions[0]: invalid value "rw": must be "read", "write" or "mknod"`},
	{rule: "device hostPath", ok: apiDaemon("", `linuxParameters: devices: [{hostPath: "/dev/fuse"}]`), bad: apiDaemon("", `linuxParameters: devices: [{»hostPath: "fuse"}]`),
		want: `containerDefinitions[a].linuxParameters.devices[fuse].hostPath: invalid value "fuse": must be an absolute path`},
	{rule: "tmpfs size", ok: apiDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", size: 64}]`), bad: apiDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", »size: 0}]`),
		want: `containerDefinitions[a].linuxParameters.tmpfs[/tmp].size: invalid value 0: must be a whole number of MiB from 1 to 2147483647`},
	{rule: "tmpfs mount option", ok: apiDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", size: 64, mountOptions: ["noexec"]}]`), bad: apiDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", size: 64, mountOptions: [»"noexecute"]}]`),
		want: `containerDefinitions[a].linuxParameters.tmpfs[/tmp].mountOptions[0]: invalid value "noexecute": must be a tmpfs mount option such as noexec, nosuid, ro or mode`},
	{rule: "unsupported linuxParameters", ok: apiDaemon("", `linuxParameters: initProcessEnabled: true`), bad: apiDaemon("", `linuxParameters: »swappiness: 10`),
		want: `containerDefinitions[a].linuxParameters.swappiness: daemon task definitions do not support linuxParameters.swappiness`},
	{rule: "sysctl namespace", ok: apiDaemon("", `systemControls: [{namespace: "net.core.somaxconn", value: "1024"}]`), bad: apiDaemon("", `systemControls: [{»namespace: "vm.swappiness", value: "10"}]`),
		want: `containerDefinitions[a].systemControls[vm.swappiness].namespace: invalid value "vm.swappiness": must be a namespaced sysctl: net.*, fs.mqueue.* or kernel.msgmax, msgmnb, msgmni, sem, shmall, shmmax, shmmni, shm_rmid_forced`},
	{rule: "log driver", ok: execRole(awslogs), bad: apiDaemon("", `logConfiguration: »logDriver: "syslog"`),
		want: `containerDefinitions[a].logConfiguration.logDriver: invalid value "syslog": must be "awslogs", "splunk" or "awsfirelens": the log drivers daemon task definitions support; did you mean "awslogs"?`},
	{rule: "awslogs region", ok: execRole(awslogs), bad: execRole(`logConfiguration: {logDriver: "awslogs", »options: {"awslogs-group": "g", "awslogs-stream-prefix": "p"}}`),
		want: `containerDefinitions[a].logConfiguration.options: awslogs needs the option awslogs-region`},
	{rule: "awslogs region format", ok: execRole(awslogs), bad: execRole(`logConfiguration: {logDriver: "awslogs", options: {"awslogs-group": "g", »"awslogs-region": "Ireland", "awslogs-stream-prefix": "p"}}`),
		want: `containerDefinitions[a].logConfiguration.options.awslogs-region: invalid value "Ireland": must be an AWS Region such as eu-west-1`},
	{rule: "awslogs multiline", ok: execRole(awslogs), bad: execRole(`logConfiguration: {logDriver: "awslogs", »options: {"awslogs-group": "g", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "p", "awslogs-datetime-format": "%Y", "awslogs-multiline-pattern": "^x"}}`),
		want: `containerDefinitions[a].logConfiguration.options: awslogs-datetime-format and awslogs-multiline-pattern cannot be used together`},
	{rule: "awslogs create group", ok: execRole(awslogs), bad: execRole(`logConfiguration: {logDriver: "awslogs", options: {"awslogs-group": "g", "awslogs-region": "eu-west-1", »"awslogs-create-group": "yes", "awslogs-stream-prefix": "p"}}`),
		want: `containerDefinitions[a].logConfiguration.options.awslogs-create-group: invalid value "yes": must be "true" or "false"`},
	{rule: "log mode", ok: execRole(awslogs), bad: apiDaemon("", `logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s", "splunk-token": "t", »mode: "async"}}`),
		want: `containerDefinitions[a].logConfiguration.options.mode: invalid value "async": must be "non-blocking" or "blocking"`},
	{rule: "splunk url", ok: apiDaemon("", `logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s", "splunk-token": "t"}}`), bad: apiDaemon("", `logConfiguration: {logDriver: "splunk", »options: {"splunk-token": "t"}}`),
		want: `containerDefinitions[a].logConfiguration.options: splunk needs the option splunk-url`},
	{rule: "splunk token", ok: execRole(`logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s"}, secretOptions: [{name: "splunk-token", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]}`), bad: apiDaemon("", `logConfiguration: {»logDriver: "splunk", options: {"splunk-url": "https://s"}}`),
		want: `containerDefinitions[a].logConfiguration.logDriver: splunk needs splunk-token, in options or in secretOptions`},
	{rule: "awslogs needs executionRoleArn", ok: execRole(awslogs), bad: apiDaemon("", `»`+awslogs),
		want: `containerDefinitions[a].logConfiguration: needs executionRoleArn: the container sends logs to CloudWatch with awslogs, which ECS does with the task execution role`},
	{rule: "secrets need executionRoleArn", ok: execRole(`secrets: [{name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]`), bad: apiDaemon("", `»secrets: [{name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]`),
		want: `containerDefinitions[a].secrets: needs executionRoleArn: the container reads secrets, which ECS does with the task execution role`},
	{rule: "secretOptions need executionRoleArn", ok: execRole(`logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s"}, secretOptions: [{name: "splunk-token", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]}`), bad: apiDaemon("", `»logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s"}, secretOptions: [{name: "splunk-token", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]}`),
		want: `containerDefinitions[a].logConfiguration: needs executionRoleArn: the container reads log secretOptions, which ECS does with the task execution role`},
	{rule: "repositoryCredentials need executionRoleArn", ok: execRole(`repositoryCredentials: credentialsParameter: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry"`), bad: apiDaemon("", `»repositoryCredentials: credentialsParameter: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry"`),
		want: `containerDefinitions[a].repositoryCredentials: needs executionRoleArn: the container pulls with repositoryCredentials, which ECS does with the task execution role`},
	{rule: "environmentFiles need executionRoleArn", ok: execRole(`environmentFiles: [{value: "arn:aws:s3:::b/app.env", type: "s3"}]`), bad: apiDaemon("", `»environmentFiles: [{value: "arn:aws:s3:::b/app.env", type: "s3"}]`),
		want: `containerDefinitions[a].environmentFiles: needs executionRoleArn: the container loads environmentFiles, which ECS does with the task execution role`},
	{rule: "firelens type", ok: apiDaemon("", `firelensConfiguration: type: "fluentbit"`), bad: apiDaemon("", `firelensConfiguration: »type: "fluent-bit"`),
		want: `containerDefinitions[a].firelensConfiguration.type: invalid value "fluent-bit": must be "fluentbit" or "fluentd"; did you mean "fluentbit"?`},
	{rule: "firelens options", ok: apiDaemon("", `firelensConfiguration: {type: "fluentbit", options: "enable-ecs-log-metadata": "true"}`), bad: apiDaemon("", `firelensConfiguration: {type: "fluentbit", options: »"enable-ecs-metadata": "true"}`),
		want: `containerDefinitions[a].firelensConfiguration.options.enable-ecs-metadata: unknown field; did you mean "enable-ecs-log-metadata"?`},
	{rule: "awsfirelens needs a router", ok: twoContainers(`logConfiguration: logDriver: "awsfirelens"`, `firelensConfiguration: type: "fluentbit"`), bad: twoContainers(`logConfiguration: »logDriver: "awsfirelens"`, ""),
		want: `containerDefinitions[a].logConfiguration.logDriver: awsfirelens needs a log router: a container with firelensConfiguration, and there is none`},
	{rule: "one router", ok: twoContainers(`firelensConfiguration: type: "fluentbit"`, ""), bad: twoContainers(`firelensConfiguration: type: "fluentbit"`, `»firelensConfiguration: type: "fluentd"`),
		want: `containerDefinitions[b].firelensConfiguration: only one container may be the FireLens log router (have firelensConfiguration)`},
	{rule: "unsupported container field", ok: apiDaemon("", ""), bad: apiDaemon("", `»dockerLabels: {a: "b"}`),
		want: `containerDefinitions[a].dockerLabels: daemon task definitions do not support dockerLabels`},

	// Volumes.
	{rule: "volume name", ok: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/var/log"}]`, ""), bad: apiDaemon(`volumes: [{»name: "v/w", host: sourcePath: "/var/log"}]`, ""),
		want: `volumes[v/w].name: invalid value "v/w": must be 1 to 255 letters, digits, hyphens and underscores`},
	{rule: "volume names unique", ok: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/a"}, {name: "w", host: sourcePath: "/b"}]`, ""), bad: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/a"}, {»name: "v", host: sourcePath: "/b"}]`, ""),
		want: `volumes[v].name: volume name "v" is used by more than one volume; names must be unique`},
	{rule: "a volume without host is a task volume", ok: apiDaemon(`volumes: [{name: "scratch"}]`, `mountPoints: [{sourceVolume: "scratch", containerPath: "/scratch"}]`), bad: apiDaemon(`volumes: [{name: "scratch", »host: {}}]`, ""),
		want: `volumes[scratch].host: missing required field sourcePath`},
	{rule: "volume one kind", ok: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/a"}]`, ""), bad: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/a", »logDriverVolumeConfiguration: {driver: "json-file"}}]`, ""),
		want: `volumes[v].logDriverVolumeConfiguration: a volume sets either host or logDriverVolumeConfiguration, not both`},
	{rule: "log volume driver", ok: apiDaemon(`volumes: [{name: "v", logDriverVolumeConfiguration: driver: "json-file"}]`, ""), bad: apiDaemon(`volumes: [{name: "v", logDriverVolumeConfiguration: »driver: "awslogs"}]`, ""),
		want: `volumes[v].logDriverVolumeConfiguration.driver: invalid value "awslogs": must be "json-file"`},
	{rule: "host path absolute", ok: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/a"}]`, ""), bad: apiDaemon(`volumes: [{name: "v", host: »sourcePath: "a"}]`, ""),
		want: `volumes[v].host.sourcePath: invalid value "a": must be an absolute path on the container instance`},
	{rule: "unsupported volume kind", ok: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/a"}]`, ""), bad: apiDaemon(`volumes: [{name: "v", host: sourcePath: "/a", »dockerVolumeConfiguration: {}}]`, ""),
		want: `volumes[v].dockerVolumeConfiguration: daemon task definitions do not support dockerVolumeConfiguration: daemon volumes are host bind mounts`},

	// Warnings: what the reference leaves unsure.
	{rule: "PERFMON", warning: "undocumented-capability", ok: apiDaemon("", `linuxParameters: capabilities: add: ["BPF"]`), bad: apiDaemon("", `linuxParameters: capabilities: add: [»"PERFMON"]`),
		want: `containerDefinitions[a].linuxParameters.capabilities.add[0]: PERFMON is accepted by Docker but not documented for ECS; registration may fail`},
	{rule: "json-file driver", warning: "json-file-log-driver", ok: execRole(awslogs), bad: apiDaemon("", `logConfiguration: »logDriver: "json-file"`),
		want: `containerDefinitions[a].logConfiguration.logDriver: json-file is documented for ECS Managed Instances but not for daemons, which document awslogs, splunk and awsfirelens`},
	{rule: "awslogs stream prefix", warning: "awslogs-stream-prefix", ok: execRole(awslogs), bad: execRole(`logConfiguration: {logDriver: "awslogs", »options: {"awslogs-group": "g", "awslogs-region": "eu-west-1"}}`),
		want: `containerDefinitions[a].logConfiguration.options: awslogs-stream-prefix is not set; set it so that log streams name their task and the console can show the logs`},
	{rule: "stopTimeout above 120", warning: "timeout-above-120", ok: apiDaemon("", "stopTimeout: 120"), bad: apiDaemon("", "»stopTimeout: 121"),
		want: `containerDefinitions[a].stopTimeout: stopTimeout above 120 seconds is not documented; ECS may cap or reject it`},
	{rule: "memory below 6", warning: "memory-below-6", ok: apiDaemon("", ""), bad: strings.Replace(apiDaemon("", ""), "memory: 64", "»memory: 5", 1),
		want: `containerDefinitions[a].memory: Docker 20.10 and later need at least 6 MiB`},
	{rule: "timeout below interval", warning: "health-timeout-interval", ok: apiDaemon("", `healthCheck: {command: ["CMD", "true"], interval: 10, timeout: 5}`), bad: apiDaemon("", `healthCheck: {command: ["CMD", "true"], interval: 10, »timeout: 10}`),
		want: `containerDefinitions[a].healthCheck.timeout: timeout should be shorter than interval (10 seconds)`},
	{rule: "startTimeout without dependents", warning: "start-timeout-unused", ok: twoContainers(`dependsOn: [{containerName: "b", condition: "HEALTHY"}]`, `startTimeout: 60, healthCheck: command: ["CMD", "true"]`), bad: apiDaemon("", "»startTimeout: 60"),
		want: `containerDefinitions[a].startTimeout: startTimeout has effect only on a container that another container depends on with COMPLETE, SUCCESS or HEALTHY`},
	{rule: "private ECR without executionRoleArn", warning: "ecr-without-execution-role", ok: strings.Replace(execRole(""), "busybox:1.36", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/agent:1", 1), bad: strings.Replace(apiDaemon("", ""), `image: "busybox:1.36"`, `»image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/agent:1"`, 1),
		want: `containerDefinitions[a].image: pulling from a private ECR repository needs executionRoleArn`},
	{rule: "FireLens config in S3", warning: "firelens-s3-without-execution-role", ok: execRole(`firelensConfiguration: {type: "fluentbit", options: {"config-file-type": "s3", "config-file-value": "arn:aws:s3:::b/f.conf"}}`), bad: apiDaemon("", `firelensConfiguration: {type: "fluentbit", options: {»"config-file-type": "s3", "config-file-value": "arn:aws:s3:::b/f.conf"}}`),
		want: `containerDefinitions[a].firelensConfiguration.options.config-file-type: a FireLens configuration file in S3 is read with executionRoleArn, which is not set`},
	{rule: "router essential", warning: "router-not-essential", ok: twoContainers(`firelensConfiguration: type: "fluentbit"`, ""), bad: twoContainers(`»essential: false, firelensConfiguration: type: "fluentbit"`, ""),
		want: `containerDefinitions[a].essential: the FireLens log router should be essential: without it the other containers' logs are lost`},
	{rule: "tmpfs option with a value", warning: "tmpfs-option-value", ok: apiDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", size: 64, mountOptions: ["mode"]}]`), bad: apiDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", size: 64, mountOptions: [»"mode=1777"]}]`),
		want: `containerDefinitions[a].linuxParameters.tmpfs[/tmp].mountOptions[0]: mount options with a value (mode=1777) are not documented for ECS tmpfs; registration may fail`},
	{rule: "IPC sysctl with shared ipcMode", warning: "ipc-sysctl-shared", ok: apiDaemon(`ipcMode: "shared"`, `systemControls: [{namespace: "net.core.somaxconn", value: "1"}]`), bad: apiDaemon(`ipcMode: "shared"`, `systemControls: [{»namespace: "kernel.shmmax", value: "1"}]`),
		want: `containerDefinitions[a].systemControls[kernel.shmmax].namespace: IPC sysctls probably do not apply when ipcMode is "shared"`},
	{rule: "memoryReservation equal to memory", warning: "memory-reservation-equal", ok: apiDaemon("", "memoryReservation: 32"), bad: apiDaemon("", "»memoryReservation: 64"),
		want: `containerDefinitions[a].memoryReservation: memoryReservation equals memory (64 MiB); the documentation says memory must be greater, and equal values may be rejected`},
	{rule: "task size with a unit", warning: "task-size-units", ok: apiDaemon(`cpu: "1024"`, ""), bad: apiDaemon(`»cpu: "1 vCPU"`, ""),
		want: `cpu: cpu with a unit (1 vCPU) is documented for ordinary task definitions; daemon task definitions document a plain number (CPU units)`},
	{rule: "Windows device name", warning: "windows-reserved-name", ok: strings.Replace(apiDaemon("", ""), `family: "d"`, `family: "auxiliary"`, 1), bad: strings.Replace(apiDaemon("", ""), `family: "d"`, `»family: "Aux"`, 1),
		want: `family: the output file Aux.json has a name Windows reserves for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9): it cannot be checked out there`},
	// The security lints (internal/lint).
	{rule: "plaintext AWS key", warning: "plaintext-secret", ok: apiDaemon("", `environment: [{name: "AWS_REGION", value: "eu-west-1"}]`), bad: apiDaemon("", `environment: [{name: "KEY", »value: "AKIAIOSFODNN7EXAMPLE"}]`),
		want: `containerDefinitions[a].environment[KEY].value: an AWS access key id in plain text: environment values are stored in the task definition, which anyone who can describe it reads, and shown in the console; move it to secrets with a Secrets Manager or SSM Parameter Store valueFrom`},
	{rule: "plaintext private key", warning: "plaintext-secret", ok: apiDaemon("", `environment: [{name: "CERT_FILE", value: "/etc/agent/key.pem"}]`), bad: apiDaemon("", `environment: [{name: "TLS", »value: "-----BEGIN RSA PRIVATE KEY-----\nMIIE"}]`),
		want: `containerDefinitions[a].environment[TLS].value: a private key in plain text: environment values are stored in the task definition, which anyone who can describe it reads, and shown in the console; move it to secrets with a Secrets Manager or SSM Parameter Store valueFrom`},
	{rule: "plaintext JWT", warning: "plaintext-secret", ok: apiDaemon("", `environment: [{name: "MODE", value: "eyes.only"}]`), bad: apiDaemon("", `environment: [{name: "AUTH", »value: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}]`),
		want: `containerDefinitions[a].environment[AUTH].value: a JSON web token in plain text: environment values are stored in the task definition, which anyone who can describe it reads, and shown in the console; move it to secrets with a Secrets Manager or SSM Parameter Store valueFrom`},
	{rule: "plaintext by name", warning: "plaintext-secret", ok: apiDaemon("", `environment: [{name: "DD_API_KEY_FILE", value: "/run/secrets/dd"}, {name: "TOKEN_TTL", value: "300"}]`), bad: apiDaemon("", `environment: [{name: "DB_PASSWORD", »value: "hunter2"}]`),
		want: `containerDefinitions[a].environment[DB_PASSWORD].value: a literal value under the name DB_PASSWORD in plain text: environment values are stored in the task definition, which anyone who can describe it reads, and shown in the console; move it to secrets with a Secrets Manager or SSM Parameter Store valueFrom`},
	{rule: "image latest", warning: "floating-image", ok: strings.Replace(apiDaemon("", ""), `busybox:1.36`, `busybox@sha256:`+strings.Repeat("a", 64), 1), bad: strings.Replace(apiDaemon("", ""), `image: "busybox:1.36"`, `»image: "busybox:latest"`, 1),
		want: `containerDefinitions[a].image: the image busybox:latest is tagged latest: every instance that starts the daemon may pull another build, and a rollback cannot go back; pin a tag or a digest (@sha256:...)`},
	{rule: "image without tag", warning: "floating-image", ok: strings.Replace(apiDaemon("", ""), `busybox:1.36`, `registry.example.com:5000/busybox:1.36`, 1), bad: strings.Replace(apiDaemon("", ""), `image: "busybox:1.36"`, `»image: "registry.example.com:5000/busybox"`, 1),
		want: `containerDefinitions[a].image: the image registry.example.com:5000/busybox has no tag, so it is :latest: every instance that starts the daemon may pull another build, and a rollback cannot go back; pin a tag or a digest (@sha256:...)`},
	{rule: "privileged", warning: "privileged", ok: apiDaemon("", `privileged: false`), bad: apiDaemon("", "»privileged: true\nreadonlyRootFilesystem: true"),
		want: `containerDefinitions[a].privileged: the container is privileged: it has every capability and every device of the host, on every instance; add only the capabilities the agent needs (linuxParameters.capabilities.add)`},
	{rule: "dangerous capability", warning: "dangerous-capability", ok: apiDaemon("", `linuxParameters: capabilities: add: ["NET_ADMIN", "SYS_PTRACE"]`), bad: apiDaemon("", `linuxParameters: capabilities: add: ["NET_ADMIN", »"SYS_MODULE"]`),
		want: `containerDefinitions[a].linuxParameters.capabilities.add[1]: SYS_MODULE lets the container take over the host (load kernel modules, mount file systems, reach raw devices); add narrower capabilities where the agent allows (for example PERFMON and BPF for eBPF, SYS_PTRACE to read processes)`},
	{rule: "runtime socket", warning: "runtime-socket", ok: apiDaemon(`volumes: [{name: "sock", host: sourcePath: "/var/run/docker.sock"}]`, `mountPoints: [{sourceVolume: "sock", containerPath: "/var/run/docker.sock", readOnly: true}]`),
		bad:  apiDaemon(`volumes: [{name: "sock", host: sourcePath: "/var/run/docker.sock"}]`, `mountPoints: [»{sourceVolume: "sock", containerPath: "/var/run/docker.sock"}]`),
		want: `containerDefinitions[a].mountPoints[sock].readOnly: /var/run/docker.sock is mounted writable and reaches the container runtime's socket /var/run/docker.sock: whoever controls the container can start a privileged container on the host; mount it with readOnly: true, or not at all`},
	{rule: "sensitive host path", warning: "sensitive-host-path", ok: apiDaemon(`volumes: [{name: "etc", host: sourcePath: "/etc"}]`, `mountPoints: [{sourceVolume: "etc", containerPath: "/host/etc", readOnly: true}]`),
		bad:  apiDaemon(`volumes: [{name: "etc", host: sourcePath: "/etc/"}]`, `mountPoints: [{sourceVolume: "etc", containerPath: "/host/etc", »readOnly: false}]`),
		want: `containerDefinitions[a].mountPoints[etc].readOnly: the host path /etc is mounted writable: the container can change what every process on the instance reads; mount it with readOnly: true`},
	{rule: "host namespaces", warning: "host-namespaces", ok: apiDaemon(`pidMode: "shared"`, `linuxParameters: capabilities: add: ["NET_ADMIN"]`), bad: apiDaemon(`»pidMode: "shared"`, `linuxParameters: capabilities: add: ["SYS_PTRACE"]`),
		want: `pidMode: pidMode shares the host's namespace with a container that adds SYS_PTRACE (a): it can read the memory of every process on the instance; drop one of the two`},
	{rule: "writable root", warning: "writable-root", ok: apiDaemon("", "privileged: true\nreadonlyRootFilesystem: true"), bad: apiDaemon("", "privileged: true\n»readonlyRootFilesystem: false"),
		want: `containerDefinitions[a].readonlyRootFilesystem: a privileged container's root file system is writable: a compromise can change its binaries; set readonlyRootFilesystem: true, with a tmpfs or a volume for scratch`},
	{rule: "task cpu range", warning: "task-cpu-range", ok: apiDaemon(`cpu: "128"`, ""), bad: apiDaemon(`»cpu: "64"`, ""),
		want: `cpu: task cpu outside 128 to 196608 units is not documented for daemons`},
}

const awslogs = `logConfiguration: {logDriver: "awslogs", options: {"awslogs-group": "g", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "p"}}`

// execRole is a daemon with an executionRoleArn and container fields.
func execRole(container string) string {
	return apiDaemon(`executionRoleArn: "arn:aws:iam::123456789012:role/exec"`, container)
}

// twoContainers is a daemon with containers a and b.
func twoContainers(a, b string) string {
	return fmt.Sprintf("family: \"d\"\ncontainerDefinitions: [{\n\tname: \"a\"\n\timage: \"x:1\"\n\tmemory: 64\n\t%s\n}, {\n\tname: \"b\"\n\timage: \"x:1\"\n\tmemory: 64\n\t%s\n}]\n", a, b)
}

func tagList(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{key: "k%d"}, `, i)
	}
	return b.String()
}

func envFiles(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{value: "arn:aws:s3:::b/f%d.env", type: "s3"}, `, i)
	}
	return b.String()
}

func ints(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%d, ", i+1)
	}
	return b.String()
}

// TestRules checks every rule of the schema: its ok case has no diagnostic of its kind,
// and its bad case has exactly the expected one, at the marked position.
func TestRules(t *testing.T) {
	for _, tc := range ruleCases {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			diags, _ := vetText(t, tc.ok)
			for _, d := range diags {
				if slices.Contains(lint.IDs(), tc.warning) && diag.WarningID(d) != tc.warning {
					continue // see below
				}
				t.Errorf("ok case: unexpected %s", diag.FormatDiagnostic(d, ""))
			}
			diags, pos := vetText(t, tc.bad)
			if pos == "" {
				t.Fatal("the bad case has no » marker")
			}
			want := pos + ": " + tc.want
			if tc.warning != "" {
				want = pos + ": warning: " + tc.want + " [" + tc.warning + "]"
			}
			var got []string
			for _, d := range diags {
				// A lint's case may set off another lint too (a privileged container
				// with a writable root is privileged): only its own lint counts.
				if slices.Contains(lint.IDs(), tc.warning) && diag.WarningID(d) != tc.warning {
					continue
				}
				got = append(got, diag.FormatDiagnostic(d, ""))
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("bad case:\ngot  %q\nwant %q", got, want)
			}
		})
	}
}

// TestEveryWarningHasARuleCase checks that every warning id of the schema is exercised by a
// rule case, so that an id cannot exist without a warning that prints it.
func TestEveryWarningHasARuleCase(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range ruleCases {
		covered[tc.warning] = true
	}
	for _, id := range spec.WarningIDs() {
		if id == fleetcheck.SharedHostPathID {
			continue // a clash between daemons, not a rule of one: TestFleetChecks has its cases
		}
		if !covered[id] {
			t.Errorf("warning %s has no rule case", id)
		}
	}
}
