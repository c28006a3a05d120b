/*
 * signals.h - clean shutdown on SIGINT/SIGTERM, reload on SIGHUP.
 *
 * The first SIGINT or SIGTERM asks the process to stop: the flag becomes
 * true and pane_signals_fd() turns readable, so poll()/epoll loops and
 * condition waits can notice without busy-waiting. A second signal while
 * stopping is counted; long-running commands use it to skip their grace
 * period ("press Ctrl-C again to force"). SIGPIPE is ignored: a peer that
 * closed its socket is an error return, not a dead process.
 *
 * This is process-wide state by nature (signal handlers have no context
 * argument); it is the only global besides the logger.
 */
#ifndef PANE_BASE_SIGNALS_H
#define PANE_BASE_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>

/* Installs the handlers. Safe to call more than once. 0 or PANE_EIO. */
int pane_signals_install(void);
/* True once a stop was requested (by a signal or pane_signals_request_stop). */
bool pane_signals_stop_requested(void);
/* Number of stop signals received so far. */
int pane_signals_count(void);
/* A file descriptor that becomes readable once a stop is requested
 * (never read it; it stays readable). -1 before install. */
int pane_signals_fd(void);
/* Blocks up to timeout_ms (negative: forever) for a stop request.
 * Returns true when a stop was requested. */
bool pane_signals_wait(int64_t timeout_ms);
/* Requests a stop from code (tests, fatal errors in a thread). Async-signal-safe. */
void pane_signals_request_stop(void);

/* SIGHUP asks for a reload: it bumps a counter and wakes pane_signals_wait()
 * (which then returns false). The caller compares the counter with the value
 * it last handled. Without pane_signals_install(), SIGHUP keeps its default. */
unsigned pane_signals_reload_count(void);

#endif
