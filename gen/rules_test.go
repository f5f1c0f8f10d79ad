package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/fleetcheck"
	"github.com/daemongen/daemongen/internal/lint"
	"github.com/daemongen/daemongen/internal/spec"
	"github.com/daemongen/daemongen/internal/testcases"
)

// vetText validates text as test.cue and returns the diagnostics, and the position of the
// testcases.Marker as "test.cue:LINE:COL" (empty without a testcases.Marker).
func vetText(t *testing.T, text string) (hcl.Diagnostics, string) {
	t.Helper()
	pos := ""
	if i := strings.Index(text, testcases.Marker); i >= 0 {
		before := text[:i]
		line := strings.Count(before, "\n") + 1
		col := i - strings.LastIndex(before, "\n")
		pos = fmt.Sprintf("test.cue:%d:%d", line, col)
		text = before + text[i+len(testcases.Marker):]
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "test.cue"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags, err := Generate(Config{Dir: dir, Paths: []string{"test.cue"}})
	if err != nil {
		t.Fatal(err)
	}
	return diags, pos
}

// TestRules checks every rule of the schema: its ok case has no diagnostic of its kind,
// and its bad case has exactly the expected one, at the marked position.
func TestRules(t *testing.T) {
	for _, tc := range testcases.RuleCases {
		t.Run(tc.Rule, func(t *testing.T) {
			t.Parallel()
			diags, _ := vetText(t, tc.OK)
			for _, d := range diags {
				if slices.Contains(lint.IDs(), tc.Warning) && diag.WarningID(d) != tc.Warning {
					continue // see below
				}
				t.Errorf("ok case: unexpected %s", diag.FormatDiagnostic(d, ""))
			}
			diags, pos := vetText(t, tc.Bad)
			if pos == "" {
				t.Fatal("the bad case has no » testcases.Marker")
			}
			want := pos + ": " + tc.Want
			if tc.Warning != "" {
				want = pos + ": warning: " + tc.Want + " [" + tc.Warning + "]"
			}
			var got []string
			for _, d := range diags {
				// A lint's case may set off another lint too (a privileged container
				// with a writable root is privileged): only its own lint counts.
				if slices.Contains(lint.IDs(), tc.Warning) && diag.WarningID(d) != tc.Warning {
					continue
				}
				got = append(got, diag.FormatDiagnostic(d, ""))
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("bad case:\ngot  %q\nwant %q", got, want)
			}
		})
	}
}

// TestEveryWarningHasARuleCase checks that every warning id of the schema is exercised by a
// rule case, so that an id cannot exist without a warning that prints it.
func TestEveryWarningHasARuleCase(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range testcases.RuleCases {
		covered[tc.Warning] = true
	}
	for _, id := range spec.WarningIDs() {
		if id == fleetcheck.SharedHostPathID {
			continue // a clash between daemons, not a rule of one: TestFleetChecks has its cases
		}
		if !covered[id] {
			t.Errorf("warning %s has no rule case", id)
		}
	}
}
