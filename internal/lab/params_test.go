package lab

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func testExperiment() *Experiment {
	return &Experiment{
		ID: "demo", Lesson: "l", Title: "Demo",
		Params: []Param{
			Int("workers", "Workers", 4, 1, 64, "how many").WithQuick(2),
			Float("wait", "Wait", 1.5, 0, 10, "seconds"),
			Choice("mode", "Mode", "fast", []string{"fast", "slow"}, "which"),
			Bool("cross", "Cross", true, "across CPUs"),
		},
		Run: func(ctx context.Context, p Params, e *Emitter) error { return nil },
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	e := testExperiment()
	tests := []struct {
		name    string
		raw     map[string]any
		quick   bool
		want    Params
		wantErr string // words the error must contain
	}{
		{name: "defaults", want: Params{"workers": 4, "wait": 1.5, "mode": "fast", "cross": true}},
		{name: "quick", quick: true, want: Params{"workers": 2, "wait": 1.5, "mode": "fast", "cross": true}},
		{name: "strings from --set", raw: map[string]any{"workers": "8", "wait": "0.25", "mode": "slow", "cross": "false"},
			want: Params{"workers": 8, "wait": 0.25, "mode": "slow", "cross": false}},
		{name: "JSON numbers", raw: map[string]any{"workers": 64.0, "wait": 0.0}, want: Params{"workers": 64, "wait": 0.0, "mode": "fast", "cross": true}},
		{name: "explicit beats quick", raw: map[string]any{"workers": "3"}, quick: true, want: Params{"workers": 3, "wait": 1.5, "mode": "fast", "cross": true}},
		{name: "too big", raw: map[string]any{"workers": 500.0}, wantErr: "workers must be an integer from 1 to 64, got 500"},
		{name: "too small", raw: map[string]any{"wait": "-1"}, wantErr: "wait must be a number from 0 to 10, got \"-1\""},
		{name: "not whole", raw: map[string]any{"workers": 2.5}, wantErr: "workers must be an integer from 1 to 64"},
		{name: "not a number", raw: map[string]any{"workers": "many"}, wantErr: "workers must be an integer"},
		{name: "NaN", raw: map[string]any{"wait": "NaN"}, wantErr: "wait must be a number"},
		{name: "bad choice", raw: map[string]any{"mode": "medium"}, wantErr: "mode must be one of fast, slow, got \"medium\""},
		{name: "bad bool", raw: map[string]any{"cross": "perhaps"}, wantErr: "cross must be true or false"},
		{name: "wrong type", raw: map[string]any{"mode": 3.0}, wantErr: "mode must be one of fast, slow, got 3"},
		{name: "unknown", raw: map[string]any{"speed": "1"}, wantErr: `demo has no parameter "speed"; it takes workers, wait, mode, cross`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Validate(tt.raw, tt.quick)
			if tt.wantErr != "" {
				var pe *ParamError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate(%v) error = %v, want a ParamError containing %q", tt.raw, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate(%v) error = %v", tt.raw, err)
			}
			if got.Key() != tt.want.Key() {
				t.Errorf("Validate(%v) = %v, want %v", tt.raw, got.Key(), tt.want.Key())
			}
		})
	}
}

func TestKeyIsCanonical(t *testing.T) {
	t.Parallel()
	e := testExperiment()
	a, _ := e.Validate(map[string]any{"workers": "8", "mode": "slow"}, false)
	b, _ := e.Validate(map[string]any{"mode": "slow", "workers": 8.0}, false)
	if a.Key() != b.Key() {
		t.Errorf("same values, different keys: %s vs %s", a.Key(), b.Key())
	}
}

func TestRegisterRejectsMalformed(t *testing.T) {
	t.Parallel()
	bad := map[string]func(e *Experiment){
		"bad id":          func(e *Experiment) { e.ID = "Bad ID" },
		"no run":          func(e *Experiment) { e.Run = nil },
		"default outside": func(e *Experiment) { e.Params[0].Default = 100 },
		"quick outside":   func(e *Experiment) { e.Params[0].Quick = 0 },
		"unknown chart":   func(e *Experiment) { e.Charts = []Chart{{ID: "c", Kind: "pie"}} },
		"claim w/o value": func(e *Experiment) { e.Claims = []Claim{{Claim: "x"}} },
		"param twice":     func(e *Experiment) { e.Params = append(e.Params, e.Params[0]) },
	}
	for name, spoil := range bad {
		t.Run(name, func(t *testing.T) {
			e := testExperiment()
			spoil(e)
			defer func() {
				if recover() == nil {
					t.Errorf("Register accepted an experiment with %s", name)
				}
			}()
			NewRegistry().Register(e)
		})
	}
}

func TestSummarizeAndHistogram(t *testing.T) {
	t.Parallel()
	s := Summarize([]float64{5, 1, 4, 2, 3})
	if s.N != 5 || s.Min != 1 || s.Max != 5 || s.P50 != 3 || s.Mean != 3 {
		t.Errorf("Summarize = %+v", s)
	}
	bins := Histogram([]float64{0.5, 1, 10, 99, 1000, 5000}, 1, 1000, 3, true)
	var counts []float64
	for _, b := range bins {
		counts = append(counts, b[2])
	}
	// 0.5 and 1 → first bin; 10 → second; 99 → second; 1000 and 5000 → last.
	if want := []float64{2, 2, 2}; len(counts) != 3 || counts[0] != want[0] || counts[1] != want[1] || counts[2] != want[2] {
		t.Errorf("Histogram counts = %v, want %v", counts, want)
	}
}

// A parameter about "the CPUs" lets a 64-CPU server test its claim, and
// says the machine's limit in its error and in `conclab list`.
func TestPerCPUScalesToTheMachine(t *testing.T) {
	t.Parallel()
	base := Int("tasks", "Tasks", 6, 2, 10, "how many").PerCPU(4, 16)
	for _, c := range []struct {
		cpus, def, max int
		rangeWords     string
	}{
		{1, 6, 16, "an integer from 2 to 16 (16 per usable CPU; this machine has 1)"},
		{2, 8, 32, "an integer from 2 to 32 (16 per usable CPU; this machine has 2)"},
		{8, 32, 128, "an integer from 2 to 128 (16 per usable CPU; this machine has 8)"},
		{64, 256, 1024, "an integer from 2 to 1024 (16 per usable CPU; this machine has 64)"},
	} {
		p := base.On(c.cpus)
		if p.Default != c.def || p.Max != float64(c.max) || p.Range() != c.rangeWords {
			t.Errorf("on %d CPUs: default %v, max %v, range %q; want %d, %d, %q", c.cpus, p.Default, p.Max, p.Range(), c.def, c.max, c.rangeWords)
		}
		e := &Experiment{ID: "demo", Lesson: "l", Title: "Demo", Params: []Param{p}, Run: func(context.Context, Params, *Emitter) error { return nil }}
		if _, err := e.Validate(map[string]any{"tasks": float64(c.max + 1)}, false); err == nil || !strings.Contains(err.Error(), c.rangeWords) {
			t.Errorf("on %d CPUs: one too many gave %v, want an error saying %q", c.cpus, err, c.rangeWords)
		}
		if _, err := e.Validate(map[string]any{"tasks": float64(c.max)}, false); err != nil {
			t.Errorf("on %d CPUs: the machine's limit itself was refused: %v", c.cpus, err)
		}
	}
	// The declared values stay the floor: a per-CPU maximum below them
	// changes nothing on a small machine, and the range says no more.
	small := Int("n", "N", 3, 1, 64, "").PerCPU(0, 4).On(2)
	if small.Max != 64 || small.Default != 3 || strings.Contains(small.Range(), "per usable CPU") {
		t.Errorf("a per-CPU maximum below the declared one: max %v, default %v, range %q", small.Max, small.Default, small.Range())
	}
	b, _ := json.Marshal(base.On(8))
	if !strings.Contains(string(b), `"max":128`) || !strings.Contains(string(b), `"max_per_cpu":16`) || !strings.Contains(string(b), `"usable_cpus":8`) {
		t.Errorf("list JSON %s does not give the machine's limit", b)
	}
}
