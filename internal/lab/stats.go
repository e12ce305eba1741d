package lab

import (
	"math"
	"slices"
)

// Summary describes a distribution of samples.
type Summary struct {
	N                       int
	Min, P10, P25, P50, P75 float64
	P90, P99, Max, Mean     float64
}

// Summarize sorts a copy of samples and reads its percentiles. An empty
// slice gives a zero Summary.
func Summarize(samples []float64) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return Summary{
		N: len(s), Min: s[0], Max: s[len(s)-1], Mean: sum / float64(len(s)),
		P10: quantile(s, 0.10), P25: quantile(s, 0.25), P50: quantile(s, 0.50),
		P75: quantile(s, 0.75), P90: quantile(s, 0.90), P99: quantile(s, 0.99),
	}
}

// quantile interpolates linearly between the closest ranks of sorted s.
func quantile(s []float64, q float64) float64 {
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// Metric turns the summary into a result metric whose value is the
// median: key is the metric's stable machine key, name its words for people.
func (s Summary) Metric(key, name, unit string) Metric {
	return Metric{Key: key, Name: name, Value: s.P50, Unit: unit, P50: ptr(s.P50), P99: ptr(s.P99), Min: ptr(s.Min), Max: ptr(s.Max), N: s.N}
}

func ptr(f float64) *float64 { return &f }

// Bin is one bar of a histogram: samples in [Lo, Hi).
type Bin [3]float64 // lo, hi, count

// Histogram puts samples into n bins between lo and hi; with log set the
// bins are equal in log scale. Samples outside [lo, hi] go to the end bins.
func Histogram(samples []float64, lo, hi float64, n int, log bool) []Bin {
	if n < 1 || hi <= lo || (log && lo <= 0) {
		return nil
	}
	edge := func(i int) float64 {
		f := float64(i) / float64(n)
		if log {
			return lo * math.Pow(hi/lo, f)
		}
		return lo + (hi-lo)*f
	}
	bins := make([]Bin, n)
	for i := range bins {
		bins[i] = Bin{edge(i), edge(i + 1), 0}
	}
	for _, v := range samples {
		var f float64
		if log {
			f = math.Log(v/lo) / math.Log(hi/lo)
		} else {
			f = (v - lo) / (hi - lo)
		}
		i := int(f * float64(n))
		i = max(0, min(n-1, i))
		bins[i][2]++
	}
	return bins
}
