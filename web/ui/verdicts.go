package ui

import "strconv"

// pct writes a share as a percentage: 0.25 → "25%".
func pct(share float64) string { return strconv.FormatFloat(share*100, 'f', -1, 64) + "%" }
