/*
 * tz.h - time zones from the system's tz database, without TZ/localtime_r.
 *
 * Alertmanager's time intervals take a `location` (an IANA name such as
 * "Europe/Berlin"); their times, weekdays and days are local to it. glibc's
 * localtime_r reads the zone from the TZ environment variable, which is
 * process-wide and not safe to change from a thread, so pane reads the TZif
 * file itself (RFC 8536: versions 1 to 4, the 64-bit data when present, and
 * the footer's POSIX TZ rule for times after the last transition) and
 * computes UTC offsets from it. A loaded zone is immutable: any thread may
 * use it.
 */
#ifndef PANE_NOTIFY_TZ_H
#define PANE_NOTIFY_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct pane_tz;

/* "UTC", "Local" (the system's /etc/localtime) or an IANA name read from
 * $ZONEINFO or /usr/share/zoneinfo. NULL with err set when the name is not a
 * zone name or the file is missing or not TZif. */
struct pane_tz *pane_tz_load(const char *name, struct pane_err *err);
/* Parses TZif data (for tests and fuzzing). NULL with err set when malformed. */
struct pane_tz *pane_tz_parse(const unsigned char *data, size_t len, struct pane_err *err);
void pane_tz_free(struct pane_tz *tz);
/* Seconds east of UTC at Unix time t (seconds). NULL tz is UTC. */
int32_t pane_tz_offset(const struct pane_tz *tz, int64_t t);

#endif
