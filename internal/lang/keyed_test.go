package lang

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/daemongen/daemongen/internal/node"
)

// TestMapKeyedVisitsEveryLevel walks a daemon whose containers are keyed by name and one
// whose containers are a list: every struct that KeyedForms places is visited once with its
// own forms, deepest first, what visit returns takes its place, and the input is left alone.
func TestMapKeyedVisitsEveryLevel(t *testing.T) {
	for name, text := range map[string]string{
		"containers":           `{"volumes": {}, "containers": {"a": {"environment": {}, "logConfiguration": {"secretOptions": {}}}, "b": {}}}`,
		"containerDefinitions": `{"volumes": {}, "containerDefinitions": [{"environment": {}, "logConfiguration": {"secretOptions": {}}}, {}]}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Fatal(err)
		}
		daemon := node.FromJSON(v)
		before := daemon.Clone()
		var visited []string
		out := MapKeyed(daemon, func(s *node.Node, forms map[string]KeyedForm) *node.Node {
			var level string
			switch {
			case sameForms(forms, DaemonKeyed):
				level = "daemon"
			case sameForms(forms, ContainerKeyed):
				level = "container"
			case sameForms(forms, LogKeyed):
				level = "log"
			}
			visited = append(visited, level)
			marked := *s
			marked.Fields = append(slices.Clip(s.Fields), &node.Field{Name: "visited", Value: node.NewString(level, s.Pos)})
			return &marked
		})
		if want := []string{"log", "container", "container", "daemon"}; !slices.Equal(visited, want) {
			t.Errorf("%s: visited %v, want %v", name, visited, want)
		}
		if !node.Equal(before, daemon) {
			t.Errorf("%s: MapKeyed changed its input", name)
		}
		var marks []string
		var collect func(n *node.Node)
		collect = func(n *node.Node) {
			for _, f := range n.Fields {
				if f.Name == "visited" {
					marks = append(marks, f.Value.Text)
				}
				collect(f.Value)
			}
			for _, e := range n.Elems {
				collect(e)
			}
		}
		collect(out)
		if got := strings.Join(slices.Sorted(slices.Values(marks)), " "); got != "container container daemon log" {
			t.Errorf("%s: the output holds the visits %q", name, got)
		}
	}
}

// sameForms reports whether a and b are the same set of keyed forms.
func sameForms(a, b map[string]KeyedForm) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// TestTopReadsTheSections reads a spec through Top and requires each section's value.
func TestTopReadsTheSections(t *testing.T) {
	var v any
	text := `{"defaults": {"cpu": 1}, "groups": {"g": {"defaults": {"cpu": 2}}}, "daemons": {"a": {}, "b": {}},
		"environments": {"prod": {"defaults": {"cpu": 3}, "daemons": {"a": {"cpu": 4}}}, "dev": {}}}`
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatal(err)
	}
	top := Top{node.FromJSON(v)}
	cpu := func(n *node.Node) string { return n.Get("cpu").Literal() }
	got := []string{cpu(top.Defaults()), cpu(top.GroupDefaults("g")), cpu(top.Environment("prod").Defaults()),
		cpu(top.Environment("prod").Daemon("a")), strings.Join(node.Names(top.Daemons()), ","),
		strings.Join(top.EnvironmentNames(), ","), strings.Join(node.Names(top.Environment("prod").Daemons()), ",")}
	want := []string{"1", "2", "3", "4", "a,b", "dev,prod", "a"} // FromJSON sorts an object's keys
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if top.Environment("staging").Daemon("a") != nil || top.Daemon("c") != nil || (Top{}).Defaults() != nil {
		t.Error("a section the spec lacks reads as something")
	}
}
