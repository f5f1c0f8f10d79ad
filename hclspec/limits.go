package hclspec

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/daemongen/daemongen/internal/node"
)

// The limits of what an HCL spec may build. Each is far above any real daemon spec and far
// below what would exhaust memory: HCL's parser recurses once per level of nesting, and a
// local that doubles another, forty times over, would need terabytes.
const (
	// MaxDepth is the deepest nesting of blocks, objects, lists, parentheses and templates:
	// a spec's limit, whatever its language.
	MaxDepth = node.MaxDepth
	// MaxValueElements is the most list, map and object elements one value may hold, all
	// levels together.
	MaxValueElements = 10000
	// MaxValueBytes is the most text one value may hold, all its strings together.
	MaxValueBytes = 1 << 20
	// MaxFileFunctionSize is the largest file that file() reads.
	MaxFileFunctionSize = 1 << 20
	// MaxVarFileSize is the largest variable file, as large as a spec file may be.
	MaxVarFileSize = node.MaxFileSize
)

// checkNesting reports nesting deeper than MaxDepth, from the tokens alone, before the
// parser recurses into it. Lexing costs as much as a third of parsing, so the bytes are
// scanned first ([quickDepth]); only a file the scan cannot vouch for is lexed.
func checkNesting(src []byte, name string) hcl.Diagnostics {
	if depth, sure := quickDepth(src); sure && depth <= MaxDepth {
		return nil
	}
	tokens, diags := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil // the parser reports these
	}
	depth := 0
	for _, t := range tokens {
		if depth += nesting(t.Type); depth > MaxDepth {
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Nesting too deep",
				Detail:  fmt.Sprintf("This is nested more than %d levels deep; daemon specs nest a few levels.", MaxDepth),
				Subject: t.Range.Ptr()}}
		}
	}
	return nil
}

// nesting is how a token changes the depth of nesting: +1 for what opens a level (a
// bracket, a quote, a heredoc, a template sequence), -1 for what closes one.
func nesting(t hclsyntax.TokenType) int {
	switch t {
	case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
		hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl,
		hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
		return 1
	case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
		hclsyntax.TokenTemplateSeqEnd, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
		return -1
	}
	return 0
}

// quickDepth returns the deepest nesting of the tokens that checkNesting counts (brackets,
// quotes and template sequences), scanning bytes as HCL's lexer reads them: comments,
// quoted strings with their escapes, and ${ } and %{ } sequences. It is sure only of what
// it fully understands; a heredoc, a newline or a comment inside a string's sequence, a
// bracket closed that was not the one open, or anything left open make it unsure, and the
// lexer decides. It stops past MaxDepth, where the lexer finds the place to report.
// FuzzQuickDepth holds it to the lexer's count.
func quickDepth(src []byte) (depth int, sure bool) {
	const (
		quote    = '"' // a quoted string
		sequence = '$' // ${ or %{ inside a string: an expression until its }
	)
	var stack []byte // what is open: quote, sequence, or the bracket itself
	sequences := 0   // how many of stack are sequences
	open := func(kind byte) {
		stack = append(stack, kind)
		depth = max(depth, len(stack))
		if kind == sequence {
			sequences++
		}
	}
	if !utf8.Valid(src) {
		return 0, false // the lexer reads invalid text its own way
	}
	closes := map[byte]byte{'}': '{', ']': '[', ')': '('}
	for i := 0; i < len(src) && depth <= MaxDepth; i++ {
		c := src[i]
		next := byte(0)
		if i+1 < len(src) {
			next = src[i+1]
		}
		top := byte(0)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top == quote {
			switch {
			case c == '\\':
				i++ // the escaped byte
			case c == '"':
				stack = stack[:len(stack)-1]
			case c == '\n':
				return depth, false
			case (c == '$' || c == '%') && next == c && i+2 < len(src) && src[i+2] == '{':
				i += 2 // $${ and %%{ are literal text
			case (c == '$' || c == '%') && next == '{':
				open(sequence)
				i++
			}
			continue
		}
		switch c {
		case '"':
			open(quote)
		case '{', '[', '(':
			open(c)
		case '}', ']', ')':
			if top != closes[c] && !(c == '}' && top == sequence) {
				return depth, false
			}
			if top == sequence {
				sequences--
			}
			stack = stack[:len(stack)-1]
		case '#', '/', '\n':
			if sequences > 0 {
				return depth, false // a string's sequence ends on its line, without comments
			}
			switch {
			case c == '#' || c == '/' && next == '/':
				i = skipLine(src, i)
			case c == '/' && next == '*':
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					return depth, false
				}
				i += 2 + end + 1
			}
		case '<':
			if next == '<' {
				return depth, false // a heredoc
			}
		default:
			if c >= utf8.RuneSelf {
				return depth, false // an identifier's letter, or the lexer's to judge
			}
		}
	}
	return depth, depth > MaxDepth || len(stack) == 0
}

// skipLine returns the index of the newline that ends the line at i, or the last index.
func skipLine(src []byte, i int) int {
	if end := bytes.IndexByte(src[i:], '\n'); end >= 0 {
		return i + end
	}
	return len(src) - 1
}

// checkValueSize reports a value with more than MaxValueElements elements or
// MaxValueBytes of text, at subject.
func checkValueSize(val cty.Value, what string, subject hcl.Range) *hcl.Diagnostic {
	elements, bytes := 0, 0
	var walk func(v cty.Value) bool
	walk = func(v cty.Value) bool {
		v, _ = v.Unmark()
		if !v.IsKnown() || v.IsNull() {
			return true
		}
		ty := v.Type()
		switch {
		case ty == cty.String:
			bytes += len(v.AsString())
		case ty.IsListType() || ty.IsTupleType() || ty.IsSetType() || ty.IsMapType() || ty.IsObjectType():
			if elements += v.LengthInt(); elements > MaxValueElements {
				return false
			}
			for it := v.ElementIterator(); it.Next(); {
				k, e := it.Element()
				if ty.IsMapType() || ty.IsObjectType() {
					bytes += len(k.AsString())
				}
				if !walk(e) {
					return false
				}
			}
		}
		return elements <= MaxValueElements && bytes <= MaxValueBytes
	}
	if walk(val) {
		return nil
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value too large",
		Detail: fmt.Sprintf("%s holds more than %d elements or %d MiB of text, more than any daemon spec needs; is a local built by doubling another?",
			what, MaxValueElements, MaxValueBytes>>20),
		Subject: subject.Ptr()}
}
