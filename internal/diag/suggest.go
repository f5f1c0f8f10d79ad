package diag

import (
	"strings"

	"github.com/agext/levenshtein"
)

// Suggest returns the candidate closest to name, if it is close enough to be a typo (at
// most half its length in edits, case aside) or one contains the other (CAP_NET_ADMIN for
// NET_ADMIN, taskRole for taskRoleArn), and "" otherwise. Both front ends and the schema's
// messages use it, so that "did you mean" means the same everywhere.
func Suggest(name string, candidates []string) string {
	best, bestDist := "", 0
	lower := strings.ToLower(name)
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := levenshtein.Distance(lower, lc, nil)
		contains := len(lc) >= 3 && len(lower) >= 3 && (strings.Contains(lower, lc) || strings.Contains(lc, lower))
		if (d <= len(c)/2 || contains) && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}
