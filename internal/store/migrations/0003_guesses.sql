-- Learners' guesses before a run, each with the run it was scored on and
-- how it fared. Like progress, they outlive the runs, which are pruned.
CREATE TABLE guesses (
	learner    TEXT NOT NULL,
	experiment TEXT NOT NULL,
	claim      INTEGER NOT NULL,
	run        TEXT NOT NULL,
	class      INTEGER NOT NULL,         -- 1: made while the instructor presented it
	value      TEXT NOT NULL,            -- JSON: a number, or the text of a choice
	measured   TEXT NOT NULL,            -- JSON
	factor     REAL NOT NULL,            -- a number's factor off, >= 1; 0 for a choice
	right      INTEGER NOT NULL,
	score      TEXT NOT NULL,            -- "within 1.3×", "4× too high", "right"
	at_ms      INTEGER NOT NULL,
	PRIMARY KEY (learner, run, experiment, claim)
) WITHOUT ROWID;

-- The server's own settings, such as the secret that signs learners'
-- cookies: kept, so a learner is the same learner after a restart.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;
