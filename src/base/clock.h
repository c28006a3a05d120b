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

/* Parses an RFC 3339 timestamp ("2026-11-28T12:00:00Z",
 * "2026-11-28T12:00:00.123+01:00") or a Unix time in seconds with optional
 * fraction ("1764331200.5") into Unix milliseconds. 0 or PANE_EINVAL. */
int pane_time_parse(struct pane_str s, int64_t *out_ms);
/* Formats Unix ms as RFC 3339 UTC with milliseconds:
 * "2026-11-28T12:00:00.000Z" (needs 25 bytes). */
void pane_time_format(int64_t ms, char *out, size_t outlen);

#endif
