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
	errs, warns = r.run(errorRules), r.run(warningRules)
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

// adder reports one finding of the rule being run, at path.
type adder func(msg string, path ...any)

// rule is one entry of #Rules in Go: its id and what it finds.
type rule struct {
	id   string
	find func(r *ruleReader, add adder)
}

// errorRules are #Rules.errors, in the schema's order (a test holds the ids to the
// schema's syntax): one function per entry.
var errorRules = []rule{
	{"containers-listed", (*ruleReader).containersListed},
	{"essential-container", (*ruleReader).essentialContainer},
	{"container-name-unique", (*ruleReader).containerNameUnique},
	{"volume-name-unique", (*ruleReader).volumeNameUnique},
	{"tag-key-unique", (*ruleReader).tagKeyUnique},
	{"mount-volume-declared", (*ruleReader).mountVolumeDeclared},
	{"depends-on-container", (*ruleReader).dependsOnContainer},
	{"depends-on-complete-essential", func(r *ruleReader, add adder) { r.dependsOnCondition(add, false) }},
	{"depends-on-healthy-health-check", func(r *ruleReader, add adder) { r.dependsOnCondition(add, true) }},
	{"depends-on-cycle", (*ruleReader).dependsOnCycle},
	{"container-memory", (*ruleReader).containerMemory},
	{"task-cpu-fits", (*ruleReader).taskCPUFits},
	{"task-memory-fits", (*ruleReader).taskMemoryFits},
	{"execution-role-needed", (*ruleReader).executionRoleNeeded},
	{"firelens-router-needed", (*ruleReader).firelensRouterNeeded},
	{"firelens-one-router", (*ruleReader).firelensOneRouter},
	{"awslogs-options", (*ruleReader).awslogsOptions},
	{"awslogs-datetime-multiline", (*ruleReader).awslogsDatetimeMultiline},
	{"splunk-url", (*ruleReader).splunkURL},
	{"splunk-token", (*ruleReader).splunkToken},
	{"firelens-config-file-value", (*ruleReader).firelensConfigFileValue},
	{"health-check-command", (*ruleReader).healthCheckCommand},
	{"volume-host-or-log-driver", (*ruleReader).volumeHostOrLogDriver},
	{"environment-unique", (*ruleReader).environmentUnique},
	{"secret-unique", (*ruleReader).secretUnique},
	{"secret-not-environment", (*ruleReader).secretNotEnvironment},
	{"ulimit-unique", (*ruleReader).ulimitUnique},
}

// run runs the rules in order and returns their findings, each with its rule's id.
func (r *ruleReader) run(rules []rule) []Finding {
	var out []Finding
	var id string // the rule being run: one adder serves them all
	add := func(msg string, path ...any) { out = append(out, Finding{ID: id, Path: path, Msg: msg}) }
	for _, rl := range rules {
		id = rl.id
		rl.find(r, add)
	}
	return out
}

const cd = "containerDefinitions"

func (r *ruleReader) containersListed(add adder) {
	if asString(r.in.Get("family")).set {
		if l := r.in.Get(cd); l != nil && l.Kind == node.List && len(r.containers) == 0 {
			add("must list at least one container", cd)
		}
	}
}

func (r *ruleReader) essentialContainer(add adder) {
	if len(r.c) > 0 && !slices.ContainsFunc(r.c, func(x containerFacts) bool { return x.essential }) {
		add("at least one container must be essential (essential is true when omitted)", cd)
	}
}

func (r *ruleReader) containerNameUnique(add adder) {
	containerNames := make([]nullable, len(r.c))
	for i, x := range r.c {
		containerNames[i] = x.name
	}
	for _, i := range firstDuplicates(containerNames) {
		add(fmt.Sprintf("container name \"%s\" is used by more than one container; names must be unique", r.c[i].name.s), cd, i, "name")
	}
}

func (r *ruleReader) volumeNameUnique(add adder) {
	duplicateNames(add, r.volumes, "name", "volume name \"%s\" is used by more than one volume; names must be unique", "volumes")
}

func (r *ruleReader) tagKeyUnique(add adder) {
	duplicateNames(add, r.tags, "key", "tag key \"%s\" appears more than once; keys must be unique", "tags")
}

func (r *ruleReader) mountVolumeDeclared(add adder) {
	for i, x := range r.c {
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

func (r *ruleReader) dependsOnContainer(add adder) {
	for i, x := range r.c {
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
}

// dependsOnCondition is the rule of COMPLETE and SUCCESS (a non-essential target) or, with
// healthy, of HEALTHY (a target with a healthCheck). It reads every container y named by
// the dependency, as the schema's `for y in c if y.name == t` does: a duplicated name is one
// finding each.
func (r *ruleReader) dependsOnCondition(add adder, healthy bool) {
	for i, x := range r.c {
		for j, d := range x.deps {
			t := asString(d.Get("containerName"))
			cond := asString(d.Get("condition"))
			for _, y := range r.c {
				if y.name != t || t == x.name {
					continue
				}
				var msg string
				switch {
				case !healthy && cond.set && (cond.s == "COMPLETE" || cond.s == "SUCCESS") && y.essential:
					msg = "%[1]s needs a non-essential target, and container \"%[2]s\" is essential; set essential: false on it, or use START or HEALTHY"
				case healthy && cond.set && cond.s == "HEALTHY" && !y.healthy:
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

func (r *ruleReader) dependsOnCycle(add adder) {
	reach := dependencyReach(r.c)
	for i, x := range r.c {
		if !x.name.set || !reach[x.name.s][x.name.s] {
			continue
		}
		earlier := slices.ContainsFunc(r.c[:i], func(y containerFacts) bool {
			return y.name.set && reach[x.name.s][y.name.s] && reach[y.name.s][x.name.s]
		})
		if !earlier {
			add(fmt.Sprintf("dependsOn forms a cycle: container \"%s\" waits, directly or through other containers, for itself", x.name.s), cd, i, "dependsOn")
		}
	}
}

func (r *ruleReader) containerMemory(add adder) {
	if r.taskMemory == nil {
		for i, x := range r.c {
			if !x.hasMemory {
				add("needs memory or memoryReservation, because the task sets no memory", cd, i)
			}
		}
	}
}

func (r *ruleReader) taskCPUFits(add adder) {
	if r.taskCPU != nil {
		sum := sumOf(r.c, func(x containerFacts) int64 { return x.cpu })
		if task, _ := strconv.ParseInt(*r.taskCPU, 10, 64); sum.Cmp(big.NewInt(task)) > 0 {
			add(fmt.Sprintf("%s CPU units are fewer than the %s the containers reserve together", *r.taskCPU, sum), "cpu")
		}
	}
}

func (r *ruleReader) taskMemoryFits(add adder) {
	if r.taskMemory != nil {
		sum := sumOf(r.c, func(x containerFacts) int64 { return x.memory })
		if task, _ := strconv.ParseInt(*r.taskMemory, 10, 64); sum.Cmp(big.NewInt(task)) > 0 {
			add(fmt.Sprintf("%s MiB is less than the %s MiB the containers reserve together", *r.taskMemory, sum), "memory")
		}
	}
}

func (r *ruleReader) executionRoleNeeded(add adder) {
	if r.hasExecRole {
		return
	}
	for i, x := range r.containers {
		f := r.c[i]
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

func (r *ruleReader) firelensRouterNeeded(add adder) {
	if len(r.routers) == 0 {
		for i, x := range r.c {
			if x.logDriver.set && x.logDriver.s == "awsfirelens" {
				add("awsfirelens needs a log router: a container with firelensConfiguration, and there is none", cd, i, "logConfiguration", "logDriver")
			}
		}
	}
}

func (r *ruleReader) firelensOneRouter(add adder) {
	if len(r.routers) > 1 {
		for _, i := range r.routers[1:] {
			add("only one container may be the FireLens log router (have firelensConfiguration)", cd, i, "firelensConfiguration")
		}
	}
}

// optionsOrDriver is where a missing log option is reported: options when there are any.
func optionsOrDriver(x containerFacts) string {
	if asStruct(x.log.Get("options")) != nil {
		return "options"
	}
	return "logDriver"
}

func (r *ruleReader) awslogsOptions(add adder) {
	for i, x := range r.c {
		if x.logDriver.set && x.logDriver.s == "awslogs" {
			for _, k := range []string{"awslogs-group", "awslogs-region"} {
				if !option(x.log, k).set {
					add("awslogs needs the option "+k, cd, i, "logConfiguration", optionsOrDriver(x))
				}
			}
		}
	}
}

func (r *ruleReader) awslogsDatetimeMultiline(add adder) {
	for i, x := range r.c {
		if x.logDriver.set && x.logDriver.s == "awslogs" && option(x.log, "awslogs-datetime-format").set && option(x.log, "awslogs-multiline-pattern").set {
			add("awslogs-datetime-format and awslogs-multiline-pattern cannot be used together", cd, i, "logConfiguration", "options")
		}
	}
}

func (r *ruleReader) splunkURL(add adder) {
	for i, x := range r.c {
		if x.logDriver.set && x.logDriver.s == "splunk" && !option(x.log, "splunk-url").set {
			add("splunk needs the option splunk-url", cd, i, "logConfiguration", optionsOrDriver(x))
		}
	}
}

func (r *ruleReader) splunkToken(add adder) {
	for i, x := range r.c {
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
}

func (r *ruleReader) firelensConfigFileValue(add adder) {
	for i, x := range r.containers {
		fl := asStruct(x.Get("firelensConfiguration"))
		if option(fl, "config-file-type").set && !option(fl, "config-file-value").set {
			add("config-file-type needs config-file-value", cd, i, "firelensConfiguration", "options", "config-file-type")
		}
	}
}

func (r *ruleReader) healthCheckCommand(add adder) {
	for i, x := range r.containers {
		if cmd := asStruct(x.Get("healthCheck")).Get("command"); cmd != nil && cmd.Kind == node.List && len(cmd.Elems) > 0 {
			first := asString(cmd.Elems[0])
			if first.set && first.s != "CMD" && first.s != "CMD-SHELL" {
				add(`must be "CMD" or "CMD-SHELL"`, cd, i, "healthCheck", "command", 0)
			}
		}
	}
}

func (r *ruleReader) volumeHostOrLogDriver(add adder) {
	for i, v := range r.volumes {
		if v.Get("host") != nil && v.Get("logDriverVolumeConfiguration") != nil {
			add("a volume sets either host or logDriverVolumeConfiguration, not both", "volumes", i, "logDriverVolumeConfiguration")
		}
	}
}

func (r *ruleReader) environmentUnique(add adder) {
	for i, x := range r.c {
		duplicateNames(add, x.env, "name", "environment variable \"%s\" is set more than once", cd, i, "environment")
	}
}

func (r *ruleReader) secretUnique(add adder) {
	for i, x := range r.c {
		duplicateNames(add, x.secrets, "name", "secret \"%s\" is set more than once", cd, i, "secrets")
	}
}

func (r *ruleReader) secretNotEnvironment(add adder) {
	for i, x := range r.c {
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
}

func (r *ruleReader) ulimitUnique(add adder) {
	for i, x := range r.c {
		duplicateNames(add, x.ulimits, "name", "ulimit \"%s\" is set more than once", cd, i, "ulimits")
	}
}

// duplicateNames adds format (with the name) at every element of list whose field repeats
// a name an earlier element has; path is the list's own.
func duplicateNames(add adder, list []*node.Node, field, format string, path ...any) {
	names := namesOf(list, field)
	for _, i := range firstDuplicates(names) {
		add(fmt.Sprintf(format, names[i].s), append(slices.Clip(path), i, field)...)
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

// warningRules are #Rules.warnings, in the schema's order (a test holds the ids to the
// schema's syntax and to #WarningIDs): one function per entry.
var warningRules = []rule{
	{"undocumented-capability", (*ruleReader).undocumentedCapability},
	{"json-file-log-driver", (*ruleReader).jsonFileLogDriver},
	{"awslogs-stream-prefix", (*ruleReader).awslogsStreamPrefix},
	{"timeout-above-120", (*ruleReader).timeoutAbove120},
	{"memory-below-6", (*ruleReader).memoryBelow6},
	{"health-timeout-interval", (*ruleReader).healthTimeoutInterval},
	{"start-timeout-unused", (*ruleReader).startTimeoutUnused},
	{"ecr-without-execution-role", (*ruleReader).ecrWithoutExecutionRole},
	{"firelens-s3-without-execution-role", (*ruleReader).firelensS3WithoutExecutionRole},
	{"router-not-essential", (*ruleReader).routerNotEssential},
	{"tmpfs-option-value", (*ruleReader).tmpfsOptionValue},
	{"ipc-sysctl-shared", (*ruleReader).ipcSysctlShared},
	{"memory-reservation-equal", (*ruleReader).memoryReservationEqual},
	{"task-size-units", (*ruleReader).taskSizeUnits},
	{"task-cpu-range", (*ruleReader).taskCPURange},
}

func (r *ruleReader) undocumentedCapability(add adder) {
	for i, x := range r.containers {
		caps := asStruct(asStruct(x.Get("linuxParameters")).Get("capabilities"))
		for _, op := range []string{"add", "drop"} {
			for j, cp := range anyList(caps.Get(op)) {
				if cp.Kind == node.String && (cp.Text == "PERFMON" || cp.Text == "CHECKPOINT_RESTORE") {
					add(cp.Text+" is accepted by Docker but not documented for ECS; registration may fail", cd, i, "linuxParameters", "capabilities", op, j)
				}
			}
		}
	}
}

func (r *ruleReader) jsonFileLogDriver(add adder) {
	for i, x := range r.c {
		if x.logDriver.set && x.logDriver.s == "json-file" {
			add("json-file is documented for ECS Managed Instances but not for daemons, which document awslogs, splunk and awsfirelens", cd, i, "logConfiguration", "logDriver")
		}
	}
}

func (r *ruleReader) awslogsStreamPrefix(add adder) {
	for i, x := range r.c {
		if x.logDriver.set && x.logDriver.s == "awslogs" && !option(x.log, "awslogs-stream-prefix").set {
			add("awslogs-stream-prefix is not set; set it so that log streams name their task and the console can show the logs", cd, i, "logConfiguration", "options")
		}
	}
}

func (r *ruleReader) timeoutAbove120(add adder) {
	for i, x := range r.containers {
		for _, f := range []string{"startTimeout", "stopTimeout"} {
			if v, _ := asInt(x.Get(f), 0); v > 120 {
				add(f+" above 120 seconds is not documented; ECS may cap or reject it", cd, i, f)
			}
		}
	}
}

func (r *ruleReader) memoryBelow6(add adder) {
	for i, x := range r.containers {
		if m, _ := asInt(x.Get("memory"), 0); m >= 4 && m < 6 {
			add("Docker 20.10 and later need at least 6 MiB", cd, i, "memory")
		}
	}
}

func (r *ruleReader) healthTimeoutInterval(add adder) {
	for i, x := range r.containers {
		h := asStruct(x.Get("healthCheck"))
		interval, _ := asInt(h.Get("interval"), 30)
		if t, _ := asInt(h.Get("timeout"), 0); t > 0 && t >= interval {
			add(fmt.Sprintf("timeout should be shorter than interval (%d seconds)", interval), cd, i, "healthCheck", "timeout")
		}
	}
}

func (r *ruleReader) startTimeoutUnused(add adder) {
	for i, x := range r.containers {
		if _, ok := asInt(x.Get("startTimeout"), 0); !ok {
			continue
		}
		waited := false
		for _, y := range r.c {
			for _, d := range y.deps {
				target := d.Get("containerName")
				if target == nil {
					r.sure = false // the schema compares a missing field, which fails
					continue
				}
				cond := asString(d.Get("condition"))
				// A condition that is not a string reads as START.
				waited = waited || r.c[i].name.equals(target) && cond.set && cond.s != "START"
			}
		}
		if !waited {
			add("startTimeout has effect only on a container that another container depends on with COMPLETE, SUCCESS or HEALTHY", cd, i, "startTimeout")
		}
	}
}

func (r *ruleReader) ecrWithoutExecutionRole(add adder) {
	if r.hasExecRole {
		return
	}
	for i, x := range r.containers {
		if matching(x.Get("image"), ecrImage) != nil {
			add("pulling from a private ECR repository needs executionRoleArn", cd, i, "image")
		}
	}
}

func (r *ruleReader) firelensS3WithoutExecutionRole(add adder) {
	if r.hasExecRole {
		return
	}
	for i, x := range r.containers {
		if t := option(asStruct(x.Get("firelensConfiguration")), "config-file-type"); t.set && t.s == "s3" {
			add("a FireLens configuration file in S3 is read with executionRoleArn, which is not set", cd, i, "firelensConfiguration", "options", "config-file-type")
		}
	}
}

func (r *ruleReader) routerNotEssential(add adder) {
	for i, x := range r.c {
		if x.router && !x.essential {
			add("the FireLens log router should be essential: without it the other containers' logs are lost", cd, i, "essential")
		}
	}
}

func (r *ruleReader) tmpfsOptionValue(add adder) {
	for i, x := range r.containers {
		for j, t := range structList(asStruct(x.Get("linuxParameters")).Get("tmpfs")) {
			for k, o := range stringList(t.Get("mountOptions")) {
				if strings.Contains(o, "=") {
					add("mount options with a value ("+o+") are not documented for ECS tmpfs; registration may fail", cd, i, "linuxParameters", "tmpfs", j, "mountOptions", k)
				}
			}
		}
	}
}

func (r *ruleReader) ipcSysctlShared(add adder) {
	if ipc := asString(r.in.Get("ipcMode")); !ipc.set || ipc.s != "shared" {
		return
	}
	for i, x := range r.containers {
		for j, s := range structList(x.Get("systemControls")) {
			if matching(s.Get("namespace"), ipcSysctl) != nil {
				add(`IPC sysctls probably do not apply when ipcMode is "shared"`, cd, i, "systemControls", j, "namespace")
			}
		}
	}
}

func (r *ruleReader) memoryReservationEqual(add adder) {
	for i, x := range r.containers {
		m, mok := asInt(x.Get("memory"), 0)
		res, rok := asInt(x.Get("memoryReservation"), 0)
		if mok && rok && m == res {
			add(fmt.Sprintf("memoryReservation equals memory (%d MiB); the documentation says memory must be greater, and equal values may be rejected", m), cd, i, "memoryReservation")
		}
	}
}

func (r *ruleReader) taskSizeUnits(add adder) {
	for _, f := range []string{"cpu", "memory"} {
		if v := matching(r.in.Get(f), taskSizeUnits); v != nil {
			unit := "MiB"
			if f == "cpu" {
				unit = "CPU units"
			}
			add(fmt.Sprintf("%s with a unit (%s) is documented for ordinary task definitions; daemon task definitions document a plain number (%s)", f, *v, unit), f)
		}
	}
}

func (r *ruleReader) taskCPURange(add adder) {
	if r.taskCPU != nil {
		if cpu, _ := strconv.ParseInt(*r.taskCPU, 10, 64); cpu < 128 || cpu > 196608 {
			add("task cpu outside 128 to 196608 units is not documented for daemons", "cpu")
		}
	}
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
