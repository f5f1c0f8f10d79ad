package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/scanner"
	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/safefile"
)

// ReadInput reads a spec or JSON file within the limits: at most node.MaxFileSize bytes (a
// larger file is not read), UTF-8 text, and, for a CUE file, nested at most node.MaxDepth levels,
// found from its tokens before any parser recurses into it. A problem is reported at its
// position.
func ReadInput(name string) ([]byte, *hcl.Diagnostic) {
	src, err := safefile.Read(name, node.MaxFileSize)
	var tooLarge *safefile.LimitError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &hcl.Diagnostic{Severity: hcl.DiagError, Subject: &hcl.Range{Filename: name},
			Detail: fmt.Sprintf("the file is %d bytes; specs and JSON files may be at most %d (%d MiB)", tooLarge.Size, node.MaxFileSize, node.MaxFileSize>>20)}
	case err != nil:
		return nil, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: err.Error()}
	}
	if d := checkUTF8(name, src); d != nil {
		if lang.Of(name) == lang.JSON {
			d.Detail = "invalid JSON: " + d.Detail
		}
		return nil, d
	}
	if lang.Of(name) == lang.CUE {
		if d := checkNesting(name, src); d != nil {
			return nil, d
		}
	}
	return src, nil
}

// checkUTF8 reports the first byte of src that is not UTF-8, at its line and column.
func checkUTF8(name string, src []byte) *hcl.Diagnostic {
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size == 1 {
			return jsonDiagAt(name, src, i, "the file is not UTF-8 text: an invalid byte here")
		}
		i += size
	}
	return nil
}

// checkNesting reports, from the tokens of a CUE file alone, nesting deeper than node.MaxDepth
// before the parser (which recurses once per level) reads it. A level is a brace, bracket
// or parenthesis, or a label of a chain such as a: b: c: 1.
func checkNesting(name string, src []byte) *hcl.Diagnostic {
	f := token.NewFile(name, -1, len(src))
	var s scanner.Scanner
	s.Init(f, src, nil, 0)
	colons := []int{0} // per open bracket: the labels chained since the last comma
	depth := 0
	for {
		pos, tok, _ := s.Scan()
		switch tok {
		case token.EOF:
			return nil
		case token.LBRACE, token.LBRACK, token.LPAREN:
			colons = append(colons, 0)
			depth++
		case token.RBRACE, token.RBRACK, token.RPAREN:
			if len(colons) > 1 {
				depth -= 1 + colons[len(colons)-1]
				colons = colons[:len(colons)-1]
			}
		case token.COLON:
			colons[len(colons)-1]++
			depth++
		case token.COMMA:
			depth -= colons[len(colons)-1]
			colons[len(colons)-1] = 0
		}
		if depth > node.MaxDepth {
			return diag.New(hcl.DiagError, pos, "", fmt.Sprintf("nested more than %d levels deep; daemon task definitions nest a few levels", node.MaxDepth))
		}
	}
}

// checkSyntaxLimits walks the parsed files of a CUE instance, before it is evaluated, and
// reports list literals longer than node.MaxListLength and struct literals with more fields
// (see [node.OverLimits]; their nesting was checked from the tokens, by ReadInput).
func checkSyntaxLimits(inst *build.Instance) (diags hcl.Diagnostics) {
	for _, f := range inst.Files {
		node.OverLimits(f, node.MaxListLength, func(pos token.Pos, _ []string, msg string) {
			diags = append(diags, diag.New(hcl.DiagError, pos, "", msg))
		})
	}
	return diags
}

// APIFormJSON reports whether the JSON file name is plainly one daemon task definition in
// API form: an object whose top-level keys include none of a spec's. It reads only the
// top level and says false for anything else (a spec, a file that is not an object, or
// one that is not well-formed), which the file's evaluation then reports.
func APIFormJSON(name string) bool {
	data, err := safefile.Read(name, node.MaxFileSize)
	if err != nil {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	fields := 0
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		if k, _ := key.(string); slices.Contains(lang.SpecFields, k) {
			return false
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
		fields++
	}
	return fields > 0
}
