/*
 * log.h - leveled structured logging to stderr.
 *
 * Each call writes one whole line with a single write, so lines from
 * different threads never interleave. Two formats:
 *   logfmt (default): ts=2026-11-28T12:00:00.000Z level=info comp=http msg="listening" addr=127.0.0.1:8080
 *   json:             {"ts":"...","level":"info","comp":"http","msg":"listening","addr":"127.0.0.1:8080"}
 *
 * The logger's level and format are the one process-wide global pane allows
 * itself (every part logs, and threading a logger through every call would
 * buy nothing). Set them once at start-up, before threads start.
 */
#ifndef PANE_BASE_LOG_H
#define PANE_BASE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum pane_log_level { PANE_LOG_DEBUG = 0, PANE_LOG_INFO, PANE_LOG_WARN, PANE_LOG_ERROR, PANE_LOG_OFF };
enum pane_log_format { PANE_LOG_LOGFMT = 0, PANE_LOG_JSON };

void pane_log_setup(enum pane_log_level level, enum pane_log_format format);
/* "debug"|"info"|"warn"|"error"|"off" -> level; 0 or PANE_EINVAL. */
int pane_log_level_parse(const char *s, enum pane_log_level *out);
/* "logfmt"|"json" -> format; 0 or PANE_EINVAL. */
int pane_log_format_parse(const char *s, enum pane_log_format *out);
bool pane_log_enabled(enum pane_log_level level);

/* One line: msg is printf-formatted. comp names the part ("http", "queue"). */
void pane_log(enum pane_log_level level, const char *comp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* One line with structured fields: after msg, NULL-terminated pairs of
 * (const char *key, const char *value); a NULL value prints as empty.
 *     pane_log_kv(PANE_LOG_INFO, "http", "listening", "addr", addr, NULL); */
void pane_log_kv(enum pane_log_level level, const char *comp, const char *msg, ...) __attribute__((sentinel));

#define pane_debug(comp, ...) pane_log(PANE_LOG_DEBUG, comp, __VA_ARGS__)
#define pane_info(comp, ...) pane_log(PANE_LOG_INFO, comp, __VA_ARGS__)
#define pane_warn(comp, ...) pane_log(PANE_LOG_WARN, comp, __VA_ARGS__)
#define pane_error(comp, ...) pane_log(PANE_LOG_ERROR, comp, __VA_ARGS__)

/* A limiter for messages that bad input can trigger in a flood: at most
 * `burst` lines per `per_ms` window; the next allowed line reports how many
 * were suppressed. Zero-initialise, then set burst and per_ms. Thread-safe. */
struct pane_log_limit {
	int burst;
	long per_ms;
	long long window_start_ms;
	int count;
	long suppressed;
};
void pane_log_limited(struct pane_log_limit *lim, enum pane_log_level level, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
