// This file holds how HCL names the spec's fields and blocks: the one place that both the
// HCL front end and the messages and writers that speak HCL take them from.

package lang

import (
	"slices"
	"strings"
)

// KeyedBlocks are the labeled blocks whose label is a key of the concise form.
var KeyedBlocks = map[string]string{
	"container":   "containers",
	"volume":      "volumes",
	"mount_point": "mountPoints",
	"ulimit":      "ulimits",
	"secret":      "secrets",
}

// KeyedBlock returns the labeled block whose labels are the keys of the concise form's
// keyed struct name (containers: container), for writers of HCL and for messages.
func KeyedBlock(name string) (block string, ok bool) { return blockOf(KeyedBlocks, name) }

// ListBlock returns the repeated block whose bodies are the elements of the list name
// (devices: device).
func ListBlock(name string) (block string, ok bool) { return blockOf(ListBlocks, name) }

func blockOf(blocks map[string]string, name string) (string, bool) {
	for block, field := range blocks {
		if field == name {
			return block, true
		}
	}
	return "", false
}

// StructBlocks are the nested structs of the schema, written as blocks and only as blocks,
// as Terraform writes nested structs: health_check { ... }, not health_check = { ... }.
var StructBlocks = []string{
	"health_check", "log_configuration", "linux_parameters", "capabilities", "restart_policy",
	"firelens_configuration", "repository_credentials", "host", "log_driver_volume_configuration",
	"budget", // the spec's own: what an instance gives an environment's daemons
}

// MapAttributes are the attributes whose object keys are names or data (environment
// variable names, log option names, container and volume names), never field names: they
// are written as attributes, environment = { DD_SITE = "x" }, and their keys stay as
// written. Every other object's keys are field names, in snake_case or camelCase.
var MapAttributes = []string{
	"environment", "secrets", "tags", "options", "depends_on", "system_controls", "volumes",
	"ulimits", "mount_points", "secret_options", "containers",
}

// IsStructBlock reports whether the API field name (healthCheck) is written as a block.
func IsStructBlock(name string) bool { return slices.Contains(StructBlocks, Snake(name)) }

// IsMapAttribute reports whether the concise form's field name (dependsOn) is written as
// an attribute whose keys are names.
func IsMapAttribute(name string) bool { return slices.Contains(MapAttributes, Snake(name)) }

// ListBlocks are the unlabeled blocks that repeat, each an element of a list.
var ListBlocks = map[string]string{
	"device":           "devices",
	"tmpfs":            "tmpfs",
	"environment_file": "environmentFiles",
	"secret_option":    "secretOptions",
}

// Camel turns an HCL name into the API's: task_role_arn into taskRoleArn. Names that are
// not snake_case pass through, so that the schema reports them with a suggestion.
func Camel(name string) string {
	parts := strings.Split(name, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// ConciseName turns a name of an HCL path (container, mount_point, memory_reservation)
// into the concise form's (containers, mountPoints, memoryReservation); a name already in
// that form is returned as it is.
func ConciseName(name string) string {
	if plural, ok := KeyedBlocks[name]; ok {
		return plural
	}
	if plural, ok := ListBlocks[name]; ok {
		return plural
	}
	return Camel(name)
}

// Snake turns an API name into the HCL one: taskRoleArn into task_role_arn.
func Snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
