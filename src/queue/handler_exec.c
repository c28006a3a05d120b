/*
 * handler_exec.c - the --exec handler: each job runs `sh -c CMD` with the
 * job JSON on stdin; exit 0 completes it (stdout, if any, is the result),
 * exit 100 fails it for good, anything else fails the attempt (stderr's tail
 * is the error).
 *
 * Idea: the handler must never outlive its worker, or a job rescued after a
 * SIGKILL of the worker would run twice at once. So the command runs under a
 * supervisor process that leads its own process group and kills the group
 * when the worker dies (PR_SET_PDEATHSIG); timeouts and cancels kill the
 * group from the worker (spawn_supervised has the details).
 *
 * Invariants:
 *   1. when run() returns, no process of the job is left (the group is
 *      killed after the supervisor exits, whatever the outcome);
 *   2. stdout is bounded by RESULT_MAX (over it: the attempt fails), stderr
 *      keeps its last ERROR_TAIL bytes; memory per job is bounded.
 *
 * Thread context: an executor thread; between fork and exec only
 * async-signal-safe calls (argv and the environment are built before).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "queue/handler.h"

extern char **environ;

#define PANE_EXIT_DISCARD 100 /* exit status: fail for good, do not retry */

/* Appends what fd has to b, keeping at most max bytes (the first max for
 * stdout, the last for stderr when tail). Returns false at EOF. */
static bool drain_fd(int fd, struct pane_buf *b, size_t max, bool tail, bool *overflow)
{
	char chunk[8192];
	ssize_t n = read(fd, chunk, sizeof chunk);
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	if (tail) {
		pane_buf_add(b, chunk, (size_t)n);
		if (b->len > max) {
			memmove(b->data, b->data + b->len - max, max);
			pane_buf_truncate(b, max);
		}
	} else if (pane_buf_add(b, chunk, (size_t)n) < 0 || b->len > max) {
		*overflow = true;
	}
	return true;
}

/* The supervisor's end: the worker died (its death signal, see
 * spawn_supervised) - take the whole process group, supervisor included. */
static void supervisor_on_orphaned(int sig)
{
	(void)sig;
	kill(0, SIGKILL);
	_exit(137);
}

/*
 * Starts `argv` (/bin/sh -c CMD) with stdin/stdout/stderr on the given fds,
 * under a supervisor, and returns the supervisor's pid (also the process
 * group of both), or -1.
 *
 * Why a supervisor: PR_SET_PDEATHSIG alone would signal only the direct
 * child when the worker dies, and a handler's own children (`cmd &`,
 * pipelines) would live on while the job is rescued and runs again
 * elsewhere. The supervisor leads a new process group, asks the kernel for
 * SIGTERM when its parent thread goes (the executor threads live as long
 * as the worker, so that is the worker's death, SIGKILL and OOM kills
 * included), and on it kills the group. Otherwise it waits for the handler
 * and exits the same way (status, or the same signal), so the caller sees
 * the handler's result. Killing the group (-pid) from the worker, as
 * timeouts and cancels do, takes the supervisor along.
 *
 * Between fork and exec only async-signal-safe calls: the arguments and
 * environment are built by the caller.
 */
static pid_t spawn_supervised(char *const argv[], char *const envp[], int fd0, int fd1, int fd2)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* supervisor */
	setpgid(0, 0);
	struct sigaction sa = {.sa_handler = supervisor_on_orphaned};
	sigfillset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGTERM && s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		supervisor_on_orphaned(0); /* the worker is already gone */
	dup2(fd0, 0);
	dup2(fd1, 1);
	dup2(fd2, 2);
	/* no exec here, so O_CLOEXEC does not help: other jobs' pipe ends must
	 * not stay open in the supervisor (a handler would wait for EOF forever) */
	if (close_range(3, ~0u, 0) < 0)
		for (int fd = 3; fd < 4096; fd++)
			close(fd);
	pid_t h = fork();
	if (h == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	if (h < 0)
		_exit(126);
	/* the supervisor keeps no pipe open: EOF on stdout means the handlers are done */
	close(0);
	close(1);
	close(2);
	int st = 0;
	while (waitpid(h, &st, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	if (WIFSIGNALED(st)) {
		int s = WTERMSIG(st);
		signal(s, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		kill(getpid(), s);
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 126);
}

void pane_queue_handler_exec(const struct pane_queue_worker_opts *o, struct queue_job *j)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	struct pane_buf ob, eb;
	pane_buf_init(&ob, RESULT_MAX + 8192);
	pane_buf_init(&eb, PANE_BUF_NOLIMIT);
	char **envp = NULL;
	pid_t pid = -1;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		j->outcome = QJ_RETRY;
		j->error = pane_xstrdup("cannot create pipes for the handler");
		goto cleanup;
	}
	size_t n_env = 0;
	while (environ[n_env])
		n_env++;
	envp = pane_xcalloc(n_env + 4, sizeof *envp);
	size_t k = 0;
	for (size_t i = 0; i < n_env; i++)
		if (strncmp(environ[i], "PANE_JOB_ID=", 12) && strncmp(environ[i], "PANE_QUEUE=", 11) &&
		    strncmp(environ[i], "PANE_ATTEMPT=", 13))
			envp[k++] = environ[i];
	char e_id[48], e_att[32];
	snprintf(e_id, sizeof e_id, "PANE_JOB_ID=%" PRId64, j->id);
	snprintf(e_att, sizeof e_att, "PANE_ATTEMPT=%d", j->attempt);
	struct pane_buf eq;
	pane_buf_init(&eq, PANE_BUF_NOLIMIT);
	pane_buf_addf(&eq, "PANE_QUEUE=%s", j->queue);
	envp[k++] = e_id;
	envp[k++] = e_att;
	envp[k++] = eq.data;
	char *argv[] = {"/bin/sh", "-c", (char *)o->exec_cmd, NULL};
	pid = spawn_supervised(argv, envp, in[0], out[1], err[1]);
	if (pid < 0) {
		pane_buf_release(&eq);
		j->outcome = QJ_RETRY;
		j->error = pane_xstrdup("cannot start the handler (fork failed)");
		goto cleanup;
	}
	atomic_store(&j->pgid, pid);
	if (queue_job_cancelled(j))
		kill(-pid, SIGKILL);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	in[0] = out[1] = err[1] = -1;
	/* the job JSON on stdin (small, but do not block if the handler ignores it) */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	size_t off = 0, len = strlen(j->json);
	int64_t deadline = j->timeout_ms > 0 ? pane_mono_ns() + j->timeout_ms * 1000000 : INT64_MAX;
	bool out_open = true, err_open = true, overflow = false, timed_out = false, killed = false;
	while (out_open || err_open || in[1] >= 0) {
		if (in[1] >= 0) {
			ssize_t n = write(in[1], j->json + off, len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n < 0 && errno != EAGAIN) || off >= len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		struct pollfd p[3];
		int np = 0;
		if (out_open)
			p[np++] = (struct pollfd){.fd = out[0], .events = POLLIN};
		if (err_open)
			p[np++] = (struct pollfd){.fd = err[0], .events = POLLIN};
		if (in[1] >= 0)
			p[np++] = (struct pollfd){.fd = in[1], .events = POLLOUT};
		poll(p, (nfds_t)np, 50);
		for (int i = 0; i < np; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (p[i].fd == out[0] && !drain_fd(out[0], &ob, RESULT_MAX, false, &overflow))
				out_open = false;
			else if (p[i].fd == err[0] && !drain_fd(err[0], &eb, ERROR_TAIL, true, &overflow))
				err_open = false;
		}
		if (!killed && (queue_job_cancelled(j) || pane_mono_ns() >= deadline)) {
			timed_out = !queue_job_cancelled(j);
			kill(-pid, SIGKILL);
			killed = true;
			if (in[1] >= 0) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* whatever the handler left running in its group goes too */
	kill(-pid, SIGKILL);
	pane_buf_release(&eq);
	if (queue_job_cancelled(j)) {
		j->outcome = QJ_DROPPED;
	} else if (timed_out) {
		j->outcome = QJ_RETRY;
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		pane_buf_addf(&b, "timed out after %" PRId64 " ms (process group killed)", j->timeout_ms);
		if (eb.len)
			pane_buf_addf(&b, "; stderr: %s", eb.data);
		j->error = pane_buf_detach(&b, NULL);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (overflow) {
			j->outcome = QJ_RETRY;
			j->error = pane_xstrdup("handler wrote more than 1 MiB to stdout (the result limit)");
		} else {
			j->outcome = QJ_OK;
			pane_queue_job_set_result(j, ob.data, ob.len);
		}
	} else {
		/* exit status 100: a permanent failure, no retry (dead letter at once) */
		j->outcome = WIFEXITED(status) && WEXITSTATUS(status) == PANE_EXIT_DISCARD ? QJ_DISCARD : QJ_RETRY;
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		if (WIFEXITED(status))
			pane_buf_addf(&b, "exit status %d%s", WEXITSTATUS(status),
			              j->outcome == QJ_DISCARD ? " (discarded: no retry)" : "");
		else
			pane_buf_addf(&b, "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		if (eb.len)
			pane_buf_addf(&b, ": %s", eb.data);
		j->error = pane_buf_detach(&b, NULL);
	}
cleanup:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	free(envp);
	pane_buf_release(&ob);
	pane_buf_release(&eb);
}
