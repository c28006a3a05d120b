/*
 * clock.h - monotonic and wall clocks, durations and timestamps.
 *
 * Two clocks, never mixed: the monotonic clock measures intervals (timeouts,
 * latencies, backoff); the wall clock stamps records (samples, jobs, logs) in
 * Unix milliseconds, the unit every record in pane carries.
 *
 * Durations are written the way Prometheus and Go write them: "250ms", "30s",
 * "5m", "1h30m", "7d", "2w", also "1.5s"; a bare number is rejected unless the
 * caller asks for a default unit.
 */
#ifndef PANE_BASE_CLOCK_H
#define PANE_BASE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "base/str.h"

/* Nanoseconds on CLOCK_MONOTONIC (arbitrary epoch). */
int64_t pane_mono_ns(void);
/* Milliseconds since the Unix epoch on CLOCK_REALTIME. */
int64_t pane_wall_ms(void);
/* Sleeps for ms milliseconds, resuming after signal interruptions. */
void pane_sleep_ms(int64_t ms);

/* Parses a duration into milliseconds. default_unit_ms applies to a bare
 * number ("30" with 1000 -> 30 s); 0 rejects bare numbers. Negative durations
 * are rejected. 0 or PANE_EINVAL. */
int pane_duration_parse(struct pane_str s, int64_t default_unit_ms, int64_t *out_ms);
/* Writes the shortest exact form ("1h30m", "250ms", "0s") into out. */
void pane_duration_format(int64_t ms, char *out, size_t outlen);

/* Prometheus' duration grammar (PromQL ranges and offsets, rule files,
 * promtool tests): integer amounts with the units y w d h m s ms, each at
 * most once, largest first ("1h30m", "5m", "1y2w"), at most
 * PANE_PROM_DURATION_MAX_MS (Go's time.Duration). 0 or -1. This is the
 * strict one; pane_duration_parse above is pane.yaml's (fractions, any
 * order, a default unit). base/clock owns both. */
#define PANE_PROM_DURATION_MAX_MS 9223372036854LL
int pane_prom_duration_parse(const char *s, size_t len, int64_t *ms);
/* The form Prometheus prints ("1h30m", "0s"). */
void pane_prom_duration_format(int64_t ms, char *out, size_t len);

/* Parses an RFC 3339 timestamp ("2026-11-28T12:00:00Z",
 * "2026-11-28T12:00:00.123+01:00") or a Unix time in seconds with optional
 * fraction ("1764331200.5") into Unix milliseconds. 0 or PANE_EINVAL. */
int pane_time_parse(struct pane_str s, int64_t *out_ms);
/* The same into Unix microseconds, keeping up to 6 of up to 9 fraction
 * digits (providers' APIs order events by them); epoch seconds keep 6 too.
 * NULL or "" is PANE_EINVAL. 0 or PANE_EINVAL. */
int pane_time_parse_us(const char *s, int64_t *out_us);
/* Formats Unix ms as RFC 3339 UTC with milliseconds:
 * "2026-11-28T12:00:00.000Z" (needs 25 bytes). */
void pane_time_format(int64_t ms, char *out, size_t outlen);

#endif
