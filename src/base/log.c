/*
 * log.c - structured logging to stderr (see log.h).
 *
 * A line is built in a bounded buffer (8 KiB; long messages are cut at
 * 4 KiB with a marker) and written with one fwrite under the stdio lock, so
 * concurrent threads produce whole lines. Values are quoted in logfmt when
 * they contain a space, quote, '=' or control character; a JSON line is
 * written by base/json.h (the one JSON writer), and one that would pass
 * the limit is written again with only ts, level, comp and a shortened
 * msg, so it stays one valid object. Every value is redacted
 * (base/redact.h) in both formats.
 */
#include "base/log.h"
#include "base/redact.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"

/* A line's limit, JSON or logfmt; a message is cut at 4 KiB before that. */
#define LINE_MAX_BYTES 8192

static enum pane_log_level g_level = PANE_LOG_INFO;
static enum pane_log_format g_format = PANE_LOG_LOGFMT;

static const char *level_names[] = {"debug", "info", "warn", "error", "off"};

void pane_log_setup(enum pane_log_level level, enum pane_log_format format)
{
	g_level = level;
	g_format = format;
}

int pane_log_level_parse(const char *s, enum pane_log_level *out)
{
	for (int i = 0; i <= PANE_LOG_OFF; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum pane_log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = PANE_LOG_WARN;
		return 0;
	}
	return PANE_EINVAL;
}

int pane_log_format_parse(const char *s, enum pane_log_format *out)
{
	if (strcmp(s, "logfmt") == 0)
		*out = PANE_LOG_LOGFMT;
	else if (strcmp(s, "json") == 0)
		*out = PANE_LOG_JSON;
	else
		return PANE_EINVAL;
	return 0;
}

bool pane_log_enabled(enum pane_log_level level)
{
	return level >= g_level && level < PANE_LOG_OFF;
}

static void add_logfmt_value(struct pane_buf *b, const char *v)
{
	bool quote = *v == '\0';
	for (const char *p = v; *p && !quote; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20)
			quote = true;
	if (!quote) {
		pane_buf_adds(b, v);
		return;
	}
	pane_buf_addc(b, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\') {
			pane_buf_addc(b, '\\');
			pane_buf_addc(b, *p);
		} else if (*p == '\n') {
			pane_buf_adds(b, "\\n");
		} else if ((unsigned char)*p < 0x20) {
			pane_buf_addf(b, "\\x%02x", (unsigned char)*p);
		} else {
			pane_buf_addc(b, *p);
		}
	}
	pane_buf_addc(b, '"');
}

/* A line being built: logfmt text in b, or a JSON object written by j. */
struct line {
	struct pane_buf b;
	struct pane_json j;
};

static void add_field_raw(struct line *l, const char *key, const char *value)
{
	if (!value)
		value = "";
	if (g_format == PANE_LOG_JSON) {
		pane_json_key(&l->j, key);
		pane_json_str(&l->j, value);
	} else {
		pane_buf_addc(&l->b, ' ');
		pane_buf_adds(&l->b, key);
		pane_buf_addc(&l->b, '=');
		add_logfmt_value(&l->b, value);
	}
}

/* Every logged value loses its credentials (base/redact.h). */
static void add_field(struct line *l, const char *key, const char *value)
{
	if (!pane_redact_needed(value)) {
		add_field_raw(l, key, value);
		return;
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", value);
	pane_redact(tmp, sizeof tmp);
	add_field_raw(l, key, tmp);
}

/* ts, level and comp: the start of every line. */
static void line_begin(struct line *l, enum pane_log_level level, const char *ts, const char *comp)
{
	if (g_format == PANE_LOG_JSON) {
		pane_json_init(&l->j, &l->b);
		pane_json_obj(&l->j);
		pane_json_key(&l->j, "ts");
		pane_json_str(&l->j, ts);
		pane_json_key(&l->j, "level");
		pane_json_str(&l->j, level_names[level]);
	} else {
		pane_buf_addf(&l->b, "ts=%s level=%s", ts, level_names[level]);
	}
	if (comp)
		add_field(l, "comp", comp);
}

static void emit(enum pane_log_level level, const char *comp, const char *msg, va_list *kv)
{
	struct line l;
	char ts[32];
	pane_buf_init(&l.b, LINE_MAX_BYTES);
	pane_time_format(pane_wall_ms(), ts, sizeof ts);
	line_begin(&l, level, ts, comp);
	add_field(&l, "msg", msg);
	if (kv) {
		const char *k;
		while ((k = va_arg(*kv, const char *)) != NULL) {
			const char *v = va_arg(*kv, const char *);
			add_field(&l, k, v);
		}
	}
	if (g_format == PANE_LOG_JSON) {
		pane_json_obj_end(&l.j);
		if (l.j.rc < 0) {
			/* past the line's limit: still one JSON object, with the
			 * message cut short and the other fields left out */
			char cut[1024];
			snprintf(cut, sizeof cut, "%s", msg);
			pane_buf_reset(&l.b);
			line_begin(&l, level, ts, comp);
			add_field(&l, "msg", cut);
			pane_json_obj_end(&l.j);
		}
	}
	pane_buf_addc(&l.b, '\n');
	flockfile(stderr);
	fwrite(l.b.data, 1, l.b.len, stderr);
	fflush(stderr);
	funlockfile(stderr);
	pane_buf_release(&l.b);
}

static void vlog(enum pane_log_level level, const char *comp, const char *fmt, va_list ap)
{
	char msg[4096];
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n >= (int)sizeof msg)
		memcpy(msg + sizeof msg - 5, "...", 4);
	emit(level, comp, msg, NULL);
}

void pane_log(enum pane_log_level level, const char *comp, const char *fmt, ...)
{
	if (!pane_log_enabled(level))
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(level, comp, fmt, ap);
	va_end(ap);
}

void pane_log_kv(enum pane_log_level level, const char *comp, const char *msg, ...)
{
	if (!pane_log_enabled(level))
		return;
	va_list ap;
	va_start(ap, msg);
	emit(level, comp, msg, &ap);
	va_end(ap);
}

static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

void pane_log_limited(struct pane_log_limit *lim, enum pane_log_level level, const char *comp, const char *fmt, ...)
{
	if (!pane_log_enabled(level))
		return;
	long long now = (long long)pane_wall_ms();
	long suppressed = 0;
	bool allow;
	pthread_mutex_lock(&limit_lock);
	if (now - lim->window_start_ms >= lim->per_ms) {
		lim->window_start_ms = now;
		lim->count = 0;
	}
	allow = lim->count < lim->burst;
	if (allow) {
		lim->count++;
		suppressed = lim->suppressed;
		lim->suppressed = 0;
	} else {
		lim->suppressed++;
	}
	pthread_mutex_unlock(&limit_lock);
	if (!allow)
		return;
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof msg)
		memcpy(msg + sizeof msg - 5, "...", 4);
	if (suppressed) {
		char sup[32];
		snprintf(sup, sizeof sup, "%ld", suppressed);
		pane_log_kv(level, comp, msg, "suppressed", sup, NULL);
	} else {
		emit(level, comp, msg, NULL);
	}
}
