package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/daemongen/daemongen/gen"
)

// completeCommand is the hidden command the completion scripts call: it prints the
// candidates for the last word of a command line, one a line, and ends with filesDirective
// where the shell should offer paths too. One implementation serves every shell.
const (
	completeCommand = "__complete"
	filesDirective  = ":files"
)

// flagChoices are the fixed values of the flags that have them, per command ("" for all).
func flagChoices(command, flag string) ([]string, bool) {
	switch flag {
	case flagFormat:
		if command == "schema" {
			return []string{schemaCUE, schemaJSONSchema}, true
		}
		return gen.Formats, true
	case "to":
		return []string{langCUE, langHCL}, true
	case "lang":
		return langs, true
	case flagColor:
		return colorModes, true
	}
	return nil, false
}

func runCompletion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("completion", stdout, stderr)
	rest, code, ok := parse(fs, args, stderr, 1, "shell (bash, zsh or fish)")
	if !ok {
		return code
	}
	script, known := completionScripts[rest[0]]
	if !known || len(rest) > 1 {
		usageError(stderr, fs.Name(), fmt.Sprintf("%q: want one of bash, zsh, fish", strings.Join(rest, " ")))
		return exitUsage
	}
	fmt.Fprint(stdout, script)
	return exitOK
}

// runComplete prints the candidates for the last of words, the words after daemongen on
// a command line being completed (the last one possibly empty).
func runComplete(words []string, stdout io.Writer) int {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	print := func(cands []string, files bool) int {
		for _, c := range cands {
			if strings.HasPrefix(c, cur) {
				fmt.Fprintln(stdout, c)
			}
		}
		if files {
			fmt.Fprintln(stdout, filesDirective)
		}
		return exitOK
	}
	if len(words) == 1 {
		return print(slices.DeleteFunc(commandNames(), func(n string) bool { return n == "help" && false }), false)
	}
	name := words[0]
	if name == "help" {
		return print(commandNames(), false)
	}
	fs := flagSetOf(name)
	if fs == nil {
		return print(nil, true)
	}
	if prev := words[len(words)-2]; strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") {
		if f := lookupFlag(fs, prev); f != nil && f.Value.Type() != "bool" {
			return print(flagValues(name, f.Name, words[1:len(words)-2]), !hasFixedValues(name, f.Name))
		}
	}
	if strings.HasPrefix(cur, "-") {
		if flag, value, found := strings.Cut(cur, "="); found {
			if f := lookupFlag(fs, flag); f != nil {
				var cands []string
				for _, v := range flagValues(name, f.Name, words[1:len(words)-1]) {
					cands = append(cands, flag+"="+v)
				}
				_ = value
				return print(cands, false)
			}
		}
		var cands []string
		fs.VisitAll(func(f *pflag.Flag) {
			cands = append(cands, "--"+f.Name)
			if f.Shorthand != "" {
				cands = append(cands, "-"+f.Shorthand)
			}
		})
		return print(cands, false)
	}
	if name == "completion" {
		return print([]string{"bash", "zsh", "fish"}, false)
	}
	return print(nil, true)
}

// lookupFlag finds the flag that arg (--name or -n) names.
func lookupFlag(fs *pflag.FlagSet, arg string) *pflag.Flag {
	if name, ok := strings.CutPrefix(arg, "--"); ok {
		return fs.Lookup(name)
	}
	if short, ok := strings.CutPrefix(arg, "-"); ok && len(short) == 1 {
		return fs.ShorthandLookup(short)
	}
	return nil
}

func hasFixedValues(command, flag string) bool {
	_, ok := flagChoices(command, flag)
	return ok || flag == flagEnv
}

// flagValues are the values to offer for flag of command: its fixed choices, or for --env
// the environments that the specs among args declare.
func flagValues(command, flag string, args []string) []string {
	if choices, ok := flagChoices(command, flag); ok {
		return choices
	}
	if flag != flagEnv {
		return nil
	}
	var paths []string
	fs := flagSetOf(command)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			if f := lookupFlag(fs, a); f != nil && f.Value.Type() != "bool" && !strings.Contains(a, "=") {
				i++ // its value
			}
			continue
		}
		paths = append(paths, a)
	}
	if len(paths) == 0 {
		return nil
	}
	return gen.Environments(gen.Config{Dir: workDir(), Paths: paths})
}

// completionScripts are the scripts of completion, by shell. Each calls daemongen
// __complete with the words of the line and offers what it prints.
var completionScripts = map[string]string{
	"bash": `# bash completion for daemongen: source it, or put it in
# ~/.local/share/bash-completion/completions/daemongen
_daemongen() {
  local cur="${COMP_WORDS[COMP_CWORD]}" IFS=$'\n' out files=
  out=$(daemongen __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  if [[ "$out" == *":files" ]]; then
    out="${out%:files}"
    files=1
  fi
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
  if [[ -n "$files" ]]; then
    COMPREPLY+=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -o bashdefault -F _daemongen daemongen
`,
	"zsh": `#compdef daemongen
# zsh completion for daemongen: put it in a folder of $fpath as _daemongen, or source it
_daemongen() {
  local -a out
  out=("${(@f)$(daemongen __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ "${out[-1]}" == ":files" ]]; then
    out=("${(@)out[1,-2]}")
    _files
  fi
  (( ${#out} )) && compadd -a out
}
if [[ "${funcstack[1]}" == "_daemongen" ]]; then
  _daemongen "$@"
else
  compdef _daemongen daemongen
fi
`,
	"fish": `# fish completion for daemongen: put it in ~/.config/fish/completions/daemongen.fish
function __daemongen_complete
    set -l tokens (commandline -opc) (commandline -ct)
    set -e tokens[1]
    set -l out (daemongen __complete $tokens 2>/dev/null)
    if test (count $out) -gt 0; and test "$out[-1]" = ":files"
        set -e out[-1]
        __fish_complete_path (commandline -ct)
    end
    printf '%s\n' $out
end
complete -c daemongen -f -a '(__daemongen_complete)'
`,
}
