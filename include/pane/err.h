/*
 * pane/err.h - the error codes and the error value of pane's public C API.
 *
 * Functions return 0 or a negative PANE_E* code; when the caller wants to
 * know why, they also fill a `struct pane_err` the caller owns (on its
 * stack: it holds no heap memory). msg is a short lower-case line, detail an
 * optional hint. Self-contained: only the C standard library.
 */
#ifndef PANE_ERR_H
#define PANE_ERR_H

enum pane_errcode {
	PANE_OK = 0,
	PANE_EINVAL = -1,     /* malformed input, bad argument */
	PANE_ETOOBIG = -2,    /* input over a configured limit */
	PANE_ENOTFOUND = -3,  /* no such thing */
	PANE_EIO = -4,        /* file or socket failure */
	PANE_EEXIST = -5,     /* already exists / conflict */
	PANE_ETIMEDOUT = -6,  /* deadline passed */
	PANE_EAGAIN = -7,     /* transient: try again later */
	PANE_EDB = -8,        /* database (PostgreSQL or SQLite) failure */
	PANE_EHTTP = -9,      /* remote HTTP peer failure */
	PANE_EPERM = -10,     /* not allowed */
	PANE_ECANCELED = -11, /* stopped on request */
	PANE_EUNSUPPORTED = -12,
};

#define PANE_ERR_MSG_MAX 512
#define PANE_ERR_DETAIL_MAX 512

struct pane_err {
	int code;                         /* a PANE_E* value, 0 when clear */
	char msg[PANE_ERR_MSG_MAX];       /* primary message, "" when clear */
	char detail[PANE_ERR_DETAIL_MAX]; /* optional hint or detail, "" when none */
};

#endif
