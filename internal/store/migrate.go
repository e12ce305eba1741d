package store

import (
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The schema's versions, one numbered SQL file each: NNNN_what.sql brings
// a database from version NNNN-1 to NNNN. A file, once released, is never
// changed; a new version is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// steps are the migrations in order of version.
func steps() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := path.Base(f)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s is not named NNNN_what.sql", base)
		}
		b, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must go 1, 2, 3… without gaps", m.name)
		}
	}
	return out, nil
}

// Version is the schema version this program writes.
func Version() int {
	s, err := steps()
	if err != nil {
		panic("store: " + err.Error())
	}
	return len(s)
}

// migrate brings db to the newest version, each step in a transaction of
// its own with the version (PRAGMA user_version) it reaches: a step that
// fails leaves the database as it was before it.
func migrate(db *sql.DB) error { return migrateTo(db, -1) }

// migrateTo stops at version to (-1: the newest); tests use it to make a
// database of an earlier schema.
func migrateTo(db *sql.DB, to int) error {
	all, err := steps()
	if err != nil {
		return err
	}
	var have int
	if err := db.QueryRow("PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("reading the schema version: %w", describe(err))
	}
	if have > len(all) {
		return fmt.Errorf("this data was written by a newer conclab (schema version %d; this one knows up to %d): upgrade conclab, or use another --data", have, len(all))
	}
	for _, m := range all[have:] {
		if to >= 0 && m.version > to {
			break
		}
		tx, err := db.Begin()
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, describe(err))
		}
		if _, err := tx.Exec(m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, describe(err))
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, describe(err))
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, describe(err))
		}
	}
	return nil
}
