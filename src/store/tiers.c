/*
 * tiers.c - downsampled tiers: per-bucket aggregates stored with each
 * segment, for long ranges (pane_store_select_tier).
 *
 * Idea: with each segment, per 5 min and/or 1 h bucket (store.tiers):
 * count, min, max, sum and last (with its timestamp) of the non-stale
 * samples, as seven columns in one zstd blob in the day's partition file,
 * indexed by a row of "a_<DAY>". A 30-day chart then reads 720 buckets a
 * series instead of 172,800 samples. Windows are aligned to both steps,
 * so a bucket is split only when out-of-order writes make a second
 * segment for a window; readers merge such partial buckets
 * (ps_bucket_merge), and aggregate what is still in heads on the fly.
 *
 * Invariants:
 *   (1) A bucket's timestamp is its start (floor to the step, also for
 *       negative times); buckets of one blob ascend.
 *   (2) Stale markers are in no aggregate; an empty bucket is not stored.
 *   (3) Decoding checks every column's length and count against the
 *       first: a corrupt blob is rejected, never read past.
 *
 * Thread context: persisting under st->mu (segment.c); decoding without
 * it, on a select's own descriptors (select.c).
 */
#include "store/internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

const int64_t ps_tier_steps[2] = {5 * 60 * 1000LL, 3600 * 1000LL};

size_t ps_make_buckets(const int64_t *ts, const double *v, size_t n, int64_t step, struct bucket *out)
{
	size_t nb = 0;
	for (size_t i = 0; i < n; i++) {
		if (pane_is_stale_nan(v[i]))
			continue;
		int64_t t = ts[i] / step * step - (ts[i] % step < 0 ? step : 0);
		if (!nb || out[nb - 1].t != t) {
			out[nb++] = (struct bucket){
			    .t = t, .last_ts = ts[i], .count = 0, .min = v[i], .max = v[i], .sum = 0, .last = v[i]};
		}
		struct bucket *b = &out[nb - 1];
		b->count += 1;
		if (v[i] < b->min || isnan(b->min))
			b->min = v[i];
		if (v[i] > b->max || isnan(b->max))
			b->max = v[i];
		b->sum += v[i];
		if (ts[i] >= b->last_ts) {
			b->last_ts = ts[i];
			b->last = v[i];
		}
	}
	return nb;
}

/* Combines b into a (same bucket). */
void ps_bucket_merge(struct bucket *a, const struct bucket *b)
{
	a->count += b->count;
	if (b->min < a->min || isnan(a->min))
		a->min = b->min;
	if (b->max > a->max || isnan(a->max))
		a->max = b->max;
	a->sum += b->sum;
	if (b->last_ts >= a->last_ts) {
		a->last_ts = b->last_ts;
		a->last = b->last;
	}
}

static void add_column(struct pane_buf *raw, struct pane_buf *col)
{
	uint8_t t[10];
	pane_buf_add(raw, t, pane_uvarint_put(t, col->len));
	pane_buf_add(raw, col->data, col->len);
	pane_buf_reset(col);
}

int ps_persist_tier(struct pane_store *st, struct part *p, uint32_t sid, int64_t step, const int64_t *ts,
                    const double *v, size_t n, struct pane_err *err)
{
	struct bucket *b = pane_xmalloc(pane_mul_size(n ? n : 1, sizeof *b));
	size_t nb = ps_make_buckets(ts, v, n, step, b);
	if (!nb) {
		free(b);
		return 0;
	}
	int64_t *t = pane_xmalloc(nb * sizeof *t);
	double *col = pane_xmalloc(nb * sizeof *col);
	struct pane_buf raw, one, blob;
	pane_buf_init(&raw, PANE_BUF_NOLIMIT);
	pane_buf_init(&one, PANE_BUF_NOLIMIT);
	pane_buf_init(&blob, PANE_BUF_NOLIMIT);
	for (size_t i = 0; i < nb; i++)
		t[i] = b[i].t;
	pane_column_encode_ts(t, nb, &one);
	add_column(&raw, &one);
	for (int c = 0; c < 6; c++) {
		for (size_t i = 0; i < nb; i++)
			col[i] = c == 0   ? b[i].count
			         : c == 1 ? b[i].min
			         : c == 2 ? b[i].max
			         : c == 3 ? b[i].sum
			         : c == 4 ? b[i].last
			                  : (double)(b[i].last_ts - b[i].t);
		/* small columns: a fixed choice is as good as measuring and much cheaper */
		pane_column_encode_values_as(col, nb, PANE_CODEC_DEC_D1, &one);
		add_column(&raw, &one);
	}
	pane_segment_pack(raw.data, raw.len, st->o.zstd_level, &blob);
	uint64_t off = 0;
	int rc = ps_part_append(st, p, &blob, &off, err);
	sqlite3_stmt *q = NULL;
	if (!rc) {
		char sql[200];
		snprintf(sql, sizeof sql,
		         "INSERT INTO \"a_%" PRId64 "\"(sid, step, off, len, crc, mint, maxt) VALUES (?,?,?,?,?,?,?)",
		         p->day);
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
			rc = ps_sql_fail(st, err, "tier index");
	}
	if (!rc) {
		sqlite3_bind_int64(q, 1, sid);
		sqlite3_bind_int64(q, 2, step);
		sqlite3_bind_int64(q, 3, (int64_t)off);
		sqlite3_bind_int64(q, 4, (int64_t)blob.len);
		sqlite3_bind_int64(q, 5, pane_crc32c(0, blob.data, blob.len));
		sqlite3_bind_int64(q, 6, b[0].t);
		sqlite3_bind_int64(q, 7, b[nb - 1].t);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = ps_sql_fail(st, err, "tier index");
	}
	sqlite3_finalize(q);
	pane_buf_release(&raw);
	pane_buf_release(&one);
	pane_buf_release(&blob);
	free(t);
	free(col);
	free(b);
	return rc;
}

void ps_blist_add(struct bucket_list *l, const struct bucket *b)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->b = pane_xrealloc(l->b, pane_mul_size(l->cap, sizeof *l->b));
	}
	l->b[l->n++] = *b;
}

int ps_cmp_bucket(const void *a, const void *b)
{
	int64_t x = ((const struct bucket *)a)->t, y = ((const struct bucket *)b)->t;
	return x < y ? -1 : x > y;
}

/* Decodes one tier blob's seven columns into buckets. */
bool ps_tier_decode(struct pane_unpacker *u, int fd, int64_t off, int64_t len, uint32_t crc, struct pane_buf *scratch,
                    int64_t *tb, double *vb, struct bucket_list *out)
{
	size_t n = 0, nb = 0;
	if (!ps_read_column_raw(u, fd, off, len, crc, scratch))
		return false;
	const uint8_t *p = (const uint8_t *)scratch->data;
	size_t rem = scratch->len, first = out->n;
	for (int c = 0; c < 7; c++) {
		uint64_t cl;
		size_t k = pane_uvarint_get(p, rem, &cl), used;
		if (!k || cl > rem - k)
			return false;
		p += k;
		rem -= k;
		double *vals = vb;
		if (pane_chunk_decode(p, (size_t)cl, tb, vals, PANE_CHUNK_MAX, &n, &used) < 0 || (c && n != nb))
			return false;
		if (c == 0) {
			nb = n;
			for (size_t i = 0; i < nb; i++)
				ps_blist_add(out, &(struct bucket){.t = tb[i]});
		}
		for (size_t i = 0; c && i < nb; i++) {
			struct bucket *b = &out->b[first + i];
			switch (c) {
			case 1: b->count = vals[i]; break;
			case 2: b->min = vals[i]; break;
			case 3: b->max = vals[i]; break;
			case 4: b->sum = vals[i]; break;
			case 5: b->last = vals[i]; break;
			default: b->last_ts = b->t + (int64_t)vals[i]; break;
			}
		}
		p += cl;
		rem -= (size_t)cl;
	}
	return true;
}

double ps_bucket_value(const struct bucket *b, enum pane_tier_agg agg)
{
	switch (agg) {
	case PANE_AGG_MIN: return b->min;
	case PANE_AGG_MAX: return b->max;
	case PANE_AGG_SUM: return b->sum;
	case PANE_AGG_COUNT: return b->count;
	case PANE_AGG_LAST: return b->last;
	default: return b->count ? b->sum / b->count : NAN;
	}
}

int pane_store_parse_tiers(const char *s, unsigned *mask)
{
	*mask = 0;
	if (strcmp(s, "none") == 0)
		return 0;
	const char *p = s;
	while (*p) {
		size_t n = strcspn(p, ", ");
		if (n == 2 && strncmp(p, "5m", 2) == 0)
			*mask |= PANE_TIER_5M;
		else if (n == 2 && strncmp(p, "1h", 2) == 0)
			*mask |= PANE_TIER_1H;
		else if (n)
			return PANE_EINVAL;
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}
