-- Every learner who asked for a run (a run joined by thirty students is
-- theirs too), and each learner's progress: which experiments they have
-- run to the end. Progress outlives the runs it counts, which are pruned.
CREATE TABLE run_learners (
	run     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	learner TEXT NOT NULL,
	PRIMARY KEY (learner, run)
) WITHOUT ROWID;
CREATE INDEX run_learners_run ON run_learners (run);
INSERT INTO run_learners (run, learner) SELECT id, learner FROM runs WHERE learner != '';

CREATE TABLE progress (
	learner    TEXT NOT NULL,
	experiment TEXT NOT NULL,
	runs       INTEGER NOT NULL,           -- runs of it that finished ok
	first_ms   INTEGER NOT NULL,
	last_ms    INTEGER NOT NULL,
	last_run   TEXT NOT NULL,              -- the newest of them
	PRIMARY KEY (learner, experiment)
) WITHOUT ROWID;
INSERT INTO progress (learner, experiment, runs, first_ms, last_ms, last_run)
	SELECT learner, experiment, count(*), min(ended_ms), max(ended_ms),
		(SELECT id FROM runs AS n WHERE n.learner = r.learner AND n.experiment = r.experiment AND n.status = 'ok' ORDER BY ended_ms DESC LIMIT 1)
	FROM runs AS r WHERE learner != '' AND status = 'ok' GROUP BY learner, experiment;
