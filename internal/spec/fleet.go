package spec

import (
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/fleetcheck"
	"github.com/daemongen/daemongen/internal/node"
)

// Place turns a CUE position into a fleetcheck.Place.
func Place(pos token.Pos) fleetcheck.Place {
	p := pos.Position()
	return fleetcheck.Place{File: p.Filename, Line: p.Line, Column: p.Column}
}

// ListenedPorts reads a daemon's listens: a list of "PORT/PROTOCOL", PORT from 1 to 65535
// and PROTOCOL tcp or udp, each reported at its element when it is not.
func ListenedPorts(n *node.Node, path string) (ports []fleetcheck.Port, diags hcl.Diagnostics) {
	if n == nil {
		return nil, nil
	}
	if n.Kind != node.List {
		return nil, hcl.Diagnostics{Diag(n.Pos, path, fmt.Sprintf("invalid value %s: must be a list of ports such as [\"8125/udp\", \"4317/tcp\"]", n.Literal()))}
	}
	for i, e := range n.Elems {
		s, _ := e.Str()
		num, proto, ok := strings.Cut(s, "/")
		port, err := strconv.Atoi(num)
		if e.Kind != node.String || !ok || err != nil || port < 1 || port > 65535 || (proto != "tcp" && proto != "udp") {
			diags = append(diags, Diag(e.Pos, fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf(
				"invalid value %s: must be PORT/tcp or PORT/udp, PORT a whole number from 1 to 65535 (\"8125/udp\")", e.Literal())))
			continue
		}
		ports = append(ports, fleetcheck.Port{Number: port, Protocol: proto, At: Place(e.Pos)})
	}
	return ports, diags
}

// ReadBudget reads a budget: {cpu?: CPU units, memory?: MiB}, whole numbers above 0.
func ReadBudget(n *node.Node, path string) (*fleetcheck.Budget, hcl.Diagnostics) {
	if n.Kind != node.Struct {
		return nil, hcl.Diagnostics{Diag(n.Pos, path, fmt.Sprintf("invalid value %s: must be a struct such as {cpu: 1024, memory: 2048}", n.Literal()))}
	}
	b := &fleetcheck.Budget{At: Place(n.Pos)}
	var diags hcl.Diagnostics
	for _, f := range n.Fields {
		v, ok := f.Value.Int()
		switch {
		case f.Name != "cpu" && f.Name != "memory":
			msg := "unknown field; a budget has cpu (CPU units) and memory (MiB)"
			if s := diag.Suggest(f.Name, []string{"cpu", "memory"}); s != "" {
				msg = fmt.Sprintf("unknown field; did you mean %q?", s)
			}
			diags = append(diags, Diag(f.Value.Pos, path+"."+f.Name, msg))
		case !ok || v < 1 || v > 1<<31-1:
			diags = append(diags, Diag(f.Value.Pos, path+"."+f.Name, fmt.Sprintf("invalid value %s: must be a whole number from 1 to 2147483647", f.Value.Literal())))
		case f.Name == "cpu":
			b.CPU = int(v)
		default:
			b.Memory = int(v)
		}
	}
	return b, diags
}
