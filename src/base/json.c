/*
 * json.c - the JSON writer (see json.h).
 *
 * Idea: the only state JSON text needs is "does this container have a
 * member yet" per level (one bit each) and "a key was just written", which
 * decide the comma; everything else is the buffer's.
 */
#include "base/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "base/err.h"

void pane_json_init(struct pane_json *j, struct pane_buf *b)
{
	memset(j, 0, sizeof *j);
	j->b = b;
}

/* The comma (or nothing) before a value or a key; false when writing stops. */
static bool before(struct pane_json *j)
{
	if (j->rc)
		return false;
	if (j->after_key) {
		j->after_key = false;
		return true;
	}
	uint64_t bit = (uint64_t)1 << j->depth;
	if (j->has_items & bit)
		j->rc = pane_buf_addc(j->b, ',');
	j->has_items |= bit;
	return j->rc == 0;
}

static void put(struct pane_json *j, int rc)
{
	if (!j->rc && rc < 0)
		j->rc = rc;
}

static void open_(struct pane_json *j, char c)
{
	if (!before(j))
		return;
	if (j->depth + 1 >= PANE_JSON_MAX_DEPTH) {
		j->rc = PANE_EINVAL;
		return;
	}
	put(j, pane_buf_addc(j->b, c));
	j->depth++;
	j->has_items &= ~((uint64_t)1 << j->depth);
}

static void close_(struct pane_json *j, char c)
{
	if (j->rc)
		return;
	if (j->depth == 0 || j->after_key) {
		j->rc = PANE_EINVAL;
		return;
	}
	j->depth--;
	put(j, pane_buf_addc(j->b, c));
}

void pane_json_obj(struct pane_json *j)
{
	open_(j, '{');
}

void pane_json_obj_end(struct pane_json *j)
{
	close_(j, '}');
}

void pane_json_arr(struct pane_json *j)
{
	open_(j, '[');
}

void pane_json_arr_end(struct pane_json *j)
{
	close_(j, ']');
}

void pane_json_key(struct pane_json *j, const char *key)
{
	if (!before(j))
		return;
	put(j, pane_buf_add_json_str(j->b, key, strlen(key)));
	put(j, pane_buf_addc(j->b, ':'));
	j->after_key = true;
}

void pane_json_strn(struct pane_json *j, const char *s, size_t len)
{
	if (before(j))
		put(j, s ? pane_buf_add_json_str(j->b, s, len) : pane_buf_adds(j->b, "null"));
}

void pane_json_str(struct pane_json *j, const char *s)
{
	pane_json_strn(j, s, s ? strlen(s) : 0);
}

void pane_json_int(struct pane_json *j, int64_t v)
{
	if (before(j))
		put(j, pane_buf_addf(j->b, "%lld", (long long)v));
}

void pane_json_uint(struct pane_json *j, uint64_t v)
{
	if (before(j))
		put(j, pane_buf_addf(j->b, "%" PRIu64, v));
}

void pane_json_num(struct pane_json *j, double v)
{
	if (before(j))
		put(j, isfinite(v) ? pane_buf_addf(j->b, "%.17g", v) : pane_buf_adds(j->b, "null"));
}

void pane_json_bool(struct pane_json *j, bool v)
{
	if (before(j))
		put(j, pane_buf_adds(j->b, v ? "true" : "false"));
}

void pane_json_null(struct pane_json *j)
{
	if (before(j))
		put(j, pane_buf_adds(j->b, "null"));
}

void pane_json_raw(struct pane_json *j, const char *json)
{
	if (before(j))
		put(j, pane_buf_adds(j->b, json));
}

void pane_json_rawn(struct pane_json *j, const char *json, size_t len)
{
	if (before(j))
		put(j, pane_buf_add(j->b, json, len));
}

void pane_json_rawf(struct pane_json *j, const char *fmt, ...)
{
	if (!before(j))
		return;
	va_list ap;
	va_start(ap, fmt);
	put(j, pane_buf_addvf(j->b, fmt, ap));
	va_end(ap);
}
