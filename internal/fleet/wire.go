// Package fleet carries runs to measuring hosts on other machines, over
// NATS with JetStream: `conclab serve` runs the Coordinator (beside, by
// default, an embedded NATS server), and each `conclab worker` is a Worker
// that joins it, measures the runs it is given one at a time with this
// machine's runner, and streams their events back.
//
// What goes where:
//
//	conclab.hello.HOST   worker → server, request/reply every HelloEvery: the host's facts and
//	                     its run; the reply says whether to stop that run
//	conclab.runs.HOST    server → worker, stream CONCLAB_RUNS (work queue): one run to measure;
//	                     the worker acks it only once the server has its end
//	conclab.events.ID    worker → server, stream CONCLAB_EVENTS: the run's events in order, each
//	                     with the run's key (so a host publishes only for the run it was given)
//	conclab.ended.HOST   worker → server, request/reply: has the server the run's end yet?
//	conclab.ctl.HOST     server → worker: stop a run now (the hello reply says it again)
//
// The scheduler (internal/engine) decides which host measures which run;
// NATS only carries the run there and its events back.
package fleet

import (
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// Streams and subjects.
const (
	RunsStream   = "CONCLAB_RUNS"
	EventsStream = "CONCLAB_EVENTS"
	subjRuns     = "conclab.runs."
	subjEvents   = "conclab.events."
	subjHello    = "conclab.hello."
	subjEnded    = "conclab.ended."
	subjCtl      = "conclab.ctl."
)

// Headers of an event message.
const (
	hdrKey = "Conclab-Key" // the run's key, from its assignment
	hdrSeq = "Conclab-Seq" // the event's place in the run, from 1
)

// Timing. The inner timeouts fire first: a host is gone after HostTimeout
// without a hello, well before a run's own limit runs out.
const (
	HelloEvery  = 2 * time.Second
	HostTimeout = 10 * time.Second
	// pullExpiry and pullHeartbeat keep a pull from JetStream alive: a
	// pull waits at most pullExpiry before it is made again, and one whose
	// heartbeats stop (the node holding its consumer went down, and the
	// consumer moved to another) is made again after two missed beats.
	// The library's defaults (30 s and 15 s) would leave a host idle, or
	// the events of every run unrelayed, for up to 30 s after a cluster
	// lost a node.
	pullExpiry    = 5 * time.Second
	pullHeartbeat = time.Second
	// endWait is how long the server holds a worker's question whether a
	// run has ended while its end is on the way: under HelloEvery, the
	// worker's own timeout for the answer.
	endWait = time.Second
	// overtime is how long past its experiment's time limit the server
	// waits for a run's end before it calls the host gone for it.
	overtime = 30 * time.Second
	// ackWait is how long an assignment may go unacked before JetStream
	// offers it again: a worker says it is in progress every third of it
	// until it acks, so it is offered again only when its first delivery
	// was lost (a pull on a cluster's node that went down) or its host
	// was cut off.
	ackWait = 6 * time.Second
	// rememberRuns is how many of the runs it took a worker remembers, to
	// tell one offered again after it took it from one it never had.
	rememberRuns = 1000
)

// Assignment is one run for a host to measure.
type Assignment struct {
	ID         string     `json:"id"`
	Experiment string     `json:"experiment"`
	Params     lab.Params `json:"params"`
	Key        string     `json:"key"` // the run's events carry it
}

// Hello is a worker's heartbeat.
type Hello struct {
	Name     string     `json:"name"`
	Instance string     `json:"instance"` // random per worker process: a restart is a new one
	Host     probe.Host `json:"host"`
	Run      string     `json:"run,omitempty"` // the assignment it measures now
	Bye      bool       `json:"bye,omitempty"` // it is leaving
}

// HelloReply answers a Hello.
type HelloReply struct {
	Error string   `json:"error,omitempty"` // the host may not join, and why
	Stop  []string `json:"stop,omitempty"`  // runs to stop: the server no longer wants them
}

// Ended asks whether the server has a run's end; EndedReply answers.
type Ended struct {
	Run string `json:"run"`
}

// EndedReply says whether the worker may let the run go.
type EndedReply struct {
	Done bool `json:"done"` // the server has its end, or no longer wants it
}

// Stop tells a worker to stop a run.
type Stop struct {
	Run string `json:"run"`
	Why string `json:"why"`
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// ValidName reports whether a host may be called name: letters, digits,
// '-' and '_', at most 63, as it goes into NATS subjects.
func ValidName(name string) bool { return namePattern.MatchString(name) }

var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_.~+/=-]{16,128}$`)

// ValidToken reports whether a worker token is well formed: 16–128
// characters without spaces or quotes.
func ValidToken(token string) bool { return tokenPattern.MatchString(token) }

// consumeAlive and messagesAlive are the options of every pull from
// JetStream, for Consume and for Messages (see pullExpiry).
var (
	consumeAlive  = []jetstream.PullConsumeOpt{jetstream.PullExpiry(pullExpiry), jetstream.PullHeartbeat(pullHeartbeat)}
	messagesAlive = []jetstream.PullMessagesOpt{jetstream.PullExpiry(pullExpiry), jetstream.PullHeartbeat(pullHeartbeat)}
)
