package spec

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
)

// CheckLayerNames reports the names in a daemon's own layers (the daemon itself, and
// an environment's overlay of it) that name nothing below them and look like a misspelling
// of a name that is there. Layering would take either silently:
//
//   - a null that removes nothing (containers: sidecr: null, for sidecar): the sidecar
//     stays;
//   - a container that an environment's overlay adds under a misspelt name (containers:
//     agnet: {...}, for agent): a second container beside the untouched one (see
//     [layerNameCheck.addedContainer]).
//
// Only names that are keys (containers, volumes, tags, environment variables, secrets,
// mount points, log options, ...) are checked: a field name that is not in the schema is
// reported by the spec's own check. A null whose name is close to no name below is left
// alone, since it may guard against a default that a lower layer does not set yet; so is
// an added container with an image and a name of its own, which is how an environment adds
// a sidecar. layers are [Layers] of daemon key in environment env.
func CheckLayerNames(layers []NamedLayer, key, env string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, l := range layers {
		higher := l.Node
		own := l.Kind == LayerDaemon || l.Kind == LayerEnvironmentDaemon // the daemon's own layers
		if !own || higher == nil || higher.Kind != node.Struct || (l.Kind == LayerDaemon && !hasNull(higher)) {
			continue
		}
		c := layerNameCheck{key: key, everyContainer: ContainerDefaults(layers[:i])}
		path := "daemons." + key
		if l.Kind == LayerEnvironmentDaemon {
			path = "environments." + env + ".daemons." + key
			c.merged = Layer(layers)
		}
		c.daemon(higher, Layer(layers[:i]), path)
		diags = append(diags, c.diags...)
	}
	return diags
}

// layerNameCheck walks one layer of a daemon beside the merge of the layers below it.
type layerNameCheck struct {
	key string
	// everyContainer is what the layers below give every container; merged is every layer
	// merged, set when the layer is an environment's, whose added containers are checked.
	everyContainer, merged *node.Node
	diags                  hcl.Diagnostics
}

func (c *layerNameCheck) daemon(higher, below *node.Node, path string) {
	for _, f := range higher.Fields {
		p := path + "." + f.Name
		switch _, keyed := lang.DaemonKeyed[f.Name]; {
		case f.Name == lang.FieldContainers:
			c.keys(f.Value, below.Get(f.Name), p, true)
		case keyed:
			c.keys(f.Value, below.Get(f.Name), p, false)
		}
	}
}

func (c *layerNameCheck) container(higher, below *node.Node, path string) {
	for _, f := range higher.Fields {
		p := path + "." + f.Name
		if _, keyed := lang.ContainerKeyed[f.Name]; keyed {
			c.keys(f.Value, below.Get(f.Name), p, false)
			continue
		}
		if f.Name != "logConfiguration" && f.Name != "firelensConfiguration" {
			continue
		}
		for _, g := range node.StructFields(f.Value) {
			if _, keyed := lang.LogKeyed[g.Name]; keyed || g.Name == "options" {
				c.keys(g.Value, below.Get(f.Name).Get(g.Name), p+"."+g.Name, false)
			}
		}
	}
}

// keys checks a struct keyed by names; containers are the daemon's containers.
func (c *layerNameCheck) keys(higher, below *node.Node, path string, containers bool) {
	var known []string
	for _, f := range node.StructFields(below) {
		known = append(known, f.Name)
	}
	for _, f := range node.StructFields(higher) {
		p := path + "." + f.Name
		under := below.Get(f.Name)
		switch {
		case under == nil && f.Value.Kind == node.Null:
			if s := diag.Suggest(f.Name, known); s != "" {
				c.diags = append(c.diags, Diag(f.Value.Pos, p, fmt.Sprintf(
					"null removes nothing: no layer below sets %q; did you mean %q?", f.Name, s)))
			}
		case under == nil && containers && c.merged != nil && f.Value.Kind == node.Struct:
			if msg := c.addedContainer(f.Name, known); msg != "" {
				c.diags = append(c.diags, Diag(f.Value.Pos, p, msg))
				continue
			}
			c.container(f.Value, c.everyContainer, p)
		case containers && f.Value.Kind == node.Struct:
			if under == nil { // a container this layer adds starts from the defaults below
				under = c.everyContainer
			}
			c.container(f.Value, under, p)
		}
	}
}

// addedContainer says what is wrong with a container that an environment's overlay adds
// to the daemon, known being the daemon's containers below it; "" if nothing is. Without
// an image it cannot be a container of its own. With one, it is how an environment adds a
// sidecar, unless its name is a misspelling of a container the daemon has: a name that
// differs from it by a few letters, not one that contains it (agent-debug beside agent).
// A daemon with no container below has a mistake of its own, reported where it is.
func (c *layerNameCheck) addedContainer(name string, known []string) string {
	if len(known) == 0 {
		return "" // the daemon's containers are missing, or misspelt: that is the error
	}
	s := diag.Suggest(name, known)
	if c.merged.Get(lang.FieldContainers).Get(name).Get("image") == nil {
		if s != "" {
			return fmt.Sprintf("names no container of daemon %s; did you mean %q? (a container that an environment adds needs an image)", c.key, s)
		}
		return fmt.Sprintf("names no container of daemon %s, and a container that an environment adds needs an image; its containers: %s", c.key, strings.Join(known, ", "))
	}
	a, b := strings.ToLower(name), strings.ToLower(s)
	if s != "" && !strings.Contains(a, b) && !strings.Contains(b, a) {
		return fmt.Sprintf("names no container of daemon %s; did you mean %q? (a container that an environment adds needs a name that is no misspelling of another's)", c.key, s)
	}
	return ""
}

// hasNull reports whether n holds a null anywhere.
func hasNull(n *node.Node) bool {
	switch n.Kind {
	case node.Null:
		return true
	case node.Struct:
		for _, f := range n.Fields {
			if hasNull(f.Value) {
				return true
			}
		}
	}
	return false
}
