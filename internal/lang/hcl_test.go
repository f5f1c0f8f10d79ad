package lang

import "testing"

func TestNames(t *testing.T) {
	tests := []struct{ hcl, api string }{
		{"task_role_arn", "taskRoleArn"},
		{"memory_reservation", "memoryReservation"},
		{"cpu", "cpu"},
		{"restart_attempt_period", "restartAttemptPeriod"},
		{"readonly_root_filesystem", "readonlyRootFilesystem"},
	}
	for _, tt := range tests {
		if got := Camel(tt.hcl); got != tt.api {
			t.Errorf("camel(%q) = %q, want %q", tt.hcl, got, tt.api)
		}
		if got := Snake(tt.api); got != tt.hcl {
			t.Errorf("Snake(%q) = %q, want %q", tt.api, got, tt.hcl)
		}
	}
}
