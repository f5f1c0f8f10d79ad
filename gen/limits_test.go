package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/daemongen/daemongen/internal/diag"
)

// deepCUE is a daemon with a value nested depth levels deep (a: a: a: ... 1).
func deepCUE(depth int) string {
	return "package fleet\n\ndaemons: agent: {containers: agent: {image: \"a:1\", memory: 64}\nx: " + strings.Repeat("a: ", depth) + "1}\n"
}

// longCUE is a daemon whose container command has n elements.
func longCUE(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf("%q", fmt.Sprint("x", i))
	}
	return "package fleet\n\ndaemons: agent: containers: agent: {image: \"a:1\", memory: 64, command: [" + strings.Join(items, ", ") + "]}\n"
}

// longFields writes n fields of a CUE struct.
func longFields(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "V%d: \"x\", ", i)
	}
	return b.String()
}

// TestInputLimits feeds inputs past each limit and requires one positioned error each.
func TestInputLimits(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big.txt")
	if f, err := os.Create(big); err == nil {
		f.Truncate(2 << 30) // sparse: nothing is written
		f.Close()
	}
	binary := filepath.Join(t.TempDir(), "binary.dat")
	os.WriteFile(binary, []byte{0xff, 0xfe, 0x00, 0x01}, 0o644)
	fileOf := func(path string) string {
		return fmt.Sprintf("daemon \"agent\" {\n  container \"agent\" {\n    image   = \"a:1\"\n    memory  = 64\n    command = [file(%q)]\n  }\n}\n", path)
	}
	tests := []struct{ name, file, text, want string }{
		{"CUE nested 50,000 deep", "spec.cue", deepCUE(50000), "spec.cue:4:185: nested more than 64 levels deep"},
		{"CUE list of 100,000", "spec.cue", longCUE(100000), "spec.cue:3:72: a list of 100000 elements; lists may have at most 10000"},
		{"CUE struct of 100,000 fields", "spec.cue", "daemons: agent: containers: agent: {image: \"a:1\", memory: 64, environment: {" + longFields(100000) + "}}\n", "spec.cue:1:76: a struct of 100000 fields; structs may have at most 10000"},
		{"CUE struct of 20,000 fields from a comprehension", "spec.cue", "import \"list\"\n\ndaemons: agent: containers: agent: {image: \"a:1\", memory: 64, environment: {for i in list.Range(0, 20000, 1) {\"V\\(i)\": \"x\"}}}\n", "environment: a struct of more than 10000 fields; structs may have at most 10000"},
		{"JSON list of 100,000", "x.json", `{"family": "x", "containerDefinitions": [{"name": "a", "image": "a:1", "memory": 64, "command": [` + strings.TrimSuffix(strings.Repeat(`"x", `, 100000), ", ") + `]}]}`, "x.json:1:97: containerDefinitions.0.command: a list of 100000 elements; lists may have at most 10000"},
		{"JSON nested 100,000 deep", "x.json", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), "x.json:1:65: nested more than 64 levels deep"},
		{"JSON not an object", "x.json", "[]\n", "x.json:1:1: invalid value [...]: a daemon task definition is a JSON object"},
		{"JSON not UTF-8", "x.json", "{\"family\": \"a\xff\"}", "x.json:1:14: invalid JSON: the file is not UTF-8 text"},
		{"CUE not UTF-8", "spec.cue", "0\xff\xff\"", "spec.cue:1:2: the file is not UTF-8 text"},
		{"HCL nested 100,000 deep", "spec.hcl", "daemon \"a\" {\n  x = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n}\n", "spec.hcl:2:70: Nesting too deep"},
		{"HCL doubling locals", "spec.hcl", doublingLocals(40), "spec.hcl:16:9: Value too large: local.l14"},
		{"HCL file() of a device", "spec.hcl", fileOf("/dev/zero"), "cannot read /dev/zero: a character device, not a regular file"},
		{"HCL file() of a FIFO", "spec.hcl", fileOf(fifo), "not a regular file"},
		{"HCL file() of 2 GB", "spec.hcl", fileOf(big), "it is 2147483648 bytes, and file() reads at most 1048576 (1 MiB)"},
		{"HCL file() of binary data", "spec.hcl", fileOf(binary), "not UTF-8 text (file() reads text, not binary data)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, diags := generateText(t, tc.file, tc.text)
			if files != nil {
				t.Error("files were generated")
			}
			var got []string
			for _, d := range diags {
				got = append(got, diag.FormatDiagnostic(d, ""))
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Errorf("got %q, want one error with %q", got, tc.want)
			}
		})
	}
}

// doublingLocals is an HCL spec whose locals double a list n times.
func doublingLocals(n int) string {
	var b strings.Builder
	b.WriteString("locals {\n  l0 = [\"x\"]\n")
	for i := range n {
		fmt.Fprintf(&b, "  l%d = concat(local.l%d, local.l%d)\n", i+1, i, i)
	}
	fmt.Fprintf(&b, "}\ndaemon \"agent\" {\n  container \"a\" {\n    image   = \"a:1\"\n    memory  = 64\n    command = local.l%d\n  }\n}\n", n)
	return b.String()
}

// BenchmarkLongList measures a daemon with a long list: time and memory grow linearly
// with its length, up to MaxListLength.
func BenchmarkLongList(b *testing.B) {
	for _, n := range []int{1000, 2000, 4000, 8000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			benchmarkSpec(b, longCUE(n))
		})
	}
}

// BenchmarkDeepInput measures refusing values nested past MaxDepth: linear in the size of
// the file, before anything parses it.
func BenchmarkDeepInput(b *testing.B) {
	for _, n := range []int{10000, 20000, 40000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			benchmarkSpec(b, deepCUE(n))
		})
	}
}

func benchmarkSpec(b *testing.B, text string) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Generate(Config{Dir: dir, Paths: []string{"spec.cue"}}); err != nil {
			b.Fatal(err)
		}
	}
}
