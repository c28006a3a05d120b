/*
 * stats.c - registry of pane's own counters and gauges (see stats.h).
 *
 * Values are doubles stored as their 64-bit pattern in an atomic, updated
 * with a compare-and-swap loop: counters need fractional adds (seconds) and
 * C11 has no atomic double add. Stats are never removed, so a pointer handed
 * out once stays valid; the registry is an append-only list.
 */
#include "base/stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct pane_stat {
	char *name;
	char *labels;
	char *help;
	enum pane_stat_type type;
	_Atomic uint64_t bits;
	struct pane_stat *next;
};

struct pane_stats {
	pthread_mutex_t lock;
	struct pane_stat *head, *tail;
};

static uint64_t to_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static double from_bits(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

struct pane_stats *pane_stats_new(void)
{
	struct pane_stats *st = pane_xcalloc(1, sizeof *st);
	pthread_mutex_init(&st->lock, NULL);
	return st;
}

void pane_stats_free(struct pane_stats *st)
{
	if (!st)
		return;
	struct pane_stat *s = st->head;
	while (s) {
		struct pane_stat *next = s->next;
		free(s->name);
		free(s->labels);
		free(s->help);
		free(s);
		s = next;
	}
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static struct pane_stat *get(struct pane_stats *st, enum pane_stat_type type, const char *name, const char *labels,
                             const char *help)
{
	if (!labels)
		labels = "";
	pthread_mutex_lock(&st->lock);
	struct pane_stat *s;
	for (s = st->head; s; s = s->next)
		if (strcmp(s->name, name) == 0 && strcmp(s->labels, labels) == 0)
			break;
	if (!s) {
		s = pane_xcalloc(1, sizeof *s);
		s->name = pane_xstrdup(name);
		s->labels = pane_xstrdup(labels);
		s->help = pane_xstrdup(help ? help : "");
		s->type = type;
		atomic_store(&s->bits, to_bits(0.0));
		if (st->tail)
			st->tail->next = s;
		else
			st->head = s;
		st->tail = s;
	}
	pthread_mutex_unlock(&st->lock);
	return s;
}

struct pane_stat *pane_stats_counter(struct pane_stats *st, const char *name, const char *labels, const char *help)
{
	return get(st, PANE_STAT_COUNTER, name, labels, help);
}

struct pane_stat *pane_stats_gauge(struct pane_stats *st, const char *name, const char *labels, const char *help)
{
	return get(st, PANE_STAT_GAUGE, name, labels, help);
}

void pane_stat_add(struct pane_stat *s, double delta)
{
	if (s->type == PANE_STAT_COUNTER && !(delta > 0))
		return;
	uint64_t old = atomic_load(&s->bits);
	while (!atomic_compare_exchange_weak(&s->bits, &old, to_bits(from_bits(old) + delta)))
		;
}

void pane_stat_inc(struct pane_stat *s)
{
	pane_stat_add(s, 1.0);
}

void pane_stat_set(struct pane_stat *s, double value)
{
	atomic_store(&s->bits, to_bits(value));
}

double pane_stat_get(const struct pane_stat *s)
{
	return from_bits(atomic_load(&((struct pane_stat *)s)->bits));
}

static void fmt_value(struct pane_buf *out, double v)
{
	if (v != v)
		pane_buf_adds(out, "NaN");
	else if (v > 1.7976931348623157e308)
		pane_buf_adds(out, "+Inf");
	else if (v < -1.7976931348623157e308)
		pane_buf_adds(out, "-Inf");
	else
		pane_buf_addf(out, "%.17g", v);
}

int pane_stats_render(struct pane_stats *st, struct pane_buf *out)
{
	int rc = 0;
	pthread_mutex_lock(&st->lock);
	/* A metric family must be contiguous: print each name's header once at
	 * its first stat, followed by every stat of that name. */
	for (struct pane_stat *s = st->head; s && rc == 0; s = s->next) {
		bool first = true;
		for (struct pane_stat *p = st->head; p != s; p = p->next)
			if (strcmp(p->name, s->name) == 0) {
				first = false;
				break;
			}
		if (!first)
			continue;
		pane_buf_addf(out, "# HELP %s %s\n", s->name, s->help);
		pane_buf_addf(out, "# TYPE %s %s\n", s->name, s->type == PANE_STAT_COUNTER ? "counter" : "gauge");
		for (struct pane_stat *m = s; m && rc == 0; m = m->next) {
			if (strcmp(m->name, s->name) != 0)
				continue;
			if (*m->labels)
				pane_buf_addf(out, "%s{%s} ", m->name, m->labels);
			else
				pane_buf_addf(out, "%s ", m->name);
			fmt_value(out, pane_stat_get(m));
			rc = pane_buf_addc(out, '\n');
		}
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

void pane_stats_each(struct pane_stats *st,
                     void (*fn)(void *arg, const char *name, const char *labels, enum pane_stat_type type,
                                double value),
                     void *arg)
{
	pthread_mutex_lock(&st->lock);
	for (struct pane_stat *s = st->head; s; s = s->next)
		fn(arg, s->name, s->labels, s->type, pane_stat_get(s));
	pthread_mutex_unlock(&st->lock);
}

void pane_stats_each_family(struct pane_stats *st,
                            void (*fn)(void *arg, const char *name, enum pane_stat_type type, const char *help),
                            void *arg)
{
	pthread_mutex_lock(&st->lock);
	for (struct pane_stat *s = st->head; s; s = s->next) {
		bool first = true;
		for (struct pane_stat *p = st->head; p != s && first; p = p->next)
			first = strcmp(p->name, s->name) != 0;
		if (first)
			fn(arg, s->name, s->type, s->help);
	}
	pthread_mutex_unlock(&st->lock);
}
