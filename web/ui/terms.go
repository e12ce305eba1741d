package ui

import (
	"bytes"
	"context"
	"html"
	"io"
	"regexp"

	"github.com/a-h/templ"

	"conclab/internal/glossary"
)

// A lesson's prose marks the first use of a glossary term as a plain
// link with only the term's id, <a data-term="tlb">TLB</a>, and Terms
// turns each into a link to its entry on /glossary with the definition
// beside it, shown on hover and on keyboard focus by CSS alone and read
// out as the link's description (aria-describedby). The mark is plain
// HTML so that prose can put punctuation right after it, which templ's
// inline component calls cannot.

var termMark = regexp.MustCompile(`(?s)<a data-term="([a-z0-9-]+)">(.*?)</a>`)

// Terms renders c with its term marks expanded. A mark naming a term the
// glossary lacks keeps its text, marked data-term-missing, which the
// course's tests catch.
func Terms(c templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		var buf bytes.Buffer
		if err := c.Render(ctx, &buf); err != nil {
			return err
		}
		_, err := w.Write(ExpandTerms(buf.Bytes()))
		return err
	})
}

// ExpandTerms expands the term marks of rendered HTML.
func ExpandTerms(page []byte) []byte {
	return termMark.ReplaceAllFunc(page, func(m []byte) []byte {
		sub := termMark.FindSubmatch(m)
		id, text := string(sub[1]), sub[2]
		t, ok := glossary.Lookup(id)
		var b bytes.Buffer
		if !ok {
			b.WriteString(`<span data-term-missing="` + html.EscapeString(id) + `">`)
			b.Write(text)
			b.WriteString(`</span>`)
			return b.Bytes()
		}
		tip := "tip-" + id
		b.WriteString(`<span class="term"><a href="/glossary#` + id + `" data-term="` + id + `" aria-describedby="` + tip + `">`)
		b.Write(text)
		b.WriteString(`</a><span class="term-tip" role="tooltip" id="` + tip + `">` + html.EscapeString(t.Def) + `</span></span>`)
		return b.Bytes()
	})
}
