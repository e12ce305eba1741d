package lab

import (
	"encoding/json"
	"regexp"
)

var keyPattern = regexp.MustCompile(`^[a-z0-9]+(?:[._][a-z0-9]+)*$`)

// ValidKey reports whether k is a well-formed metric key: lower-case words
// and numbers joined by '.' (from general to particular) or '_' (inside a
// word group), such as "switch.thread.same_cpu". A key never holds a
// figure that depends on the parameters (a worker count, a size): it names
// the same figure whatever the run was asked to do.
func ValidKey(k string) bool { return len(k) <= 80 && keyPattern.MatchString(k) }

// FindMetric returns the metric with this key.
func FindMetric(metrics []Metric, key string) (Metric, bool) {
	for _, m := range metrics {
		if m.Key == key {
			return m, true
		}
	}
	return Metric{}, false
}

// ResultBody is the payload of a result event.
type ResultBody struct {
	Metrics []Metric `json:"metrics"`
	Claims  []Claim  `json:"claims"`
}

// DecodeResult decodes a result event.
func DecodeResult(result json.RawMessage) (ResultBody, error) {
	var b ResultBody
	err := json.Unmarshal(result, &b)
	return b, err
}
