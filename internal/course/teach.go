package course

import (
	"fmt"

	"conclab/internal/lab"
	"conclab/internal/teach"
)

// teaching is what the course derives from its lessons' teaching plans:
// every question and exercise by id, and every lesson's code snippets.
type teaching struct {
	questions map[string]Asked
	exercises map[string]Assigned
	snippets  map[string]map[string]teach.Snippet // slug → name → snippet
}

// Asked is a self-check question and the lesson it ends.
type Asked struct {
	teach.Question
	Lesson string
}

// Assigned is an exercise and the lesson it belongs to.
type Assigned struct {
	teach.Exercise
	Lesson string
}

func newTeaching() teaching {
	return teaching{questions: map[string]Asked{}, exercises: map[string]Assigned{}, snippets: map[string]map[string]teach.Snippet{}}
}

// index checks every lesson's plan against the course's experiments and
// indexes its questions, exercises and snippets. Ids are unique across
// the course: an answer is kept by its question's id alone.
func (c *Course) index() error {
	find := func(id string) (*lab.Experiment, bool) { return c.reg.Lookup(id) }
	seen := map[string]string{}
	claim := func(id, slug string) error {
		if prev, ok := seen[id]; ok {
			return fmt.Errorf("lesson %s: the id %q is already a question or exercise of %s", slug, id, prev)
		}
		seen[id] = slug
		return nil
	}
	for _, l := range c.lessons {
		if err := l.Teach.Check(find); err != nil {
			return fmt.Errorf("lesson %s: %w", l.Slug, err)
		}
		for _, q := range l.Teach.Questions {
			if err := claim(q.ID, l.Slug); err != nil {
				return err
			}
			c.questions[q.ID] = Asked{q, l.Slug}
		}
		for _, x := range l.Teach.Exercises {
			if err := claim(x.ID, l.Slug); err != nil {
				return err
			}
			c.exercises[x.ID] = Assigned{x, l.Slug}
		}
		snips, err := teach.Snippets(l.Teach.Code...)
		if err != nil {
			return fmt.Errorf("lesson %s: %w", l.Slug, err)
		}
		c.snippets[l.Slug] = snips
		for exp, names := range l.Teach.Show {
			for _, name := range names {
				if _, ok := snips[name]; !ok {
					return fmt.Errorf("lesson %s shows snippet %q for %s, which none of its sources holds", l.Slug, name, exp)
				}
			}
		}
	}
	return nil
}

// Question finds a self-check question by id.
func (c *Course) Question(id string) (Asked, bool) {
	q, ok := c.questions[id]
	return q, ok
}

// Exercise finds an exercise by id.
func (c *Course) Exercise(id string) (Assigned, bool) {
	x, ok := c.exercises[id]
	return x, ok
}

// Snippet is one of a lesson's code snippets, by name.
func (c *Course) Snippet(slug, name string) (teach.Snippet, bool) {
	s, ok := c.snippets[slug][name]
	return s, ok
}

// Snippets are all of a lesson's snippets, by name.
func (c *Course) Snippets(slug string) map[string]teach.Snippet { return c.snippets[slug] }

// CodeOf is the snippets an experiment's panel shows: those its lesson
// names for it, else the one named after the experiment; none when its
// sources hold none.
func (c *Course) CodeOf(exp *lab.Experiment) []teach.Snippet {
	_, l, ok := c.Find(exp.Lesson)
	if !ok {
		return nil
	}
	names := []string{exp.ID}
	if n, ok := l.Teach.Show[exp.ID]; ok {
		names = n
	}
	var out []teach.Snippet
	for _, name := range names {
		if s, ok := c.Snippet(l.Slug, name); ok {
			out = append(out, s)
		}
	}
	return out
}

// Lookup finds an experiment of the course by id, as teach.Experiments.
func (c *Course) Lookup(id string) (*lab.Experiment, bool) { return c.reg.Lookup(id) }
