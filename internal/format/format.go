// Package format prints measured figures the way the pages do, for the
// server-rendered pages and the command line alike. It matches
// static/js/format.js, so a figure printed on the server reads the same as
// one the page script prints.
package format

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Figure prints a number with about three significant digits, and its
// unit when there is one.
func Figure(v float64, unit string) string {
	s := Number(v)
	if unit != "" {
		s += " " + unit
	}
	return s
}

// Number prints a number with about three significant digits.
func Number(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case a == 0:
		return "0"
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + " G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + " M"
	case a >= 1e4:
		return thousands(int64(math.Round(v)))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(v, 'f', 2, 64), "0"), ".")
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Plural is the "s" a count other than one takes: fmt.Sprintf("%d run%s", n, Plural(n)).
func Plural(n int) string { return Pick(n, "", "s") }

// Pick is one for a count of one, else many: the word a count takes
// ("is"/"are", "process"/"processes").
func Pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Ms is a duration in milliseconds, to the nanosecond: the unit of every
// event's time and of most figures the experiments report.
func Ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// Round rounds v to n decimal places, halves away from zero: the one
// rounding of figures before they are sent or compared.
func Round(v float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(v*p) / p
}

// Sig rounds v to n significant digits: the one rounding of figures whose
// size varies by decades.
func Sig(v float64, n int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	p := math.Pow(10, float64(n-1)-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}
