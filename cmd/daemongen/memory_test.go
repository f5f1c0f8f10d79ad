package main

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"2GiB", 2 << 30}, {"512MiB", 512 << 20}, {"512mib", 512 << 20}, {"64 KiB", 64 << 10},
		{"1TiB", 1 << 40}, {"1000", 1000}, {"1000B", 1000},
	} {
		got, err := parseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if back, err := parseSize(formatSize(got)); err != nil || back != got {
			t.Errorf("formatSize(%d) = %q, which reads back as %d, %v", got, formatSize(got), back, err)
		}
	}
	for _, bad := range []string{"", "0", "2GB", "2 G", "-1MiB", "1.5GiB", "GiB", "99999999999TiB"} {
		if n, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, n)
		}
	}
}
