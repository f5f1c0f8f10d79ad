package hclspec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The limits of what an HCL spec may build. Each is far above any real daemon spec and far
// below what would exhaust memory: HCL's parser recurses once per level of nesting, and a
// local that doubles another, forty times over, would need terabytes.
const (
	// MaxDepth is the deepest nesting of blocks, objects, lists, parentheses and templates.
	MaxDepth = 64
	// MaxValueElements is the most list, map and object elements one value may hold, all
	// levels together.
	MaxValueElements = 10000
	// MaxValueBytes is the most text one value may hold, all its strings together.
	MaxValueBytes = 1 << 20
	// MaxFileFunctionSize is the largest file that file() reads.
	MaxFileFunctionSize = 1 << 20
)

// checkNesting reports nesting deeper than MaxDepth, from the tokens alone, before the
// parser recurses into it.
func checkNesting(src []byte, name string) hcl.Diagnostics {
	tokens, diags := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil // the parser reports these
	}
	depth := 0
	for _, t := range tokens {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			if depth++; depth > MaxDepth {
				return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Nesting too deep",
					Detail:  fmt.Sprintf("This is nested more than %d levels deep; daemon specs nest a few levels.", MaxDepth),
					Subject: t.Range.Ptr()}}
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenTemplateSeqEnd, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			depth--
		}
	}
	return nil
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
