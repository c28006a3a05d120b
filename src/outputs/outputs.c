/*
 * outputs.c - the outputs: section, and each output as a pipeline sink.
 *
 * Idea: an output is a secondary sink whose write is "relabel, encode,
 * append to the durable queue" and nothing more; delivery is the sender's
 * business (sender.c), so a slow or absent receiver never slows a producer
 * and a write's 0 means the records are in the queue file (sink.h (3)).
 * Each queued entry is one finished protobuf message (a remote_write
 * TimeSeries with one sample, a Loki StreamAdapter with one entry) with the
 * hash of its series / stream, which the sender shards by.
 *
 * Config, in Prometheus' shape (remote_write) plus pane's queue: keys
 * (docs/outputs.md). Unknown keys are refused with file:line.
 *
 * Ownership: the pipeline owns the sinks; close() stops the sender and
 * closes the queue (after every producer stopped: host.h (2)). Outputs are
 * fixed at start; a reload that changes outputs: says it needs a restart.
 */
#include "outputs/outputs.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/stats.h"
#include "config/config.h"
#include "host/host.h"
#include "outputs/internal.h"
#include "pipeline/pipeline.h"

struct item_cfg {
	char *url, *name, *bearer_token, *tenant_id;
	int64_t remote_timeout_ms;
};

static const struct pane_cfg_field item_fields[] = {
    {"url", PANE_CFT_STRING, offsetof(struct item_cfg, url), NULL, PANE_CFG_REQUIRED,
     "http:// or https:// URL of the receiver's push endpoint", 0, 0},
    {"name", PANE_CFT_STRING, offsetof(struct item_cfg, name), NULL, 0,
     "names the output in metrics and its queue directory (default: from the URL)", 0, 0},
    {"bearer_token", PANE_CFT_STRING, offsetof(struct item_cfg, bearer_token), NULL, PANE_CFG_SECRET,
     "Authorization: Bearer token (write it as ${VAR})", 0, 0},
    {"tenant_id", PANE_CFT_STRING, offsetof(struct item_cfg, tenant_id), NULL, 0,
     "sent as X-Scope-OrgID (Loki, Mimir, Cortex)", 0, 0},
    {"remote_timeout", PANE_CFT_DURATION, offsetof(struct item_cfg, remote_timeout_ms), "30s", 0,
     "deadline of one request", 100, 3600000},
    {"headers", PANE_CFT_SECTION, 0, NULL, 0, "extra HTTP headers (name: value)", 0, 0},
    {"basic_auth", PANE_CFT_SECTION, 0, NULL, 0, "username, password (${VAR})", 0, 0},
    {"write_relabel_configs", PANE_CFT_SECTION, 0, NULL, 0, "Prometheus relabel rules applied before queueing", 0, 0},
    {"queue_config", PANE_CFT_SECTION, 0, NULL, 0, "shards and batching, as in Prometheus", 0, 0},
    {"queue", PANE_CFT_SECTION, 0, NULL, 0, "the durable queue on disk", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct auth_cfg {
	char *username, *password;
};

static const struct pane_cfg_field auth_fields[] = {
    {"username", PANE_CFT_STRING, offsetof(struct auth_cfg, username), NULL, PANE_CFG_REQUIRED, "user name", 0, 0},
    {"password", PANE_CFT_STRING, offsetof(struct auth_cfg, password), NULL, PANE_CFG_SECRET,
     "password (write it as ${VAR})", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

static const struct pane_cfg_field qc_fields[] = {
    {"capacity", PANE_CFT_INT, offsetof(struct queue_config, capacity), "10000", 0,
     "entries one shard takes from the disk queue per round", 1, 10000000},
    {"max_shards", PANE_CFT_INT, offsetof(struct queue_config, max_shards), "50", 0, "most concurrent requests", 1,
     1000},
    {"min_shards", PANE_CFT_INT, offsetof(struct queue_config, min_shards), "1", 0, "fewest concurrent requests", 1,
     1000},
    {"max_samples_per_send", PANE_CFT_INT, offsetof(struct queue_config, max_samples_per_send), "2000", 0,
     "most samples (Loki: entries) in one request", 1, 1000000},
    {"batch_send_deadline", PANE_CFT_DURATION, offsetof(struct queue_config, batch_send_deadline_ms), "5s", 0,
     "longest wait for a full request", 1, 3600000},
    {"min_backoff", PANE_CFT_DURATION, offsetof(struct queue_config, min_backoff_ms), "30ms", 0, "first retry wait", 1,
     3600000},
    {"max_backoff", PANE_CFT_DURATION, offsetof(struct queue_config, max_backoff_ms), "5s", 0,
     "longest retry wait (a Retry-After may ask for longer)", 1, 3600000},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct dq_cfg {
	int64_t max_size, segment_size;
	char *drop, *fsync;
};

static const struct pane_cfg_field dq_fields[] = {
    {"max_size", PANE_CFT_SIZE, offsetof(struct dq_cfg, max_size), "1GiB", 0, "bound of the queue on disk", 1 << 20,
     INT64_MAX},
    {"segment_size", PANE_CFT_SIZE, offsetof(struct dq_cfg, segment_size), "64MiB", 0,
     "size of one queue file (capped at max_size / 4)", 1 << 16, INT64_MAX},
    {"drop", PANE_CFT_STRING, offsetof(struct dq_cfg, drop), "drop_oldest", 0,
     "when full: drop_oldest (delete the oldest file) or drop_newest (refuse new records)", 0, 0},
    {"fsync", PANE_CFT_STRING, offsetof(struct dq_cfg, fsync), "interval", 0,
     "batch (before every write returns), interval (every second) or never; all survive kill -9", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct outputs {
	struct output **v;
	size_t n;
};

static void output_free(struct output *o)
{
	if (!o)
		return;
	free(o->name);
	free(o->url);
	for (size_t i = 0; o->headers && o->headers[i]; i++)
		free(o->headers[i]);
	free(o->headers);
	free(o->bearer);
	free(o->basic_user);
	free(o->basic_pass);
	free((char *)o->qo.dir);
	pane_relabel_free(o->relabel);
	free(o);
}

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > 64 || s[0] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') || *p == '_' ||
		      *p == '-' || *p == '.'))
			return false;
	return true;
}

static int add_header(struct output *o, size_t *n, const char *name, const char *value)
{
	o->headers = pane_xrealloc(o->headers, (*n + 2) * sizeof *o->headers);
	size_t len = strlen(name) + strlen(value) + 3;
	o->headers[*n] = pane_xmalloc(len);
	snprintf(o->headers[*n], len, "%s: %s", name, value);
	o->headers[++*n] = NULL;
	return 0;
}

/* Binds one list item into a new output. NULL with err set. */
static struct output *parse_item(const struct pane_cfg *cfg, const struct pane_cfg_node *node, enum output_kind kind,
                                 const char *data_dir, struct pane_err *err)
{
	struct item_cfg ic = {0};
	struct auth_cfg ac = {0};
	struct dq_cfg dq = {0};
	struct output *o = pane_xcalloc(1, sizeof *o);
	o->kind = kind;
	const char *what = kind == OUTPUT_LOKI ? "loki" : "remote_write";
	if (node->kind != PANE_CFG_MAP) {
		pane_cfg_error(cfg, node, err, "an output is a map with at least url:");
		goto fail;
	}
	if (pane_cfg_bind(cfg, node, item_fields, &ic, err) < 0)
		goto fail;
	if (strncmp(ic.url, "http://", 7) != 0 && strncmp(ic.url, "https://", 8) != 0) {
		pane_cfg_error(cfg, pane_cfg_get(node, "url"), err, "url must start with http:// or https://");
		goto fail;
	}
	o->url = pane_xstrdup(ic.url);
	if (ic.name) {
		if (!name_ok(ic.name)) {
			pane_cfg_error(cfg, pane_cfg_get(node, "name"), err,
			               "name may hold letters, digits, '_', '-' and '.' (at most 64)");
			goto fail;
		}
		o->name = pane_xstrdup(ic.name);
	} else {
		char buf[64];
		snprintf(buf, sizeof buf, "%s-%08" PRIx64, what, fnv64(ic.url, strlen(ic.url)) & 0xffffffffu);
		o->name = pane_xstrdup(buf);
	}
	o->timeout_ms = ic.remote_timeout_ms;
	if (ic.bearer_token)
		o->bearer = pane_xstrdup(ic.bearer_token);
	size_t nh = 0;
	if (ic.tenant_id)
		add_header(o, &nh, "X-Scope-OrgID", ic.tenant_id);
	const struct pane_cfg_node *hn = pane_cfg_get(node, "headers");
	if (hn && hn->kind != PANE_CFG_NULL) {
		if (hn->kind != PANE_CFG_MAP) {
			pane_cfg_error(cfg, hn, err, "headers is a map of name: value");
			goto fail;
		}
		for (size_t i = 0; i < hn->n_items; i++) {
			const struct pane_cfg_node *h = hn->items[i];
			if (h->kind != PANE_CFG_SCALAR || strpbrk(h->key, ": \r\n") || strpbrk(h->value, "\r\n")) {
				pane_cfg_error(cfg, h, err, "a header is name: value on one line");
				goto fail;
			}
			add_header(o, &nh, h->key, h->value);
		}
	}
	if (kind == OUTPUT_REMOTE_WRITE) {
		add_header(o, &nh, "Content-Encoding", "snappy");
		add_header(o, &nh, "Content-Type", "application/x-protobuf");
		add_header(o, &nh, "X-Prometheus-Remote-Write-Version", "0.1.0");
	} else {
		add_header(o, &nh, "Content-Type", "application/x-protobuf");
	}
	const struct pane_cfg_node *an = pane_cfg_get(node, "basic_auth");
	if (an && an->kind != PANE_CFG_NULL) {
		if (an->kind != PANE_CFG_MAP) {
			pane_cfg_error(cfg, an, err, "basic_auth is a map (username, password)");
			goto fail;
		}
		if (pane_cfg_bind(cfg, an, auth_fields, &ac, err) < 0)
			goto fail;
		if (o->bearer) {
			pane_cfg_error(cfg, an, err, "basic_auth and bearer_token exclude each other");
			goto fail;
		}
		o->basic_user = pane_xstrdup(ac.username);
		o->basic_pass = pane_xstrdup(ac.password ? ac.password : "");
	}
	const struct pane_cfg_node *qn = pane_cfg_get(node, "queue_config");
	if (qn && qn->kind != PANE_CFG_NULL && qn->kind != PANE_CFG_MAP) {
		pane_cfg_error(cfg, qn, err, "queue_config is a map");
		goto fail;
	}
	if (pane_cfg_bind(cfg, qn, qc_fields, &o->qc, err) < 0)
		goto fail;
	if (o->qc.min_shards > o->qc.max_shards) {
		pane_cfg_error(cfg, qn, err, "min_shards is above max_shards");
		goto fail;
	}
	if (o->qc.min_backoff_ms > o->qc.max_backoff_ms) {
		pane_cfg_error(cfg, qn, err, "min_backoff is above max_backoff");
		goto fail;
	}
	const struct pane_cfg_node *dn = pane_cfg_get(node, "queue");
	if (dn && dn->kind != PANE_CFG_NULL && dn->kind != PANE_CFG_MAP) {
		pane_cfg_error(cfg, dn, err, "queue is a map (max_size, segment_size, drop, fsync)");
		goto fail;
	}
	if (pane_cfg_bind(cfg, dn, dq_fields, &dq, err) < 0)
		goto fail;
	if (strcmp(dq.drop, "drop_oldest") == 0)
		o->qo.drop = PANE_OQUEUE_DROP_OLDEST;
	else if (strcmp(dq.drop, "drop_newest") == 0)
		o->qo.drop = PANE_OQUEUE_DROP_NEWEST;
	else {
		pane_cfg_error(cfg, pane_cfg_get(dn, "drop"), err, "drop is drop_oldest or drop_newest");
		goto fail;
	}
	if (strcmp(dq.fsync, "batch") == 0)
		o->qo.fsync = PANE_OQUEUE_FSYNC_BATCH;
	else if (strcmp(dq.fsync, "interval") == 0)
		o->qo.fsync = PANE_OQUEUE_FSYNC_INTERVAL;
	else if (strcmp(dq.fsync, "never") == 0)
		o->qo.fsync = PANE_OQUEUE_FSYNC_NEVER;
	else {
		pane_cfg_error(cfg, pane_cfg_get(dn, "fsync"), err, "fsync is batch, interval or never");
		goto fail;
	}
	o->qo.max_bytes = dq.max_size;
	o->qo.segment_bytes = dq.segment_size < dq.max_size / 4 ? dq.segment_size : dq.max_size / 4;
	size_t dl = strlen(data_dir ? data_dir : ".") + strlen(o->name) + 16;
	char *dir = pane_xmalloc(dl);
	snprintf(dir, dl, "%s/outputs/%s", data_dir ? data_dir : ".", o->name);
	o->qo.dir = dir;
	o->relabel = pane_relabel_parse(cfg, pane_cfg_get(node, "write_relabel_configs"), err);
	if (!o->relabel)
		goto fail;
	pane_cfg_unbind(item_fields, &ic);
	pane_cfg_unbind(auth_fields, &ac);
	pane_cfg_unbind(dq_fields, &dq);
	return o;
fail:
	pane_cfg_unbind(item_fields, &ic);
	pane_cfg_unbind(auth_fields, &ac);
	pane_cfg_unbind(dq_fields, &dq);
	output_free(o);
	return NULL;
}

static void outputs_release(struct outputs *os)
{
	for (size_t i = 0; i < os->n; i++)
		output_free(os->v[i]);
	free(os->v);
	os->v = NULL;
	os->n = 0;
}

static int parse_section(const struct pane_cfg *cfg, const char *data_dir, struct outputs *os, struct pane_err *err)
{
	memset(os, 0, sizeof *os);
	const struct pane_cfg_node *sec = pane_cfg_get(cfg->root, "outputs");
	if (!sec || sec->kind == PANE_CFG_NULL)
		return 0;
	if (sec->kind != PANE_CFG_MAP)
		return pane_cfg_error(cfg, sec, err, "outputs is a map (remote_write: [...], loki: [...])");
	for (size_t i = 0; i < sec->n_items; i++) {
		const struct pane_cfg_node *list = sec->items[i];
		enum output_kind kind;
		if (strcmp(list->key, "remote_write") == 0)
			kind = OUTPUT_REMOTE_WRITE;
		else if (strcmp(list->key, "loki") == 0)
			kind = OUTPUT_LOKI;
		else {
			outputs_release(os);
			return pane_cfg_error(cfg, list, err, "unknown key (known keys: remote_write, loki)");
		}
		if (list->kind == PANE_CFG_NULL)
			continue;
		if (list->kind != PANE_CFG_SEQ) {
			outputs_release(os);
			return pane_cfg_error(cfg, list, err, "a list of outputs is expected (- url: ...)");
		}
		for (size_t k = 0; k < list->n_items; k++) {
			struct output *o = parse_item(cfg, list->items[k], kind, data_dir, err);
			if (!o) {
				outputs_release(os);
				return err->code ? err->code : PANE_EINVAL;
			}
			for (size_t j = 0; j < os->n; j++)
				if (strcmp(os->v[j]->name, o->name) == 0) {
					int rc = pane_cfg_error(cfg, list->items[k], err,
					                        "two outputs are named %s (set name:)", o->name);
					output_free(o);
					outputs_release(os);
					return rc;
				}
			os->v = pane_xrealloc(os->v, (os->n + 1) * sizeof *os->v);
			os->v[os->n++] = o;
		}
	}
	return 0;
}

int pane_outputs_check(const struct pane_cfg *cfg, struct pane_err *err)
{
	struct outputs os;
	int rc = parse_section(cfg, NULL, &os, err);
	outputs_release(&os);
	return rc;
}

/* ---- the sinks ---- */

static int fill_labels(struct pane_relabel_labels *ls, const char *name, const struct pane_labels *labels)
{
	pane_relabel_labels_reset(ls);
	if (name)
		pane_relabel_labels_set(ls, "__name__", 8, name, strlen(name));
	for (size_t i = 0; labels && i < labels->n; i++)
		pane_relabel_labels_set(ls, labels->v[i].name, strlen(labels->v[i].name), labels->v[i].value,
		                        strlen(labels->v[i].value));
	return 0;
}

/* Appends a batch's n frames to the output's queue and counts what was
 * queued (pending) and what relabelling dropped (filtered). */
static int append(struct output *o, struct pane_buf *frames, size_t n, size_t filtered, struct pane_err *err)
{
	if (filtered)
		pane_stat_add(o->st_filtered, (double)filtered);
	if (n == 0)
		return 0;
	int rc = pane_oqueue_append(o->q, frames->data, frames->len, n, err);
	if (rc < 0)
		pane_err_prefix(err, "output %s", o->name);
	else
		pane_stat_add(o->st_pending, (double)n);
	return rc;
}

static int rw_write_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	struct output *o = ctx;
	struct pane_relabel_labels ls;
	pane_relabel_labels_init(&ls);
	struct pane_buf frames, lab, ts;
	pane_buf_init(&frames, PANE_BUF_NOLIMIT);
	pane_buf_init(&lab, PANE_BUF_NOLIMIT);
	pane_buf_init(&ts, PANE_BUF_NOLIMIT);
	const char *prev_name = NULL;
	const struct pane_labels *prev_labels = NULL;
	bool prev_keep = false;
	uint64_t hash = 0;
	size_t queued = 0, filtered = 0;
	bool relabel = pane_relabel_count(o->relabel) > 0;
	for (size_t i = 0; i < n; i++) {
		if (!(prev_labels && s[i].labels == prev_labels && s[i].name == prev_name) && !relabel) {
			/* no rules: encode straight from the sorted set, __name__ in its place */
			prev_name = s[i].name;
			prev_labels = s[i].labels;
			prev_keep = true;
			pane_buf_reset(&lab);
			bool named = !s[i].name;
			for (size_t k = 0; s[i].labels && k < s[i].labels->n; k++) {
				const struct pane_label *l = &s[i].labels->v[k];
				if (!named && strcmp(l->name, "__name__") > 0) {
					pb_label(&lab, "__name__", s[i].name);
					named = true;
				}
				pb_label(&lab, l->name, l->value);
			}
			if (!named)
				pb_label(&lab, "__name__", s[i].name);
			hash = fnv64(lab.data, lab.len);
		} else if (!(prev_labels && s[i].labels == prev_labels && s[i].name == prev_name)) {
			prev_name = s[i].name;
			prev_labels = s[i].labels;
			fill_labels(&ls, s[i].name, s[i].labels);
			prev_keep = pane_relabel_apply(o->relabel, &ls);
			pane_buf_reset(&lab);
			for (size_t k = 0; prev_keep && k < ls.n; k++)
				pb_label(&lab, ls.names[k], ls.values[k]);
			hash = fnv64(lab.data, lab.len);
		}
		if (!prev_keep) {
			filtered++;
			continue;
		}
		pane_buf_reset(&ts);
		pb_sample(&ts, s[i].value, s[i].ts_ms);
		pane_oqueue_frame2(&frames, hash, s[i].ts_ms, lab.data, lab.len, ts.data, ts.len);
		queued++;
	}
	int rc = append(o, &frames, queued, filtered, err);
	if (accepted)
		*accepted = rc == 0 ? n : 0;
	pane_relabel_labels_release(&ls);
	pane_buf_release(&frames);
	pane_buf_release(&lab);
	pane_buf_release(&ts);
	return rc;
}

/* Queues one Loki entry for the label set ls (relabelled here). */
static bool loki_frame(struct output *o, struct pane_relabel_labels *ls, int64_t ts_ms, const char *line, size_t len,
                       const char *const *meta, size_t n_meta, struct pane_buf *frames, struct pane_buf *tmp)
{
	if (!pane_relabel_apply(o->relabel, ls))
		return false;
	pane_buf_reset(tmp);
	struct pane_buf text;
	pane_buf_init(&text, PANE_BUF_NOLIMIT);
	loki_labels_text(&text, ls);
	pb_bytes(tmp, 1, text.data, text.len);
	uint64_t hash = fnv64(text.data, text.len);
	pane_buf_release(&text);
	loki_entry(tmp, ts_ms, line, len, meta, n_meta);
	pane_oqueue_frame(frames, hash, ts_ms, tmp->data, tmp->len);
	return true;
}

static int loki_write_logs(void *ctx, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	struct output *o = ctx;
	struct pane_relabel_labels ls;
	pane_relabel_labels_init(&ls);
	struct pane_buf frames, tmp;
	pane_buf_init(&frames, PANE_BUF_NOLIMIT);
	pane_buf_init(&tmp, PANE_BUF_NOLIMIT);
	size_t queued = 0, filtered = 0;
	for (size_t i = 0; i < n; i++) {
		fill_labels(&ls, NULL, l[i].labels);
		const char *meta[4];
		size_t nm = 0;
		if (l[i].severity != PANE_SEV_UNKNOWN) {
			meta[2 * nm] = "level";
			meta[2 * nm + 1] = pane_log_severity_name(l[i].severity);
			nm++;
		}
		if (l[i].fields_json) {
			meta[2 * nm] = "fields";
			meta[2 * nm + 1] = l[i].fields_json;
			nm++;
		}
		if (loki_frame(o, &ls, l[i].ts_ms, l[i].message ? l[i].message : "",
		               l[i].message ? l[i].message_len : 0, meta, nm, &frames, &tmp))
			queued++;
		else
			filtered++;
	}
	int rc = append(o, &frames, queued, filtered, err);
	pane_relabel_labels_release(&ls);
	pane_buf_release(&frames);
	pane_buf_release(&tmp);
	return rc;
}

static int loki_write_events(void *ctx, const struct pane_event *e, size_t n, struct pane_err *err)
{
	struct output *o = ctx;
	struct pane_relabel_labels ls;
	pane_relabel_labels_init(&ls);
	struct pane_buf frames, tmp, line;
	pane_buf_init(&frames, PANE_BUF_NOLIMIT);
	pane_buf_init(&tmp, PANE_BUF_NOLIMIT);
	pane_buf_init(&line, PANE_BUF_NOLIMIT);
	size_t queued = 0, filtered = 0;
	for (size_t i = 0; i < n; i++) {
		fill_labels(&ls, NULL, e[i].labels);
		if (e[i].kind && *e[i].kind)
			pane_relabel_labels_set(&ls, "kind", 4, e[i].kind, strlen(e[i].kind));
		pane_buf_reset(&line);
		struct pane_json j;
		pane_json_init(&j, &line);
		pane_json_obj(&j);
		pane_json_key(&j, "title");
		pane_json_str(&j, e[i].title ? e[i].title : "");
		if (e[i].url) {
			pane_json_key(&j, "url");
			pane_json_str(&j, e[i].url);
		}
		if (e[i].body_json) {
			pane_json_key(&j, "body");
			pane_json_raw(&j, e[i].body_json);
		}
		if (e[i].dedup_key) {
			pane_json_key(&j, "dedup_key");
			pane_json_str(&j, e[i].dedup_key);
		}
		pane_json_obj_end(&j);
		if (loki_frame(o, &ls, e[i].ts_ms, line.data, line.len, NULL, 0, &frames, &tmp))
			queued++;
		else
			filtered++;
	}
	int rc = append(o, &frames, queued, filtered, err);
	pane_relabel_labels_release(&ls);
	pane_buf_release(&frames);
	pane_buf_release(&tmp);
	pane_buf_release(&line);
	return rc;
}

static int output_flush(void *ctx, struct pane_err *err)
{
	struct output *o = ctx;
	if (pane_oqueue_sync(o->q) < 0)
		return pane_err_set(err, PANE_EIO, "output %s: cannot fsync its queue", o->name);
	return 0;
}

static void output_close(void *ctx)
{
	struct output *o = ctx;
	sender_stop(o->sender);
	pane_oqueue_close(o->q);
	output_free(o);
}

static const struct pane_sink_ops rw_ops = {
    .name = "remote_write",
    .write_samples = rw_write_samples,
    .flush = output_flush,
    .close = output_close,
};

static const struct pane_sink_ops loki_ops = {
    .name = "loki",
    .write_logs = loki_write_logs,
    .write_events = loki_write_events,
    .flush = output_flush,
    .close = output_close,
};

static void register_stats(struct output *o, struct pane_stats *st)
{
	char l[160];
	snprintf(l, sizeof l, "output=\"%s\",kind=\"%s\"", o->name, o->kind == OUTPUT_LOKI ? "loki" : "remote_write");
	o->st_pending = pane_stats_gauge(st, "pane_output_pending_samples", l,
	                                 "samples (Loki: entries) in the output's queue, not yet sent");
	o->st_sent = pane_stats_counter(st, "pane_output_sent_samples_total", l,
	                                "samples (Loki: entries) the receiver acknowledged");
	o->st_failed = pane_stats_counter(st, "pane_output_failed_samples_total", l,
	                                  "samples the receiver refused with a 4xx other than 429 (not retried)");
	o->st_dropped = pane_stats_counter(st, "pane_output_dropped_samples_total", l,
	                                   "samples never delivered: queue full (drop policy) or refused for good");
	o->st_retried = pane_stats_counter(st, "pane_output_retried_samples_total", l,
	                                   "samples in requests that were retried (5xx, 429, timeouts)");
	o->st_lag = pane_stats_gauge(st, "pane_output_lag_seconds", l,
	                             "age of the oldest sample in the batch being sent (0 when the queue is empty)");
	o->st_shards = pane_stats_gauge(st, "pane_output_shards", l, "shards used by the last round");
	o->st_bytes = pane_stats_gauge(st, "pane_output_queue_bytes", l, "size of the queue on disk");
	o->st_filtered =
	    pane_stats_counter(st, "pane_output_filtered_samples_total", l, "samples dropped by write_relabel_configs");
	o->st_requests = pane_stats_counter(st, "pane_output_requests_total", l, "requests sent, retries included");
}

static int outputs_reload(void *arg, const struct pane_cfg *cfg, struct pane_err *err)
{
	(void)arg;
	int rc = pane_outputs_check(cfg, err);
	if (rc == 0 && pane_cfg_get(cfg->root, "outputs"))
		pane_info("outputs", "outputs: is read at start; changes to it take effect at the next restart");
	return rc;
}

int pane_outputs_attach(struct pane_host *h, struct pane_err *err)
{
	struct outputs os;
	int rc = parse_section(h->cfg, h->data_dir, &os, err);
	if (rc < 0)
		return rc;
	pane_host_on_reload(h, outputs_reload, NULL);
	if (os.n && !h->pipeline) {
		outputs_release(&os);
		pane_warn("outputs", "outputs are disabled: no store is attached to feed them");
		return 0;
	}
	for (size_t i = 0; i < os.n; i++) {
		struct output *o = os.v[i];
		o->q = pane_oqueue_open(&o->qo, err);
		if (!o->q) {
			pane_err_prefix(err, "output %s", o->name);
			for (size_t k = i; k < os.n; k++)
				output_free(os.v[k]);
			free(os.v);
			return err->code;
		}
		register_stats(o, h->stats);
		o->sender = sender_start(o, err);
		if (!o->sender) {
			pane_oqueue_close(o->q);
			for (size_t k = i; k < os.n; k++)
				output_free(os.v[k]);
			free(os.v);
			return err->code;
		}
		pane_pipeline_add_sink(h->pipeline, (struct pane_sink){o->kind == OUTPUT_LOKI ? &loki_ops : &rw_ops, o},
		                       0);
		pane_log_kv(PANE_LOG_INFO, "outputs", "forwarding", "output", o->name, "kind",
		            o->kind == OUTPUT_LOKI ? "loki" : "remote_write", "queue", o->qo.dir, NULL);
	}
	free(os.v);
	return 0;
}
