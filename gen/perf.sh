#!/usr/bin/env bash
# Runs BenchmarkFleet (generate of fleetSpec(N) beside its JSON and SDK floors, on the same
# outputs, in one run on this machine) and prints how many times each floor generate costs.
# Usage: gen/perf.sh [COUNT]   (from the repository root; COUNT runs of each, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-3}
go test ./gen -run '^$' -bench '^BenchmarkFleet$' -benchtime 1x -count "$count" -benchmem | tee /dev/stderr |
awk '
  /^BenchmarkFleet\// {
    split($1, parts, "/"); kind = parts[2]; n = parts[3]; sub(/-[0-9]+$/, "", n)
    ns[kind, n] += $3; runs[kind, n]++; sizes[n] = 1
  }
  END {
    printf "\n%-14s %12s %12s %12s %10s %10s\n", "fleet", "generate", "json-floor", "sdk-floor", "x json", "x sdk"
    for (n in sizes) {
      g = ns["generate", n] / runs["generate", n]; j = ns["json-floor", n] / runs["json-floor", n]; s = ns["sdk-floor", n] / runs["sdk-floor", n]
      printf "%-14s %10.0fms %10.1fms %10.1fms %10.1f %10.1f\n", n, g / 1e6, j / 1e6, s / 1e6, g / j, g / s
    }
  }'
