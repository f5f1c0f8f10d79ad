// Package testcases holds the cases that the tests of several packages share: the schema's
// rule cases (a passing and a failing daemon for each rule), the committed example outputs,
// and the values the differential tests mutate daemons with. Only tests import it.
package testcases

import (
	"fmt"
	"strings"
)

// Marker marks, in a test case's text, where the expected diagnostic must point.
const Marker = "»"

// APIDaemon writes a daemon task definition in API form (CUE syntax): top-level fields
// top, and one container "a" with the fields container.
func APIDaemon(top, container string) string {
	return fmt.Sprintf("family: \"d\"\n%s\ncontainerDefinitions: [{\n\tname: \"a\"\n\timage: \"busybox:1.36\"\n\tmemory: 64\n%s\n}]\n", top, container)
}

// RuleCase is one rule: ok satisfies it, bad breaks it once, and want is the diagnostic
// bad gets (after the position, which bad marks).
type RuleCase struct {
	Rule, OK, Bad, Want string
	// warning is the id of the warning bad gets, "" when it gets an error.
	Warning string
}

// RuleCases are the cases of every rule of the schema, errors and warnings.
var RuleCases = []RuleCase{
	// Top level.
	{Rule: "family pattern", OK: APIDaemon("", ""), Bad: strings.Replace(APIDaemon("", ""), `family: "d"`, `»family: "my daemon"`, 1),
		Want: `family: invalid value "my daemon": must be 1 to 255 letters, digits, hyphens and underscores`},
	{Rule: "family length", OK: APIDaemon("", ""), Bad: strings.Replace(APIDaemon("", ""), `family: "d"`, `»family: "`+strings.Repeat("x", 256)+`"`, 1),
		Want: `family: invalid value "` + strings.Repeat("x", 256) + `": must be 1 to 255 letters, digits, hyphens and underscores`},
	{Rule: "family fits a file name", OK: strings.Replace(APIDaemon("", ""), `family: "d"`, `family: "`+strings.Repeat("x", 250)+`"`, 1), Bad: strings.Replace(APIDaemon("", ""), `family: "d"`, `»family: "`+strings.Repeat("x", 251)+`"`, 1),
		Want: `family: a family of 251 characters makes the output file name 256 bytes long, and file systems allow 255: use at most 250 characters`},
	{Rule: "unknown field", OK: APIDaemon(`taskRoleArn: "app"`, ""), Bad: APIDaemon(`»taskRole: "app"`, ""),
		Want: `taskRole: unknown field; did you mean "taskRoleArn"?`},
	{Rule: "unsupported field", OK: APIDaemon("", ""), Bad: APIDaemon(`»networkMode: "awsvpc"`, ""),
		Want: `networkMode: daemon task definitions do not support networkMode: daemons always use the daemon_bridge network mode that ECS sets`},
	{Rule: "taskRoleArn", OK: APIDaemon(`taskRoleArn: "arn:aws:iam::123456789012:role/agent"`, ""), Bad: APIDaemon(`»taskRoleArn: "arn:aws:s3:::bucket"`, ""),
		Want: `taskRoleArn: invalid value "arn:aws:s3:::bucket": must be an IAM role name or role ARN (arn:aws:iam::123456789012:role/NAME)`},
	{Rule: "executionRoleArn", OK: APIDaemon(`executionRoleArn: "arn:aws:iam::123456789012:role/exec"`, ""), Bad: APIDaemon(`»executionRoleArn: "exec"`, ""),
		Want: `executionRoleArn: invalid value "exec": must be an IAM role ARN (arn:aws:iam::123456789012:role/NAME)`},
	{Rule: "task cpu is a string", OK: APIDaemon(`cpu: "256"`, ""), Bad: APIDaemon(`»cpu: 256`, ""),
		Want: `cpu: invalid value 256: must be a whole number of CPU units written as a string, for example "256" (1024 units = 1 vCPU)`},
	{Rule: "task memory digits", OK: APIDaemon(`memory: "512"`, ""), Bad: APIDaemon(`»memory: "512MiB"`, ""),
		Want: `memory: invalid value "512MiB": must be a whole number of MiB written as a string, for example "512"`},
	{Rule: "pidMode", OK: APIDaemon(`pidMode: "shared"`, ""), Bad: APIDaemon(`»pidMode: "host"`, ""),
		Want: `pidMode: invalid value "host": must be "none" or "shared"`},
	{Rule: "ipcMode", OK: APIDaemon(`ipcMode: "none"`, ""), Bad: APIDaemon(`»ipcMode: "task"`, ""),
		Want: `ipcMode: invalid value "task": must be "none" or "shared"`},
	{Rule: "at least one container", OK: APIDaemon("", ""), Bad: "family: \"d\"\n»containerDefinitions: []\n",
		Want: `containerDefinitions: must list at least one container`},
	{Rule: "an essential container", OK: APIDaemon("", "essential: true"), Bad: strings.Replace(APIDaemon("", "essential: false"), "containerDefinitions: [", "»containerDefinitions: [", 1),
		Want: `containerDefinitions: at least one container must be essential (essential is true when omitted)`},
	{Rule: "cpu fits the task", OK: APIDaemon(`cpu: "512"`, "cpu: 512"), Bad: APIDaemon(`»cpu: "256"`, "cpu: 512"),
		Want: `cpu: 256 CPU units are fewer than the 512 the containers reserve together`},
	{Rule: "memory fits the task", OK: APIDaemon(`memory: "64"`, ""), Bad: APIDaemon(`»memory: "32"`, ""),
		Want: `memory: 32 MiB is less than the 64 MiB the containers reserve together`},
	{Rule: "at most 50 tags", OK: APIDaemon(`tags: [{key: "a"}]`, ""), Bad: APIDaemon(`»tags: [`+strings.Repeat(`{key: "k", value: "v"}, `, 0)+tagList(51)+`]`, ""),
		Want: `tags: has 51 tags; at most 50 are allowed`},
	{Rule: "tag key prefix", OK: APIDaemon(`tags: [{key: "team", value: "x"}]`, ""), Bad: APIDaemon(`tags: [{»key: "aws:team", value: "x"}]`, ""),
		Want: `tags[aws:team].key: invalid value "aws:team": must be 1 to 128 letters, digits, spaces and _ . : / = + - @, not starting with aws:`},
	{Rule: "tag value prefix", OK: APIDaemon(`tags: [{key: "team", value: "x"}]`, ""), Bad: APIDaemon(`tags: [{key: "team", »value: "AWS:x"}]`, ""),
		Want: `tags[team].value: invalid value "AWS:x": must be up to 256 letters, digits, spaces and _ . : / = + - @, not starting with aws:`},
	{Rule: "tag key length", OK: APIDaemon(`tags: [{key: "`+strings.Repeat("k", 128)+`"}]`, ""), Bad: APIDaemon(`tags: [{»key: "`+strings.Repeat("k", 129)+`"}]`, ""),
		Want: `tags[` + strings.Repeat("k", 129) + `].key: invalid value "` + strings.Repeat("k", 129) + `": must be 1 to 128 letters, digits, spaces and _ . : / = + - @, not starting with aws:`},
	{Rule: "tag keys unique", OK: APIDaemon(`tags: [{key: "a"}, {key: "b"}]`, ""), Bad: APIDaemon(`tags: [{key: "a"}, {»key: "a"}]`, ""),
		Want: `tags[a].key: tag key "a" appears more than once; keys must be unique`},

	// Containers.
	{Rule: "container name", OK: APIDaemon("", ""), Bad: strings.Replace(APIDaemon("", ""), `name: "a"`, `»name: "a.b"`, 1),
		Want: `containerDefinitions[a.b].name: invalid value "a.b": must be 1 to 255 letters, digits, hyphens and underscores`},
	{Rule: "container name required", OK: APIDaemon("", ""), Bad: "family: \"d\"\ncontainerDefinitions: [»{image: \"busybox\", memory: 64}]\n",
		Want: `containerDefinitions[0]: missing required field name`},
	{Rule: "image required", OK: APIDaemon("", ""), Bad: "family: \"d\"\ncontainerDefinitions: [»{name: \"a\", memory: 64}]\n",
		Want: `containerDefinitions[a]: missing required field image`},
	{Rule: "image pattern", OK: APIDaemon("", ""), Bad: strings.Replace(APIDaemon("", ""), `image: "busybox:1.36"`, `»image: "busy box"`, 1),
		Want: `containerDefinitions[a].image: invalid value "busy box": must be an image reference of up to 255 letters, digits and - _ : . / #, optionally followed by @sha256: and 64 hex digits`},
	{Rule: "image digest", OK: strings.Replace(APIDaemon("", ""), `busybox:1.36`, `busybox@sha256:`+strings.Repeat("a", 64), 1), Bad: strings.Replace(APIDaemon("", ""), `image: "busybox:1.36"`, `»image: "busybox@sha256:abc"`, 1),
		Want: `containerDefinitions[a].image: invalid value "busybox@sha256:abc": must be an image reference of up to 255 letters, digits and - _ : . / #, optionally followed by @sha256: and 64 hex digits`},
	{Rule: "container names unique", OK: "family: \"d\"\ncontainerDefinitions: [{name: \"a\", image: \"x:1\", memory: 64}, {name: \"b\", image: \"x:1\", memory: 64}]\n",
		Bad:  "family: \"d\"\ncontainerDefinitions: [{name: \"a\", image: \"x:1\", memory: 64}, {»name: \"a\", image: \"x:1\", memory: 64}]\n",
		Want: `containerDefinitions[a].name: container name "a" is used by more than one container; names must be unique`},
	{Rule: "container cpu", OK: APIDaemon("", "cpu: 128"), Bad: APIDaemon("", "»cpu: 0"),
		Want: `containerDefinitions[a].cpu: invalid value 0: must be a whole number of CPU units from 1 to 2147483647; omit cpu to reserve none`},
	{Rule: "memory minimum", OK: APIDaemon("", "memoryReservation: 32"), Bad: strings.Replace(APIDaemon("", ""), "memory: 64", "»memory: 2", 1),
		Want: `containerDefinitions[a].memory: invalid value 2: must be a whole number of MiB from 4 to 2147483647`},
	{Rule: "memory maximum", OK: strings.Replace(APIDaemon("", ""), "memory: 64", "memory: 2147483647", 1), Bad: strings.Replace(APIDaemon("", ""), "memory: 64", "»memory: 2147483648", 1),
		Want: `containerDefinitions[a].memory: invalid value 2147483648: must be a whole number of MiB from 4 to 2147483647`},
	{Rule: "whole number written with an exponent", OK: strings.Replace(APIDaemon("", ""), "memory: 64", "memory: 512", 1), Bad: strings.Replace(APIDaemon("", ""), "memory: 64", "»memory: 0.512e3", 1),
		Want: `containerDefinitions[a].memory: invalid value 512.0: must be a whole number of MiB from 4 to 2147483647`},
	{Rule: "int32 range", OK: APIDaemon("", "cpu: 2147483647"), Bad: APIDaemon("", "»cpu: 2147483648"),
		Want: `containerDefinitions[a].cpu: invalid value 2147483648: must be a whole number of CPU units from 1 to 2147483647; omit cpu to reserve none`},
	{Rule: "memoryReservation within memory", OK: APIDaemon("", "memoryReservation: 32"), Bad: APIDaemon("", "»memoryReservation: 65"),
		Want: `containerDefinitions[a].memoryReservation: memoryReservation (65 MiB) must not exceed memory (64 MiB)`},
	{Rule: "memory without task memory", OK: "family: \"d\"\nmemory: \"128\"\ncontainerDefinitions: [{name: \"a\", image: \"x:1\"}]\n", Bad: "family: \"d\"\ncontainerDefinitions: [»{name: \"a\", image: \"x:1\"}]\n",
		Want: `containerDefinitions[a]: needs memory or memoryReservation, because the task sets no memory`},
	{Rule: "user", OK: APIDaemon("", `user: "1000:1000"`), Bad: APIDaemon("", `»user: "-1"`),
		Want: `containerDefinitions[a].user: invalid value "-1": must be user, user:group, uid, uid:gid, user:gid or uid:group, with non-negative numeric ids`},
	{Rule: "essential is a boolean", OK: APIDaemon("", "essential: true"), Bad: APIDaemon("", `»essential: "yes"`),
		Want: `containerDefinitions[a].essential: invalid value "yes": must be true or false`},
	{Rule: "environment names unique", OK: APIDaemon("", `environment: [{name: "A", value: "1"}, {name: "B", value: "2"}]`), Bad: APIDaemon("", `environment: [{name: "A", value: "1"}, {»name: "A", value: "2"}]`),
		Want: `containerDefinitions[a].environment[A].name: environment variable "A" is set more than once`},
	{Rule: "secret names unique", OK: execRole(`secrets: [{name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]`), Bad: execRole(`secrets: [{name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}, {»name: "A", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/y"}]`),
		Want: `containerDefinitions[a].secrets[A].name: secret "A" is set more than once`},
	{Rule: "secret and variable", OK: execRole(`environment: [{name: "B", value: "1"}], secrets: [{name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]`), Bad: execRole(`environment: [{name: "A", value: "1"}], secrets: [{»name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]`),
		Want: `containerDefinitions[a].secrets[A].name: "A" is both an environment variable and a secret`},
	{Rule: "secret valueFrom", OK: execRole(`secrets: [{name: "A", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/team/token"}, {name: "B", valueFrom: "/team/token"}, {name: "C", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::"}]`), Bad: execRole(`secrets: [{name: "TOKEN", »valueFrom: "arn:aws:s3:::bucket/token"}]`),
		Want: `containerDefinitions[a].secrets[TOKEN].valueFrom: invalid value "arn:aws:s3:::bucket/token": must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) or of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME), or an SSM parameter name`},
	{Rule: "secretOptions valueFrom", OK: execRole(`logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s"}, secretOptions: [{name: "splunk-token", valueFrom: "splunk/token"}]}`), Bad: execRole(`logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s"}, secretOptions: [{name: "splunk-token", »valueFrom: "arn:aws:iam::123456789012:role/x"}]}`),
		Want: `containerDefinitions[a].logConfiguration.secretOptions[splunk-token].valueFrom: invalid value "arn:aws:iam::123456789012:role/x": must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) or of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME), or an SSM parameter name`},
	{Rule: "repositoryCredentials parameter", OK: execRole(`repositoryCredentials: credentialsParameter: "registry/creds"`), Bad: execRole(`repositoryCredentials: »credentialsParameter: "arn:aws:ssm:eu-west-1:123456789012:parameter/creds"`),
		Want: `containerDefinitions[a].repositoryCredentials.credentialsParameter: invalid value "arn:aws:ssm:eu-west-1:123456789012:parameter/creds": must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), or its name`},
	{Rule: "environment files count", OK: execRole(`environmentFiles: [` + envFiles(10) + `]`), Bad: execRole(`»environmentFiles: [` + envFiles(11) + `]`),
		Want: `containerDefinitions[a].environmentFiles: has 11 files; at most 10 are allowed`},
	{Rule: "environment file name", OK: execRole(`environmentFiles: [{value: "arn:aws:s3:::b/app.env", type: "s3"}]`), Bad: execRole(`environmentFiles: [{»value: "arn:aws:s3:::b/app.txt", type: "s3"}]`),
		Want: `containerDefinitions[a].environmentFiles[0].value: invalid value "arn:aws:s3:::b/app.txt": must be the ARN of an S3 object whose name ends in .env, for example arn:aws:s3:::bucket/path/app.env`},
	{Rule: "environment file type", OK: execRole(`environmentFiles: [{value: "arn:aws:s3:::b/app.env", type: "s3"}]`), Bad: execRole(`environmentFiles: [{value: "arn:aws:s3:::b/app.env", »type: "S3"}]`),
		Want: `containerDefinitions[a].environmentFiles[0].type: invalid value "S3": must be "s3"; did you mean "s3"?`},
	{Rule: "mount names a volume", OK: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/var/log"}]`, `mountPoints: [{sourceVolume: "v", containerPath: "/logs"}]`), Bad: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/var/log"}]`, `mountPoints: [{»sourceVolume: "w", containerPath: "/logs"}]`),
		Want: `containerDefinitions[a].mountPoints[w].sourceVolume: names no volume of this daemon task definition; volumes: v`},
	{Rule: "mount path absolute", OK: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/var/log"}]`, `mountPoints: [{sourceVolume: "v", containerPath: "/logs"}]`), Bad: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/var/log"}]`, `mountPoints: [{sourceVolume: "v", »containerPath: "logs"}]`),
		Want: `containerDefinitions[a].mountPoints[v].containerPath: invalid value "logs": must be an absolute path`},
	{Rule: "dependsOn target exists", OK: twoContainers(`dependsOn: [{containerName: "b", condition: "START"}]`, ""), Bad: twoContainers(`dependsOn: [{»containerName: "c", condition: "START"}]`, ""),
		Want: `containerDefinitions[a].dependsOn[c].containerName: names no container of this daemon task definition; containers: a, b`},
	{Rule: "dependsOn not itself", OK: twoContainers(`dependsOn: [{containerName: "b", condition: "START"}]`, ""), Bad: twoContainers(`dependsOn: [{»containerName: "a", condition: "START"}]`, ""),
		Want: `containerDefinitions[a].dependsOn[a].containerName: container "a" cannot depend on itself`},
	{Rule: "dependsOn condition", OK: twoContainers(`dependsOn: [{containerName: "b", condition: "START"}]`, ""), Bad: twoContainers(`dependsOn: [{containerName: "b", »condition: "READY"}]`, ""),
		Want: `containerDefinitions[a].dependsOn[b].condition: invalid value "READY": must be "START", "COMPLETE", "SUCCESS" or "HEALTHY"`},
	{Rule: "COMPLETE needs a non-essential target", OK: twoContainers(`dependsOn: [{containerName: "b", condition: "COMPLETE"}]`, "essential: false"), Bad: twoContainers(`dependsOn: [{containerName: "b", »condition: "SUCCESS"}]`, ""),
		Want: `containerDefinitions[a].dependsOn[b].condition: SUCCESS needs a non-essential target, and container "b" is essential; set essential: false on it, or use START or HEALTHY`},
	{Rule: "HEALTHY needs a healthCheck", OK: twoContainers(`dependsOn: [{containerName: "b", condition: "HEALTHY"}]`, `healthCheck: command: ["CMD", "true"]`), Bad: twoContainers(`dependsOn: [{containerName: "b", »condition: "HEALTHY"}]`, ""),
		Want: `containerDefinitions[a].dependsOn[b].condition: HEALTHY needs a healthCheck on container "b", which has none`},
	{Rule: "dependsOn cycle", OK: twoContainers(`dependsOn: [{containerName: "b", condition: "START"}]`, ""), Bad: twoContainers(`»dependsOn: [{containerName: "b", condition: "START"}]`, `dependsOn: [{containerName: "a", condition: "START"}]`),
		Want: `containerDefinitions[a].dependsOn: dependsOn forms a cycle: container "a" waits, directly or through other containers, for itself`},
	{Rule: "healthCheck command", OK: APIDaemon("", `healthCheck: command: ["CMD-SHELL", "true"]`), Bad: APIDaemon("", `healthCheck: command: [»"RUN", "true"]`),
		Want: `containerDefinitions[a].healthCheck.command[0]: invalid value "RUN": must be "CMD" or "CMD-SHELL"`},
	{Rule: "healthCheck command required", OK: APIDaemon("", `healthCheck: command: ["CMD", "true"]`), Bad: APIDaemon("", `»healthCheck: {interval: 30}`),
		Want: `containerDefinitions[a].healthCheck: missing required field command`},
	{Rule: "healthCheck interval", OK: APIDaemon("", `healthCheck: {command: ["CMD", "true"], interval: 5}`), Bad: APIDaemon("", `healthCheck: {command: ["CMD", "true"], »interval: 301}`),
		Want: `containerDefinitions[a].healthCheck.interval: invalid value 301: must be a whole number of seconds from 5 to 300`},
	{Rule: "healthCheck timeout", OK: APIDaemon("", `healthCheck: {command: ["CMD", "true"], timeout: 2}`), Bad: APIDaemon("", `healthCheck: {command: ["CMD", "true"], interval: 300, »timeout: 61}`),
		Want: `containerDefinitions[a].healthCheck.timeout: invalid value 61: must be a whole number of seconds from 2 to 60`},
	{Rule: "healthCheck retries", OK: APIDaemon("", `healthCheck: {command: ["CMD", "true"], retries: 10}`), Bad: APIDaemon("", `healthCheck: {command: ["CMD", "true"], »retries: 0}`),
		Want: `containerDefinitions[a].healthCheck.retries: invalid value 0: must be a whole number from 1 to 10`},
	{Rule: "healthCheck startPeriod", OK: APIDaemon("", `healthCheck: {command: ["CMD", "true"], startPeriod: 0}`), Bad: APIDaemon("", `healthCheck: {command: ["CMD", "true"], »startPeriod: 301}`),
		Want: `containerDefinitions[a].healthCheck.startPeriod: invalid value 301: must be a whole number of seconds from 0 to 300`},
	{Rule: "restart period", OK: APIDaemon("", `restartPolicy: {enabled: true, restartAttemptPeriod: 60}`), Bad: APIDaemon("", `restartPolicy: {enabled: true, »restartAttemptPeriod: 59}`),
		Want: `containerDefinitions[a].restartPolicy.restartAttemptPeriod: invalid value 59: must be a whole number of seconds from 60 to 1800`},
	{Rule: "restart enabled required", OK: APIDaemon("", `restartPolicy: enabled: false`), Bad: APIDaemon("", `»restartPolicy: {restartAttemptPeriod: 60}`),
		Want: `containerDefinitions[a].restartPolicy: missing required field enabled`},
	{Rule: "ignored exit codes", OK: APIDaemon("", `restartPolicy: {enabled: true, ignoredExitCodes: [`+ints(50)+`]}`), Bad: APIDaemon("", `restartPolicy: {enabled: true, »ignoredExitCodes: [`+ints(51)+`]}`),
		Want: `containerDefinitions[a].restartPolicy.ignoredExitCodes: has 51 exit codes; at most 50 are allowed`},
	{Rule: "ulimit name", OK: APIDaemon("", `ulimits: [{name: "nofile", softLimit: 1, hardLimit: 2}]`), Bad: APIDaemon("", `ulimits: [{»name: "files", softLimit: 1, hardLimit: 2}]`),
		Want: `containerDefinitions[a].ulimits[files].name: invalid value "files": must be one of core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack; did you mean "nofile"?`},
	{Rule: "ulimit soft within hard", OK: APIDaemon("", `ulimits: [{name: "nofile", softLimit: 2, hardLimit: 2}]`), Bad: APIDaemon("", `ulimits: [{name: "nofile", »softLimit: 3, hardLimit: 2}]`),
		Want: `containerDefinitions[a].ulimits[nofile].softLimit: softLimit (3) must not exceed hardLimit (2)`},
	{Rule: "ulimit once", OK: APIDaemon("", `ulimits: [{name: "nofile", softLimit: 1, hardLimit: 2}]`), Bad: APIDaemon("", `ulimits: [{name: "nofile", softLimit: 1, hardLimit: 2}, {»name: "nofile", softLimit: 1, hardLimit: 2}]`),
		Want: `containerDefinitions[a].ulimits[nofile].name: ulimit "nofile" is set more than once`},
	{Rule: "ulimit limits required", OK: APIDaemon("", `ulimits: [{name: "core", softLimit: 0, hardLimit: 0}]`), Bad: APIDaemon("", `ulimits: [»{name: "core", softLimit: 0}]`),
		Want: `containerDefinitions[a].ulimits[core]: missing required field hardLimit`},
	{Rule: "capability", OK: APIDaemon("", `linuxParameters: capabilities: add: ["BPF", "NET_ADMIN"]`), Bad: APIDaemon("", `linuxParameters: capabilities: drop: [»"CAP_NET_RAW"]`),
		Want: `containerDefinitions[a].linuxParameters.capabilities.drop[0]: invalid value "CAP_NET_RAW": must be a Linux capability without the CAP_ prefix, such as NET_ADMIN, SYS_PTRACE or BPF; did you mean "NET_RAW"?`},
	{Rule: "device permissions", OK: APIDaemon("", `linuxParameters: devices: [{hostPath: "/dev/fuse", permissions: ["read", "mknod"]}]`), Bad: APIDaemon("", `linuxParameters: devices: [{hostPath: "/dev/fuse", permissions: [»"rw"]}]`),
		Want: `containerDefinitions[a].linuxParameters.devices[/dev/fuse].permissions[0]: invalid value "rw": must be "read", "write" or "mknod"`},
	{Rule: "device hostPath", OK: APIDaemon("", `linuxParameters: devices: [{hostPath: "/dev/fuse"}]`), Bad: APIDaemon("", `linuxParameters: devices: [{»hostPath: "fuse"}]`),
		Want: `containerDefinitions[a].linuxParameters.devices[fuse].hostPath: invalid value "fuse": must be an absolute path`},
	{Rule: "tmpfs size", OK: APIDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", size: 64}]`), Bad: APIDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", »size: 0}]`),
		Want: `containerDefinitions[a].linuxParameters.tmpfs[/tmp].size: invalid value 0: must be a whole number of MiB from 1 to 2147483647`},
	{Rule: "tmpfs mount option", OK: APIDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", size: 64, mountOptions: ["noexec"]}]`), Bad: APIDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", size: 64, mountOptions: [»"noexecute"]}]`),
		Want: `containerDefinitions[a].linuxParameters.tmpfs[/tmp].mountOptions[0]: invalid value "noexecute": must be a tmpfs mount option such as noexec, nosuid, ro or mode`},
	{Rule: "unsupported linuxParameters", OK: APIDaemon("", `linuxParameters: initProcessEnabled: true`), Bad: APIDaemon("", `linuxParameters: »swappiness: 10`),
		Want: `containerDefinitions[a].linuxParameters.swappiness: daemon task definitions do not support linuxParameters.swappiness`},
	{Rule: "sysctl namespace", OK: APIDaemon("", `systemControls: [{namespace: "net.core.somaxconn", value: "1024"}]`), Bad: APIDaemon("", `systemControls: [{»namespace: "vm.swappiness", value: "10"}]`),
		Want: `containerDefinitions[a].systemControls[vm.swappiness].namespace: invalid value "vm.swappiness": must be a namespaced sysctl: net.*, fs.mqueue.* or kernel.msgmax, msgmnb, msgmni, sem, shmall, shmmax, shmmni, shm_rmid_forced`},
	{Rule: "log driver", OK: execRole(awslogs), Bad: APIDaemon("", `logConfiguration: »logDriver: "syslog"`),
		Want: `containerDefinitions[a].logConfiguration.logDriver: invalid value "syslog": must be "awslogs", "splunk" or "awsfirelens": the log drivers daemon task definitions support; did you mean "awslogs"?`},
	{Rule: "awslogs region", OK: execRole(awslogs), Bad: execRole(`logConfiguration: {logDriver: "awslogs", »options: {"awslogs-group": "g", "awslogs-stream-prefix": "p"}}`),
		Want: `containerDefinitions[a].logConfiguration.options: awslogs needs the option awslogs-region`},
	{Rule: "awslogs region format", OK: execRole(awslogs), Bad: execRole(`logConfiguration: {logDriver: "awslogs", options: {"awslogs-group": "g", »"awslogs-region": "Ireland", "awslogs-stream-prefix": "p"}}`),
		Want: `containerDefinitions[a].logConfiguration.options.awslogs-region: invalid value "Ireland": must be an AWS Region such as eu-west-1`},
	{Rule: "awslogs multiline", OK: execRole(awslogs), Bad: execRole(`logConfiguration: {logDriver: "awslogs", »options: {"awslogs-group": "g", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "p", "awslogs-datetime-format": "%Y", "awslogs-multiline-pattern": "^x"}}`),
		Want: `containerDefinitions[a].logConfiguration.options: awslogs-datetime-format and awslogs-multiline-pattern cannot be used together`},
	{Rule: "awslogs create group", OK: execRole(awslogs), Bad: execRole(`logConfiguration: {logDriver: "awslogs", options: {"awslogs-group": "g", "awslogs-region": "eu-west-1", »"awslogs-create-group": "yes", "awslogs-stream-prefix": "p"}}`),
		Want: `containerDefinitions[a].logConfiguration.options.awslogs-create-group: invalid value "yes": must be "true" or "false"`},
	{Rule: "log mode", OK: execRole(awslogs), Bad: APIDaemon("", `logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s", "splunk-token": "t", »mode: "async"}}`),
		Want: `containerDefinitions[a].logConfiguration.options.mode: invalid value "async": must be "non-blocking" or "blocking"`},
	{Rule: "splunk url", OK: APIDaemon("", `logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s", "splunk-token": "t"}}`), Bad: APIDaemon("", `logConfiguration: {logDriver: "splunk", »options: {"splunk-token": "t"}}`),
		Want: `containerDefinitions[a].logConfiguration.options: splunk needs the option splunk-url`},
	{Rule: "splunk token", OK: execRole(`logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s"}, secretOptions: [{name: "splunk-token", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]}`), Bad: APIDaemon("", `logConfiguration: {»logDriver: "splunk", options: {"splunk-url": "https://s"}}`),
		Want: `containerDefinitions[a].logConfiguration.logDriver: splunk needs splunk-token, in options or in secretOptions`},
	{Rule: "FireLens config file value", OK: APIDaemon("", `firelensConfiguration: {type: "fluentbit", options: {"config-file-type": "file", "config-file-value": "/fluent-bit/etc/extra.conf"}}`),
		Bad:  APIDaemon("", `firelensConfiguration: {type: "fluentbit", options: {»"config-file-type": "file"}}`),
		Want: `containerDefinitions[a].firelensConfiguration.options.config-file-type: config-file-type needs config-file-value`},
	{Rule: "awslogs needs executionRoleArn", OK: execRole(awslogs), Bad: APIDaemon("", `»`+awslogs),
		Want: `containerDefinitions[a].logConfiguration: needs executionRoleArn: the container sends logs to CloudWatch with awslogs, which ECS does with the task execution role`},
	{Rule: "secrets need executionRoleArn", OK: execRole(`secrets: [{name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]`), Bad: APIDaemon("", `»secrets: [{name: "A", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]`),
		Want: `containerDefinitions[a].secrets: needs executionRoleArn: the container reads secrets, which ECS does with the task execution role`},
	{Rule: "secretOptions need executionRoleArn", OK: execRole(`logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s"}, secretOptions: [{name: "splunk-token", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]}`), Bad: APIDaemon("", `»logConfiguration: {logDriver: "splunk", options: {"splunk-url": "https://s"}, secretOptions: [{name: "splunk-token", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]}`),
		Want: `containerDefinitions[a].logConfiguration: needs executionRoleArn: the container reads log secretOptions, which ECS does with the task execution role`},
	{Rule: "repositoryCredentials need executionRoleArn", OK: execRole(`repositoryCredentials: credentialsParameter: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry"`), Bad: APIDaemon("", `»repositoryCredentials: credentialsParameter: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry"`),
		Want: `containerDefinitions[a].repositoryCredentials: needs executionRoleArn: the container pulls with repositoryCredentials, which ECS does with the task execution role`},
	{Rule: "environmentFiles need executionRoleArn", OK: execRole(`environmentFiles: [{value: "arn:aws:s3:::b/app.env", type: "s3"}]`), Bad: APIDaemon("", `»environmentFiles: [{value: "arn:aws:s3:::b/app.env", type: "s3"}]`),
		Want: `containerDefinitions[a].environmentFiles: needs executionRoleArn: the container loads environmentFiles, which ECS does with the task execution role`},
	{Rule: "firelens type", OK: APIDaemon("", `firelensConfiguration: type: "fluentbit"`), Bad: APIDaemon("", `firelensConfiguration: »type: "fluent-bit"`),
		Want: `containerDefinitions[a].firelensConfiguration.type: invalid value "fluent-bit": must be "fluentbit" or "fluentd"; did you mean "fluentbit"?`},
	{Rule: "firelens options", OK: APIDaemon("", `firelensConfiguration: {type: "fluentbit", options: "enable-ecs-log-metadata": "true"}`), Bad: APIDaemon("", `firelensConfiguration: {type: "fluentbit", options: »"enable-ecs-metadata": "true"}`),
		Want: `containerDefinitions[a].firelensConfiguration.options.enable-ecs-metadata: unknown field; did you mean "enable-ecs-log-metadata"?`},
	{Rule: "awsfirelens needs a router", OK: twoContainers(`logConfiguration: logDriver: "awsfirelens"`, `firelensConfiguration: type: "fluentbit"`), Bad: twoContainers(`logConfiguration: »logDriver: "awsfirelens"`, ""),
		Want: `containerDefinitions[a].logConfiguration.logDriver: awsfirelens needs a log router: a container with firelensConfiguration, and there is none`},
	{Rule: "one router", OK: twoContainers(`firelensConfiguration: type: "fluentbit"`, ""), Bad: twoContainers(`firelensConfiguration: type: "fluentbit"`, `»firelensConfiguration: type: "fluentd"`),
		Want: `containerDefinitions[b].firelensConfiguration: only one container may be the FireLens log router (have firelensConfiguration)`},
	{Rule: "unsupported container field", OK: APIDaemon("", ""), Bad: APIDaemon("", `»dockerLabels: {a: "b"}`),
		Want: `containerDefinitions[a].dockerLabels: daemon task definitions do not support dockerLabels`},

	// Volumes.
	{Rule: "volume name", OK: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/var/log"}]`, ""), Bad: APIDaemon(`volumes: [{»name: "v/w", host: sourcePath: "/var/log"}]`, ""),
		Want: `volumes[v/w].name: invalid value "v/w": must be 1 to 255 letters, digits, hyphens and underscores`},
	{Rule: "volume names unique", OK: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/a"}, {name: "w", host: sourcePath: "/b"}]`, ""), Bad: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/a"}, {»name: "v", host: sourcePath: "/b"}]`, ""),
		Want: `volumes[v].name: volume name "v" is used by more than one volume; names must be unique`},
	{Rule: "a volume without host is a task volume", OK: APIDaemon(`volumes: [{name: "scratch"}]`, `mountPoints: [{sourceVolume: "scratch", containerPath: "/scratch"}]`), Bad: APIDaemon(`volumes: [{name: "scratch", »host: {}}]`, ""),
		Want: `volumes[scratch].host: missing required field sourcePath`},
	{Rule: "volume one kind", OK: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/a"}]`, ""), Bad: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/a", »logDriverVolumeConfiguration: {driver: "json-file"}}]`, ""),
		Want: `volumes[v].logDriverVolumeConfiguration: a volume sets either host or logDriverVolumeConfiguration, not both`},
	{Rule: "log volume driver", OK: APIDaemon(`volumes: [{name: "v", logDriverVolumeConfiguration: driver: "json-file"}]`, ""), Bad: APIDaemon(`volumes: [{name: "v", logDriverVolumeConfiguration: »driver: "awslogs"}]`, ""),
		Want: `volumes[v].logDriverVolumeConfiguration.driver: invalid value "awslogs": must be "json-file"`},
	{Rule: "host path absolute", OK: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/a"}]`, ""), Bad: APIDaemon(`volumes: [{name: "v", host: »sourcePath: "a"}]`, ""),
		Want: `volumes[v].host.sourcePath: invalid value "a": must be an absolute path on the container instance`},
	{Rule: "unsupported volume kind", OK: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/a"}]`, ""), Bad: APIDaemon(`volumes: [{name: "v", host: sourcePath: "/a", »dockerVolumeConfiguration: {}}]`, ""),
		Want: `volumes[v].dockerVolumeConfiguration: daemon task definitions do not support dockerVolumeConfiguration: daemon volumes are host bind mounts`},

	// Warnings: what the reference leaves unsure.
	{Rule: "PERFMON", Warning: "undocumented-capability", OK: APIDaemon("", `linuxParameters: capabilities: add: ["BPF"]`), Bad: APIDaemon("", `linuxParameters: capabilities: add: [»"PERFMON"]`),
		Want: `containerDefinitions[a].linuxParameters.capabilities.add[0]: PERFMON is accepted by Docker but not documented for ECS; registration may fail`},
	{Rule: "json-file driver", Warning: "json-file-log-driver", OK: execRole(awslogs), Bad: APIDaemon("", `logConfiguration: »logDriver: "json-file"`),
		Want: `containerDefinitions[a].logConfiguration.logDriver: json-file is documented for ECS Managed Instances but not for daemons, which document awslogs, splunk and awsfirelens`},
	{Rule: "awslogs stream prefix", Warning: "awslogs-stream-prefix", OK: execRole(awslogs), Bad: execRole(`logConfiguration: {logDriver: "awslogs", »options: {"awslogs-group": "g", "awslogs-region": "eu-west-1"}}`),
		Want: `containerDefinitions[a].logConfiguration.options: awslogs-stream-prefix is not set; set it so that log streams name their task and the console can show the logs`},
	{Rule: "stopTimeout above 120", Warning: "timeout-above-120", OK: APIDaemon("", "stopTimeout: 120"), Bad: APIDaemon("", "»stopTimeout: 121"),
		Want: `containerDefinitions[a].stopTimeout: stopTimeout above 120 seconds is not documented; ECS may cap or reject it`},
	{Rule: "memory below 6", Warning: "memory-below-6", OK: APIDaemon("", ""), Bad: strings.Replace(APIDaemon("", ""), "memory: 64", "»memory: 5", 1),
		Want: `containerDefinitions[a].memory: Docker 20.10 and later need at least 6 MiB`},
	{Rule: "timeout below interval", Warning: "health-timeout-interval", OK: APIDaemon("", `healthCheck: {command: ["CMD", "true"], interval: 10, timeout: 5}`), Bad: APIDaemon("", `healthCheck: {command: ["CMD", "true"], interval: 10, »timeout: 10}`),
		Want: `containerDefinitions[a].healthCheck.timeout: timeout should be shorter than interval (10 seconds)`},
	{Rule: "startTimeout without dependents", Warning: "start-timeout-unused", OK: twoContainers(`dependsOn: [{containerName: "b", condition: "HEALTHY"}]`, `startTimeout: 60, healthCheck: command: ["CMD", "true"]`), Bad: APIDaemon("", "»startTimeout: 60"),
		Want: `containerDefinitions[a].startTimeout: startTimeout has effect only on a container that another container depends on with COMPLETE, SUCCESS or HEALTHY`},
	{Rule: "private ECR without executionRoleArn", Warning: "ecr-without-execution-role", OK: strings.Replace(execRole(""), "busybox:1.36", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/agent:1", 1), Bad: strings.Replace(APIDaemon("", ""), `image: "busybox:1.36"`, `»image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/agent:1"`, 1),
		Want: `containerDefinitions[a].image: pulling from a private ECR repository needs executionRoleArn`},
	{Rule: "FireLens config in S3", Warning: "firelens-s3-without-execution-role", OK: execRole(`firelensConfiguration: {type: "fluentbit", options: {"config-file-type": "s3", "config-file-value": "arn:aws:s3:::b/f.conf"}}`), Bad: APIDaemon("", `firelensConfiguration: {type: "fluentbit", options: {»"config-file-type": "s3", "config-file-value": "arn:aws:s3:::b/f.conf"}}`),
		Want: `containerDefinitions[a].firelensConfiguration.options.config-file-type: a FireLens configuration file in S3 is read with executionRoleArn, which is not set`},
	{Rule: "router essential", Warning: "router-not-essential", OK: twoContainers(`firelensConfiguration: type: "fluentbit"`, ""), Bad: twoContainers(`»essential: false, firelensConfiguration: type: "fluentbit"`, ""),
		Want: `containerDefinitions[a].essential: the FireLens log router should be essential: without it the other containers' logs are lost`},
	{Rule: "tmpfs option with a value", Warning: "tmpfs-option-value", OK: APIDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", size: 64, mountOptions: ["mode"]}]`), Bad: APIDaemon("", `linuxParameters: tmpfs: [{containerPath: "/tmp", size: 64, mountOptions: [»"mode=1777"]}]`),
		Want: `containerDefinitions[a].linuxParameters.tmpfs[/tmp].mountOptions[0]: mount options with a value (mode=1777) are not documented for ECS tmpfs; registration may fail`},
	{Rule: "IPC sysctl with shared ipcMode", Warning: "ipc-sysctl-shared", OK: APIDaemon(`ipcMode: "shared"`, `systemControls: [{namespace: "net.core.somaxconn", value: "1"}]`), Bad: APIDaemon(`ipcMode: "shared"`, `systemControls: [{»namespace: "kernel.shmmax", value: "1"}]`),
		Want: `containerDefinitions[a].systemControls[kernel.shmmax].namespace: IPC sysctls probably do not apply when ipcMode is "shared"`},
	{Rule: "memoryReservation equal to memory", Warning: "memory-reservation-equal", OK: APIDaemon("", "memoryReservation: 32"), Bad: APIDaemon("", "»memoryReservation: 64"),
		Want: `containerDefinitions[a].memoryReservation: memoryReservation equals memory (64 MiB); the documentation says memory must be greater, and equal values may be rejected`},
	{Rule: "task size with a unit", Warning: "task-size-units", OK: APIDaemon(`cpu: "1024"`, ""), Bad: APIDaemon(`»cpu: "1 vCPU"`, ""),
		Want: `cpu: cpu with a unit (1 vCPU) is documented for ordinary task definitions; daemon task definitions document a plain number (CPU units)`},
	{Rule: "Windows device name", Warning: "windows-reserved-name", OK: strings.Replace(APIDaemon("", ""), `family: "d"`, `family: "auxiliary"`, 1), Bad: strings.Replace(APIDaemon("", ""), `family: "d"`, `»family: "Aux"`, 1),
		Want: `family: the output file Aux.json has a name Windows reserves for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9): it cannot be checked out there`},
	// The security lints (internal/lint).
	{Rule: "plaintext AWS key", Warning: "plaintext-secret", OK: APIDaemon("", `environment: [{name: "AWS_REGION", value: "eu-west-1"}]`), Bad: APIDaemon("", `environment: [{name: "KEY", »value: "AKIAIOSFODNN7EXAMPLE"}]`),
		Want: `containerDefinitions[a].environment[KEY].value: an AWS access key id in plain text: environment values are stored in the task definition, which anyone who can describe it reads, and shown in the console; move it to secrets with a Secrets Manager or SSM Parameter Store valueFrom`},
	{Rule: "plaintext private key", Warning: "plaintext-secret", OK: APIDaemon("", `environment: [{name: "CERT_FILE", value: "/etc/agent/key.pem"}]`), Bad: APIDaemon("", `environment: [{name: "TLS", »value: "-----BEGIN RSA PRIVATE KEY-----\nMIIE"}]`),
		Want: `containerDefinitions[a].environment[TLS].value: a private key in plain text: environment values are stored in the task definition, which anyone who can describe it reads, and shown in the console; move it to secrets with a Secrets Manager or SSM Parameter Store valueFrom`},
	{Rule: "plaintext JWT", Warning: "plaintext-secret", OK: APIDaemon("", `environment: [{name: "MODE", value: "eyes.only"}]`), Bad: APIDaemon("", `environment: [{name: "AUTH", »value: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}]`),
		Want: `containerDefinitions[a].environment[AUTH].value: a JSON web token in plain text: environment values are stored in the task definition, which anyone who can describe it reads, and shown in the console; move it to secrets with a Secrets Manager or SSM Parameter Store valueFrom`},
	{Rule: "plaintext by name", Warning: "plaintext-secret", OK: APIDaemon("", `environment: [{name: "DD_API_KEY_FILE", value: "/run/secrets/dd"}, {name: "TOKEN_TTL", value: "300"}]`), Bad: APIDaemon("", `environment: [{name: "DB_PASSWORD", »value: "hunter2"}]`),
		Want: `containerDefinitions[a].environment[DB_PASSWORD].value: a literal value under the name DB_PASSWORD in plain text: environment values are stored in the task definition, which anyone who can describe it reads, and shown in the console; move it to secrets with a Secrets Manager or SSM Parameter Store valueFrom`},
	{Rule: "image latest", Warning: "floating-image", OK: strings.Replace(APIDaemon("", ""), `busybox:1.36`, `busybox@sha256:`+strings.Repeat("a", 64), 1), Bad: strings.Replace(APIDaemon("", ""), `image: "busybox:1.36"`, `»image: "busybox:latest"`, 1),
		Want: `containerDefinitions[a].image: the image busybox:latest is tagged latest: every instance that starts the daemon may pull another build, and a rollback cannot go back; pin a tag or a digest (@sha256:...)`},
	{Rule: "image without tag", Warning: "floating-image", OK: strings.Replace(APIDaemon("", ""), `busybox:1.36`, `registry.example.com:5000/busybox:1.36`, 1), Bad: strings.Replace(APIDaemon("", ""), `image: "busybox:1.36"`, `»image: "registry.example.com:5000/busybox"`, 1),
		Want: `containerDefinitions[a].image: the image registry.example.com:5000/busybox has no tag, so it is :latest: every instance that starts the daemon may pull another build, and a rollback cannot go back; pin a tag or a digest (@sha256:...)`},
	{Rule: "privileged", Warning: "privileged", OK: APIDaemon("", `privileged: false`), Bad: APIDaemon("", "»privileged: true\nreadonlyRootFilesystem: true"),
		Want: `containerDefinitions[a].privileged: the container is privileged: it has every capability and every device of the host, on every instance; add only the capabilities the agent needs (linuxParameters.capabilities.add)`},
	{Rule: "dangerous capability", Warning: "dangerous-capability", OK: APIDaemon("", `linuxParameters: capabilities: add: ["NET_ADMIN", "SYS_PTRACE"]`), Bad: APIDaemon("", `linuxParameters: capabilities: add: ["NET_ADMIN", »"SYS_MODULE"]`),
		Want: `containerDefinitions[a].linuxParameters.capabilities.add[1]: SYS_MODULE lets the container take over the host (load kernel modules, mount file systems, reach raw devices); add narrower capabilities where the agent allows (for example PERFMON and BPF for eBPF, SYS_PTRACE to read processes)`},
	{Rule: "runtime socket", Warning: "runtime-socket", OK: APIDaemon(`volumes: [{name: "sock", host: sourcePath: "/var/run/docker.sock"}]`, `mountPoints: [{sourceVolume: "sock", containerPath: "/var/run/docker.sock", readOnly: true}]`),
		Bad:  APIDaemon(`volumes: [{name: "sock", host: sourcePath: "/var/run/docker.sock"}]`, `mountPoints: [»{sourceVolume: "sock", containerPath: "/var/run/docker.sock"}]`),
		Want: `containerDefinitions[a].mountPoints[sock].readOnly: /var/run/docker.sock is mounted writable and reaches the container runtime's socket /var/run/docker.sock: whoever controls the container can start a privileged container on the host; mount it with readOnly: true, or not at all`},
	{Rule: "sensitive host path", Warning: "sensitive-host-path", OK: APIDaemon(`volumes: [{name: "etc", host: sourcePath: "/etc"}]`, `mountPoints: [{sourceVolume: "etc", containerPath: "/host/etc", readOnly: true}]`),
		Bad:  APIDaemon(`volumes: [{name: "etc", host: sourcePath: "/etc/"}]`, `mountPoints: [{sourceVolume: "etc", containerPath: "/host/etc", »readOnly: false}]`),
		Want: `containerDefinitions[a].mountPoints[etc].readOnly: the host path /etc is mounted writable: the container can change what every process on the instance reads; mount it with readOnly: true`},
	{Rule: "host namespaces", Warning: "host-namespaces", OK: APIDaemon(`pidMode: "shared"`, `linuxParameters: capabilities: add: ["NET_ADMIN"]`), Bad: APIDaemon(`»pidMode: "shared"`, `linuxParameters: capabilities: add: ["SYS_PTRACE"]`),
		Want: `pidMode: pidMode shares the host's namespace with a container that adds SYS_PTRACE (a): it can read the memory of every process on the instance; drop one of the two`},
	{Rule: "writable root", Warning: "writable-root", OK: APIDaemon("", "privileged: true\nreadonlyRootFilesystem: true"), Bad: APIDaemon("", "privileged: true\n»readonlyRootFilesystem: false"),
		Want: `containerDefinitions[a].readonlyRootFilesystem: a privileged container's root file system is writable: a compromise can change its binaries; set readonlyRootFilesystem: true, with a tmpfs or a volume for scratch`},
	{Rule: "task cpu range", Warning: "task-cpu-range", OK: APIDaemon(`cpu: "128"`, ""), Bad: APIDaemon(`»cpu: "64"`, ""),
		Want: `cpu: task cpu outside 128 to 196608 units is not documented for daemons`},
}

const awslogs = `logConfiguration: {logDriver: "awslogs", options: {"awslogs-group": "g", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "p"}}`

// execRole is a daemon with an executionRoleArn and container fields.
func execRole(container string) string {
	return APIDaemon(`executionRoleArn: "arn:aws:iam::123456789012:role/exec"`, container)
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
