package report

import (
	"math"
	"strconv"
	"strings"
)

// Fig formats a figure shown to a person, the one rule of every text and
// HTML report (and capacity search's): whole numbers with thousands
// separators from 99.5 up (2,251), three significant digits below (12.3,
// 1.23, 0.0123; trailing zeros dropped, at most 6 decimals), "0" for zero.
// JSON keeps the exact values.
func Fig(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case v < 0:
		return "-" + Fig(-v)
	case v == 0:
		return "0"
	case v >= 99.5:
		return count(int64(math.Round(v)))
	}
	d := min(6, max(0, 2-int(math.Floor(math.Log10(v)))))
	s := strconv.FormatFloat(v, 'f', d, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "" || s == "0" {
		return "0"
	}
	return s
}

// Ratio formats a ratio, speed or other setting a person chose (2.5, 0.6,
// 1.2): at most 6 significant digits, so arithmetic noise
// (1.2000000000000002) never shows.
func Ratio(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	p := math.Pow(10, 5-math.Floor(math.Log10(math.Abs(v))))
	return strconv.FormatFloat(math.Round(v*p)/p, 'f', -1, 64)
}
