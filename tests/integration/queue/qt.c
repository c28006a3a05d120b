/*
 * qt.c - helpers for the queue's integration tests (see qt.h).
 */
#include "qt.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "pane/queue.h"
#include "support.h"

void qt_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

PGconn *qt_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect %s: %s", url, PQerrorMessage(c));
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	return c;
}

char *qt_db(const char *name)
{
	char *url = pt_db_fresh(name);
	PGconn *c = qt_connect(url);
	struct pane_err err = {0};
	if (pane_queue_migrate(c, NULL, NULL, NULL, &err) < 0)
		fail_msg("migrate: %s", err.msg);
	PQfinish(c);
	return url;
}

static char *vval(PGconn *c, const char *fmt, va_list ap)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_addvf(&b, fmt, ap);
	PGresult *r = PQexec(c, b.data);
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", b.data, PQerrorMessage(c));
	char *v = pane_xstrdup(PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	pane_buf_release(&b);
	return v;
}

char *qt_val(PGconn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *v = vval(c, fmt, ap);
	va_end(ap);
	return v;
}

long long qt_num(PGconn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *v = vval(c, fmt, ap);
	va_end(ap);
	long long n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

char *qt_err(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_FATAL_ERROR)
		fail_msg("expected an error from: %s", sql);
	char *m = pane_xstrdup(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
	PQclear(r);
	return m;
}

bool qt_wait(PGconn *c, const char *want, int limit_ms, const char *fmt, ...)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	va_list ap;
	va_start(ap, fmt);
	pane_buf_addvf(&b, fmt, ap);
	va_end(ap);
	bool ok = false;
	for (int waited = 0; waited <= limit_ms; waited += 50) {
		PGresult *r = PQexec(c, b.data);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && strcmp(PQgetvalue(r, 0, 0), want) == 0)
			ok = true;
		PQclear(r);
		if (ok)
			break;
		if (PQstatus(c) != CONNECTION_OK)
			PQreset(c);
		qt_sleep_ms(50);
	}
	if (!ok)
		fprintf(stderr, "qt_wait: '%s' never returned '%s'\n", b.data, want);
	pane_buf_release(&b);
	return ok;
}

/* Workers started and not yet waited for: killed by qt_kill_workers, so a
 * failed test leaves none behind to claim the next run's jobs. */
#define QT_MAX_WORKERS 64
static pid_t workers[QT_MAX_WORKERS];

pid_t qt_worker(const char *url, const char *log, ...)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)pt_pane_bin();
	argv[n++] = "worker";
	argv[n++] = "--database-url";
	argv[n++] = (char *)url;
	va_list ap;
	va_start(ap, log);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 62)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	pid_t pid = pt_spawn(argv, log);
	for (int i = 0; i < QT_MAX_WORKERS; i++) {
		if (workers[i] == 0) {
			workers[i] = pid;
			break;
		}
	}
	return pid;
}

void qt_kill_workers(void)
{
	for (int i = 0; i < QT_MAX_WORKERS; i++) {
		if (workers[i] > 0) {
			kill(workers[i], SIGKILL);
			waitpid(workers[i], NULL, 0);
		}
		workers[i] = 0;
	}
}

int qt_pane(const char *url, char **out, ...)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)pt_pane_bin();
	va_list ap;
	va_start(ap, out);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 62)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	int fds[2];
	if (pipe(fds) < 0)
		fail_msg("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		setenv("DATABASE_URL", url, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	char chunk[4096];
	ssize_t r;
	while ((r = read(fds[0], chunk, sizeof chunk)) > 0)
		pane_buf_add(&b, chunk, (size_t)r);
	close(fds[0]);
	int st = qt_wait_exit(pid);
	if (out)
		*out = pane_buf_detach(&b, NULL);
	else
		pane_buf_release(&b);
	return st;
}

int qt_wait_exit(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	for (int i = 0; i < QT_MAX_WORKERS; i++)
		if (workers[i] == pid)
			workers[i] = 0;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}
