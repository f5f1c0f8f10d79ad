package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/daemongen/daemongen/gen"
)

// Report formats of daemongen fleet.
var fleetFormats = []string{"text", "json", "markdown"}

func runFleet(args []string, stdout, stderr io.Writer) int {
	var (
		sf     specFlags
		format string
	)
	fs := newFlagSet("fleet", stdout, stderr)
	sf.bindInputs(fs)
	fs.StringVar(&format, flagFormat, "text", "print the report as `FORMAT`: text, json or markdown (problems go to stderr as text)")
	sf.bindRun(fs)
	cfg, code, ok := specConfig(fs, &sf, args, stderr)
	if !ok {
		return code
	}
	if !slices.Contains(fleetFormats, format) {
		usageError(stderr, fs.Name(), fmt.Sprintf("--format %q: want %s", format, strings.Join(fleetFormats, ", ")))
		return exitUsage
	}
	cfg.CheckOnly = true
	var envs []gen.FleetEnv
	cfg.Fleet = func(e []gen.FleetEnv) { envs = e }
	diags, code, ok := evaluate(fs.Name(), cfg, sf, stderr, func(gen.Output) error { return nil })
	if !ok {
		return code
	}
	reporter{gen.FormatText, cfg.Dir, stdout, stderr, sf.colored}.report(diags)
	for i := range envs {
		for j := range envs[i].Daemons {
			d := &envs[i].Daemons[j]
			d.At.File = gen.RelativeName(cfg.Dir, d.At.File)
			for k := range d.Ports {
				d.Ports[k].At.File = gen.RelativeName(cfg.Dir, d.Ports[k].At.File)
			}
		}
		if b := envs[i].Budget; b != nil {
			b.At.File = gen.RelativeName(cfg.Dir, b.At.File)
		}
	}
	writeFleet(stdout, envs, format)
	if diags.HasErrors() {
		return exitInvalid
	}
	return exitOK
}

// fleetTotals sums an environment's daemons.
func fleetTotals(e gen.FleetEnv) (cpu, hard, reserved int) {
	for _, d := range e.Daemons {
		cpu, hard, reserved = cpu+d.CPU, hard+d.MemoryHard, reserved+d.MemoryReserved
	}
	return
}

// fleetRow is one daemon's row of the report.
func fleetRow(d gen.FleetDaemon) []string {
	var ports, paths []string
	for _, p := range d.Ports {
		ports = append(ports, p.String())
	}
	for _, m := range d.Mounts {
		mode := "ro"
		if m.Writable {
			mode = "rw"
		}
		paths = append(paths, m.HostPath+" ("+mode+")")
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	dash := func(s []string) string {
		if len(s) == 0 {
			return "-"
		}
		return strings.Join(s, " ")
	}
	priv := "no"
	if d.Privileged {
		priv = "yes"
	}
	ns := []string{}
	if d.PIDMode != "" {
		ns = append(ns, "pid "+d.PIDMode)
	}
	if d.IPCMode != "" {
		ns = append(ns, "ipc "+d.IPCMode)
	}
	var pol []string
	for _, r := range d.Violations {
		pol = append(pol, "breaks "+r)
	}
	for _, r := range d.Exceptions {
		pol = append(pol, "excepted from "+r)
	}
	return []string{d.Family, strconv.Itoa(d.CPU), strconv.Itoa(d.MemoryHard), strconv.Itoa(d.MemoryReserved),
		dash(ports), dash(paths), priv, dash(d.Capabilities), dash(ns), dash(pol)}
}

var fleetHeader = []string{"daemon", "cpu", "memory", "reserved", "ports", "host paths", "privileged", "capabilities", "pid/ipc", "policy"}

// budgetLine says the totals against the budget.
func budgetLine(e gen.FleetEnv) string {
	cpu, hard, reserved := fleetTotals(e)
	line := fmt.Sprintf("total: cpu %d, memory %d (reserved %d)", cpu, hard, reserved)
	if b := e.Budget; b != nil {
		var parts []string
		if b.CPU > 0 {
			parts = append(parts, fmt.Sprintf("cpu %d of %d%s", cpu, b.CPU, over(cpu, b.CPU)))
		}
		if b.Memory > 0 {
			parts = append(parts, fmt.Sprintf("memory %d of %d%s", hard, b.Memory, over(hard, b.Memory)))
		}
		line += "; budget: " + strings.Join(parts, ", ")
	}
	return line
}

func over(used, limit int) string {
	if used > limit {
		return " (OVER)"
	}
	return ""
}

func envTitle(e gen.FleetEnv) string {
	if e.Env == "" {
		return "daemons"
	}
	return "environment " + e.Env
}

// writeFleet prints the report of envs in format.
func writeFleet(w io.Writer, envs []gen.FleetEnv, format string) {
	switch format {
	case "json":
		type env struct {
			Env     string            `json:"env"`
			Daemons []gen.FleetDaemon `json:"daemons"`
			Budget  *gen.FleetBudget  `json:"budget,omitempty"`
			Total   map[string]int    `json:"total"`
		}
		out := []env{}
		for _, e := range envs {
			cpu, hard, reserved := fleetTotals(e)
			daemons := e.Daemons
			if daemons == nil {
				daemons = []gen.FleetDaemon{}
			}
			out = append(out, env{e.Env, daemons, e.Budget, map[string]int{"cpu": cpu, "memory": hard, "memoryReservation": reserved}})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(out)
	case "markdown":
		for i, e := range envs {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "### %s\n\n| %s |\n|%s\n", envTitle(e), strings.Join(fleetHeader, " | "), strings.Repeat("---|", len(fleetHeader)))
			for _, d := range e.Daemons {
				row := fleetRow(d)
				for k := range row {
					row[k] = strings.ReplaceAll(row[k], "|", "\\|")
				}
				fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
			}
			fmt.Fprintf(w, "\n%s\n", budgetLine(e))
		}
	default:
		for i, e := range envs {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s\n", envTitle(e))
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, strings.Join(fleetHeader, "\t"))
			for _, d := range e.Daemons {
				fmt.Fprintln(tw, strings.Join(fleetRow(d), "\t"))
			}
			tw.Flush()
			fmt.Fprintln(w, budgetLine(e))
		}
	}
}
