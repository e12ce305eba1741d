package lab

// ExperimentInfo is one experiment as `conclab list --json` and
// /api/experiments show it.
type ExperimentInfo struct {
	ID      string  `json:"id"`
	Lesson  string  `json:"lesson"`
	Title   string  `json:"title"`
	Summary string  `json:"summary"`
	Limit   string  `json:"time_limit"`
	Params  []Param `json:"params"`
	Claims  []Claim `json:"claims"`
	// Predictions are what a learner may guess before a run.
	Predictions []Prediction `json:"predictions"`
}

// Describe lists the registry for `conclab list --json` and
// /api/experiments.
func (r *Registry) Describe() []ExperimentInfo {
	out := []ExperimentInfo{}
	for _, e := range r.list {
		params := e.Params
		if params == nil {
			params = []Param{}
		}
		preds := e.Predictions
		if preds == nil {
			preds = []Prediction{}
		}
		out = append(out, ExperimentInfo{ID: e.ID, Lesson: e.Lesson, Title: e.Title, Summary: e.Summary, Limit: e.TimeLimit().String(), Params: params, Claims: e.Claims, Predictions: preds})
	}
	return out
}
