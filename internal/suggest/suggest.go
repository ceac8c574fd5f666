// Package suggest owns the "did you mean" of surge's error messages: the
// edit distance of a misspelt name to the names that were possible, and the
// nearest of them. One copy for the config keys (cmd/surge), the shape
// block (shaper) and the regions block (replay).
package suggest

// Distance is the Levenshtein distance of a and b in bytes (insert, delete,
// substitute; each costs 1). Written here: the one library function that
// has it (cobra's ld) is not exported, and it is ten lines.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Nearest returns the candidate nearest to s by Distance, both compared
// after norm (nil: as they are), or "" when none is within a third of s's
// length plus one. Ties go to the earlier candidate.
func Nearest(s string, candidates []string, norm func(string) string) string {
	if norm == nil {
		norm = func(x string) string { return x }
	}
	best, bestD := "", len(s)/3+2
	ns := norm(s)
	for _, c := range candidates {
		if d := Distance(ns, norm(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}
