// Package learner gives every browser an anonymous identity: a random
// 128-bit id, carried in a cookie signed by the server so that nobody can
// make up another learner's, and a short generated name for the
// instructor's pages. Nothing personal is ever asked or kept.
package learner

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// ID is a learner's anonymous id: 32 lower-case hex digits.
type ID string

// New makes a fresh random id.
func New() ID {
	b := make([]byte, 16)
	rand.Read(b)
	return ID(hex.EncodeToString(b))
}

// Valid reports whether id has the form of an id.
func (id ID) Valid() bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(string(id))
	return err == nil && strings.ToLower(string(id)) == string(id)
}

// Signer signs and checks learner cookies with the server's secret.
type Signer struct{ secret []byte }

// NewSigner signs with secret (at least 16 bytes).
func NewSigner(secret []byte) *Signer { return &Signer{secret: append([]byte(nil), secret...)} }

// Secret makes a random secret for NewSigner.
func Secret() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// Cookie is the cookie value for id: the id and its signature.
func (s *Signer) Cookie(id ID) string { return string(id) + "." + s.mac("learner:"+string(id)) }

// Parse checks a cookie value and returns its id.
func (s *Signer) Parse(v string) (ID, error) {
	id, sig, ok := strings.Cut(v, ".")
	if !ok || !ID(id).Valid() {
		return "", fmt.Errorf("malformed learner cookie")
	}
	if !hmac.Equal([]byte(sig), []byte(s.mac("learner:"+id))) {
		return "", fmt.Errorf("a learner cookie this server did not issue")
	}
	return ID(id), nil
}

// Token is an unforgeable value for a role's cookie, such as the
// instructor's: only a server with this secret can make it.
func (s *Signer) Token(role string) string { return s.mac("role:" + role) }

// CheckToken reports whether v is the token of role, in constant time.
func (s *Signer) CheckToken(role, v string) bool {
	return hmac.Equal([]byte(v), []byte(s.Token(role)))
}

func (s *Signer) mac(msg string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

var (
	adjectives = []string{"amber", "brisk", "calm", "deft", "eager", "fair", "gentle", "hardy", "keen", "lively",
		"mellow", "nimble", "plucky", "quiet", "rapid", "steady", "tidy", "vivid", "witty", "zesty",
		"bold", "clever", "daring", "frank", "jolly", "lucid", "merry", "polite", "sunny", "swift", "wise", "cosy"}
	animals = []string{"otter", "heron", "lynx", "finch", "badger", "gecko", "ibis", "koala", "lemur", "marten",
		"newt", "ocelot", "puffin", "quail", "raven", "stoat", "tapir", "vole", "walrus", "yak",
		"bison", "crane", "dingo", "egret", "ferret", "gibbon", "hare", "jackal", "kiwi", "llama", "moose", "panda"}
)

// Name is a short generated name for the id, the same every time, such as
// "amber-otter-17": how a learner shows on the instructor's pages.
func (id ID) Name() string {
	h := sha256.Sum256([]byte("name:" + string(id)))
	n := binary.BigEndian.Uint32(h[:4])
	return fmt.Sprintf("%s-%s-%02d", adjectives[n%uint32(len(adjectives))], animals[(n/32)%uint32(len(animals))], (n/1024)%100)
}
