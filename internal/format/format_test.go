package format

import "testing"

// Figure must print numbers as static/js/format.js does.
func TestFigure(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {0.3614, "0.361"}, {1, "1"}, {3.5, "3.5"}, {16.104, "16.1"}, {20, "20"},
		{99.996, "100"}, {1442.4, "1442"}, {28714.2, "28,714"}, {-28714.2, "-28,714"}, {1.06e6, "1.06 M"}, {1.2e9, "1.2 G"},
	} {
		if got := Figure(c.in, ""); got != c.want {
			t.Errorf("Figure(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Figure(4.68, "µs"); got != "4.68 µs" {
		t.Errorf("with a unit: %q", got)
	}
}
