/*
 * rawhttp.c - raw-socket test helpers (see rawhttp.h).
 */
#include "rawhttp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int pt_raw_try_connect(const char *src, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in me = {.sin_family = AF_INET};
	if (src && (inet_pton(AF_INET, src, &me.sin_addr) != 1 || bind(fd, (struct sockaddr *)&me, sizeof me) != 0)) {
		close(fd);
		return -1;
	}
	struct sockaddr_in to = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int pt_raw_connect(int port)
{
	int fd = pt_raw_try_connect(NULL, port);
	if (fd < 0) {
		perror("pt_raw_connect");
		exit(1);
	}
	return fd;
}

int pt_raw_send(int fd, const void *s, size_t len)
{
	const char *p = s;
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int pt_raw_sends(int fd, const char *s)
{
	return pt_raw_send(fd, s, strlen(s));
}

int pt_raw_status(int fd, int timeout_ms)
{
	char buf[4096];
	size_t len = 0;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int r = poll(&p, 1, timeout_ms);
		if (r == 0)
			return -1;
		ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
		int status;
		if (strstr(buf, "\r\n") && sscanf(buf, "HTTP/1.%*d %d", &status) == 1)
			return status;
		if (len >= sizeof buf - 1)
			return 0;
	}
}

long pt_proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long v = -1;
	size_t fl = strlen(field);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, fl) == 0 && line[fl] == ':')
			v = strtol(line + fl + 1, NULL, 10);
	fclose(f);
	return v;
}
