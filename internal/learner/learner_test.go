package learner

import (
	"regexp"
	"strings"
	"testing"
)

func TestCookieRoundTripAndForgery(t *testing.T) {
	t.Parallel()
	s, other := NewSigner(Secret()), NewSigner(Secret())
	id := New()
	if !id.Valid() || New() == id {
		t.Fatalf("New gave %q (valid %v), or the same id twice", id, id.Valid())
	}
	got, err := s.Parse(s.Cookie(id))
	if err != nil || got != id {
		t.Errorf("Parse(Cookie(id)) = %q, %v; want %q", got, err, id)
	}
	for name, v := range map[string]string{
		"another server's":   other.Cookie(id),
		"made-up signature":  string(id) + "." + strings.Repeat("0", 32),
		"another id, my sig": string(New()) + "." + strings.SplitN(s.Cookie(id), ".", 2)[1],
		"no signature":       string(id),
		"not hex":            strings.Repeat("z", 32) + ".00",
		"upper case":         strings.ToUpper(string(id)) + ".00",
		"empty":              "",
	} {
		if _, err := s.Parse(v); err == nil {
			t.Errorf("%s cookie %q was accepted", name, v)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	s := NewSigner(Secret())
	if !s.CheckToken("instructor", s.Token("instructor")) {
		t.Error("the instructor's token does not check")
	}
	if s.CheckToken("instructor", s.Token("student")) || s.CheckToken("instructor", "") || NewSigner(Secret()).CheckToken("instructor", s.Token("instructor")) {
		t.Error("a wrong token checked")
	}
}

func TestNamesAreShortAndStable(t *testing.T) {
	t.Parallel()
	form := regexp.MustCompile(`^[a-z]+-[a-z]+-\d\d$`)
	seen := map[string]bool{}
	for range 200 {
		id := New()
		n := id.Name()
		if !form.MatchString(n) || n != id.Name() {
			t.Fatalf("Name() = %q, not short or not stable", n)
		}
		seen[n] = true
	}
	if len(seen) < 190 {
		t.Errorf("only %d distinct names for 200 learners", len(seen))
	}
}
