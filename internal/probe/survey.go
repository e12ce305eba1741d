package probe

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"time"
)

// Survey is how busy the machine is right now, for an instructor's check
// before class: the load averages, what other programs used of the CPUs
// over a short window, and which processes used the most.
type Survey struct {
	Load1, Load5, Load15 float64       // /proc/loadavg
	Runnable             int           // tasks runnable at the moment of reading (/proc/loadavg's fourth field)
	Others               float64       // CPUs' worth of time other programs used during the window
	CPUs                 int           // the CPUs this process may use
	Window               time.Duration // how long it watched
	Busy                 []BusyProcess // processes that used 5% of a CPU or more meanwhile, busiest first
}

// BusyProcess is one process that kept a CPU busy during a survey.
type BusyProcess struct {
	PID  int     `json:"pid"`
	Name string  `json:"name"`
	CPUs float64 `json:"cpus"` // CPUs' worth of time it used, on average
}

// TakeSurvey watches the machine for window and reports what it saw.
func TakeSurvey(window time.Duration) (Survey, error) {
	s := Survey{Window: window}
	cpus, err := AllowedCPUs()
	if err != nil {
		return s, err
	}
	s.CPUs = len(cpus)
	before := processTimes()
	t0, err := ReadCPUTimes(cpus)
	if err != nil {
		return s, err
	}
	time.Sleep(window)
	t1, err := ReadCPUTimes(cpus)
	if err != nil {
		return s, err
	}
	after := processTimes()
	s.Others = t1.Others(t0)
	wall := t1.At.Sub(t0.At).Seconds()
	self := os.Getpid()
	for pid, a := range after {
		b, ok := before[pid]
		if !ok || pid == self {
			continue
		}
		if use := (a.cpu - b.cpu).Seconds() / wall; use >= 0.05 {
			s.Busy = append(s.Busy, BusyProcess{PID: pid, Name: a.name, CPUs: use})
		}
	}
	slices.SortFunc(s.Busy, func(x, y BusyProcess) int {
		switch {
		case x.CPUs > y.CPUs:
			return -1
		case x.CPUs < y.CPUs:
			return 1
		}
		return x.PID - y.PID
	})
	s.Load1, s.Load5, s.Load15, s.Runnable = loadAverages()
	return s, nil
}

type procTime struct {
	name string
	cpu  time.Duration // its own CPU time, without its children's
}

// processTimes reads every process's name and CPU time from /proc.
func processTimes() map[int]procTime {
	out := map[int]procTime{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open {
			continue
		}
		f := bytes.Fields(b[end+1:])
		if len(f) < 13 {
			continue
		}
		u, err1 := strconv.ParseInt(string(f[11]), 10, 64)
		s, err2 := strconv.ParseInt(string(f[12]), 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out[pid] = procTime{name: string(b[open+1 : end]), cpu: time.Duration(u+s) * (time.Second / userHZ)}
	}
	return out
}

// loadAverages reads /proc/loadavg: "0.26 1.81 2.31 1/83 1438".
func loadAverages() (l1, l5, l15 float64, runnable int) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, 0, 0, 0
	}
	f := bytes.Fields(b)
	if len(f) < 4 {
		return 0, 0, 0, 0
	}
	l1, _ = strconv.ParseFloat(string(f[0]), 64)
	l5, _ = strconv.ParseFloat(string(f[1]), 64)
	l15, _ = strconv.ParseFloat(string(f[2]), 64)
	if r, _, ok := bytes.Cut(f[3], []byte("/")); ok {
		runnable, _ = strconv.Atoi(string(r))
	}
	return l1, l5, l15, runnable
}
