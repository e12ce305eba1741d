package format

// Times prints a ratio as the pages do: "1.83×", "120×".
func Times(r float64) string { return Number(r) + "×" }
