-- The first schema: every run, and its full event stream.
CREATE TABLE runs (
	id          TEXT PRIMARY KEY,          -- the run's id, as in its permalink /runs/{id}
	experiment  TEXT NOT NULL,
	lesson      TEXT NOT NULL,
	params      TEXT NOT NULL,             -- JSON object, defaults filled in
	status      TEXT NOT NULL,             -- queued, running, ok, failed, cancelled, timeout, interrupted
	error       TEXT NOT NULL DEFAULT '',
	learner     TEXT NOT NULL DEFAULT '',  -- the anonymous learner who asked first; '' for `conclab run`
	instructor  INTEGER NOT NULL DEFAULT 0,
	source      TEXT NOT NULL,             -- server, cli or import
	pid         INTEGER NOT NULL DEFAULT 0, -- the process recording it, while it is not finished
	created_ms  INTEGER NOT NULL,          -- Unix milliseconds
	started_ms  INTEGER NOT NULL DEFAULT 0,
	ended_ms    INTEGER NOT NULL DEFAULT 0,
	imported_ms INTEGER NOT NULL DEFAULT 0,
	host        TEXT NOT NULL DEFAULT '',  -- JSON: the host facts of its started event
	result      TEXT NOT NULL DEFAULT '',  -- its result event
	headline    TEXT NOT NULL DEFAULT '',  -- JSON: the result's first metric
	holds        INTEGER NOT NULL DEFAULT 0,
	differs      INTEGER NOT NULL DEFAULT 0,
	inconclusive INTEGER NOT NULL DEFAULT 0,
	events      INTEGER NOT NULL DEFAULT 0, -- events stored
	dropped     INTEGER NOT NULL DEFAULT 0, -- events past the cap per run, not stored
	lost        INTEGER NOT NULL DEFAULT 0  -- events the disk could not keep up with, not stored
);
CREATE INDEX runs_created ON runs (created_ms);
CREATE INDEX runs_experiment ON runs (experiment, created_ms);
CREATE INDEX runs_learner ON runs (learner, created_ms);
CREATE INDEX runs_status ON runs (status);

CREATE TABLE events (
	run  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq  INTEGER NOT NULL,                 -- 1, 2, … in the order the run emitted them
	type TEXT NOT NULL,
	body TEXT NOT NULL,                    -- the event exactly as the experiment emitted it
	PRIMARY KEY (run, seq)
) WITHOUT ROWID;
