package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"github.com/nats-io/nats.go"

	"conclab/internal/fleet"
	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/runner"
)

// worker joins a course as a measuring host: `conclab worker --join
// nats://HOST:PORT --token TOKEN [--name NAME]`.
func worker(ctx context.Context, reg *lab.Registry, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("worker", stderr)
	join := fs.String("join", "", "the course's NATS address, nats://HOST:PORT (or tls://…), as conclab serve printed it; several, comma-separated, for a cluster")
	token := fs.String("token", os.Getenv("CONCLAB_WORKER_TOKEN"), "the worker token conclab serve printed (default $CONCLAB_WORKER_TOKEN)")
	name := fs.String("name", "", "this host's name in the course (default: this machine's hostname)")
	ca := fs.String("ca", "", "a PEM file of the certificate authority that signed the course's TLS certificate, when it is not one this machine trusts")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *join == "" {
		return usageError("worker needs --join nats://HOST:PORT: the address conclab serve --worker-listen printed")
	}
	for _, u := range strings.Split(*join, ",") {
		if !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
			return usageError("--join %q: an address is nats://HOST:PORT or tls://HOST:PORT", u)
		}
	}
	switch {
	case *token == "":
		return usageError("worker needs --token (or CONCLAB_WORKER_TOKEN): the token conclab serve printed with the worker command")
	case !fleet.ValidToken(*token):
		return usageError("--token is malformed: a worker token is 16–128 letters, digits and - _ . ~ + / =, as conclab serve printed it")
	}
	if *name == "" {
		*name = defaultHostName()
	}
	if !fleet.ValidName(*name) {
		return usageError("--name %q: a host's name is letters, digits, - and _, at most 63", *name)
	}
	var opts []nats.Option
	if *ca != "" {
		pool, err := certPool(*ca)
		if err != nil {
			return usageError("--ca: %v", err)
		}
		opts = append(opts, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	if err := runner.BecomeSubreaper(); err != nil {
		slog.Debug("subreaper", "err", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rn := &runner.Runner{Registry: reg, Log: log, Name: *name}
	facts := (&runner.Local{Runner: rn}).Facts()
	nc, err := fleet.Dial(ctx, *join, *token, *name, append(opts,
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("lost the course; reconnecting", "err", err) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("back with the course", "server", nc.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("the connection to the course reported an error", "err", err)
		}),
	)...)
	if err != nil {
		if errors.Is(err, fleet.ErrRefused) {
			return &exitError{code: 2, msg: err.Error()}
		}
		if ctx.Err() != nil {
			return nil
		}
		return &exitError{code: 1, msg: err.Error()}
	}
	defer nc.Close()
	fmt.Fprintf(stdout, "Joined the course at %s as the measuring host %q.\n", nc.ConnectedUrlRedacted(), *name)
	fmt.Fprintf(stdout, "This host: %s. Press Ctrl+C to leave (a run in progress is handed back).\n", hostLine(facts))
	w := &fleet.Worker{Name: *name, Registry: reg, Measure: rn.Run, Facts: facts, Log: log}
	if err := w.Run(ctx, nc); err != nil {
		if errors.Is(err, fleet.ErrRefused) {
			return &exitError{code: 2, msg: err.Error()}
		}
		return &exitError{code: 1, msg: err.Error()}
	}
	fmt.Fprintln(stdout, "Left the course; nothing of this host's runs is left running.")
	return nil
}

var notName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// defaultHostName is the machine's hostname as a host's name may be.
func defaultHostName() string {
	n := strings.Trim(notName.ReplaceAllString(probe.HostName(), "-"), "-")
	if len(n) > 63 {
		n = n[:63]
	}
	if n == "" {
		return "worker"
	}
	return n
}

// hostLine is the facts a learner needs, in one line.
func hostLine(h probe.Host) string {
	s := fmt.Sprintf("%s, %d usable CPU%s, %s", h.CPUModel, h.EffectiveCPUs(), format.Plural(h.EffectiveCPUs()), h.Kernel)
	if h.Virtual != "" && h.Virtual != "none" {
		s += ", " + h.Virtual
	}
	return s
}

func certPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
