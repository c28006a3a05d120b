/*
 * signals.c - stop flag plus self-pipe, set from SIGINT/SIGTERM (see signals.h).
 *
 * The handler does only async-signal-safe things: it bumps an atomic counter
 * and writes one byte to a non-blocking pipe. Everything else (logging,
 * joining threads) happens in ordinary code that polls the pipe or the flag.
 */
#include "base/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "base/err.h"

static atomic_int g_count;
static atomic_bool g_stop;
static atomic_uint g_reloads;
static int g_pipe[2] = {-1, -1};

void pane_signals_request_stop(void)
{
	atomic_store(&g_stop, true);
	if (g_pipe[1] >= 0) {
		char c = 1;
		ssize_t r = write(g_pipe[1], &c, 1);
		(void)r; /* pipe full means it is already readable */
	}
}

static void on_signal(int sig)
{
	(void)sig;
	int saved = errno;
	atomic_fetch_add(&g_count, 1);
	pane_signals_request_stop();
	errno = saved;
}

static void on_hup(int sig)
{
	(void)sig;
	int saved = errno;
	atomic_fetch_add(&g_reloads, 1);
	if (g_pipe[1] >= 0) {
		char c = 2;
		ssize_t r = write(g_pipe[1], &c, 1);
		(void)r;
	}
	errno = saved;
}

unsigned pane_signals_reload_count(void)
{
	return atomic_load(&g_reloads);
}

int pane_signals_install(void)
{
	if (g_pipe[0] < 0) {
		if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
			return PANE_EIO;
	}
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return PANE_EIO;
	sa.sa_handler = on_hup;
	if (sigaction(SIGHUP, &sa, NULL) < 0)
		return PANE_EIO;
	signal(SIGPIPE, SIG_IGN);
	if (atomic_load(&g_stop))
		pane_signals_request_stop();
	return 0;
}

bool pane_signals_stop_requested(void)
{
	return atomic_load(&g_stop);
}

int pane_signals_count(void)
{
	return atomic_load(&g_count);
}

int pane_signals_fd(void)
{
	return g_pipe[0];
}

bool pane_signals_wait(int64_t timeout_ms)
{
	if (atomic_load(&g_stop))
		return true;
	if (g_pipe[0] < 0) {
		/* not installed: nothing can wake us but the timeout */
		if (timeout_ms > 0) {
			struct pollfd none;
			poll(&none, 0, (int)timeout_ms);
		}
		return atomic_load(&g_stop);
	}
	struct pollfd pfd = {.fd = g_pipe[0], .events = POLLIN};
	int t = timeout_ms < 0 ? -1 : timeout_ms > 2147483647 ? 2147483647 : (int)timeout_ms;
	while (poll(&pfd, 1, t) < 0 && errno == EINTR)
		if (atomic_load(&g_stop))
			break;
	if (!atomic_load(&g_stop)) {
		/* woken by a reload: empty the pipe so the next wait sleeps again
		 * (a stop arriving meanwhile sets the flag before its write) */
		char drain[64];
		while (read(g_pipe[0], drain, sizeof drain) > 0)
			;
		if (atomic_load(&g_stop))
			pane_signals_request_stop();
	}
	return atomic_load(&g_stop);
}
