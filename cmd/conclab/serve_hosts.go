package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"conclab/internal/app"
	"conclab/internal/fleet"
)

// serveHosts is what serve's flags say of measuring hosts.
type serveHosts struct {
	listen, token, cert, key, nats *string
	here                           bool
	tokenGiven                     bool
}

// hostFlags declares serve's flags for measuring hosts.
func hostFlags(fs *flag.FlagSet) *serveHosts {
	h := &serveHosts{here: true}
	h.listen = fs.String("worker-listen", "", "open the course to measuring hosts at this address (host:port, e.g. 0.0.0.0:4222); they join with conclab worker")
	h.token = fs.String("worker-token", os.Getenv("CONCLAB_WORKER_TOKEN"), "the token a measuring host must present (default $CONCLAB_WORKER_TOKEN, else a random one printed at start)")
	h.cert = fs.String("worker-tls-cert", "", "a PEM certificate for the hosts' connections (with --worker-tls-key): they then connect over TLS")
	h.key = fs.String("worker-tls-key", "", "the PEM key of --worker-tls-cert")
	h.nats = fs.String("nats", "", "use an existing NATS cluster instead of the embedded server: nats://HOST:PORT,… (hosts join it with --worker-token)")
	fs.BoolFunc("measure-here", "measure on this machine too (default true); --measure-here=false leaves it to the hosts that join", func(v string) error {
		switch v {
		case "true", "1", "":
			h.here = true
		case "false", "0":
			h.here = false
		default:
			return fmt.Errorf("--measure-here is true or false, got %q", v)
		}
		return nil
	})
	return h
}

// options checks the flags and makes the fleet's options.
func (h *serveHosts) options() (app.FleetOptions, error) {
	o := app.FleetOptions{Listen: *h.listen, Token: *h.token, NATS: *h.nats}
	h.tokenGiven = o.Token != ""
	switch {
	case o.NATS != "" && o.Listen != "":
		return o, usageError("--nats and --worker-listen do not go together: hosts join the existing cluster, not this server")
	case (*h.cert == "") != (*h.key == ""):
		return o, usageError("--worker-tls-cert and --worker-tls-key go together")
	case *h.cert != "" && o.Listen == "":
		return o, usageError("--worker-tls-cert needs --worker-listen: it secures the hosts' connections")
	case o.Token != "" && !fleet.ValidToken(o.Token):
		return o, usageError("--worker-token must be 16–128 letters, digits and - _ . ~ + / =, got %d characters", len(o.Token))
	case !h.here && o.Listen == "" && o.NATS == "":
		return o, usageError("--measure-here=false needs --worker-listen or --nats: otherwise nothing would measure")
	}
	if o.Listen != "" {
		if _, _, err := net.SplitHostPort(o.Listen); err != nil {
			return o, usageError("--worker-listen %q: want host:port, e.g. 0.0.0.0:4222", o.Listen)
		}
		if o.Token == "" {
			o.Token = fleet.NewToken()
		}
	}
	if *h.cert != "" {
		cert, err := tls.LoadX509KeyPair(*h.cert, *h.key)
		if err != nil {
			return o, usageError("--worker-tls-cert: %v", err)
		}
		o.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return o, nil
}

// announce prints where measuring hosts join, with the command to paste,
// and warns of a listener open to the network without TLS.
func (h *serveHosts) announce(stdout, stderr io.Writer, fl app.Fleet, o app.FleetOptions) {
	switch {
	case o.NATS != "":
		fmt.Fprintf(stdout, "Measuring hosts join the NATS cluster at %s: conclab worker --join %s --token $CONCLAB_WORKER_TOKEN\n", o.NATS, o.NATS)
	case o.Listen != "":
		scheme := "nats"
		if o.TLS != nil {
			scheme = "tls"
		}
		host, port, _ := net.SplitHostPort(o.Listen)
		if u, err := url.Parse(fl.URL); err == nil && u.Port() != "" {
			port = u.Port() // the port it got, when it asked for any (:0)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "THIS-MACHINE"
		}
		addr := net.JoinHostPort(host, port)
		if !loopbackHost(o.Listen) && o.TLS == nil {
			fmt.Fprintf(stderr, "\n  WARNING: measuring hosts connect to %s without TLS: their token and the runs cross the network in the clear.\n"+
				"  Give --worker-tls-cert and --worker-tls-key, or keep this to a network you trust.\n\n", o.Listen)
		}
		token := "$CONCLAB_WORKER_TOKEN"
		if !h.tokenGiven {
			token = o.Token // the one place a random token is shown: it is never logged
		}
		fmt.Fprintf(stdout, "Measuring hosts join with: conclab worker --join %s://%s --token %s\n", scheme, addr, token)
		if strings.Contains(addr, "THIS-MACHINE") {
			fmt.Fprintln(stdout, "  (THIS-MACHINE: this machine's address as the hosts reach it)")
		}
	}
	if !h.here {
		fmt.Fprintln(stdout, "This machine does not measure (--measure-here=false): runs wait for a host to join.")
	}
}

// loopbackHost reports whether a host:port address is this machine's
// loopback only.
func loopbackHost(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
