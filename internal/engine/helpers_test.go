package engine

import (
	"context"

	"conclab/internal/lab"
)

func testExperiment() *lab.Experiment {
	return &lab.Experiment{
		ID: "demo", Lesson: "l", Title: "Demo",
		Params: []lab.Param{
			lab.Int("workers", "Workers", 4, 1, 64, "how many").WithQuick(2),
		},
		Run: func(ctx context.Context, p lab.Params, e *lab.Emitter) error { return nil },
	}
}
