package engine

import "slices"

// queue holds the runs waiting for their turn. The instructor's runs go
// first, in the order asked; students' runs are taken round-robin across
// learners — one from each learner in turn — so that one student's burst
// does not hold back everyone who asked after them.
type queue struct {
	first   []*Run            // the instructor's runs
	byOwner map[string][]*Run // each learner's waiting runs, oldest first
	turns   []string          // learners with waiting runs; turns[0] is served next
}

func newQueue() *queue { return &queue{byOwner: map[string][]*Run{}} }

// len is how many runs wait.
func (q *queue) len() int {
	n := len(q.first)
	for _, rs := range q.byOwner {
		n += len(rs)
	}
	return n
}

// push adds a run at the end of its owner's line.
func (q *queue) push(r *Run) {
	if r.Presenter() {
		q.first = append(q.first, r)
		return
	}
	if len(q.byOwner[r.owner]) == 0 {
		q.turns = append(q.turns, r.owner)
	}
	q.byOwner[r.owner] = append(q.byOwner[r.owner], r)
}

// pop takes the next run a host may take (ok says which): the
// instructor's first, in the order asked, then the learner whose turn it
// is and who has a run the host may take, who then goes to the back of
// the line. With students false only the instructor's runs are taken
// (students' runs are paused).
func (q *queue) pop(students bool, ok func(*Run) bool) *Run {
	for i, r := range q.first {
		if ok(r) {
			q.first = append(q.first[:i:i], q.first[i+1:]...)
			return r
		}
	}
	if !students {
		return nil
	}
	for t, owner := range q.turns {
		rs := q.byOwner[owner]
		for i, r := range rs {
			if !ok(r) {
				continue
			}
			q.turns = append(q.turns[:t:t], q.turns[t+1:]...)
			if len(rs) > 1 {
				q.byOwner[owner] = append(rs[:i:i], rs[i+1:]...)
				q.turns = append(q.turns, owner)
			} else {
				delete(q.byOwner, owner)
			}
			return r
		}
	}
	return nil
}

// pushFront puts a run back at the front of its line, and its owner's
// turn first: a run handed back by a host that went away.
func (q *queue) pushFront(r *Run) {
	if r.Presenter() {
		q.first = append([]*Run{r}, q.first...)
		return
	}
	if len(q.byOwner[r.owner]) == 0 {
		q.turns = append([]string{r.owner}, q.turns...)
	} else if i := slices.Index(q.turns, r.owner); i > 0 {
		q.turns = append(append([]string{r.owner}, q.turns[:i]...), q.turns[i+1:]...)
	}
	q.byOwner[r.owner] = append([]*Run{r}, q.byOwner[r.owner]...)
}

// remove takes r out of the queue wherever it is; false if it is not there.
func (q *queue) remove(r *Run) bool {
	for i, x := range q.first {
		if x == r {
			q.first = append(q.first[:i:i], q.first[i+1:]...)
			return true
		}
	}
	rs := q.byOwner[r.owner]
	for i, x := range rs {
		if x != r {
			continue
		}
		rs = append(rs[:i:i], rs[i+1:]...)
		if len(rs) == 0 {
			delete(q.byOwner, r.owner)
			for j, o := range q.turns {
				if o == r.owner {
					q.turns = append(q.turns[:j:j], q.turns[j+1:]...)
					break
				}
			}
		} else {
			q.byOwner[r.owner] = rs
		}
		return true
	}
	return false
}

// promote moves a student's waiting run to the instructor's line, when the
// instructor asks for the very same run.
func (q *queue) promote(r *Run) {
	if q.remove(r) {
		r.markPresenter()
		q.push(r)
	}
}

// order is every waiting run in the order they would start if nothing
// changed: positions and waits are read from it.
func (q *queue) order() []*Run {
	out := append([]*Run(nil), q.first...)
	next := map[string]int{}
	for left := q.len() - len(q.first); left > 0; {
		for _, owner := range q.turns {
			if i := next[owner]; i < len(q.byOwner[owner]) {
				out = append(out, q.byOwner[owner][i])
				next[owner] = i + 1
				left--
			}
		}
	}
	return out
}

// all is every waiting run, in no particular order.
func (q *queue) all() []*Run {
	out := append([]*Run(nil), q.first...)
	for _, rs := range q.byOwner {
		out = append(out, rs...)
	}
	return out
}
