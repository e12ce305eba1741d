-- Learners' answers: to the self-check questions at the end of a lesson,
-- and to the questions exercises end on. One row per learner and
-- question: the first answer stands. Like progress, answers outlive the
-- runs an exercise was done with, which are pruned.
CREATE TABLE answers (
	learner     TEXT NOT NULL,
	question    TEXT NOT NULL,             -- the question's id, or the exercise's
	lesson      TEXT NOT NULL,
	kind        TEXT NOT NULL,             -- 'question' or 'exercise'
	value       REAL NOT NULL,             -- the chosen choice's index (from 0), or the number
	correct     INTEGER NOT NULL,          -- 1 right, 0 wrong; an exercise: as its runs judged it, once done
	at_ms       INTEGER NOT NULL,
	done_ms     INTEGER NOT NULL DEFAULT 0, -- an exercise: when its runs and its answer were both there; 0 until then
	runs        TEXT NOT NULL DEFAULT '',   -- an exercise: JSON list of the ids of the runs it was done with
	explanation TEXT NOT NULL DEFAULT '',   -- an exercise: its answer as written from those runs
	PRIMARY KEY (learner, question)
) WITHOUT ROWID;
CREATE INDEX answers_question ON answers (question, at_ms);
CREATE INDEX answers_at ON answers (at_ms);
