// Package fleet writes the fleets that daemongen's benchmarks and its performance command
// measure, and holds the floors they are measured against. A fleet has the shape of a real
// one: shared defaults, two environments (prod overlays a default), and daemons of two
// containers each, with a volume, a health check, environment variables, a ulimit and a
// dependency.
package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// Spec returns a CUE spec of n daemons, agent-0 to agent-(n-1).
func Spec(n int) string { return SpecFrom(0, n) }

// SpecFrom returns a CUE spec of the daemons numbered from first up to last, excluded.
func SpecFrom(first, last int) string {
	var b strings.Builder
	b.WriteString(`package fleet

env: string @tag(env)
environments: {dev: {}, prod: defaults: container: memoryReservation: 16}
defaults: {
	executionRoleArn: "arn:aws:iam::123456789012:role/exec"
	tags: team: "platform"
	container: logConfiguration: {
		logDriver: "awslogs"
		options: {"awslogs-group": "/ecs/\(env)", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "d"}
	}
}
`)
	for i := first; i < last; i++ {
		fmt.Fprintf(&b, `daemons: "agent-%d": {
	volumes: logs: "/var/log"
	containers: {
		agent: {
			image: "example/agent:%d"
			memory: 256
			environment: {LEVEL: "info", PORT: %d}
			mountPoints: logs: {containerPath: "/logs", readOnly: true}
			healthCheck: {command: ["CMD", "agent", "health"], interval: 30, timeout: 5}
			ulimits: nofile: 65536
		}
		sidecar: {image: "busybox:1.36", memory: 32, essential: false, dependsOn: agent: "HEALTHY"}
	}
}
`, i, i, 8000+i)
	}
	return b.String()
}

// HCL is Spec(n) in HCL: the same daemons, defaults and environments, which generate
// the same files.
func HCL(n int) string {
	var b strings.Builder
	b.WriteString(`environment "dev" {}
environment "prod" {
  defaults {
    container {
      memory_reservation = 16
    }
  }
}
defaults {
  execution_role_arn = "arn:aws:iam::123456789012:role/exec"
  tags               = { team = "platform" }
  container {
    log_configuration {
      log_driver = "awslogs"
      options = {
        "awslogs-group"         = "/ecs/${env}"
        "awslogs-region"        = "eu-west-1"
        "awslogs-stream-prefix" = "d"
      }
    }
  }
}
`)
	for i := range n {
		fmt.Fprintf(&b, `daemon "agent-%d" {
  volumes = { logs = "/var/log" }
  container "agent" {
    image       = "example/agent:%d"
    memory      = 256
    environment = { LEVEL = "info", PORT = %d }
    mount_point "logs" {
      container_path = "/logs"
      read_only      = true
    }
    health_check {
      command  = ["CMD", "agent", "health"]
      interval = 30
      timeout  = 5
    }
    ulimits = { nofile = 65536 }
  }
  container "sidecar" {
    image      = "busybox:1.36"
    memory     = 32
    essential  = false
    depends_on = { agent = "HEALTHY" }
  }
}
`, i, i, 8000+i)
	}
	return b.String()
}

// Write writes a CUE fleet of n daemons below dir and returns the paths to give daemongen:
// one spec file dir/fleet.cue when perSpec is 0, else specs of perSpec daemons each, one
// folder per spec (dir/team-000/fleet.cue, ...), as a monorepo of teams lays them out.
func Write(dir string, n, perSpec int) ([]string, error) {
	specs := map[string]string{}
	if perSpec <= 0 {
		specs[filepath.Join(dir, "fleet.cue")] = Spec(n)
	} else {
		for i := 0; i*perSpec < n; i++ {
			specs[filepath.Join(dir, fmt.Sprintf("team-%03d", i), "fleet.cue")] = SpecFrom(i*perSpec, min(n, (i+1)*perSpec))
		}
	}
	var paths []string
	for name, text := range specs {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, filepath.Dir(name))
	}
	if perSpec <= 0 {
		paths = []string{filepath.Join(dir, "fleet.cue")}
	}
	slices.Sort(paths)
	return paths, nil
}

// captureClient records the request body the SDK sends and answers with an empty success.
type captureClient struct{ body []byte }

func (c *captureClient) Do(r *http.Request) (*http.Response, error) {
	var err error
	if c.body, err = io.ReadAll(r.Body); err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": []string{"application/x-amz-json-1.1"}},
		Body:       io.NopCloser(strings.NewReader("{}")),
		Request:    r,
	}, nil
}

// SDKWireBody decodes data strictly (no unknown field) into the SDK's input type, lets the
// SDK validate and serialize it, and returns the body the SDK would send to ECS. It is the
// SDK's own work on an output: the floor that daemongen's cost is compared with, and the
// client that every output must satisfy.
func SDKWireBody(data []byte) ([]byte, error) {
	var in ecs.RegisterDaemonTaskDefinitionInput
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("decoding into ecs.RegisterDaemonTaskDefinitionInput: %w", err)
	}
	capture := &captureClient{}
	client := ecs.New(ecs.Options{
		Region:     "us-east-1",
		HTTPClient: capture,
		Retryer:    aws.NopRetryer{},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}, nil
		}),
	})
	if _, err := client.RegisterDaemonTaskDefinition(context.Background(), &in); err != nil {
		return nil, fmt.Errorf("the SDK rejected the input: %w", err)
	}
	return capture.body, nil
}
