package store

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned for a run the store does not have.
var ErrNotFound = errors.New("no such run")

// diskError is a database error said the way a person can act on it:
// what happened to the disk, not SQLite's number for it.
type diskError struct {
	why string
	err error
}

func (e *diskError) Error() string { return e.why + " (" + e.err.Error() + ")" }
func (e *diskError) Unwrap() error { return e.err }

// describe turns a database error into a diskError when it knows what
// it means; others are returned as they are.
func describe(err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	var why string
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_READONLY:
		why = "the database or its directory is read-only"
	case sqlite3.SQLITE_FULL:
		why = "the disk is full"
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		why = "the database is locked by another program"
	case sqlite3.SQLITE_CANTOPEN:
		why = "the database file cannot be opened or created (is the directory writable?)"
	case sqlite3.SQLITE_IOERR:
		why = "the disk reported an I/O error"
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		why = "the database file is damaged, or not a conclab database"
	case sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH:
		why = "permission to write the database was refused"
	default:
		return err
	}
	return &diskError{why: why, err: err}
}

// reason is what Health says of a failed write: the plain words when
// describe knows them.
func reason(err error) string {
	var de *diskError
	if errors.As(describe(err), &de) {
		return de.why
	}
	return err.Error()
}
