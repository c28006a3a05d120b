/*
 * err.c - filling and naming struct pane_err values (see err.h).
 */
#include "base/err.h"

#include <stdio.h>

#include "base/redact.h"
#include <string.h>

int pane_err_setv(struct pane_err *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	pane_redact(err->msg, sizeof err->msg); /* messages reach logs and HTTP bodies */
	err->detail[0] = '\0';
	return code;
}

int pane_err_set(struct pane_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pane_err_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

void pane_err_detail(struct pane_err *err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof err->detail, fmt, ap);
	va_end(ap);
	pane_redact(err->detail, sizeof err->detail);
}

void pane_err_prefix(struct pane_err *err, const char *fmt, ...)
{
	if (!err)
		return;
	char prefix[256];
	char old[PANE_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
	pane_redact(err->msg, sizeof err->msg);
}

void pane_err_clear(struct pane_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
	err->detail[0] = '\0';
}

const char *pane_err_name(int code)
{
	switch (code) {
	case PANE_OK: return "ok";
	case PANE_EINVAL: return "invalid";
	case PANE_ETOOBIG: return "too_big";
	case PANE_ENOTFOUND: return "not_found";
	case PANE_EIO: return "io";
	case PANE_EEXIST: return "conflict";
	case PANE_ETIMEDOUT: return "timeout";
	case PANE_EAGAIN: return "unavailable";
	case PANE_EDB: return "database";
	case PANE_EHTTP: return "upstream";
	case PANE_EPERM: return "forbidden";
	case PANE_ECANCELED: return "canceled";
	case PANE_EUNSUPPORTED: return "unsupported";
	default: return "error";
	}
}
