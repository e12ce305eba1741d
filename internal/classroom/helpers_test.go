package classroom_test

import (
	"testing"

	"conclab/internal/classroom"
	"conclab/internal/engine"
	"conclab/internal/engine/enginetest"
	"conclab/internal/lab"
	"conclab/internal/protocol"
)

// room is a scheduler and the classroom it tells, wired as the server
// wires them, with the calls the tests make.
type room struct {
	*engine.Scheduler
	c *classroom.Classroom
}

func newRoom(t *testing.T, host engine.Host, cfg engine.Config) *room {
	var s *engine.Scheduler
	c := classroom.New(classroom.Config{Snapshot: func() engine.Snapshot { return s.Snapshot() }})
	cfg.Class = c
	s = engine.NewScheduler([]engine.Host{host}, cfg, nil)
	t.Cleanup(func() { s.Close(); c.Close() })
	return &room{Scheduler: s, c: c}
}

func newTestScheduler(t *testing.T, cfg engine.Config) (*room, *enginetest.Runs, *lab.Experiment) {
	f := enginetest.NewRuns()
	return newRoom(t, f.Host("test-host"), cfg), f, enginetest.Experiment()
}

func (r *room) Class() protocol.Class { return r.c.View() }
func (r *room) Follow(lesson, learner string, v engine.Viewer) {
	r.c.Follow(lesson, learner, false, v)
}
func (r *room) SetFollowing(v engine.Viewer, on bool) { r.c.SetFollowing(v, on) }
func (r *room) Leave(v engine.Viewer)                 { r.Scheduler.Leave(v); r.c.Leave(v) }
func (r *room) Predict(e *lab.Experiment, claim int, value any, learner string, _ engine.Viewer) (protocol.Predicted, error) {
	return r.c.Predict(e, claim, value, learner)
}
func (r *room) OpenRound(e *lab.Experiment)           { r.c.OpenRound(e) }
func (r *room) Reveal(e *lab.Experiment) error        { return r.c.Reveal(e) }
func (r *room) ResetGuesses(e *lab.Experiment)        { r.c.ResetGuesses(e) }
func (r *room) ClassGuesses() []classroom.ScoredGuess { return r.c.ClassGuesses() }
func (r *room) WatchClass(v engine.Viewer)            { r.c.WatchClass(v) }
