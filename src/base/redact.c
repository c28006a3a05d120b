/*
 * redact.c - hiding passwords in printed text (see redact.h).
 *
 * Idea: two shapes carry a password. URL userinfo: after "://", up to the
 * first '/', '?', '#' or blank, a ':' before the last '@' starts the
 * password, which ends at that '@'. A key=value pair (conninfo, URL query)
 * whose key is password or sslpassword: the value ends at a blank, '&' or
 * ';', or is '...' quoted. Each is replaced by "***" with the rest moved,
 * and both passes run again until neither hides anything (idempotent).
 */
#include "base/redact.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define MASK "***"

/* Replaces s[from, to) by MASK within a buffer of cap bytes. */
static size_t replace(char *s, size_t cap, size_t from, size_t to)
{
	size_t len = strlen(s), m = strlen(MASK);
	size_t tail = len - to; /* bytes after the secret, without the NUL */
	if (from + m >= cap) {  /* not even the mask fits: cut here */
		s[from] = '\0';
		return from;
	}
	if (from + m + tail >= cap)
		tail = cap - 1 - from - m;
	memmove(s + from + m, s + to, tail);
	memcpy(s + from, MASK, m);
	s[from + m + tail] = '\0';
	return from + m;
}

static bool redact_userinfo(char *s, size_t cap)
{
	bool hit = false;
	for (char *p = strstr(s, "://"); p; p = strstr(p, "://")) {
		size_t a = (size_t)(p + 3 - s);
		size_t end = a + strcspn(s + a, "/?# \t\r\n\"'");
		size_t at = 0;
		for (size_t i = a; i < end; i++)
			if (s[i] == '@')
				at = i;
		size_t colon = 0;
		for (size_t i = a; at && i < at && !colon; i++)
			if (s[i] == ':')
				colon = i;
		if (colon && !(at == colon + 1 + strlen(MASK) && !strncmp(s + colon + 1, MASK, strlen(MASK)))) {
			size_t next = replace(s, cap, colon + 1, at);
			hit = true;
			p = s + next;
		} else {
			p = s + a; /* every "://" is looked at, even inside another's authority */
		}
		if ((size_t)(p - s) >= strlen(s))
			break;
	}
	return hit;
}

static bool redact_keys(char *s, size_t cap)
{
	static const char *const keys[] = {"sslpassword=", "password=", NULL};
	bool hit = false;
	for (size_t i = 0; s[i];) {
		size_t klen = 0;
		bool boundary = i == 0 || isspace((unsigned char)s[i - 1]) || strchr("?&;,\"'({[", s[i - 1]);
		for (size_t k = 0; boundary && keys[k] && !klen; k++)
			if (strncasecmp(s + i, keys[k], strlen(keys[k])) == 0)
				klen = strlen(keys[k]);
		if (!klen) {
			i++;
			continue;
		}
		size_t v = i + klen, e;
		if (s[v] == '\'') {
			e = v + 1;
			while (s[e] && s[e] != '\'')
				e += s[e] == '\\' && s[e + 1] ? 2 : 1;
			if (s[e])
				e++;
			e += strcspn(s + e, " \t\r\n&;,\"'"); /* 'a'b is one value */
		} else {
			e = v + strcspn(s + v, " \t\r\n&;,\"'");
		}
		if (e > v && !(e - v == strlen(MASK) && !strncmp(s + v, MASK, strlen(MASK)))) {
			i = replace(s, cap, v, e);
			hit = true;
		} else {
			i = e > i ? e : i + 1;
		}
	}
	return hit;
}

bool pane_redact_needed(const char *s)
{
	return s && (strstr(s, "://") || strcasestr(s, "password="));
}

bool pane_redact(char *s, size_t cap)
{
	if (!s || !cap || !pane_redact_needed(s))
		return false;
	/* Until a pass hides nothing more, so redacting again changes nothing:
	 * one shape's mask can reshape the other (a masked "password=a://"
	 * value no longer ends a URL's authority at its '/', which then reaches
	 * a later '@'). A pass that hides something turns a secret into the
	 * mask, which no pass takes again; the bound is for safety. */
	bool any = false;
	for (int pass = 0; pass < 8; pass++) {
		bool a = redact_userinfo(s, cap);
		bool b = redact_keys(s, cap);
		if (!a && !b)
			break;
		any = true;
	}
	return any;
}
