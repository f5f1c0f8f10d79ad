// This file holds the JSON source: one file, a daemon task definition in API form or a
// spec written as JSON, read within the limits with its syntax errors at their line.

package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/token"
	cuejson "cuelang.org/go/encoding/json"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/cache"
	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/safefile"
)

// jsonSource reads a JSON file: one daemon task definition in API form.
func jsonSource(abs string) *Source {
	key := func() (string, bool) {
		data, err := safefile.Read(abs, node.MaxFileSize)
		if err != nil {
			return "", false
		}
		return cache.SourceKey("json", nil, map[string][]byte{abs: data}), true
	}
	return &Source{Language: lang.JSON, Path: abs, Names: []string{abs}, keyFunc: key, Eval: func(string) (*node.Node, hcl.Diagnostics) {
		data, d := ReadJSONFile(abs)
		if d != nil {
			return nil, hcl.Diagnostics{d}
		}
		expr, err := cuejson.Extract(abs, data)
		if err != nil {
			return nil, encoding.CUEErrors(err)
		}
		var diags hcl.Diagnostics // the limits, before CUE evaluates what they refuse
		node.OverLimits(expr, node.MaxListLength, func(pos token.Pos, path []string, msg string) {
			diags = append(diags, diag.New(hcl.DiagError, pos, strings.Join(path, "."), msg))
		})
		if diags.HasErrors() {
			return nil, diags
		}
		v := cuecontext.New().BuildExpr(expr)
		if err := v.Err(); err != nil {
			return nil, encoding.CUEErrors(err)
		}
		return encoding.FromCUE(v)
	}}
}

// utf8BOM is the byte order mark some editors write at the start of a UTF-8 file.
var utf8BOM = []byte("\xef\xbb\xbf")

// ReadJSONFile reads a JSON file within the limits: at most node.MaxFileSize bytes, UTF-8 (a
// byte order mark is dropped), nested at most node.MaxDepth levels, and well-formed. A problem
// is reported at its line and column.
func ReadJSONFile(name string) ([]byte, *hcl.Diagnostic) {
	data, d := ReadInput(name)
	if d != nil {
		return nil, d
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	depth := 0
	inString, escaped := false, false
	for i, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > node.MaxDepth {
				return nil, jsonDiagAt(name, data, i, fmt.Sprintf("nested more than %d levels deep; daemon task definitions nest a few levels", node.MaxDepth))
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	if d := jsonSyntaxDiag(name, data); d != nil {
		return nil, d
	}
	return data, nil
}

// jsonDiagAt reports msg at byte offset off of a JSON file.
func jsonDiagAt(name string, data []byte, off int, msg string) *hcl.Diagnostic {
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	start := hcl.Pos{Line: line, Column: col, Byte: off}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Detail: msg, Subject: &hcl.Range{Filename: name, Start: start, End: start}}
}

// jsonSyntaxDiag reports the first syntax error of a JSON file at its line and column,
// saying what is wrong; nil when the file is well-formed.
func jsonSyntaxDiag(name string, data []byte) *hcl.Diagnostic {
	var v any
	err := json.Unmarshal(data, &v)
	syn, isSyntax := err.(*json.SyntaxError)
	if err == nil || !isSyntax {
		if err != nil && strings.Contains(err.Error(), "unexpected end of JSON input") {
			syn = &json.SyntaxError{Offset: int64(len(data))}
		} else {
			return nil
		}
	}
	off := min(int(syn.Offset), len(data))
	if off > 0 && data[off-1] != '\n' {
		off-- // Offset is just past the offending byte
	}
	return jsonDiagAt(name, data, off, "invalid JSON: "+err.Error())
}
