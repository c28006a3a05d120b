/*
 * hostport.c - HOST:PORT splitting (see hostport.h), shared by the HTTP
 * server and the StatsD listener.
 */
#include "base/hostport.h"

#include <string.h>

#include "base/err.h"
#include "base/str.h"

int pane_hostport_split(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *h = s, *colon;
	size_t hl;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return PANE_EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return PANE_EINVAL;
		hl = (size_t)(colon - s);
	}
	const char *ps = colon + 1;
	size_t pl = strlen(ps);
	uint64_t p;
	if (!pl || pane_str_to_u64(pane_str_make(ps, pl), &p) < 0 || p > 65535 || hl >= hostlen || pl >= portlen)
		return PANE_EINVAL;
	for (size_t i = 0; i < pl; i++)
		if (ps[i] < '0' || ps[i] > '9')
			return PANE_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memcpy(port, ps, pl + 1);
	return 0;
}
