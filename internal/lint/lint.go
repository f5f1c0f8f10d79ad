// Package lint holds daemongen's security lints: the legal mistakes that hurt most in a
// host agent, which runs on every instance, often privileged, often with host paths
// mounted. Each lint reads one daemon task definition in API form (after layering and
// lowering) and reports findings with a stable id, the field at fault, why it matters and
// the fix. The stages before it (the front ends, layering, the schema's checks) know
// nothing of it; gen reports its findings as warnings, which ignoreWarnings acknowledges
// and --strict makes errors.
package lint

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/daemongen/daemongen/internal/node"
)

// Finding is one lint's finding: the path of the offending value in the definition (field
// names and list indexes) and the message, which says what, why it matters, and the fix.
type Finding struct {
	ID      string
	Path    []any
	Message string
}

// Rule is one lint.
type Rule struct {
	// ID is the lint's stable id, by which a spec acknowledges it (ignoreWarnings).
	ID string
	// Summary says in one line what it finds, for help and SARIF.
	Summary string
	check   func(def *node.Node) []Finding
}

// Rules are the lints, in the order their findings are reported; all are on by default.
var Rules = []Rule{
	{"plaintext-secret", "a secret in plain text in a container's environment", plaintextSecrets},
	{"floating-image", "an image with no tag and no digest, or the tag latest", floatingImages},
	{"privileged", "a privileged container", privileged},
	{"dangerous-capability", "a capability that gives the host away (ALL, SYS_ADMIN, SYS_MODULE, SYS_RAWIO, SYS_BOOT)", dangerousCapabilities},
	{"runtime-socket", "a container runtime's socket mounted writable", runtimeSockets},
	{"sensitive-host-path", "a sensitive host path (/, /etc, /boot, /dev, /lib, /proc, /sys, /usr, /root) mounted writable", sensitiveHostPaths},
	{"host-namespaces", "the host's PID or IPC namespace shared with a daemon that can read every process's memory", hostNamespaces},
	{"writable-root", "a privileged container whose root file system is writable", writableRoot},
}

// IDs returns the lints' ids, in order.
func IDs() []string {
	ids := make([]string, len(Rules))
	for i, r := range Rules {
		ids[i] = r.ID
	}
	return ids
}

// Check runs every lint on the daemon task definition def, in API form.
func Check(def *node.Node) []Finding {
	var out []Finding
	for _, r := range Rules {
		for _, f := range r.check(def) {
			f.ID = r.ID
			out = append(out, f)
		}
	}
	return out
}

// containers yields each container definition with its index.
func containers(def *node.Node) []*node.Node {
	return def.Get("containerDefinitions").ListElems()
}

func path(elems ...any) []any { return elems }

// The shapes of secrets, as the secret scanners (gitleaks, detect-secrets, Kubescape) write
// them: AWS access key ids, private key headers, JSON web tokens.
var (
	awsKeyID      = regexp.MustCompile(`\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b`)
	privateKey    = regexp.MustCompile(`-----BEGIN[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----`)
	jwt           = regexp.MustCompile(`\bey[A-Za-z0-9_-]{8,}\.ey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
	secretName    = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY)`)
	notSecretName = regexp.MustCompile(`(?i)(_FILE|_PATH|_DIR|_ARN|_NAME|_ID|_URL|_URI|_ENABLED|_HEADER|_TTL|_TIMEOUT|_LENGTH)$`)
)

// looksLikeReference reports whether an environment value under a secret-like name is a
// reference to the secret, or a setting about it, rather than the secret itself: empty,
// a boolean or a number, an ARN, a path, a URL, or a placeholder.
func looksLikeReference(v string) bool {
	lower := strings.ToLower(v)
	switch {
	case v == "", lower == "true", lower == "false", lower == "yes", lower == "no":
		return true
	case strings.Trim(v, "0123456789") == "":
		return true
	case strings.HasPrefix(v, "arn:"), strings.HasPrefix(v, "/"), strings.Contains(v, "://"):
		return true
	case strings.HasPrefix(v, "${"), strings.HasPrefix(v, "{{"), strings.HasPrefix(v, "%"):
		return true
	}
	return false
}

func plaintextSecrets(def *node.Node) (out []Finding) {
	for i, c := range containers(def) {
		for j, e := range c.Get("environment").ListElems() {
			name, _ := e.Get("name").Str()
			value, ok := e.Get("value").Str()
			if !ok {
				continue
			}
			var what string
			switch {
			case awsKeyID.MatchString(value):
				what = "an AWS access key id"
			case privateKey.MatchString(value):
				what = "a private key"
			case jwt.MatchString(value):
				what = "a JSON web token"
			case secretName.MatchString(name) && !notSecretName.MatchString(name) && !looksLikeReference(value):
				what = fmt.Sprintf("a literal value under the name %s", name)
			default:
				continue
			}
			out = append(out, Finding{Path: path("containerDefinitions", i, "environment", j, "value"), Message: fmt.Sprintf(
				"%s in plain text: environment values are stored in the task definition, which anyone who can describe it reads, and shown in the console; move it to secrets with a Secrets Manager or SSM Parameter Store valueFrom", what)})
		}
	}
	return out
}

// imageTag returns the tag and the digest of an image reference ("" when it has none).
func imageTag(image string) (tag, digest string) {
	image, digest, _ = strings.Cut(image, "@")
	last := image[strings.LastIndex(image, "/")+1:]
	if _, t, ok := strings.Cut(last, ":"); ok {
		tag = t
	}
	return tag, digest
}

func floatingImages(def *node.Node) (out []Finding) {
	for i, c := range containers(def) {
		image, ok := c.Get("image").Str()
		if !ok || image == "" {
			continue
		}
		tag, digest := imageTag(image)
		var what string
		switch {
		case digest != "":
			continue
		case tag == "":
			what = "has no tag, so it is :latest"
		case tag == "latest":
			what = "is tagged latest"
		default:
			continue
		}
		out = append(out, Finding{Path: path("containerDefinitions", i, "image"), Message: fmt.Sprintf(
			"the image %s %s: every instance that starts the daemon may pull another build, and a rollback cannot go back; pin a tag or a digest (@sha256:...)", image, what)})
	}
	return out
}

// isPrivileged reports whether container c is privileged.
func isPrivileged(c *node.Node) bool {
	p := c.Get("privileged")
	return p != nil && p.Kind == node.Bool && p.Bool
}

func privileged(def *node.Node) (out []Finding) {
	for i, c := range containers(def) {
		if isPrivileged(c) {
			out = append(out, Finding{Path: path("containerDefinitions", i, "privileged"), Message: "the container is privileged: it has every capability and every device of the host, on every instance; add only the capabilities the agent needs (linuxParameters.capabilities.add)"})
		}
	}
	return out
}

// dangerous are the capabilities that give the host away.
var dangerous = []string{"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "SYS_BOOT"}

// addedCapabilities returns the capabilities container c adds, with their indexes.
func addedCapabilities(c *node.Node) []*node.Node {
	return c.Get("linuxParameters").Get("capabilities").Get("add").ListElems()
}

func dangerousCapabilities(def *node.Node) (out []Finding) {
	for i, c := range containers(def) {
		for j, cp := range addedCapabilities(c) {
			name, _ := cp.Str()
			if !slices.Contains(dangerous, name) {
				continue
			}
			out = append(out, Finding{Path: path("containerDefinitions", i, "linuxParameters", "capabilities", "add", j), Message: fmt.Sprintf(
				"%s lets the container take over the host (load kernel modules, mount file systems, reach raw devices); add narrower capabilities where the agent allows (for example PERFMON and BPF for eBPF, SYS_PTRACE to read processes)", name)})
		}
	}
	return out
}

// volumeHostPaths maps each volume of def with a host path to that path.
func volumeHostPaths(def *node.Node) map[string]string {
	paths := map[string]string{}
	for _, v := range def.Get("volumes").ListElems() {
		name, _ := v.Get("name").Str()
		if p, ok := v.Get("host").Get("sourcePath").Str(); ok && name != "" {
			paths[name] = p
		}
	}
	return paths
}

// hostMount is a container's mount of a host path.
type hostMount struct {
	container, index int
	hostPath         string
	writable         bool
}

// hostMounts returns every mount of a host path in def.
func hostMounts(def *node.Node) (out []hostMount) {
	paths := volumeHostPaths(def)
	for i, c := range containers(def) {
		for j, m := range c.Get("mountPoints").ListElems() {
			src, _ := m.Get("sourceVolume").Str()
			p, ok := paths[src]
			if !ok {
				continue
			}
			ro := m.Get("readOnly")
			out = append(out, hostMount{i, j, cleanPath(p), ro == nil || ro.Kind != node.Bool || !ro.Bool})
		}
	}
	return out
}

// cleanPath removes a trailing slash, so that /etc/ is /etc.
func cleanPath(p string) string {
	if len(p) > 1 {
		return strings.TrimRight(p, "/")
	}
	return p
}

// runtimeSocketPaths are the sockets of the container runtimes; a mount of one of them,
// or of a folder that holds one, reaches the runtime.
var runtimeSocketPaths = []string{
	"/var/run/docker.sock", "/run/docker.sock",
	"/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock",
	"/run/crio/crio.sock", "/var/run/crio/crio.sock",
	"/run/podman/podman.sock", "/var/run/podman/podman.sock",
	"/var/run/ecs/ecs.sock",
}

// holds reports whether the host path dir is p or a folder above it.
func holds(dir, p string) bool {
	return dir == p || dir == "/" || strings.HasPrefix(p, dir+"/")
}

func runtimeSockets(def *node.Node) (out []Finding) {
	for _, m := range hostMounts(def) {
		if !m.writable || m.hostPath == "/" {
			continue // / is the sensitive-host-path lint's
		}
		for _, sock := range runtimeSocketPaths {
			if holds(m.hostPath, sock) {
				out = append(out, Finding{Path: path("containerDefinitions", m.container, "mountPoints", m.index, "readOnly"), Message: fmt.Sprintf(
					"%s is mounted writable and reaches the container runtime's socket %s: whoever controls the container can start a privileged container on the host; mount it with readOnly: true, or not at all", m.hostPath, sock)})
				break
			}
		}
	}
	return out
}

// sensitivePaths are the host paths whose writable mount gives the host away.
var sensitivePaths = []string{"/", "/etc", "/boot", "/dev", "/lib", "/proc", "/sys", "/usr", "/root"}

func sensitiveHostPaths(def *node.Node) (out []Finding) {
	for _, m := range hostMounts(def) {
		if !m.writable {
			continue
		}
		for _, s := range sensitivePaths {
			if m.hostPath == s || s != "/" && strings.HasPrefix(m.hostPath, s+"/") {
				out = append(out, Finding{Path: path("containerDefinitions", m.container, "mountPoints", m.index, "readOnly"), Message: fmt.Sprintf(
					"the host path %s is mounted writable: the container can change what every process on the instance reads; mount it with readOnly: true", m.hostPath)})
				break
			}
		}
	}
	return out
}

func hostNamespaces(def *node.Node) (out []Finding) {
	var shared []string
	for _, mode := range []string{"pidMode", "ipcMode"} {
		if v, _ := def.Get(mode).Str(); v == "shared" {
			shared = append(shared, mode)
		}
	}
	if len(shared) == 0 {
		return nil
	}
	for _, c := range containers(def) {
		var why string
		if isPrivileged(c) {
			why = "a privileged container"
		}
		for _, cp := range addedCapabilities(c) {
			if name, _ := cp.Str(); name == "SYS_PTRACE" && why == "" {
				why = "a container that adds SYS_PTRACE"
			}
		}
		if why == "" {
			continue
		}
		name, _ := c.Get("name").Str()
		return []Finding{{Path: path(shared[0]), Message: fmt.Sprintf(
			"%s shares the host's namespace with %s (%s): it can read the memory of every process on the instance; drop one of the two", strings.Join(shared, " and "), why, name)}}
	}
	return nil
}

func writableRoot(def *node.Node) (out []Finding) {
	for i, c := range containers(def) {
		if !isPrivileged(c) {
			continue
		}
		if ro := c.Get("readonlyRootFilesystem"); ro != nil && ro.Kind == node.Bool && ro.Bool {
			continue
		}
		out = append(out, Finding{Path: path("containerDefinitions", i, "readonlyRootFilesystem"), Message: "a privileged container's root file system is writable: a compromise can change its binaries; set readonlyRootFilesystem: true, with a tmpfs or a volume for scratch"})
	}
	return out
}
