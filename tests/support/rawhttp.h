/*
 * rawhttp.h - test helpers below libcurl: raw sockets for clients that
 * misbehave on purpose (slow bodies, disconnects mid-upload), and reading a
 * process's memory figures.
 */
#ifndef PANE_TESTS_RAWHTTP_H
#define PANE_TESTS_RAWHTTP_H

#include <stddef.h>
#include <sys/types.h>

/* A connected TCP socket to 127.0.0.1:port (exits the test on failure). */
int pt_raw_connect(int port);
/* The same from the loopback address src (NULL: the system's choice), or
 * -1 when it cannot connect (a refusal the test may expect). */
int pt_raw_try_connect(const char *src, int port);
/* Writes all of s (len bytes); 0 or -1 (peer gone). */
int pt_raw_send(int fd, const void *s, size_t len);
/* pt_raw_send of a string. */
int pt_raw_sends(int fd, const char *s);
/* Waits up to timeout_ms for a response head and returns its status code,
 * 0 when the peer closed without one, -1 on timeout. */
int pt_raw_status(int fd, int timeout_ms);
/* VmRSS / VmHWM of pid in KiB from /proc (-1 when unreadable). */
long pt_proc_kib(pid_t pid, const char *field);

#endif
