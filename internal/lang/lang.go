// Package lang holds the words of daemongen's spec language, written once for every stage
// and both front ends: the languages it reads (one type), the sections of a spec and the
// fields a daemon has beyond the API's, the keyed concise forms, HCL's names for fields and
// blocks, and how messages write a name in CUE or HCL.
package lang

import (
	"path/filepath"
)

// Language is an input language.
type Language int

// The input languages.
const (
	Unknown Language = iota
	CUE              // CUE specs and definitions
	HCL              // HCL specs
	JSON             // API-form definitions, and specs written as JSON
)

// All are the input languages, in the order messages list them.
var All = []Language{CUE, HCL, JSON}

// String is the language's name, as --lang takes it: cue, hcl or json.
func (l Language) String() string {
	switch l {
	case CUE:
		return "cue"
	case HCL:
		return "hcl"
	case JSON:
		return "json"
	}
	return "unknown"
}

// Ext is the extension of the language's files: .cue, .hcl or .json.
func (l Language) Ext() string {
	if l == Unknown {
		return ""
	}
	return "." + l.String()
}

// Of returns the language of the file name, by its extension; Unknown for any other.
func Of(name string) Language {
	switch filepath.Ext(name) { // as the CUE loader does: .CUE is no CUE file
	case ".cue":
		return CUE
	case ".hcl":
		return HCL
	case ".json":
		return JSON
	}
	return Unknown
}

// Named returns the language called name (cue, hcl, json).
func Named(name string) (Language, bool) {
	for _, l := range All {
		if l.String() == name {
			return l, true
		}
	}
	return Unknown, false
}

// Names lists the languages' names.
func Names() []string {
	names := make([]string, len(All))
	for i, l := range All {
		names[i] = l.String()
	}
	return names
}
