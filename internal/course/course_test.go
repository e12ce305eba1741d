package course

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"conclab/internal/lab"
	"conclab/web/ui"
)

func exp(id, lesson string) *lab.Experiment {
	return &lab.Experiment{ID: id, Lesson: lesson, Title: id, Run: func(context.Context, lab.Params, *lab.Emitter) error { return nil }}
}

func lesson(slug string, exps ...*lab.Experiment) Lesson {
	return Lesson{Slug: slug, Title: "T " + slug, Summary: "S " + slug, Experiments: exps}
}

func TestNewDerivesTheCourse(t *testing.T) {
	t.Parallel()
	a := lesson("first-one", exp("a-one", ""), exp("a-two", ""))
	b := lesson("second-one", exp("b-one", "second-one"))
	b.Assets = fstest.MapFS{"page.css": {Data: []byte("p{}")}}
	b.Styles = []string{"page.css"}
	b.Recap = []ui.RecapFigure{{Group: ui.RecapSwitches, Experiment: "b-one", Key: "x.y", What: "X"}}
	c, err := New(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range c.Registry().All() {
		ids = append(ids, e.ID+"@"+e.Lesson)
	}
	if got, want := strings.Join(ids, " "), "a-one@first-one a-two@first-one b-one@second-one"; got != want {
		t.Errorf("registry %q, want %q (in course order, each with its lesson)", got, want)
	}
	if refs := c.Refs(); len(refs) != 2 || refs[1].Number != 2 || refs[1].Slug != "second-one" || refs[1].Ready {
		t.Errorf("refs %+v", refs)
	}
	if r := c.Recap(); len(r) != 1 || r[0].Lesson.Number != 2 {
		t.Errorf("recap %+v, want one figure from lesson 2", r)
	}
	styles, _ := c.Head(1)
	if len(styles) != 1 || !strings.HasPrefix(styles[0], "/static/lessons/second-one/page.css?v=") || c.AssetVersion("second-one") == "" {
		t.Errorf("head styles %v", styles)
	}
}

func TestNewRefusesMalformedLessons(t *testing.T) {
	t.Parallel()
	withAsset := lesson("with-asset")
	withAsset.Styles = []string{"missing.css"}
	withAsset.Assets = fstest.MapFS{}
	foreign := lesson("takes-figures", exp("mine", ""))
	foreign.Recap = []ui.RecapFigure{{Experiment: "other", Key: "k"}}
	badKey := lesson("bad-key", exp("mine2", ""))
	badKey.Recap = []ui.RecapFigure{{Experiment: "mine2", Key: "Not A Key"}}
	tests := []struct {
		name    string
		lessons []Lesson
		want    string
	}{
		{"bad slug", []Lesson{lesson("Bad Slug")}, "not lower-case"},
		{"twice", []Lesson{lesson("same"), lesson("same")}, "twice"},
		{"no title", []Lesson{{Slug: "untitled", Summary: "s"}}, "needs a title"},
		{"another lesson's experiment", []Lesson{lesson("here", exp("x-one", "elsewhere"))}, "belongs to elsewhere"},
		{"same experiment twice", []Lesson{lesson("one", exp("dup", "")), lesson("two", exp("dup", ""))}, "registered twice"},
		{"missing asset", []Lesson{withAsset}, "missing.css"},
		{"assets named without Assets", []Lesson{{Slug: "no-fs", Title: "t", Summary: "s", Scripts: []string{"a.js"}}}, "no Assets"},
		{"recap of another's experiment", []Lesson{lesson("other-lesson", exp("other", "")), foreign}, "not one of its experiments"},
		{"malformed recap key", []Lesson{badKey}, "malformed key"},
	}
	for _, tt := range tests {
		if _, err := New(tt.lessons...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to say %q", tt.name, err, tt.want)
		}
	}
}
