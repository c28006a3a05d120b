/*
 * cron.c - cron expressions and the once-per-tick schedule runner.
 *
 * Parsing turns each field into a bit set; pane_cron_next walks forward
 * from t, jumping a whole month, day, hour or minute whenever that field
 * does not match, so a search takes at most a few thousand steps.
 *
 * Exactly once per tick across workers: the tick runs in one transaction
 * that locks the due rows FOR UPDATE SKIP LOCKED (a second worker skips
 * them), enqueues with unique key cron:NAME:EPOCH (a duplicate is a no-op
 * even if a lock were lost) and moves next_run_at past now. Missed ticks
 * (no worker was running) are not back-filled: one job, then the next
 * future tick.
 */
#include "queue/cron.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"

static int parse_field(const char *s, size_t len, int lo, int hi, uint64_t *bits, bool *star)
{
	*bits = 0;
	*star = len == 1 && s[0] == '*';
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != ',')
			j++;
		/* one item: s[i..j) */
		int a = lo, b = hi, step = 1;
		size_t k = i;
		if (k < j && s[k] == '*') {
			k++;
		} else {
			char *end;
			long v = strtol(s + k, &end, 10);
			if (end == s + k)
				return -1;
			a = b = (int)v;
			k = (size_t)(end - s);
			if (k < j && s[k] == '-') {
				k++;
				long v2 = strtol(s + k, &end, 10);
				if (end == s + k)
					return -1;
				b = (int)v2;
				k = (size_t)(end - s);
			}
		}
		if (k < j && s[k] == '/') {
			k++;
			char *end;
			long st = strtol(s + k, &end, 10);
			if (end == s + k || st < 1)
				return -1;
			step = (int)st;
			k = (size_t)(end - s);
			if (a == b && s[i] != '*')
				b = hi;
		}
		if (k != j || a < lo || b > hi || a > b)
			return -1;
		for (int v = a; v <= b; v += step)
			*bits |= 1ULL << v;
		i = j + 1;
		if (j == len)
			break;
		if (i == len)
			return -1; /* trailing comma */
	}
	return *bits ? 0 : -1;
}

int pane_cron_parse(const char *expr, struct pane_cron *out, char *why, size_t why_len)
{
	const char *f[6];
	size_t fl[6];
	int n = 0;
	const char *p = expr;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == 6) {
			n++;
			break;
		}
		f[n] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		fl[n] = (size_t)(p - f[n]);
		n++;
	}
	if (n != 5 && n != 6) {
		if (why)
			snprintf(why, why_len, "expected 5 fields (min hour dom mon dow) or 6 (sec first), got %d", n);
		return PANE_EINVAL;
	}
	int o = n == 6 ? 1 : 0;
	static const char *names[] = {"second", "minute", "hour", "day of month", "month", "day of week"};
	static const int lo[] = {0, 0, 0, 1, 1, 0}, hi[] = {59, 59, 23, 31, 12, 7};
	uint64_t bits[6];
	bool star[6];
	memset(out, 0, sizeof *out);
	bits[0] = 1; /* second 0 when not given */
	star[0] = false;
	for (int i = 0; i < n; i++) {
		int fi = i + 1 - o;
		if (parse_field(f[i], fl[i], lo[fi], hi[fi], &bits[fi], &star[fi]) < 0) {
			if (why)
				snprintf(why, why_len, "bad %s field '%.*s' (allowed %d-%d, *, lists, ranges, /steps)",
				         names[fi], (int)fl[i], f[i], lo[fi], hi[fi]);
			return PANE_EINVAL;
		}
	}
	out->sec = bits[0];
	out->min = bits[1];
	out->hour = (uint32_t)bits[2];
	out->dom = (uint32_t)bits[3];
	out->mon = (uint32_t)bits[4];
	out->dow = (uint32_t)bits[5];
	if (out->dow & (1u << 7))
		out->dow |= 1u;
	out->dom_star = star[3];
	out->dow_star = star[5];
	return 0;
}

static bool day_ok(const struct pane_cron *c, const struct tm *tm)
{
	bool d = (c->dom >> tm->tm_mday) & 1, w = (c->dow >> tm->tm_wday) & 1;
	if (c->dom_star || c->dow_star)
		return d && w;
	return d || w;
}

int64_t pane_cron_next(const struct pane_cron *c, int64_t t)
{
	time_t x = (time_t)t + 1;
	time_t limit = x + (time_t)5 * 366 * 86400;
	struct tm tm;
	while (x < limit) {
		gmtime_r(&x, &tm);
		if (!((c->mon >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			x = timegm(&tm);
			continue;
		}
		if (!day_ok(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			x = timegm(&tm);
			continue;
		}
		if (!((c->hour >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = tm.tm_sec = 0;
			x = timegm(&tm);
			continue;
		}
		if (!((c->min >> tm.tm_min) & 1)) {
			tm.tm_min++;
			tm.tm_sec = 0;
			x = timegm(&tm);
			continue;
		}
		if (!((c->sec >> tm.tm_sec) & 1)) {
			x++;
			continue;
		}
		return (int64_t)x;
	}
	return -1;
}

static int exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	PQclear(r);
	return ok;
}

int pane_queue_cron_tick(PGconn *c, const char *schema)
{
	char sql[512];
	if (exec_ok(c, "BEGIN") < 0)
		return -1;
	snprintf(
	    sql, sizeof sql,
	    "SELECT name, cron, extract(epoch FROM next_run_at)::bigint, extract(epoch FROM clock_timestamp())::bigint"
	    " FROM %s.schedules WHERE enabled AND (next_run_at IS NULL OR next_run_at <= clock_timestamp())"
	    " ORDER BY name FOR UPDATE SKIP LOCKED",
	    schema);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		PQclear(PQexec(c, "ROLLBACK"));
		return -1;
	}
	int enqueued = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);
		struct pane_cron cr;
		char why[160];
		int64_t now = strtoll(PQgetvalue(r, i, 3), NULL, 10);
		if (pane_cron_parse(PQgetvalue(r, i, 1), &cr, why, sizeof why) < 0) {
			pane_warn("queue", "schedule %s disabled: %s", name, why);
			snprintf(sql, sizeof sql, "UPDATE %s.schedules SET enabled = false WHERE name = $1", schema);
			const char *p[1] = {name};
			PQclear(PQexecParams(c, sql, 1, NULL, p, NULL, NULL, 0));
			continue;
		}
		int64_t next = pane_cron_next(&cr, now);
		char nb[24], tick[24];
		snprintf(nb, sizeof nb, "%" PRId64, next);
		if (PQgetisnull(r, i, 2)) {
			snprintf(sql, sizeof sql,
			         "UPDATE %s.schedules SET next_run_at = to_timestamp($2::bigint) WHERE name = $1",
			         schema);
			const char *p[2] = {name, nb};
			PQclear(PQexecParams(c, sql, 2, NULL, p, NULL, NULL, 0));
			continue;
		}
		snprintf(tick, sizeof tick, "%s", PQgetvalue(r, i, 2));
		snprintf(sql, sizeof sql,
		         "WITH s AS (SELECT * FROM %s.schedules WHERE name = $1),"
		         " e AS (SELECT %s.enqueue(s.queue, s.payload, NULL, s.priority, s.max_attempts,"
		         "  'cron:' || s.name || ':' || ($3::bigint)::text, s.timeout) AS id FROM s)"
		         " UPDATE %s.schedules t SET last_run_at = to_timestamp($3::bigint), next_run_at = "
		         "to_timestamp($2::bigint),"
		         " last_job_id = e.id FROM e WHERE t.name = $1 RETURNING e.id",
		         schema, schema, schema);
		const char *p[3] = {name, nb, tick};
		PGresult *u = PQexecParams(c, sql, 3, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(u) != PGRES_TUPLES_OK) {
			pane_warn("queue", "schedule %s: %s", name, PQresultErrorMessage(u));
			PQclear(u);
			PQclear(r);
			PQclear(PQexec(c, "ROLLBACK"));
			return -1;
		}
		enqueued += PQntuples(u);
		PQclear(u);
	}
	PQclear(r);
	if (exec_ok(c, "COMMIT") < 0)
		return -1;
	return enqueued;
}
