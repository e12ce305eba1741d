package lab

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"conclab/internal/probe"
)

// Kind is the type of a parameter.
type Kind string

// The kinds of parameter an experiment can take.
const (
	KindInt    Kind = "int"
	KindFloat  Kind = "float"
	KindChoice Kind = "choice"
	KindBool   Kind = "bool"
)

// Param describes one parameter of an experiment: its type, its default,
// the bounds the server enforces, and the help a learner reads.
type Param struct {
	Name    string   // identifier in --set name=value and in websocket params
	Label   string   // short label for the form
	Help    string   // one sentence: what it changes
	Unit    string   // unit of the value, if any ("ms", "items")
	Kind    Kind     // int, float, choice or bool
	Min     float64  // lowest allowed value (int and float)
	Max     float64  // highest allowed value (int and float)
	Choices []string // allowed values (choice)
	Default any      // int, float64, string or bool, by Kind
	Quick   any      // value used by --quick; nil means Default

	// PerCPUMax and PerCPUDefault, when set (see PerCPU), are the highest
	// value and the default for each CPU this process may use; Max and
	// Default are then the larger of the declared value and that many
	// times the usable CPUs (CPUs), so that a claim about "the CPUs" can be
	// tested on a 64-CPU server as well as on a laptop.
	PerCPUMax     int
	PerCPUDefault int
	CPUs          int // the usable CPUs Max and Default were scaled to; 0 when not scaled
	declared      *[2]any
}

// Int declares an integer parameter bounded by [min, max].
func Int(name, label string, def, min, max int, help string) Param {
	return Param{Name: name, Label: label, Kind: KindInt, Default: def, Min: float64(min), Max: float64(max), Help: help}
}

// Float declares a real-valued parameter bounded by [min, max].
func Float(name, label string, def, min, max float64, help string) Param {
	return Param{Name: name, Label: label, Kind: KindFloat, Default: def, Min: min, Max: max, Help: help}
}

// Choice declares a parameter that takes one of a fixed list of words.
func Choice(name, label string, def string, choices []string, help string) Param {
	return Param{Name: name, Label: label, Kind: KindChoice, Default: def, Choices: choices, Help: help}
}

// Bool declares an on/off parameter.
func Bool(name, label string, def bool, help string) Param {
	return Param{Name: name, Label: label, Kind: KindBool, Default: def, Help: help}
}

// WithQuick sets the value --quick uses instead of the default.
func (p Param) WithQuick(v any) Param { p.Quick = v; return p }

// UsableCPUs is how many CPUs this process can really run on: its
// affinity mask, lowered by a cgroup CPU quota (probe.Host.EffectiveCPUs).
// Parameters that scale with the machine (PerCPU) are scaled to it.
func UsableCPUs() int { return probe.UsableCPUs() }

// PerCPU makes an integer parameter grow with the machine: its highest
// allowed value becomes max for each usable CPU and its default def for
// each (0 leaves the default alone), wherever that is more than the values
// declared, which stay the floor. The machine's limit then shows in every
// error and in `conclab list` ("... from 2 to 128: 64 per CPU, 2 CPUs
// here"). The default never exceeds the highest allowed value.
func (p Param) PerCPU(def, max int) Param {
	if p.Kind != KindInt {
		panic("lab: PerCPU on parameter " + p.Name + ", which is not an integer")
	}
	p.PerCPUDefault, p.PerCPUMax = def, max
	return p.On(UsableCPUs())
}

// On is the parameter as it is on a machine with cpus usable CPUs: its
// highest value and default scaled to them (see PerCPU). A parameter that
// does not scale is returned as it is.
func (p Param) On(cpus int) Param {
	if p.PerCPUMax == 0 && p.PerCPUDefault == 0 {
		return p
	}
	if p.declared == nil {
		p.declared = &[2]any{p.Max, p.Default}
	}
	cpus = max(cpus, 1)
	p.CPUs = cpus
	p.Max = math.Max(p.declared[0].(float64), float64(p.PerCPUMax*cpus))
	def, _ := p.declared[1].(int)
	if p.PerCPUDefault > 0 {
		def = max(def, p.PerCPUDefault*cpus)
	}
	p.Default = min(def, int(p.Max))
	return p
}

// WithUnit sets the unit shown next to the value.
func (p Param) WithUnit(u string) Param { p.Unit = u; return p }

// Range describes the allowed values in words, for errors and help.
func (p Param) Range() string {
	switch p.Kind {
	case KindInt:
		return fmt.Sprintf("an integer from %s to %s%s", fmtNum(p.Min), fmtNum(p.Max), p.machineLimit())
	case KindFloat:
		return fmt.Sprintf("a number from %s to %s", fmtNum(p.Min), fmtNum(p.Max))
	case KindChoice:
		return "one of " + strings.Join(p.Choices, ", ")
	case KindBool:
		return "true or false"
	}
	return "?"
}

// machineLimit says where a highest value that grows with the machine
// came from, or "" for a fixed one.
func (p Param) machineLimit() string {
	if p.PerCPUMax == 0 || p.CPUs == 0 || float64(p.PerCPUMax*p.CPUs) < p.Max {
		return ""
	}
	return fmt.Sprintf(" (%d per usable CPU; this machine has %d)", p.PerCPUMax, p.CPUs)
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// MarshalJSON writes the parameter as `conclab list --json` shows it.
func (p Param) MarshalJSON() ([]byte, error) {
	type view struct {
		Name    string   `json:"name"`
		Label   string   `json:"label"`
		Kind    Kind     `json:"kind"`
		Default any      `json:"default"`
		Min     *float64 `json:"min,omitempty"`
		Max     *float64 `json:"max,omitempty"`
		Choices []string `json:"choices,omitempty"`
		Unit    string   `json:"unit,omitempty"`
		Help    string   `json:"help"`
		PerCPU  int      `json:"max_per_cpu,omitempty"` // the highest value grows with the machine: this many per usable CPU
		CPUs    int      `json:"usable_cpus,omitempty"` // the usable CPUs the highest value and the default were scaled to
	}
	v := view{Name: p.Name, Label: p.Label, Kind: p.Kind, Default: p.Default, Choices: p.Choices, Unit: p.Unit, Help: p.Help, PerCPU: p.PerCPUMax, CPUs: p.CPUs}
	if p.Kind == KindInt || p.Kind == KindFloat {
		v.Min, v.Max = &p.Min, &p.Max
	}
	return json.Marshal(v)
}

// ParamError is bad input: an unknown parameter or a value out of range.
// Its message is meant for the person who typed the value.
type ParamError struct {
	Experiment string
	Param      string
	Msg        string
}

func (e *ParamError) Error() string { return e.Msg }

// Params are validated parameter values: every parameter of the experiment
// is present, with a value of its kind inside its bounds.
type Params map[string]any

// Int returns an integer parameter.
func (p Params) Int(name string) int {
	v, ok := p[name].(int)
	if !ok {
		panic(fmt.Sprintf("lab: parameter %q is not an int (%T)", name, p[name]))
	}
	return v
}

// Float returns a real-valued parameter.
func (p Params) Float(name string) float64 {
	v, ok := p[name].(float64)
	if !ok {
		panic(fmt.Sprintf("lab: parameter %q is not a float (%T)", name, p[name]))
	}
	return v
}

// String returns a choice parameter.
func (p Params) String(name string) string {
	v, ok := p[name].(string)
	if !ok {
		panic(fmt.Sprintf("lab: parameter %q is not a choice (%T)", name, p[name]))
	}
	return v
}

// Bool returns an on/off parameter.
func (p Params) Bool(name string) bool {
	v, ok := p[name].(bool)
	if !ok {
		panic(fmt.Sprintf("lab: parameter %q is not a bool (%T)", name, p[name]))
	}
	return v
}

// Key is a canonical encoding of the values: two requests with the same
// key are the same run.
func (p Params) Key() string {
	b, _ := json.Marshal(map[string]any(p)) // map keys are sorted
	return string(b)
}

// Validate checks raw values against the experiment's parameters and fills
// in the rest from the defaults (or the quick values when quick is set).
// Raw values may be strings (from --set), float64, json.Number or bool
// (from JSON). Any problem is a *ParamError naming the parameter and the
// allowed range.
func (e *Experiment) Validate(raw map[string]any, quick bool) (Params, error) {
	out := Params{}
	for _, p := range e.Params {
		v := p.Default
		if quick && p.Quick != nil {
			v = p.Quick
		}
		cv, err := p.convert(v)
		if err != nil { // Register checked every default and quick value
			panic(fmt.Sprintf("lab: %s: default of %s: %v", e.ID, p.Name, err))
		}
		out[p.Name] = cv
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	slices.Sort(names) // report the first bad one in a stable order
	for _, name := range names {
		i := slices.IndexFunc(e.Params, func(p Param) bool { return p.Name == name })
		if i < 0 {
			return nil, &ParamError{e.ID, name, e.unknownParam(name)}
		}
		v, err := e.Params[i].convert(raw[name])
		if err != nil {
			return nil, &ParamError{e.ID, name, err.Error()}
		}
		out[name] = v
	}
	return out, nil
}

func (e *Experiment) unknownParam(name string) string {
	if len(e.Params) == 0 {
		return fmt.Sprintf("%s takes no parameters, got %q", e.ID, name)
	}
	known := make([]string, len(e.Params))
	for i, p := range e.Params {
		known[i] = p.Name
	}
	return fmt.Sprintf("%s has no parameter %q; it takes %s", e.ID, name, strings.Join(known, ", "))
}

// convert turns a raw value into the parameter's kind and checks its bounds.
func (p Param) convert(raw any) (any, error) {
	bad := func(got any) error {
		return fmt.Errorf("%s must be %s, got %s", p.Name, p.Range(), show(got))
	}
	switch p.Kind {
	case KindInt, KindFloat:
		f, ok := number(raw)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad(raw)
		}
		if p.Kind == KindInt && f != math.Trunc(f) {
			return nil, bad(raw)
		}
		if f < p.Min || f > p.Max {
			return nil, bad(raw)
		}
		if p.Kind == KindInt {
			return int(f), nil
		}
		return f, nil
	case KindChoice:
		s, ok := raw.(string)
		if !ok || !slices.Contains(p.Choices, s) {
			return nil, bad(raw)
		}
		return s, nil
	case KindBool:
		switch v := raw.(type) {
		case bool:
			return v, nil
		case string:
			if b, err := strconv.ParseBool(v); err == nil {
				return b, nil
			}
		}
		return nil, bad(raw)
	}
	return nil, fmt.Errorf("%s has an unknown kind %q", p.Name, p.Kind)
}

func number(raw any) (float64, bool) {
	switch v := raw.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.ReplaceAll(v, "_", "")), 64)
		return f, err == nil
	}
	return 0, false
}

func show(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return strconv.Quote(v)
	case nil:
		return "nothing"
	case float64:
		return fmtNum(v)
	}
	b, err := json.Marshal(v)
	if err != nil || len(b) > 40 {
		return fmt.Sprintf("a %T", v)
	}
	return string(b)
}
