/*
 * qt.h - helpers for the queue's integration tests: a migrated fresh
 * database, one-value queries, waiting for a condition, starting workers.
 */
#ifndef PANE_TESTS_QUEUE_QT_H
#define PANE_TESTS_QUEUE_QT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

/* pt_db_fresh(name) + pane_queue_migrate; returns the URL (free()). */
char *qt_db(const char *name);
PGconn *qt_connect(const char *url);
/* First value of the first row of sql (after printf formatting), as a heap
 * string; "" for no row; fails the test on an SQL error. */
char *qt_val(PGconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long long qt_num(PGconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs sql expecting an error; returns the error message (heap). */
char *qt_err(PGconn *c, const char *sql);
/* Polls sql every 50 ms until it returns want; true if it did within
 * limit_ms (a liveness bound, never a performance assertion). */
bool qt_wait(PGconn *c, const char *want, int limit_ms, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Starts `pane worker --database-url URL ARGS...` (NULL-terminated), log
 * appended to log (may be NULL). */
pid_t qt_worker(const char *url, const char *log, ...) __attribute__((sentinel));
/* Runs `pane ARGS...` (NULL-terminated) with DATABASE_URL=url; stdout into
 * *out (heap, may be NULL); returns the exit status. */
int qt_pane(const char *url, char **out, ...) __attribute__((sentinel));
/* SIGKILLs and reaps every worker qt_worker started that was not waited
 * for (call from teardown). */
void qt_kill_workers(void);
/* Waits for pid to exit; returns its status (128+sig when killed). */
int qt_wait_exit(pid_t pid);
void qt_sleep_ms(int ms);

#endif
