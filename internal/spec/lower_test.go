package spec

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/node"
)

// TestLowerLeavesItsInputAlone lowers daemons in both forms, with every kind of keyed field
// and an environment of numbers, and requires the input to be exactly as it was, and the
// lowering to have happened.
func TestLowerLeavesItsInputAlone(t *testing.T) {
	for name, text := range map[string]string{
		"concise": `{"containers": {"agent": {"image": "x:1", "environment": {"PORT": 8125, "DEBUG": true},
			"secrets": {"KEY": "arn:aws:ssm:eu-west-1:123456789012:parameter/k"}, "ulimits": {"nofile": 65536},
			"logConfiguration": {"logDriver": "splunk", "secretOptions": {"splunk-token": "arn:aws:ssm:eu-west-1:123456789012:parameter/t"}}}},
			"volumes": {"logs": "/var/log"}, "tags": {"team": "obs"}, "cpu": 256}`,
		"API form": `{"containerDefinitions": [{"name": "agent", "image": "x:1", "environment": [{"name": "PORT", "value": 8125}],
			"mountPoints": {"logs": "/var/log"}}]}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Fatal(err)
		}
		daemon := node.FromJSON(v)
		before := daemon.Clone()
		api, diags := Lower(daemon, "agent")
		if diags.HasErrors() {
			t.Fatalf("%s: %v", name, diags)
		}
		if !node.Equal(before, daemon) {
			t.Errorf("%s: Lower changed its input:\n%s", name, encoding.Render(daemon))
		}
		if out := encoding.Render(api); !bytes.Contains(out, []byte(`"value": "8125"`)) {
			t.Errorf("%s: the environment was not lowered: %s", name, out)
		}
	}
}
