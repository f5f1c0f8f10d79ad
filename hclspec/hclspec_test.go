package hclspec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/format"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// lower parses src as spec.hcl and lowers it for env.
func lower(t *testing.T, src, env string, in Inputs) (cue.Value, hcl.Diagnostics) {
	t.Helper()
	spec, diags := Parse([]string{"spec.hcl"}, map[string][]byte{"spec.hcl": []byte(src)}, t.TempDir())
	if diags.HasErrors() {
		return cue.Value{}, diags
	}
	expr, _, _, diags := spec.CUE(env, in)
	if expr == nil {
		return cue.Value{}, diags
	}
	return cuecontext.New().BuildExpr(expr), diags
}

// TestPositions checks that values keep their .hcl positions through the lowering, down
// to the elements of tuple and object constructors.
func TestPositions(t *testing.T) {
	src := `daemon "agent" {
  container "a" {
    image  = "busybox"
    memory = 64
    command = ["sh",
      "-c"]
    environment = {
      LEVEL = "info"
    }
  }
}
`
	v, diags := lower(t, src, "", Inputs{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for path, want := range map[string]string{
		"daemons.agent.containers.a.memory":            "spec.hcl:4:5",
		"daemons.agent.containers.a.command[1]":        "spec.hcl:6:7",
		"daemons.agent.containers.a.environment.LEVEL": "spec.hcl:8:7",
	} {
		p := v.LookupPath(cue.ParsePath(path)).Pos().Position()
		if got := p.Filename + ":" + itoa(p.Line) + ":" + itoa(p.Column); got != want {
			t.Errorf("%s at %s, want %s", path, got, want)
		}
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return fmtInt(i/10) + string(rune('0'+i%10))
}

// TestVariables covers variable defaults, --var (typed), variable files, locals and env.
func TestVariables(t *testing.T) {
	dir := t.TempDir()
	varFile := filepath.Join(dir, "prod.vars.hcl")
	if err := os.WriteFile(varFile, []byte(`replicas = 3`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `variable "account" { type = string }
variable "replicas" {
  type    = number
  default = 1
}
variable "ports" {
  type    = list(number)
  default = []
}
locals {
  role = "arn:aws:iam::${var.account}:role/${local.name}"
  name = upper(env)
}
daemon "agent" {
  task_role_arn = local.role
  container "a" {
    image  = "busybox"
    memory = var.replicas * 64
    environment = { PORTS = jsonencode(var.ports) }
  }
}
environment "prod" {}
`
	v, diags := lower(t, src, "prod", Inputs{Vars: map[string]string{"account": "123456789012", "ports": "[80, 443]"}, VarFiles: []string{varFile}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for path, want := range map[string]string{
		"daemons.agent.taskRoleArn":                    `"arn:aws:iam::123456789012:role/PROD"`,
		"daemons.agent.containers.a.memory":            "192",
		"daemons.agent.containers.a.environment.PORTS": `"[80,443]"`,
	} {
		got, err := v.LookupPath(cue.ParsePath(path)).MarshalJSON()
		if err != nil || string(got) != want {
			t.Errorf("%s = %s (%v), want %s", path, got, err, want)
		}
	}

	_, diags = lower(t, src, "prod", Inputs{})
	if !strings.Contains(diags.Error(), `The variable "account" has no default`) {
		t.Errorf("a missing required variable gave %v", diags)
	}
	_, diags = lower(t, src, "prod", Inputs{Vars: map[string]string{"account": "1", "acount": "2"}})
	if !strings.Contains(diags.Error(), `did you mean "account"?`) {
		t.Errorf("an undeclared variable gave %v", diags)
	}
}

// FuzzHCLToCUE checks the lowering's invariants on arbitrary input: it does not panic,
// every diagnostic's range lies inside its file, and a successful lowering formats and
// builds as CUE. The seed corpus is in testdata/fuzz/FuzzHCLToCUE, plus the examples.
func FuzzHCLToCUE(f *testing.F) {
	examples, _ := filepath.Glob("../examples/*/hcl/*.hcl")
	for _, e := range examples {
		if b, err := os.ReadFile(e); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		const name = "fuzz.hcl"
		spec, diags := Parse([]string{name}, map[string][]byte{name: src}, t.TempDir())
		checkRanges(t, diags, name, src)
		if diags.HasErrors() {
			return
		}
		for _, env := range append([]string{""}, spec.Environments()...) {
			expr, _, _, diags := spec.CUE(env, Inputs{})
			checkRanges(t, diags, name, src)
			if expr == nil {
				continue
			}
			if _, err := format.Node(expr); err != nil {
				t.Fatalf("the lowered CUE does not format: %v", err)
			}
			_ = cuecontext.New().BuildExpr(expr)
		}
	})
}

func checkRanges(t *testing.T, diags hcl.Diagnostics, name string, src []byte) {
	t.Helper()
	for _, d := range diags {
		if d.Subject == nil {
			continue
		}
		r := *d.Subject
		if r.Filename != name || r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
			t.Fatalf("diagnostic %q has range %v outside %s (%d bytes)", d.Summary, r, name, len(src))
		}
	}
}

// FuzzQuickDepth holds quickDepth to the lexer: whenever it is sure of a file that the
// lexer reads without error, its depth is the lexer's, so that skipping the lexer never
// lets deep nesting through.
func FuzzQuickDepth(f *testing.F) {
	examples, _ := filepath.Glob("../examples/*/hcl/*.hcl")
	for _, e := range examples {
		if b, err := os.ReadFile(e); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`x = "a${b}c"`, `x = "${ {a = 1} }"`, `x = "$${x} %%{y}"`, `x = "\"}" # }`, "x = [ // ]\n ]",
		"x = /* ] */ [1]", `x = "%{ if a }b%{ endif }"`, "x = <<EOT\n}\nEOT\n", `x = "${"${"${1}"}"}"`,
		"a { b = [(1), {c = \"\\\\\"}] }", `x = "${a/b}"`, "x = ]", "x = [", `x = "${ [1] }"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		depth, sure := quickDepth(src)
		if !sure {
			return
		}
		tokens, diags := hclsyntax.LexConfig(src, "fuzz.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			return // the lexer path reports nothing for these either: the parser does
		}
		lexed, deepest := 0, 0
		for _, tok := range tokens {
			lexed += nesting(tok.Type)
			deepest = max(deepest, lexed)
		}
		if depth <= MaxDepth && deepest != depth || depth > MaxDepth && deepest <= MaxDepth {
			t.Fatalf("quickDepth says %d, sure; the lexer's tokens nest %d deep:\n%s", depth, deepest, src)
		}
	})
}
