package main

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzManifestReader feeds readManifest any bytes: it must never panic, and whatever it
// accepts must name only outputs inside the folder.
func FuzzManifestReader(f *testing.F) {
	f.Add([]byte(`{"files": ["dev/agent.json", "prod/agent.json"]}`))
	f.Add([]byte(`{"files": ["../victim.json"]}`))
	f.Add([]byte(`{"files": null}`))
	f.Add([]byte(`{"files": ["a.json", ".daemongen-manifest.json", "x/y/z.json"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, manifestName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		files, err := readManifest(dir)
		if err != nil {
			return
		}
		for _, name := range files {
			if !ownedName(name) {
				t.Errorf("accepted %q", name)
			}
		}
	})
}

// FuzzJournalRecovery gives recovery any journal, in a folder that holds outputs, a user's
// files and temporaries, beside a file outside it: nothing outside may change, and no
// user file may be removed or changed, whatever the journal says.
func FuzzJournalRecovery(f *testing.F) {
	f.Add([]byte(`{"run":"0123456789abcdef","renames":[[".daemongen-0123456789abcdef-0.tmp","agent.json"]],"removes":["old.json"]}`))
	f.Add([]byte(`{"run":"0123456789abcdef","renames":[],"removes":["user.json","../outside.json"]}`))
	f.Add([]byte(`{"renames":[[".daemongen-x.tmp","user.json"]],"removes":null}`))
	f.Add([]byte(`{"run":"0123456789abcdef","renames":[[".daemongen-0123456789abcdef-0.tmp","user.json"]]}`))
	f.Add([]byte(`{"run":"0123456789abcdef","renames":[[".daemongen-0123456789abcdef-manifest.tmp",".daemongen-manifest.json"]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		top := t.TempDir()
		dir := filepath.Join(top, "out")
		user := map[string]string{
			"user.json":        `{"name": "mine"}`,
			".daemongen-x.tmp": "mine too",
			"notes.txt":        "notes",
		}
		files := map[string]string{
			"old.json":                                 `{"family": "old"}`,
			".daemongen-0123456789abcdef-0.tmp":        `{"family": "agent"}`,
			".daemongen-0123456789abcdef-manifest.tmp": `{"files": ["agent.json"]}`,
			journalName:                                string(data),
		}
		for name, content := range user {
			files[name] = content
		}
		files["../outside.json"] = `{"family": "outside"}`
		for name, content := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		recoverOutput(dir) // an error is fine; what it touches is not
		for name, content := range user {
			if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != content {
				t.Errorf("the user's %s: %q, %v", name, got, err)
			}
		}
		if got, err := os.ReadFile(filepath.Join(top, "outside.json")); err != nil || string(got) != `{"family": "outside"}` {
			t.Errorf("the file outside: %q, %v", got, err)
		}
	})
}
