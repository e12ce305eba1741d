package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"conclab/internal/fleet"

	"github.com/nats-io/nats.go"
)

// FleetOptions open the course to measuring hosts on other machines.
type FleetOptions struct {
	// NATS is the addresses of an existing NATS cluster (comma-separated);
	// "" starts the embedded server in this process.
	NATS string
	// Listen is where the embedded server takes measuring hosts
	// ("host:port"); "" takes none: this machine measures alone.
	Listen string
	// Token is what a measuring host must present (the embedded server's
	// worker token; the connection token of an existing cluster).
	Token string
	// TLS, when set, makes hosts connect to the embedded server over TLS.
	TLS *tls.Config
	// DataDir keeps JetStream's files (in DataDir/jetstream); "" keeps
	// its streams in memory.
	DataDir string
}

// Fleet says where measuring hosts join, once the fleet is open.
type Fleet struct {
	URL      string // where hosts connect; "" when none can
	External bool   // an existing cluster, not the embedded server
}

// OpenFleet starts NATS — the embedded server, or a connection to an
// existing cluster — and the coordinator that hands runs to the hosts
// that join it.
func (a *App) OpenFleet(o FleetOptions) (Fleet, error) {
	if a.fleet != nil {
		return Fleet{}, errors.New("the fleet is open already")
	}
	co := fleet.CoordinatorOptions{Log: a.log, Replicas: 1}
	var f Fleet
	var err error
	if o.NATS != "" {
		if a.nc, err = dialCourse(o); err != nil {
			return Fleet{}, err
		}
		if n := len(strings.Split(o.NATS, ",")); n >= 3 {
			co.Replicas = 3 // a stream survives the loss of one of three nodes
		}
		f = Fleet{URL: o.NATS, External: true}
	} else {
		so := fleet.ServerOptions{Listen: o.Listen, Token: o.Token, TLS: o.TLS, Log: a.log}
		if o.DataDir != "" {
			so.StoreDir = filepath.Join(o.DataDir, "jetstream")
		}
		if a.nats, err = fleet.StartEmbedded(so); err != nil {
			return Fleet{}, err
		}
		co.Memory = a.nats.Memory()
		if a.nc, err = a.nats.Connect("course"); err != nil {
			return Fleet{}, fmt.Errorf("connecting to the embedded NATS server: %w", err)
		}
		f = Fleet{URL: a.nats.ClientURL()}
	}
	if a.fleet, err = fleet.NewCoordinator(a.nc, a.Scheduler, co); err != nil {
		return Fleet{}, err
	}
	return f, nil
}

// dialCourse connects the course to an existing NATS cluster, giving up
// after a while rather than hang the server's start.
func dialCourse(o FleetOptions) (*nats.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return fleet.Dial(ctx, o.NATS, o.Token, "course")
}
