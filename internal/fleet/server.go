package fleet

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ServerOptions configure the embedded NATS server.
type ServerOptions struct {
	// Listen is where measuring hosts connect ("host:port"); "" opens no
	// listener: the server is reached in-process only.
	Listen string
	// Token is what a worker must present; required with Listen.
	Token string
	// TLS, when set, makes workers connect over TLS.
	TLS *tls.Config
	// StoreDir keeps JetStream's files; "" keeps them in a temporary
	// directory removed at Shutdown (streams are then in memory).
	StoreDir string
	// Name names the server in a cluster ("" for one alone).
	Name string
	// Cluster and Routes make it one node of a cluster: where it listens
	// for the others, and where they are.
	Cluster string
	Routes  []*url.URL
	// Internal is the token of the course's own connections, with every
	// right; "" makes a random one. The nodes of a cluster share one.
	Internal string
	// Log receives the server's warnings and errors, and refused workers.
	Log *slog.Logger
}

// Embedded is a NATS server with JetStream inside this process.
type Embedded struct {
	ns       *server.Server
	internal string // this process's own token
	tmp      string // a StoreDir to remove at Shutdown
	memory   bool   // streams in memory
}

// NewToken makes a random worker token: 32 characters, 160 bits.
func NewToken() string {
	b := make([]byte, 20)
	rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// StartEmbedded starts an embedded NATS server with JetStream.
func StartEmbedded(o ServerOptions) (*Embedded, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	e := &Embedded{internal: o.Internal}
	if e.internal == "" {
		e.internal = NewToken()
	}
	opts := &server.Options{
		ServerName: o.Name, JetStream: true, StoreDir: o.StoreDir, NoSigs: true,
		JetStreamMaxMemory: 256 << 20, JetStreamMaxStore: 2 << 30,
		MaxPayload: 1 << 20, WriteDeadline: 10 * time.Second, PingInterval: 2 * time.Second, MaxPingsOut: 3,
	}
	if o.StoreDir == "" {
		dir, err := os.MkdirTemp("", "conclab-nats-")
		if err != nil {
			return nil, err
		}
		e.tmp, e.memory, opts.StoreDir = dir, true, dir
	}
	if o.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("--worker-listen %q: %v", o.Listen, err)
		}
		opts.Host = host
		if opts.Port, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("--worker-listen %q: the port is not a number", o.Listen)
		}
		if opts.Port == 0 {
			opts.Port = server.RANDOM_PORT
		}
		opts.TLSConfig = o.TLS
	}
	if o.Cluster != "" {
		host, port, _ := net.SplitHostPort(o.Cluster)
		p, _ := strconv.Atoi(port)
		opts.Cluster = server.ClusterOpts{Name: "conclab", Host: host, Port: p}
		opts.Routes = o.Routes
	}
	opts.CustomClientAuthentication = &tokenAuth{internal: e.internal, worker: o.Token, log: o.Log}
	ns, err := server.NewServer(opts)
	if err != nil {
		e.removeTmp()
		return nil, fmt.Errorf("starting NATS: %w", err)
	}
	ns.SetLoggerV2(&natsLog{log: o.Log}, false, false, false)
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		e.removeTmp()
		return nil, errors.New("starting NATS: the server did not become ready in 10 s (is the port in use?)")
	}
	e.ns = ns
	return e, nil
}

// Connect is this process's own connection to the server, in process.
func (e *Embedded) Connect(name string) (*nats.Conn, error) {
	return nats.Connect("", nats.InProcessServer(e.ns), nats.Token(e.internal), nats.Name(name), nats.MaxReconnects(-1))
}

// ClientURL is where workers connect; "" without a listener.
func (e *Embedded) ClientURL() string {
	if e.ns.Addr() == nil {
		return ""
	}
	return e.ns.ClientURL()
}

// Memory reports whether JetStream keeps its streams in memory only.
func (e *Embedded) Memory() bool { return e.memory }

// Shutdown stops the server.
func (e *Embedded) Shutdown() {
	e.ns.Shutdown()
	e.ns.WaitForShutdown()
	e.removeTmp()
}

func (e *Embedded) removeTmp() {
	if e.tmp != "" {
		os.RemoveAll(e.tmp)
	}
}

// tokenAuth lets in this process (its own token, every subject) and
// workers (the worker token, their subjects only). A refused worker is
// logged with its address, never its token.
type tokenAuth struct {
	internal, worker string
	log              *slog.Logger
}

func (a *tokenAuth) Check(c server.ClientAuthentication) bool {
	opts := c.GetOpts()
	switch {
	case equal(opts.Token, a.internal):
		c.RegisterUser(&server.User{Username: "conclab"})
		return true
	case a.worker != "" && equal(opts.Token, a.worker):
		c.RegisterUser(&server.User{Username: "worker", Permissions: workerPermissions()})
		return true
	}
	addr := ""
	if ra := c.RemoteAddress(); ra != nil {
		addr = ra.String()
	}
	why := "a wrong token"
	if opts.Token == "" {
		why = "no token"
	}
	a.log.Warn("a measuring host was refused", "why", why, "address", addr, "client", opts.Name)
	return false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// workerPermissions are the subjects a worker may use: its hellos, its
// runs' events and ends, and what JetStream needs to hand it its runs.
// It may not publish runs, nor touch the streams.
func workerPermissions() *server.Permissions {
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			subjHello + "*", subjEnded + "*", subjEvents + "*",
			"$JS.API.CONSUMER.CREATE." + RunsStream + ".>",
			"$JS.API.CONSUMER.INFO." + RunsStream + ".>",
			"$JS.API.CONSUMER.MSG.NEXT." + RunsStream + ".>",
			"$JS.ACK." + RunsStream + ".>",
			"$JS.API.INFO",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>", subjCtl + "*"}},
	}
}

// natsLog passes the NATS server's warnings and errors to the log.
type natsLog struct{ log *slog.Logger }

func (l *natsLog) Noticef(string, ...any) {}
func (l *natsLog) Debugf(string, ...any)  {}
func (l *natsLog) Tracef(string, ...any)  {}
func (l *natsLog) Warnf(format string, v ...any) {
	l.log.Warn("nats: " + fmt.Sprintf(format, v...))
}
func (l *natsLog) Errorf(format string, v ...any) {
	l.log.Error("nats: " + fmt.Sprintf(format, v...))
}
func (l *natsLog) Fatalf(format string, v ...any) {
	l.log.Error("nats: " + fmt.Sprintf(format, v...))
}
