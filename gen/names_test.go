package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/schema"
)

// Each «id:word» in these specs is a name that ties the spec together. The test misspells
// one at a time.
var (
	taggedCUESpec = `package fleet

env: string @tag(env)

«defaults:defaults»: {
	«taskRoleArn:taskRoleArn»: "arn:aws:iam::123456789012:role/agent"
	«container:container»: «memoryReservation:memoryReservation»: 64
}
«groups:groups»: host: «group-defaults:defaults»: pidMode: "shared"
«environments:environments»: {
	dev: {}
	prod: {
		«env-defaults:defaults»: memory: "1024"
		«env-daemons:daemons»: «overlay:agent»: containers: «overlay-container:agent»: {
			image: "agent:2"
			environment: «null-key:LOG_LEVEL»: null
		}
	}
}
«daemons:daemons»: agent: {
	«group:group»: "«group-ref:host»"
	«ignoreWarnings:ignoreWarnings»: ["«warning-id:timeout-above-120»"]
	«containers:containers»: agent: {image: "agent:1", memory: 128, stopTimeout: 300, environment: LOG_LEVEL: "info"}
}
`
	plainCUESpec = `package fleet

«defaults:defaults»: {
	«taskRoleArn:taskRoleArn»: "arn:aws:iam::123456789012:role/agent"
	«container:container»: {«memoryReservation:memoryReservation»: 64, environment: LOG_LEVEL: "info"}
}
«groups:groups»: host: «group-defaults:defaults»: pidMode: "shared"
«daemons:daemons»: agent: {
	«group:group»: "«group-ref:host»"
	«ignoreWarnings:ignoreWarnings»: ["«warning-id:timeout-above-120»"]
	«containers:containers»: agent: {image: "agent:1", memory: 128, stopTimeout: 300, environment: «null-key:LOG_LEVEL»: null}
}
`
	hclSpec = `environment "dev" {}
«environment:environment» "prod" {
  «env-defaults:defaults» {
    memory = "1024"
  }
  «env-daemons:daemon» "«overlay:agent»" {
    container "«overlay-container:agent»" {
      image       = "agent:2"
      environment = { «null-key:LOG_LEVEL» = null }
    }
  }
}

«defaults:defaults» {
  «taskRoleArn:task_role_arn» = "arn:aws:iam::123456789012:role/agent"
  «container:container» {
    «memoryReservation:memory_reservation» = 64
  }
}

«groups:group» "host" {
  «group-defaults:defaults» {
    pid_mode = "shared"
  }
}

«daemons:daemon» "agent" {
  «group:group» = "«group-ref:host»"
  «ignoreWarnings:ignore_warnings» = ["«warning-id:timeout-above-120»"]
  «containers:container» "agent" {
    image        = "agent:1"
    memory       = 128
    stop_timeout = 300
    environment  = { LOG_LEVEL = "info" }
  }
}
`
)

var nameMarker = regexp.MustCompile(`«([^:»]+):([^»]+)»`)

// misspell writes spec with the testcases.Marker id misspelt and every other testcases.Marker as it is, and
// returns the line the misspelling is on.
func misspell(spec, id string) (string, int) {
	line := 0
	out := nameMarker.ReplaceAllStringFunc(spec, func(m string) string {
		parts := nameMarker.FindStringSubmatch(m)
		if parts[1] != id {
			return parts[2]
		}
		return parts[2][:len(parts[2])-1] + "z"
	})
	if i := strings.Index(spec, "«"+id+":"); i >= 0 {
		line = strings.Count(spec[:i], "\n") + 1
	}
	return out, line
}

// TestEveryNameIsChecked misspells, one at a time, every name that ties a spec together
// (top-level fields, layer fields, group, daemon and container references, the keys that a
// null removes, warning ids) in a CUE spec
// with @tag(env), an HCL spec with environments and a CUE spec without environments, and
// requires one error, at the misspelt name's line, and no output.
func TestEveryNameIsChecked(t *testing.T) {
	specs := []struct{ name, file, text string }{
		{"cue-tagged", "spec.cue", taggedCUESpec},
		{"hcl", "spec.hcl", hclSpec},
		{"cue-plain", "spec.cue", plainCUESpec},
	}
	for _, spec := range specs {
		t.Run(spec.name+"/as-written", func(t *testing.T) {
			t.Parallel()
			text, _ := misspell(spec.text, "")
			files, diags := generateText(t, spec.file, text)
			if diags.HasErrors() || len(files) == 0 {
				t.Fatalf("the spec as written fails: %v", diags)
			}
			for _, d := range diags {
				t.Errorf("unexpected %s", diag.FormatDiagnostic(d, ""))
			}
		})
		for _, m := range nameMarker.FindAllStringSubmatch(spec.text, -1) {
			id := m[1]
			t.Run(spec.name+"/"+id, func(t *testing.T) {
				t.Parallel()
				text, line := misspell(spec.text, id)
				files, diags := generateText(t, spec.file, text)
				if files != nil {
					t.Errorf("files were generated: %v", len(files))
				}
				var errs []string
				for _, d := range diags {
					if d.Severity != hcl.DiagError {
						continue
					}
					errs = append(errs, diag.FormatDiagnostic(d, ""))
					if d.Subject == nil || d.Subject.Start.Line != line {
						t.Errorf("error not at line %d: %s", line, diag.FormatDiagnostic(d, ""))
					}
				}
				if len(errs) != 1 {
					t.Errorf("want one error at line %d, got %d:\n%s", line, len(errs), strings.Join(errs, "\n"))
				}
			})
		}
	}
}

// generateText writes text as name in a new folder and generates it.
func generateText(t *testing.T, name, text string) (map[string][]byte, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	files, diags, err := Generate(Config{Dir: dir, Paths: []string{name}})
	if err != nil {
		t.Fatal(fmt.Errorf("generate: %w", err))
	}
	return files, diags
}

// TestHCLVocabularyFollowsTheSchema checks that hclspec writes every nested struct of the
// schema as a block and every free-form map and keyed concise form as a map attribute, so
// that HCL's block-or-attribute errors never reject a form the schema has.
func TestHCLVocabularyFollowsTheSchema(t *testing.T) {
	for path, sn := range schema.Index() {
		for name, f := range sn.Fields {
			if f.Unsupported != "" {
				continue
			}
			child := schema.Index()[lang.JoinAbstract(path, name)]
			switch {
			case child != nil && child.IsMap:
				if !lang.IsMapAttribute(name) {
					t.Errorf("%s.%s is a map in the schema but not an HCL map attribute", path, name)
				}
			case child != nil:
				// A struct with fixed option names (firelensConfiguration.options) is
				// written like the other option maps.
				if lang.IsStructBlock(name) == lang.IsMapAttribute(name) {
					t.Errorf("%s.%s is a struct in the schema: it must be an HCL block or a map attribute, and not both", path, name)
				}
			}
		}
	}
	for _, forms := range lang.KeyedForms {
		for name := range forms {
			if !lang.IsMapAttribute(name) {
				t.Errorf("the keyed form %s is not an HCL map attribute", name)
			}
		}
	}
}
