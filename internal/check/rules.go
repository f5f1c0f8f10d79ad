package check

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/daemongen/daemongen/internal/node"
)

// Finding is one entry of #Rules' errors or warnings: the data path of the field at
// fault, the message, and for a warning its id.
type Finding struct {
	ID   string
	Path []any
	Msg  string
}

// CrossFieldRules is #Rules of cue/rules.cue written in Go: the same rules, in the same
// order, with the same fallbacks for values of the wrong type, giving the same findings.
// It is the fast path of [evaluator.check]; the schema stays the definition, and
// TestGoRulesMatchSchema and FuzzGoRulesMatchSchema compare the two on every rule case,
// every example, and mutations of them.
//
// sure is false where the schema's own evaluation fails (a comparison with a missing field,
// a null in a message), which happens only on data that #Fields rejects; the caller then
// evaluates #Rules with CUE, so that even those cases read exactly as the schema says.
func CrossFieldRules(in *node.Node) (errs, warns []Finding, sure bool) {
	r := &ruleReader{in: in, sure: true}
	r.read()
	errs, warns = r.errors(), r.warnings()
	return errs, warns, r.sure
}

// ruleReader holds the values #Rules derives from its input before its rules read them.
type ruleReader struct {
	in   *node.Node
	sure bool

	containers  []*node.Node // containerDefinitions when it is a list of structs
	volumes     []*node.Node
	tags        []*node.Node
	c           []containerFacts
	names       []string // the containers' names that are strings
	routers     []int    // the indexes of the containers with a firelensConfiguration
	volumeNames []string
	taskCPU     *string // cpu, when it is a string of 1 to 10 digits
	taskMemory  *string
	hasExecRole bool
}

// containerFacts is #Rules' c: what the rules read of one container.
type containerFacts struct {
	name       nullable // name when it is a string, else null
	essential  bool
	healthy    bool
	deps       []*node.Node
	memory     int64
	hasMemory  bool
	cpu        int64
	log        *node.Node // logConfiguration when it is a struct, else nil ({})
	logDriver  nullable
	router     bool
	env        []*node.Node
	secrets    []*node.Node
	ulimits    []*node.Node
	mounts     []*node.Node
	rawMemory  *node.Node
	rawReserve *node.Node
}

// nullable is a value the schema reads as `*(x & string) | null`: a string, or null.
type nullable struct {
	set bool
	s   string
}

// equals is CUE's == between a string-or-null and any value: values of different kinds
// are unequal, null equals null.
func (a nullable) equals(n *node.Node) bool {
	if n.Kind == node.Null {
		return !a.set
	}
	return a.set && n.Kind == node.String && n.Text == a.s
}

var (
	digits10      = regexp.MustCompile(`^[0-9]{1,10}$`)
	ecrImage      = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr\.`)
	ipcSysctl     = regexp.MustCompile(`^(kernel\.|fs\.mqueue\.)`)
	taskSizeUnits = regexp.MustCompile(`^[0-9]+(\.[0-9]+)? ?([vV][cC][pP][uU]|[gG][bB])$`)
)

// structList is `*(n & [...{...}]) | []`: the elements of a list of structs.
func structList(n *node.Node) []*node.Node {
	if n == nil || n.Kind != node.List {
		return nil
	}
	for _, e := range n.Elems {
		if e.Kind != node.Struct {
			return nil
		}
	}
	return n.Elems
}

// anyList is `*(n & [...]) | []`.
func anyList(n *node.Node) []*node.Node {
	if n == nil || n.Kind != node.List {
		return nil
	}
	return n.Elems
}

// asStruct is `*(n & {...}) | {}`; nil stands for {}.
func asStruct(n *node.Node) *node.Node {
	if n == nil || n.Kind != node.Struct {
		return nil
	}
	return n
}

// asString is `*(n & string) | null`.
func asString(n *node.Node) nullable {
	if n == nil || n.Kind != node.String {
		return nullable{}
	}
	return nullable{set: true, s: n.Text}
}

// asInt is `*(n & int) | fallback`.
func asInt(n *node.Node, fallback int64) (int64, bool) {
	if i, ok := n.Int(); ok {
		return i, true
	}
	return fallback, false
}

// matching is `*(n & =~re) | null`.
func matching(n *node.Node, re *regexp.Regexp) *string {
	if s := asString(n); s.set && re.MatchString(s.s) {
		return &s.s
	}
	return nil
}

func (r *ruleReader) read() {
	in := r.in
	r.containers = structList(in.Get("containerDefinitions"))
	r.volumes = structList(in.Get("volumes"))
	r.tags = structList(in.Get("tags"))
	r.taskCPU = matching(in.Get("cpu"), digits10)
	r.taskMemory = matching(in.Get("memory"), digits10)
	r.hasExecRole = asString(in.Get("executionRoleArn")).set
	for i, x := range r.containers {
		f := containerFacts{
			name:       asString(x.Get("name")),
			essential:  true,
			healthy:    asStruct(x.Get("healthCheck")) != nil,
			deps:       structList(x.Get("dependsOn")),
			hasMemory:  x.Get("memory") != nil || x.Get("memoryReservation") != nil,
			log:        asStruct(x.Get("logConfiguration")),
			router:     asStruct(x.Get("firelensConfiguration")) != nil,
			env:        structList(x.Get("environment")),
			secrets:    structList(x.Get("secrets")),
			ulimits:    structList(x.Get("ulimits")),
			mounts:     structList(x.Get("mountPoints")),
			rawMemory:  x.Get("memory"),
			rawReserve: x.Get("memoryReservation"),
		}
		if e := x.Get("essential"); e != nil && e.Kind == node.Bool {
			f.essential = e.Bool
		}
		hard, _ := asInt(f.rawMemory, 0)
		soft, _ := asInt(f.rawReserve, 0)
		f.memory = soft
		if hard > 0 {
			f.memory = hard
		}
		f.cpu, _ = asInt(x.Get("cpu"), 0)
		f.logDriver = asString(f.log.Get("logDriver"))
		if f.name.set {
			r.names = append(r.names, f.name.s)
		}
		if f.router {
			r.routers = append(r.routers, i)
		}
		r.c = append(r.c, f)
	}
	for _, v := range r.volumes {
		if n := asString(v.Get("name")); n.set {
			r.volumeNames = append(r.volumeNames, n.s)
		}
	}
}

// option is `*(log.options[k] & string) | null` for a logConfiguration or
// firelensConfiguration log (nil for {}).
func option(log *node.Node, k string) nullable {
	return asString(asStruct(log.Get("options")).Get(k))
}

// firstDuplicates returns the indexes of the values that equal an earlier value; nulls
// are never duplicates.
func firstDuplicates(values []nullable) []int {
	var dups []int
	for i, v := range values {
		if v.set && slices.ContainsFunc(values[:i], func(w nullable) bool { return w == v }) {
			dups = append(dups, i)
		}
	}
	return dups
}

func namesOf(list []*node.Node, field string) []nullable {
	out := make([]nullable, len(list))
	for i, e := range list {
		out[i] = asString(e.Get(field))
	}
	return out
}

func (r *ruleReader) errors() []Finding {
	var out []Finding
	add := func(msg string, path ...any) { out = append(out, Finding{Path: path, Msg: msg}) }
	// In the schema's order, group by group.
	r.errorsReferences(add)
	r.errorsDependencies(add)
	r.errorsResources(add)
	r.errorsLogging(add)
	r.errorsDuplicates(add)
	return out
}

// errorsReferences adds the rules' errors of the containers listed and essential, names
// unique, and the volumes mounts name, in the schema's order.
func (r *ruleReader) errorsReferences(add func(msg string, path ...any)) {
	const cd = "containerDefinitions"
	in, c := r.in, r.c
	if asString(in.Get("family")).set {
		if l := in.Get(cd); l != nil && l.Kind == node.List && len(r.containers) == 0 {
			add("must list at least one container", cd)
		}
	}
	if len(c) > 0 && !slices.ContainsFunc(c, func(x containerFacts) bool { return x.essential }) {
		add("at least one container must be essential (essential is true when omitted)", cd)
	}
	containerNames := make([]nullable, len(c))
	for i, x := range c {
		containerNames[i] = x.name
	}
	for _, i := range firstDuplicates(containerNames) {
		add(fmt.Sprintf("container name \"%s\" is used by more than one container; names must be unique", c[i].name.s), cd, i, "name")
	}
	vn := namesOf(r.volumes, "name")
	for _, i := range firstDuplicates(vn) {
		add(fmt.Sprintf("volume name \"%s\" is used by more than one volume; names must be unique", vn[i].s), "volumes", i, "name")
	}
	tk := namesOf(r.tags, "key")
	for _, i := range firstDuplicates(tk) {
		add(fmt.Sprintf("tag key \"%s\" appears more than once; keys must be unique", tk[i].s), "tags", i, "key")
	}
	for i, x := range c {
		for j, m := range x.mounts {
			if sv := asString(m.Get("sourceVolume")); sv.set && !slices.Contains(r.volumeNames, sv.s) {
				msg := "names no volume of this daemon task definition, which declares none"
				if len(r.volumeNames) > 0 {
					msg = "names no volume of this daemon task definition; volumes: " + strings.Join(r.volumeNames, ", ")
				}
				add(msg, cd, i, "mountPoints", j, "sourceVolume")
			}
		}
	}
}

// errorsDependencies adds the rules' errors of dependsOn: targets that exist, conditions
// their targets allow, no cycle, in the schema's order.
func (r *ruleReader) errorsDependencies(add func(msg string, path ...any)) {
	const cd = "containerDefinitions"
	c := r.c
	for i, x := range c {
		for j, d := range x.deps {
			t := asString(d.Get("containerName"))
			if !t.set {
				continue
			}
			switch {
			case x.name == t:
				add(fmt.Sprintf("container \"%s\" cannot depend on itself", t.s), cd, i, "dependsOn", j, "containerName")
			case !slices.Contains(r.names, t.s):
				add("names no container of this daemon task definition; containers: "+strings.Join(r.names, ", "), cd, i, "dependsOn", j, "containerName")
			}
		}
	}
	// The two condition rules read every container y named by the dependency, as the
	// schema's `for y in c if y.name == t` does: a duplicated name is one finding each.
	for _, wantHealthy := range []bool{false, true} {
		for i, x := range c {
			for j, d := range x.deps {
				t := asString(d.Get("containerName"))
				cond := asString(d.Get("condition"))
				for _, y := range c {
					if y.name != t || t == x.name {
						continue
					}
					var msg string
					switch {
					case !wantHealthy && cond.set && (cond.s == "COMPLETE" || cond.s == "SUCCESS") && y.essential:
						msg = "%[1]s needs a non-essential target, and container \"%[2]s\" is essential; set essential: false on it, or use START or HEALTHY"
					case wantHealthy && cond.set && cond.s == "HEALTHY" && !y.healthy:
						msg = "HEALTHY needs a healthCheck on container \"%[2]s\", which has none"
					default:
						continue
					}
					if !t.set {
						r.sure = false // the schema interpolates null, which fails
						continue
					}
					add(fmt.Sprintf(msg, cond.s, t.s), cd, i, "dependsOn", j, "condition")
				}
			}
		}
	}
	reach := dependencyReach(c)
	for i, x := range c {
		if !x.name.set || !reach[x.name.s][x.name.s] {
			continue
		}
		earlier := slices.ContainsFunc(c[:i], func(y containerFacts) bool {
			return y.name.set && reach[x.name.s][y.name.s] && reach[y.name.s][x.name.s]
		})
		if !earlier {
			add(fmt.Sprintf("dependsOn forms a cycle: container \"%s\" waits, directly or through other containers, for itself", x.name.s), cd, i, "dependsOn")
		}
	}
}

// errorsResources adds the rules' errors of memory and cpu against the task's, and what
// needs the execution role, in the schema's order.
func (r *ruleReader) errorsResources(add func(msg string, path ...any)) {
	const cd = "containerDefinitions"
	c := r.c
	if r.taskMemory == nil {
		for i, x := range c {
			if !x.hasMemory {
				add("needs memory or memoryReservation, because the task sets no memory", cd, i)
			}
		}
	}
	if r.taskCPU != nil {
		sum := sumOf(c, func(x containerFacts) int64 { return x.cpu })
		if task, _ := strconv.ParseInt(*r.taskCPU, 10, 64); sum.Cmp(big.NewInt(task)) > 0 {
			add(fmt.Sprintf("%s CPU units are fewer than the %s the containers reserve together", *r.taskCPU, sum), "cpu")
		}
	}
	if r.taskMemory != nil {
		sum := sumOf(c, func(x containerFacts) int64 { return x.memory })
		if task, _ := strconv.ParseInt(*r.taskMemory, 10, 64); sum.Cmp(big.NewInt(task)) > 0 {
			add(fmt.Sprintf("%s MiB is less than the %s MiB the containers reserve together", *r.taskMemory, sum), "memory")
		}
	}
	if !r.hasExecRole {
		for i, x := range r.containers {
			f := c[i]
			if f.logDriver.set && f.logDriver.s == "awslogs" {
				add("needs executionRoleArn: the container sends logs to CloudWatch with awslogs, which ECS does with the task execution role", cd, i, "logConfiguration")
			}
			if len(f.secrets) > 0 {
				add("needs executionRoleArn: the container reads secrets, which ECS does with the task execution role", cd, i, "secrets")
			}
			if len(anyList(f.log.Get("secretOptions"))) > 0 {
				add("needs executionRoleArn: the container reads log secretOptions, which ECS does with the task execution role", cd, i, "logConfiguration")
			}
			if asStruct(x.Get("repositoryCredentials")) != nil {
				add("needs executionRoleArn: the container pulls with repositoryCredentials, which ECS does with the task execution role", cd, i, "repositoryCredentials")
			}
			if len(anyList(x.Get("environmentFiles"))) > 0 {
				add("needs executionRoleArn: the container loads environmentFiles, which ECS does with the task execution role", cd, i, "environmentFiles")
			}
		}
	}
}

// errorsLogging adds the rules' errors of FireLens routers, log drivers' options, health
// check commands and volumes, in the schema's order.
func (r *ruleReader) errorsLogging(add func(msg string, path ...any)) {
	const cd = "containerDefinitions"
	c := r.c
	if len(r.routers) == 0 {
		for i, x := range c {
			if x.logDriver.set && x.logDriver.s == "awsfirelens" {
				add("awsfirelens needs a log router: a container with firelensConfiguration, and there is none", cd, i, "logConfiguration", "logDriver")
			}
		}
	}
	if len(r.routers) > 1 {
		for _, i := range r.routers[1:] {
			add("only one container may be the FireLens log router (have firelensConfiguration)", cd, i, "firelensConfiguration")
		}
	}
	// optionsOrDriver is where a missing option is reported: options when there are any.
	optionsOrDriver := func(x containerFacts) string {
		if asStruct(x.log.Get("options")) != nil {
			return "options"
		}
		return "logDriver"
	}
	for i, x := range c {
		if x.logDriver.set && x.logDriver.s == "awslogs" {
			for _, k := range []string{"awslogs-group", "awslogs-region"} {
				if !option(x.log, k).set {
					add("awslogs needs the option "+k, cd, i, "logConfiguration", optionsOrDriver(x))
				}
			}
		}
	}
	for i, x := range c {
		if x.logDriver.set && x.logDriver.s == "awslogs" && option(x.log, "awslogs-datetime-format").set && option(x.log, "awslogs-multiline-pattern").set {
			add("awslogs-datetime-format and awslogs-multiline-pattern cannot be used together", cd, i, "logConfiguration", "options")
		}
	}
	for i, x := range c {
		if x.logDriver.set && x.logDriver.s == "splunk" && !option(x.log, "splunk-url").set {
			add("splunk needs the option splunk-url", cd, i, "logConfiguration", optionsOrDriver(x))
		}
	}
	for i, x := range c {
		if !x.logDriver.set || x.logDriver.s != "splunk" || option(x.log, "splunk-token").set {
			continue
		}
		inSecrets := false
		for _, s := range structList(x.log.Get("secretOptions")) {
			name := s.Get("name")
			if name == nil {
				r.sure = false // the schema compares a missing field, which fails
				continue
			}
			inSecrets = inSecrets || (nullable{set: true, s: "splunk-token"}).equals(name)
		}
		if !inSecrets {
			add("splunk needs splunk-token, in options or in secretOptions", cd, i, "logConfiguration", "logDriver")
		}
	}
	for i, x := range r.containers {
		fl := asStruct(x.Get("firelensConfiguration"))
		if option(fl, "config-file-type").set && !option(fl, "config-file-value").set {
			add("config-file-type needs config-file-value", cd, i, "firelensConfiguration", "options", "config-file-type")
		}
	}
	for i, x := range r.containers {
		if cmd := asStruct(x.Get("healthCheck")).Get("command"); cmd != nil && cmd.Kind == node.List && len(cmd.Elems) > 0 {
			first := asString(cmd.Elems[0])
			if first.set && first.s != "CMD" && first.s != "CMD-SHELL" {
				add(`must be "CMD" or "CMD-SHELL"`, cd, i, "healthCheck", "command", 0)
			}
		}
	}
	for i, v := range r.volumes {
		if v.Get("host") != nil && v.Get("logDriverVolumeConfiguration") != nil {
			add("a volume sets either host or logDriverVolumeConfiguration, not both", "volumes", i, "logDriverVolumeConfiguration")
		}
	}
}

// errorsDuplicates adds the rules' errors of environment variables, secrets and ulimits
// set once each, in the schema's order.
func (r *ruleReader) errorsDuplicates(add func(msg string, path ...any)) {
	const cd = "containerDefinitions"
	c := r.c
	for i, x := range c {
		en := namesOf(x.env, "name")
		for _, j := range firstDuplicates(en) {
			add(fmt.Sprintf("environment variable \"%s\" is set more than once", en[j].s), cd, i, "environment", j, "name")
		}
	}
	for i, x := range c {
		sn := namesOf(x.secrets, "name")
		for _, j := range firstDuplicates(sn) {
			add(fmt.Sprintf("secret \"%s\" is set more than once", sn[j].s), cd, i, "secrets", j, "name")
		}
	}
	for i, x := range c {
		for j, n := range namesOf(x.secrets, "name") {
			if !n.set {
				continue
			}
			both := false
			for _, e := range x.env {
				name := e.Get("name")
				if name == nil {
					r.sure = false
					continue
				}
				both = both || n.equals(name)
			}
			if both {
				add(fmt.Sprintf("\"%s\" is both an environment variable and a secret", n.s), cd, i, "secrets", j, "name")
			}
		}
	}
	for i, x := range c {
		un := namesOf(x.ulimits, "name")
		for _, j := range firstDuplicates(un) {
			add(fmt.Sprintf("ulimit \"%s\" is set more than once", un[j].s), cd, i, "ulimits", j, "name")
		}
	}
}

// dependencyReach is the schema's reach5: for each named container, the containers it
// waits for through paths of up to 32 dependsOn edges (five squarings of the relation).
func dependencyReach(c []containerFacts) map[string]map[string]bool {
	reach := map[string]map[string]bool{}
	for _, x := range c {
		if !x.name.set {
			continue
		}
		ys := reach[x.name.s]
		if ys == nil {
			ys = map[string]bool{}
			reach[x.name.s] = ys
		}
		for _, d := range x.deps {
			if t := asString(d.Get("containerName")); t.set && t.s != x.name.s {
				ys[t.s] = true
			}
		}
	}
	for range 5 {
		next := make(map[string]map[string]bool, len(reach))
		for k, ys := range reach {
			zs := make(map[string]bool, len(ys))
			for y := range ys {
				zs[y] = true
				for z := range reach[y] {
					zs[z] = true
				}
			}
			next[k] = zs
		}
		reach = next
	}
	return reach
}

// sumOf is list.Sum over the containers, without overflow.
func sumOf(c []containerFacts, value func(containerFacts) int64) *big.Int {
	sum := new(big.Int)
	for _, x := range c {
		sum.Add(sum, big.NewInt(value(x)))
	}
	return sum
}

func (r *ruleReader) warnings() []Finding {
	var out []Finding
	add := func(id, msg string, path ...any) { out = append(out, Finding{ID: id, Path: path, Msg: msg}) }
	const cd = "containerDefinitions"
	in, c := r.in, r.c

	for i, x := range r.containers {
		caps := asStruct(asStruct(x.Get("linuxParameters")).Get("capabilities"))
		for _, op := range []string{"add", "drop"} {
			for j, cp := range anyList(caps.Get(op)) {
				if cp.Kind == node.String && (cp.Text == "PERFMON" || cp.Text == "CHECKPOINT_RESTORE") {
					add("undocumented-capability", cp.Text+" is accepted by Docker but not documented for ECS; registration may fail", cd, i, "linuxParameters", "capabilities", op, j)
				}
			}
		}
	}
	for i, x := range c {
		if x.logDriver.set && x.logDriver.s == "json-file" {
			add("json-file-log-driver", "json-file is documented for ECS Managed Instances but not for daemons, which document awslogs, splunk and awsfirelens", cd, i, "logConfiguration", "logDriver")
		}
	}
	for i, x := range c {
		if x.logDriver.set && x.logDriver.s == "awslogs" && !option(x.log, "awslogs-stream-prefix").set {
			add("awslogs-stream-prefix", "awslogs-stream-prefix is not set; set it so that log streams name their task and the console can show the logs", cd, i, "logConfiguration", "options")
		}
	}
	for i, x := range r.containers {
		for _, f := range []string{"startTimeout", "stopTimeout"} {
			if v, _ := asInt(x.Get(f), 0); v > 120 {
				add("timeout-above-120", f+" above 120 seconds is not documented; ECS may cap or reject it", cd, i, f)
			}
		}
	}
	for i, x := range r.containers {
		if m, _ := asInt(x.Get("memory"), 0); m >= 4 && m < 6 {
			add("memory-below-6", "Docker 20.10 and later need at least 6 MiB", cd, i, "memory")
		}
	}
	for i, x := range r.containers {
		h := asStruct(x.Get("healthCheck"))
		interval, _ := asInt(h.Get("interval"), 30)
		if t, _ := asInt(h.Get("timeout"), 0); t > 0 && t >= interval {
			add("health-timeout-interval", fmt.Sprintf("timeout should be shorter than interval (%d seconds)", interval), cd, i, "healthCheck", "timeout")
		}
	}
	for i, x := range r.containers {
		if _, ok := asInt(x.Get("startTimeout"), 0); !ok {
			continue
		}
		waited := false
		for _, y := range c {
			for _, d := range y.deps {
				target := d.Get("containerName")
				if target == nil {
					r.sure = false // the schema compares a missing field, which fails
					continue
				}
				cond := asString(d.Get("condition"))
				// A condition that is not a string reads as START.
				waited = waited || c[i].name.equals(target) && cond.set && cond.s != "START"
			}
		}
		if !waited {
			add("start-timeout-unused", "startTimeout has effect only on a container that another container depends on with COMPLETE, SUCCESS or HEALTHY", cd, i, "startTimeout")
		}
	}
	if !r.hasExecRole {
		for i, x := range r.containers {
			if matching(x.Get("image"), ecrImage) != nil {
				add("ecr-without-execution-role", "pulling from a private ECR repository needs executionRoleArn", cd, i, "image")
			}
		}
		for i, x := range r.containers {
			if t := option(asStruct(x.Get("firelensConfiguration")), "config-file-type"); t.set && t.s == "s3" {
				add("firelens-s3-without-execution-role", "a FireLens configuration file in S3 is read with executionRoleArn, which is not set", cd, i, "firelensConfiguration", "options", "config-file-type")
			}
		}
	}
	for i, x := range c {
		if x.router && !x.essential {
			add("router-not-essential", "the FireLens log router should be essential: without it the other containers' logs are lost", cd, i, "essential")
		}
	}
	for i, x := range r.containers {
		for j, t := range structList(asStruct(x.Get("linuxParameters")).Get("tmpfs")) {
			for k, o := range stringList(t.Get("mountOptions")) {
				if strings.Contains(o, "=") {
					add("tmpfs-option-value", "mount options with a value ("+o+") are not documented for ECS tmpfs; registration may fail", cd, i, "linuxParameters", "tmpfs", j, "mountOptions", k)
				}
			}
		}
	}
	if ipc := asString(in.Get("ipcMode")); ipc.set && ipc.s == "shared" {
		for i, x := range r.containers {
			for j, s := range structList(x.Get("systemControls")) {
				if matching(s.Get("namespace"), ipcSysctl) != nil {
					add("ipc-sysctl-shared", `IPC sysctls probably do not apply when ipcMode is "shared"`, cd, i, "systemControls", j, "namespace")
				}
			}
		}
	}
	for i, x := range r.containers {
		m, mok := asInt(x.Get("memory"), 0)
		res, rok := asInt(x.Get("memoryReservation"), 0)
		if mok && rok && m == res {
			add("memory-reservation-equal", fmt.Sprintf("memoryReservation equals memory (%d MiB); the documentation says memory must be greater, and equal values may be rejected", m), cd, i, "memoryReservation")
		}
	}
	for _, f := range []string{"cpu", "memory"} {
		if v := matching(in.Get(f), taskSizeUnits); v != nil {
			unit := "MiB"
			if f == "cpu" {
				unit = "CPU units"
			}
			add("task-size-units", fmt.Sprintf("%s with a unit (%s) is documented for ordinary task definitions; daemon task definitions document a plain number (%s)", f, *v, unit), f)
		}
	}
	if r.taskCPU != nil {
		if cpu, _ := strconv.ParseInt(*r.taskCPU, 10, 64); cpu < 128 || cpu > 196608 {
			add("task-cpu-range", "task cpu outside 128 to 196608 units is not documented for daemons", "cpu")
		}
	}
	return out
}

// stringList is `*(n & [...string]) | []`.
func stringList(n *node.Node) []string {
	if n == nil || n.Kind != node.List {
		return nil
	}
	out := make([]string, len(n.Elems))
	for i, e := range n.Elems {
		if e.Kind != node.String {
			return nil
		}
		out[i] = e.Text
	}
	return out
}
