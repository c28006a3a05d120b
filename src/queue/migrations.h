/*
 * migrations.h - the schema migrations compiled into the binary
 * (generated from sql/queue/NNN_*.sql by embed_sql.py).
 *
 * Each text uses the literal schema name "pane."; the migrator replaces it
 * with the configured schema before running it.
 */
#ifndef PANE_QUEUE_MIGRATIONS_H
#define PANE_QUEUE_MIGRATIONS_H

struct pane_queue_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct pane_queue_migration pane_queue_migrations[];
extern const int pane_queue_n_migrations;

#endif
