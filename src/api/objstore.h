/*
 * objstore.h - S3-compatible object storage for uploads: store a file,
 * hand out a time-limited URL to read it.
 *
 * Speaks the S3 REST API with AWS Signature Version 4 (libcurl signs the
 * PUT; the presigned GET URL is computed here), so it works with S3, R2,
 * MinIO and Supabase Storage's S3 endpoint. Path-style addressing:
 * ENDPOINT/BUCKET/KEY. An object is PUT once (the upload), read through
 * presigned URLs, and DELETEd when its job finished + retention.
 */
#ifndef PANE_API_OBJSTORE_H
#define PANE_API_OBJSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct pane_objstore {
	const char *endpoint; /* http(s)://host[:port], no trailing path */
	const char *bucket;
	const char *region;     /* e.g. us-east-1 (R2: auto) */
	const char *access_key; /* access key id */
	const char *secret;     /* secret access key */
	int64_t timeout_ms;     /* the whole PUT; over it the upload fails */
	const bool *cancel;     /* optional: set (atomically) to abort a transfer at once */
};

/* PUTs the file at path (size bytes, SHA-256 sha256_hex) to key. Returns 0
 * once the store answered 2xx (the object is stored); otherwise PANE_EIO /
 * PANE_ETIMEDOUT / PANE_EHTTP with err. Blocks its thread. */
int pane_objstore_put(const struct pane_objstore *s, const char *key, const char *path, uint64_t size,
                      const char *sha256_hex, const char *content_type, struct pane_err *err);

/* DELETEs key. 0 once the store answered 2xx or 404 (the object is gone
 * either way); otherwise PANE_EIO / PANE_ETIMEDOUT / PANE_EHTTP with err.
 * Blocks its thread. */
int pane_objstore_delete(const struct pane_objstore *s, const char *key, struct pane_err *err);

/* A presigned GET URL for key valid for expires_s seconds from now_unix
 * (heap; free()). */
char *pane_objstore_presign_get(const struct pane_objstore *s, const char *key, int64_t now_unix, int64_t expires_s);

/* The SigV4 query-string signature (64 hex chars + NUL into sig) of a GET
 * of canonical_uri (already URI-encoded) on host, for the credential scope
 * of amz_date (YYYYMMDDTHHMMSSZ); the building block of presign_get,
 * exposed for the test against AWS's published example. */
void pane_objstore_presign_sig(const char *host, const char *canonical_uri, const char *access_key, const char *secret,
                               const char *region, const char *amz_date, int64_t expires_s, char sig[65]);

#endif
