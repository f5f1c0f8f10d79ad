package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fleetSpec writes a spec of n daemons with shared defaults and two environments, the
// shape of a real fleet: each daemon has two containers, a volume and a health check.
func fleetSpec(n int) string {
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
	for i := range n {
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

// BenchmarkGenerate measures a whole run: load, layer, lower, check and render every
// daemon in both environments. Run with: go test ./gen -run '^$' -bench Generate -benchmem
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("daemons=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(fleetSpec(n)), 0o644); err != nil {
				b.Fatal(err)
			}
			cfg := Config{Dir: dir, Paths: []string{"fleet.cue"}}
			for b.Loop() {
				files, diags, err := Generate(cfg)
				if err != nil || diags.HasErrors() || len(files) != 2*n {
					b.Fatalf("generate: %v %v, %d files", err, diags, len(files))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*2*n), "µs/daemon")
		})
	}
}
