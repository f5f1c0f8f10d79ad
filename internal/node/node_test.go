package node

import (
	"encoding/json"
	"testing"
)

func fromText(t *testing.T, text string) *Node {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatal(err)
	}
	return FromJSON(v)
}

// TestReplaceCopiesOnlyWhatChanges requires Replace and ReplaceElems to return their node
// itself when nothing changes, a copy with the new values (and without dropped fields) when
// something does, and to leave the node they were given as it was.
func TestReplaceCopiesOnlyWhatChanges(t *testing.T) {
	n := fromText(t, `{"a": 1, "b": 2, "c": 3}`)
	before := n.Clone()
	if got := n.Replace(func(f *Field) *Node { return f.Value }); got != n {
		t.Error("Replace copied a struct it did not change")
	}
	got := n.Replace(func(f *Field) *Node {
		switch f.Name {
		case "a":
			return nil
		case "c":
			return NewString("three", f.Value.Pos)
		}
		return f.Value
	})
	if want := fromText(t, `{"b": 2, "c": "three"}`); !Equal(got, want) {
		t.Errorf("Replace gave %s, want %s", got.Compact(), want.Compact())
	}
	if !Equal(n, before) {
		t.Errorf("Replace changed its input: %s", n.Compact())
	}

	l := fromText(t, `[1, 2, 3]`)
	if got := l.ReplaceElems(func(e *Node) *Node { return e }); got != l {
		t.Error("ReplaceElems copied a list it did not change")
	}
	got = l.ReplaceElems(func(e *Node) *Node {
		if e.Text == "2" {
			return e.AsString()
		}
		return e
	})
	if want := fromText(t, `[1, "2", 3]`); !Equal(got, want) {
		t.Errorf("ReplaceElems gave %s, want %s", got.Compact(), want.Compact())
	}
	if !Equal(l, fromText(t, `[1, 2, 3]`)) {
		t.Errorf("ReplaceElems changed its input: %s", l.Compact())
	}
}
