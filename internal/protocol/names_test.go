package protocol

import (
	"os"
	"regexp"
	"testing"
)

// static/js/names.js mirrors names.go: every name, the same value, and
// nothing else.
func TestTheScriptMirrorsTheNames(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../static/js/names.js")
	if err != nil {
		t.Fatal(err)
	}
	group := regexp.MustCompile(`export const (\w+) = Object\.freeze\(\{([^}]*)\}\)`)
	pair := regexp.MustCompile(`(\w+): '([^']*)'`)
	got := map[string]string{}
	for _, g := range group.FindAllStringSubmatch(string(b), -1) {
		prefix := g[1]
		if prefix == "Verdict" {
			prefix = "" // Holds, Differs, Inconclusive
		}
		for _, p := range pair.FindAllStringSubmatch(g[2], -1) {
			got[prefix+p[1]] = p[2]
		}
	}
	for name, want := range Names {
		if got[name] != want {
			t.Errorf("names.js: %s is %q, want %q", name, got[name], want)
		}
	}
	for name := range got {
		if _, ok := Names[name]; !ok {
			t.Errorf("names.js has %s, which names.go does not", name)
		}
	}
}
