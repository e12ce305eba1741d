package cpuvsiobound

import (
	"math"
	"time"
)

// Figures as the tables and metrics show them.

func ms(d time.Duration) float64 { return round3(float64(d.Nanoseconds()) / 1e6) }

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
