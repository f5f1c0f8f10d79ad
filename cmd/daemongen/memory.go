package main

import (
	"fmt"
	"regexp"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// defaultMaxMemory bounds the live heap of a run: a fleet of ten thousand daemons holds
// well under 100 MB, so a run that holds gigabytes is evaluating a spec that builds a
// value far larger than any daemon task definition (list.Range(0, 1e9, 1), say), and
// would otherwise take the machine's memory.
const defaultMaxMemory = "2GiB"

// sizeUnits are the units --max-memory takes, in bytes.
var sizeUnits = map[string]uint64{"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}

var sizeRE = regexp.MustCompile(`^([0-9]+)\s*([A-Za-z]*)$`)

// parseSize reads a size such as 512MiB or 2GiB.
func parseSize(s string) (uint64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q: want a size such as 512MiB or 2GiB", s)
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	n, err := strconv.ParseUint(m[1], 10, 64)
	if !ok || err != nil || n == 0 || n > (1<<63)/unit {
		return 0, fmt.Errorf("%q: want a size such as 512MiB or 2GiB (units B, KiB, MiB, GiB, TiB)", s)
	}
	return n * unit, nil
}

// liveHeapMetric is the heap that the last collection found live: garbage not collected
// yet does not count, so GOGC and GOMEMLIMIT do not move the bound.
const liveHeapMetric = "/gc/heap/live:bytes"

// watchMemory sends the live heap on the returned channel once it exceeds limit bytes,
// checking every few milliseconds until stop is closed.
func watchMemory(limit uint64, stop <-chan struct{}) <-chan uint64 {
	over := make(chan uint64, 1)
	go func() {
		sample := []metrics.Sample{{Name: liveHeapMetric}}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				metrics.Read(sample)
				if live := sample[0].Value.Uint64(); live > limit {
					over <- live
					return
				}
			}
		}
	}()
	return over
}

// formatSize writes n bytes in the largest unit that keeps it whole, as parseSize reads.
func formatSize(n uint64) string {
	for _, u := range []string{"TiB", "GiB", "MiB", "KiB"} {
		if size := sizeUnits[strings.ToLower(u)]; n >= size && n%size == 0 {
			return strconv.FormatUint(n/size, 10) + u
		}
	}
	return strconv.FormatUint(n, 10) + "B"
}
