package web

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"conclab/internal/learner"
)

// Who is asking. Every browser is an anonymous learner, known by a signed
// cookie the server sets on the first page; the instructor is whoever
// showed the instructor key once at /class?key=KEY and holds the cookie
// that gave them.

const (
	learnerCookie    = "conclab_learner"
	instructorCookie = "conclab_instructor"
	instructorRole   = "instructor"
)

// Identity is what a request may do.
type Identity struct {
	Learner    learner.ID // "" when the request carries no valid learner cookie
	Instructor bool
	// Refused says why a learner cookie was not taken ("" when there was
	// none, or it was good).
	Refused string
}

type identityKey struct{}

// identityOf is the request's identity, as the identify middleware found it.
func identityOf(r *http.Request) Identity {
	id, _ := r.Context().Value(identityKey{}).(Identity)
	return id
}

// identify reads the request's cookies. A request without a good learner
// cookie is given a new learner id and its cookie with the response, so
// that every page a browser opens carries one from then on.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := s.readIdentity(r)
		if id.Learner == "" && r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/static/") && r.URL.Path != "/ws" {
			id.Learner = learner.New()
			http.SetCookie(w, &http.Cookie{
				Name: learnerCookie, Value: s.Signer.Cookie(id.Learner), Path: "/",
				MaxAge: 400 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
			})
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

func (s *Server) readIdentity(r *http.Request) Identity {
	var id Identity
	if c, err := r.Cookie(learnerCookie); err == nil {
		if l, err := s.Signer.Parse(c.Value); err == nil {
			id.Learner = l
		} else {
			id.Refused = err.Error()
		}
	}
	if c, err := r.Cookie(instructorCookie); err == nil && s.Signer.CheckToken(instructorRole, c.Value) {
		id.Instructor = true
	}
	return id
}

// maxKey bounds an instructor key as typed into an address.
const maxKey = 256

// classLogin answers /class?key=KEY: the right key sets the instructor's
// cookie and goes on to the dashboard; a wrong one is refused, and an
// address that keeps guessing is slowed down. Keys are compared in
// constant time and never logged.
func (s *Server) classLogin(w http.ResponseWriter, r *http.Request, key string) {
	ip := clientIP(r)
	if !s.guesses.allow(ip) {
		w.Header().Set("Retry-After", "60")
		plain(w, http.StatusTooManyRequests, "Too many wrong instructor keys from this address: wait a minute before trying again.")
		return
	}
	if len(key) > maxKey || strings.ContainsFunc(key, func(c rune) bool { return c < '!' || c > '~' }) {
		s.guesses.miss(ip)
		plain(w, http.StatusForbidden, "That is not an instructor key: a key is letters, digits and punctuation, as printed by conclab serve.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.InstructorKey)) != 1 || s.InstructorKey == "" {
		s.guesses.miss(ip)
		plain(w, http.StatusForbidden, "Wrong instructor key. The instructor link is printed once by conclab serve when it starts.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: instructorCookie, Value: s.Signer.Token(instructorRole), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/class", http.StatusSeeOther)
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

// clientIP is the address a request came from (not a header a client
// could set).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// guessLimit bounds wrong instructor keys: more than perMinute from one
// address within a minute are answered 429.
type guessLimit struct {
	mu     sync.Mutex
	misses map[string][]time.Time
}

const perMinute = 10

func (g *guessLimit) recent(ip string, now time.Time) []time.Time {
	kept := g.misses[ip][:0]
	for _, t := range g.misses[ip] {
		if now.Sub(t) < time.Minute {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(g.misses, ip)
		return nil
	}
	g.misses[ip] = kept
	return kept
}

func (g *guessLimit) allow(ip string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.recent(ip, time.Now())) < perMinute
}

func (g *guessLimit) miss(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.misses == nil {
		g.misses = map[string][]time.Time{}
	}
	if len(g.misses) > 10_000 { // a flood of addresses: forget the oldest guesses rather than grow
		g.misses = map[string][]time.Time{}
	}
	g.misses[ip] = append(g.recent(ip, time.Now()), time.Now())
}
