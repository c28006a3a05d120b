/*
 * amconfig.c - Alertmanager's configuration format on pane's YAML tree.
 *
 * Idea: walk the node tree once, key by key, into plain structs; every key is
 * either understood or refused with "file:line: path: why", so a config that
 * loads is a config pane honours. Routes inherit receiver, group_by and the
 * three timers from their parent, as Alertmanager's do; matchers use
 * Alertmanager's syntax (and the older match/match_re maps). Regexes are
 * anchored like Alertmanager's ("^(?:re)$").
 *
 * Receivers: every text (also Slack fields and actions, PagerDuty details,
 * links and images) is parsed as a template here, so a syntax error has a
 * file:line; Alertmanager's own load-time rules are applied as it applies
 * them (a Slack action needs type, text and url or name, a url drops the
 * message-action keys; PagerDuty details are merged under its four default
 * details). http_config keeps only what http/client.h can do for a notifier
 * (redirects, bearer/authorization/basic/oauth2 credentials, proxy with no_proxy or from
 * the environment, HTTP/2 or not, CA file, client certificate, TLS versions,
 * skipping verification); the rest of Prometheus' HTTPClientConfig is
 * refused by name. Secrets (api_url, routing_key, bearer_token,
 * credentials, password) must be ${VAR} inline in pane.yaml and are masked
 * in `original`; their *_file forms are read when the configuration loads
 * (secret_file).
 */
#include "notify/amconfig.h"
#include "notify/tz.h"

#include <glob.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alert/template.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/regex.h"
#include "base/str.h"
#include "config/config.h"
#include "http/client.h"

/* ---- reading the tree ---- */

struct rd {
	const struct pane_cfg *cfg;
	struct pane_err *err;
	bool in_pane_yaml; /* secrets only as ${VAR} there, as everywhere in pane.yaml */
};

static int bad(struct rd *r, const struct pane_cfg_node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct rd *r, const struct pane_cfg_node *n, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return pane_cfg_error(r->cfg, n, r->err, "%s", msg);
}

/* api_url, routing_key, slack_api_url inline in pane.yaml: from the environment */
static int secret(struct rd *r, const struct pane_cfg_node *it)
{
	if (r->in_pane_yaml && it->kind == PANE_CFG_SCALAR && !it->from_env)
		return bad(r, it,
		           "a secret: write it as ${VAR} (secrets come only from the environment in "
		           "pane.yaml), or keep it in an Alertmanager file named by config_file");
	return 0;
}

static int want(struct rd *r, const struct pane_cfg_node *n, enum pane_cfg_kind k)
{
	if (n->kind == k || (k == PANE_CFG_SEQ && n->kind == PANE_CFG_NULL) ||
	    (k == PANE_CFG_MAP && n->kind == PANE_CFG_NULL))
		return 0;
	return bad(r, n, "expected %s", k == PANE_CFG_MAP ? "a map" : k == PANE_CFG_SEQ ? "a list" : "a value");
}

static int str(struct rd *r, const struct pane_cfg_node *n, char **out)
{
	if (n->kind != PANE_CFG_SCALAR)
		return bad(r, n, "expected a value");
	free(*out);
	*out = pane_xstrdup(n->value);
	return 0;
}

static int dur(struct rd *r, const struct pane_cfg_node *n, int64_t *out)
{
	if (n->kind != PANE_CFG_SCALAR || pane_duration_parse(pane_str_c(n->value), 0, out) < 0 || *out < 0)
		return bad(r, n, "'%s' is not a duration (like 30s, 5m, 4h)",
		           n->kind == PANE_CFG_SCALAR ? n->value : "");
	return 0;
}

static int boolean(struct rd *r, const struct pane_cfg_node *n, bool *out)
{
	if (n->kind != PANE_CFG_SCALAR || pane_cfg_parse_bool(n->value, out) < 0)
		return bad(r, n, "expected true or false");
	return 0;
}

static int strlist(struct rd *r, const struct pane_cfg_node *n, char ***out, size_t *nout)
{
	if (want(r, n, PANE_CFG_SEQ) < 0)
		return PANE_EINVAL;
	*out = pane_xcalloc(n->n_items + 1, sizeof **out);
	*nout = 0;
	for (size_t i = 0; i < n->n_items; i++) {
		if (n->items[i]->kind != PANE_CFG_SCALAR)
			return bad(r, n->items[i], "expected a value");
		(*out)[(*nout)++] = pane_xstrdup(n->items[i]->value);
	}
	return 0;
}

static void strlist_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* matchers: [...] (Alertmanager syntax), match: {k: v}, match_re: {k: re} */
static int matchers_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_matchers *ms,
                         enum pane_am_op op_for_map)
{
	if (op_for_map == PANE_AM_NE) { /* matchers: list */
		if (want(r, n, PANE_CFG_SEQ) < 0)
			return PANE_EINVAL;
		for (size_t i = 0; i < n->n_items; i++) {
			const struct pane_cfg_node *it = n->items[i];
			if (it->kind != PANE_CFG_SCALAR)
				return bad(r, it, "expected a matcher like 'severity=\"critical\"'");
			if (pane_am_matchers_parse(ms, it->value, r->err) < 0) {
				char m[PANE_ERR_MSG_MAX];
				snprintf(m, sizeof m, "%s", r->err->msg);
				return bad(r, it, "%s", m);
			}
		}
		return 0;
	}
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		if (it->kind != PANE_CFG_SCALAR)
			return bad(r, it, "expected a value");
		if (pane_am_matcher_add(ms, it->key, it->value, op_for_map, r->err) < 0) {
			char m[PANE_ERR_MSG_MAX];
			snprintf(m, sizeof m, "%s", r->err->msg);
			return bad(r, it, "%s", m);
		}
	}
	return 0;
}

static void matchers_key(struct pane_buf *b, const struct pane_am_matchers *ms)
{
	pane_buf_addc(b, '{');
	for (size_t i = 0; i < ms->n; i++) {
		pane_buf_addf(b, "%s%s%s", i ? "," : "", ms->v[i].name, pane_am_op_str(ms->v[i].op));
		pane_buf_add_json_str(b, ms->v[i].value, strlen(ms->v[i].value));
	}
	pane_buf_addc(b, '}');
}

static void route_free(struct pane_am_route *rt)
{
	free(rt->receiver);
	pane_am_matchers_release(&rt->matchers);
	strlist_free(rt->group_by, rt->n_group_by);
	strlist_free(rt->mute_intervals, rt->n_mute);
	strlist_free(rt->active_intervals, rt->n_active);
	for (size_t i = 0; i < rt->n_routes; i++)
		route_free(&rt->routes[i]);
	free(rt->routes);
	free(rt->key);
}

static int route_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_route *rt,
                      const struct pane_am_route *parent, size_t index)
{
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	rt->line = n->line;
	bool have_gb = false, have_gw = false, have_gi = false, have_ri = false;
	const struct pane_cfg_node *routes = NULL;
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		const char *k = it->key;
		int rc = 0;
		if (!strcmp(k, "receiver")) {
			rc = str(r, it, &rt->receiver);
			rt->receiver_node = it;
		} else if (!strcmp(k, "continue"))
			rc = boolean(r, it, &rt->cont);
		else if (!strcmp(k, "matchers"))
			rc = matchers_node(r, it, &rt->matchers, PANE_AM_NE);
		else if (!strcmp(k, "match"))
			rc = matchers_node(r, it, &rt->matchers, PANE_AM_EQ);
		else if (!strcmp(k, "match_re"))
			rc = matchers_node(r, it, &rt->matchers, PANE_AM_RE);
		else if (!strcmp(k, "group_by")) {
			have_gb = true;
			rc = strlist(r, it, &rt->group_by, &rt->n_group_by);
			for (size_t j = 0; rc == 0 && j < rt->n_group_by; j++) {
				if (!strcmp(rt->group_by[j], "...")) {
					if (rt->n_group_by != 1)
						rc = bad(r, it, "'...' must be the only item of group_by");
					rt->group_by_all = true;
				} else if (!pane_label_name_valid(rt->group_by[j], strlen(rt->group_by[j]))) {
					rc = bad(r, it, "'%s' is not a label name", rt->group_by[j]);
				}
			}
		} else if (!strcmp(k, "group_wait")) {
			have_gw = true;
			rc = dur(r, it, &rt->group_wait_ms);
		} else if (!strcmp(k, "group_interval")) {
			have_gi = true;
			rc = dur(r, it, &rt->group_interval_ms);
			if (rc == 0 && rt->group_interval_ms == 0)
				rc = bad(r, it, "group_interval cannot be zero");
		} else if (!strcmp(k, "repeat_interval")) {
			have_ri = true;
			rc = dur(r, it, &rt->repeat_interval_ms);
			if (rc == 0 && rt->repeat_interval_ms == 0)
				rc = bad(r, it, "repeat_interval cannot be zero");
		} else if (!strcmp(k, "mute_time_intervals"))
			rc = strlist(r, it, &rt->mute_intervals, &rt->n_mute);
		else if (!strcmp(k, "active_time_intervals"))
			rc = strlist(r, it, &rt->active_intervals, &rt->n_active);
		else if (!strcmp(k, "routes"))
			routes = it;
		else
			rc = bad(r, it,
			         "unknown route key (known: receiver, matchers, match, match_re, continue, "
			         "group_by, group_wait, group_interval, repeat_interval, mute_time_intervals, "
			         "active_time_intervals, routes)");
		if (rc < 0)
			return rc;
	}
	if (rt->n_group_by > 1)
		qsort(rt->group_by, rt->n_group_by, sizeof *rt->group_by, cmpstr);
	if (!parent) {
		if (!rt->receiver)
			return bad(r, n, "the root route needs a receiver");
		if (rt->matchers.n)
			return bad(r, n, "the root route must not have matchers");
		if (rt->cont)
			return bad(r, n, "the root route cannot have continue");
		if (rt->n_mute || rt->n_active)
			return bad(r, n, "the root route cannot have mute or active time intervals");
		if (!have_gw)
			rt->group_wait_ms = 30000;
		if (!have_gi)
			rt->group_interval_ms = 300000;
		if (!have_ri)
			rt->repeat_interval_ms = 4 * 3600000;
	} else {
		if (!rt->receiver)
			rt->receiver = pane_xstrdup(parent->receiver);
		if (!have_gb) {
			rt->group_by_all = parent->group_by_all;
			rt->n_group_by = parent->n_group_by;
			rt->group_by = pane_xcalloc(parent->n_group_by + 1, sizeof *rt->group_by);
			for (size_t j = 0; j < parent->n_group_by; j++)
				rt->group_by[j] = pane_xstrdup(parent->group_by[j]);
		}
		if (!have_gw)
			rt->group_wait_ms = parent->group_wait_ms;
		if (!have_gi)
			rt->group_interval_ms = parent->group_interval_ms;
		if (!have_ri)
			rt->repeat_interval_ms = parent->repeat_interval_ms;
	}
	/* Alertmanager's key: parent's key "/" own matchers, with the index
	 * among siblings so that two routes with the same matchers differ */
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	if (parent)
		pane_buf_addf(&b, "%s/", parent->key);
	matchers_key(&b, &rt->matchers);
	if (parent)
		pane_buf_addf(&b, "/%zu", index);
	rt->key = pane_buf_detach(&b, NULL);
	if (routes) {
		if (want(r, routes, PANE_CFG_SEQ) < 0)
			return PANE_EINVAL;
		rt->routes = pane_xcalloc(routes->n_items + 1, sizeof *rt->routes);
		for (size_t i = 0; i < routes->n_items; i++) {
			rt->n_routes++;
			if (route_node(r, routes->items[i], &rt->routes[i], rt, i) < 0)
				return PANE_EINVAL;
		}
	}
	return 0;
}

/* A notifier's text key: a Go template (parsed here, so a syntax error is
 * reported with file:line); a secret one is checked as such, not templated. */
static int text_key(struct rd *r, const struct pane_cfg_node *it, char **dst, bool is_secret)
{
	if (is_secret && secret(r, it) < 0)
		return PANE_EINVAL;
	if (!is_secret && it->kind == PANE_CFG_SCALAR) {
		struct pane_err e = {0};
		if (pane_tmpl_am_check(NULL, it->key, it->value, &e) < 0)
			return bad(r, it, "%s", e.msg);
	}
	return str(r, it, dst);
}

/* templates: file globs, relative to the configuration file's directory */
static int templates_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_config *c)
{
	if (n->kind == PANE_CFG_NULL)
		return 0;
	if (want(r, n, PANE_CFG_SEQ) < 0)
		return PANE_EINVAL;
	char *f = pane_xstrdup(r->cfg->file ? r->cfg->file : ".");
	char *dir = pane_xstrdup(dirname(f));
	free(f);
	int rc = 0;
	for (size_t i = 0; i < n->n_items && rc == 0; i++) {
		const struct pane_cfg_node *it = n->items[i];
		if (it->kind != PANE_CFG_SCALAR) {
			rc = bad(r, it, "expected a file glob");
			break;
		}
		struct pane_buf pat;
		pane_buf_init(&pat, PANE_BUF_NOLIMIT);
		if (it->value[0] == '/')
			pane_buf_adds(&pat, it->value);
		else
			pane_buf_addf(&pat, "%s/%s", dir, it->value);
		glob_t g;
		int gr = glob(pat.data, 0, NULL, &g);
		pane_buf_release(&pat);
		if (gr != 0 && gr != GLOB_NOMATCH) {
			rc = bad(r, it, "cannot expand %s", it->value);
			break;
		}
		for (size_t k = 0; gr == 0 && k < g.gl_pathc && rc == 0; k++) {
			FILE *fp = fopen(g.gl_pathv[k], "rb");
			if (!fp) {
				rc = bad(r, it, "cannot read template file %s", g.gl_pathv[k]);
				break;
			}
			struct pane_buf text;
			pane_buf_init(&text, 4u << 20);
			char chunk[8192];
			size_t got;
			bool big = false;
			while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
				if (pane_buf_add(&text, chunk, got) < 0) {
					big = true;
					break;
				}
			fclose(fp);
			struct pane_err e = {0};
			if (big)
				rc = bad(r, it, "template file %s is larger than 4 MiB", g.gl_pathv[k]);
			else if (pane_tmpl_set_add(c->tmpl, g.gl_pathv[k], text.data ? text.data : "", &e) < 0)
				rc = bad(r, it, "%s", e.msg);
			pane_buf_release(&text);
		}
		if (gr == 0)
			globfree(&g);
	}
	free(dir);
	return rc;
}

/* A relative file name in the configuration: relative to its directory, as
 * Alertmanager resolves http_config's files. Heap string. */
static char *config_path(struct rd *r, const char *name)
{
	if (name[0] == '/' || !r->cfg->file)
		return pane_xstrdup(name);
	char *f = pane_xstrdup(r->cfg->file);
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_addf(&b, "%s/%s", dirname(f), name);
	free(f);
	return pane_buf_detach(&b, NULL);
}

/* A secret kept in a file (api_url_file, routing_key_file,
 * bearer_token_file, credentials_file, password_file): the path is relative
 * to the configuration file; the content, without surrounding whitespace,
 * becomes the value. Read at load and at each reload (Alertmanager reads it
 * per notification: a rotated file is picked up by a reload here). */
static int secret_file(struct rd *r, const struct pane_cfg_node *it, char **dst)
{
	char *name = NULL;
	if (str(r, it, &name) < 0)
		return PANE_EINVAL;
	char *path = config_path(r, name);
	free(name);
	FILE *fp = fopen(path, "rb");
	char buf[8192];
	size_t n = fp ? fread(buf, 1, sizeof buf, fp) : 0;
	bool too_big = fp && n == sizeof buf;
	int rc = 0;
	if (!fp)
		rc = bad(r, it, "cannot read %s: %s", path, strerror(errno));
	else if (too_big)
		rc = bad(r, it, "%s is larger than a secret (8 KiB)", path);
	if (fp)
		fclose(fp);
	free(path);
	if (rc < 0)
		return rc;
	size_t a = 0;
	while (a < n && isspace((unsigned char)buf[a]))
		a++;
	while (n > a && isspace((unsigned char)buf[n - 1]))
		n--;
	if (n == a || memchr(buf + a, '\0', n - a))
		return bad(r, it, "the file holds no secret (empty, or binary)");
	free(*dst);
	*dst = pane_xstrndup(buf + a, n - a);
	return 0;
}

/* "at most one of K and K_file": Alertmanager's rule for a secret given twice */
static int one_of(struct rd *r, const struct pane_cfg_node *n, const char *key)
{
	char file_key[64];
	snprintf(file_key, sizeof file_key, "%s_file", key);
	if (pane_cfg_get(n, key) && pane_cfg_get(n, file_key))
		return bad(r, pane_cfg_get(n, file_key), "at most one of %s and %s must be configured", key, file_key);
	return 0;
}

/* a map whose keys must all be among known (NULL-terminated) */
static int only_keys(struct rd *r, const struct pane_cfg_node *n, const char *what, const char *const *known,
                     const char *list)
{
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	for (size_t i = 0; i < n->n_items; i++) {
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++)
			ok = !strcmp(n->items[i]->key, *k);
		if (!ok)
			return bad(r, n->items[i], "%s key not supported by pane (supported: %s)", what, list);
	}
	return 0;
}

/* A file named in tls_config: relative to the configuration file, and
 * readable when it loads. */
static int tls_file(struct rd *r, const struct pane_cfg_node *a, const char *what, char **dst)
{
	char *name = NULL;
	if (str(r, a, &name) < 0)
		return PANE_EINVAL;
	free(*dst);
	*dst = config_path(r, name);
	free(name);
	FILE *fp = fopen(*dst, "rb");
	if (!fp)
		return bad(r, a, "cannot read %s %s", what, *dst);
	fclose(fp);
	return 0;
}

/* TLS10..TLS13 as 10..13 */
static int tls_version(struct rd *r, const struct pane_cfg_node *a, int *dst)
{
	static const char *const names[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
	for (int i = 0; i < 4; i++)
		if (a->kind == PANE_CFG_SCALAR && a->value && !strcmp(a->value, names[i])) {
			*dst = 10 + i;
			return 0;
		}
	return bad(r, a, "expected one of TLS10, TLS11, TLS12, TLS13");
}

/* tls_config: a CA, a client certificate and the TLS versions; Prometheus'
 * rules (a certificate needs its key and the other way round, max_version
 * at or above min_version) */
static int tls_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_http *h)
{
	static const char *const tk[] = {
	    "ca",          "ca_file",     "cert", "cert_file", "key", "key_file", "insecure_skip_verify",
	    "min_version", "max_version", NULL};
	if (only_keys(r, n, "http_config.tls_config", tk,
	              "ca(_file), cert(_file), key(_file), insecure_skip_verify, min_version, max_version") < 0 ||
	    one_of(r, n, "ca") < 0 || one_of(r, n, "cert") < 0 || one_of(r, n, "key") < 0)
		return PANE_EINVAL;
	for (size_t j = 0; j < n->n_items; j++) {
		const struct pane_cfg_node *a = n->items[j];
		int rc = !strcmp(a->key, "insecure_skip_verify") ? boolean(r, a, &h->insecure_skip_verify)
		         : !strcmp(a->key, "ca_file")            ? tls_file(r, a, "CA file", &h->ca_file)
		         : !strcmp(a->key, "cert_file")          ? tls_file(r, a, "certificate file", &h->cert_file)
		         : !strcmp(a->key, "key_file")           ? tls_file(r, a, "key file", &h->key_file)
		         : !strcmp(a->key, "ca")                 ? str(r, a, &h->ca)
		         : !strcmp(a->key, "cert")               ? str(r, a, &h->cert)
		         : !strcmp(a->key, "key")                ? (secret(r, a) < 0 ? PANE_EINVAL : str(r, a, &h->key))
		         : !strcmp(a->key, "min_version")        ? tls_version(r, a, &h->tls_min_version)
		                                                 : tls_version(r, a, &h->tls_max_version);
		if (rc < 0)
			return rc;
	}
	if ((h->cert_file || h->cert) && !(h->key_file || h->key))
		return bad(r, n,
		           "exactly one of key or key_file must be configured when a client certificate is configured");
	if ((h->key_file || h->key) && !(h->cert_file || h->cert))
		return bad(r, n, "exactly one of cert or cert_file must be configured when a client key is configured");
	if (h->tls_min_version && h->tls_max_version && h->tls_max_version < h->tls_min_version)
		return bad(r, n, "max_version must be greater than or equal to min_version");
	return 0;
}

/* oauth2: a token from token_url by the client credentials grant, sent as
 * the Authorization of every notification (src/notify/integ.c). Its own
 * tls_config and proxy_url are refused: the token request goes the way of
 * the notifications. */
static int oauth2_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_http *h)
{
	static const char *const ok[] = {
	    "client_id", "client_secret", "client_secret_file", "scopes", "token_url", "endpoint_params", NULL};
	if (only_keys(r, n, "http_config.oauth2", ok,
	              "client_id, client_secret(_file), scopes, token_url, endpoint_params") < 0 ||
	    one_of(r, n, "client_secret") < 0)
		return PANE_EINVAL;
	struct pane_am_oauth2 *o = h->oauth2 = pane_xcalloc(1, sizeof *o);
	struct pane_buf params;
	pane_buf_init(&params, PANE_BUF_NOLIMIT);
	pane_buf_adds(&params, "");
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		const char *k = it->key;
		if (!strcmp(k, "client_id")) {
			rc = str(r, it, &o->client_id);
		} else if (!strcmp(k, "client_secret")) {
			rc = secret(r, it) < 0 ? PANE_EINVAL : str(r, it, &o->client_secret);
		} else if (!strcmp(k, "client_secret_file")) {
			rc = secret_file(r, it, &o->client_secret);
		} else if (!strcmp(k, "token_url")) {
			rc = str(r, it, &o->token_url);
			if (rc == 0 && strncmp(o->token_url, "http://", 7) && strncmp(o->token_url, "https://", 8))
				rc = bad(r, it, "token_url must be an http:// or https:// URL");
		} else if (!strcmp(k, "scopes")) {
			char **v = NULL;
			size_t nv = 0;
			rc = strlist(r, it, &v, &nv);
			if (rc == 0 && nv) { /* one scope parameter, space-separated (RFC 6749 3.3) */
				struct pane_buf sc;
				pane_buf_init(&sc, PANE_BUF_NOLIMIT);
				for (size_t j = 0; j < nv; j++)
					pane_buf_addf(&sc, "%s%s", j ? " " : "", v[j]);
				pane_buf_adds(&params, "&scope=");
				pane_http_url_encode(&params, sc.data, sc.len);
				pane_buf_release(&sc);
			}
			strlist_free(v, nv);
		} else { /* endpoint_params */
			rc = want(r, it, PANE_CFG_MAP);
			for (size_t j = 0; rc == 0 && j < it->n_items; j++) {
				const struct pane_cfg_node *p = it->items[j];
				if (p->kind != PANE_CFG_SCALAR) {
					rc = bad(r, p, "expected a value");
					break;
				}
				pane_buf_addc(&params, '&');
				pane_http_url_encode(&params, p->key, strlen(p->key));
				pane_buf_addc(&params, '=');
				pane_http_url_encode(&params, p->value, strlen(p->value));
			}
		}
	}
	o->params = pane_buf_detach(&params, NULL);
	if (rc < 0)
		return rc;
	if (!o->client_id || !*o->client_id)
		return bad(r, n, "oauth2 client_id must be configured");
	if (!o->token_url || !*o->token_url)
		return bad(r, n, "oauth2 token_url must be configured");
	return 0;
}

/* proxy_connect_header: {Name: [secret, ...]} -> "Name: value" lines, sent
 * to the proxy only (its CONNECT), never to the receiver */
static int proxy_headers(struct rd *r, const struct pane_cfg_node *n, struct pane_am_http *h)
{
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		if (!*it->key || strpbrk(it->key, ": \t\r\n"))
			return bad(r, it, "not a header name");
		if (want(r, it, PANE_CFG_SEQ) < 0)
			return PANE_EINVAL;
		for (size_t j = 0; j < it->n_items; j++) {
			const struct pane_cfg_node *v = it->items[j];
			if (v->kind != PANE_CFG_SCALAR)
				return bad(r, v, "expected a value");
			if (secret(r, v) < 0)
				return PANE_EINVAL;
			if (strpbrk(v->value, "\r\n"))
				return bad(r, v, "a header value cannot hold a line break");
			struct pane_buf b;
			pane_buf_init(&b, PANE_BUF_NOLIMIT);
			pane_buf_addf(&b, "%s: %s", it->key, v->value);
			h->proxy_headers =
			    pane_xrealloc(h->proxy_headers, (h->n_proxy_headers + 2) * sizeof *h->proxy_headers);
			h->proxy_headers[h->n_proxy_headers++] = pane_buf_detach(&b, NULL);
			h->proxy_headers[h->n_proxy_headers] = NULL;
		}
	}
	return 0;
}

/* http_config: what pane's HTTP client (http/client.h) can do for a
 * notifier; the rest (tls_config's server_name and the *_ref keys) is
 * refused by name. The combinations Prometheus' HTTPClientConfig.Validate
 * refuses are refused too. */
static int http_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_http *h)
{
	static const char *const known[] = {"follow_redirects",
	                                    "bearer_token",
	                                    "bearer_token_file",
	                                    "authorization",
	                                    "basic_auth",
	                                    "oauth2",
	                                    "proxy_url",
	                                    "proxy_from_environment",
	                                    "no_proxy",
	                                    "proxy_connect_header",
	                                    "enable_http2",
	                                    "tls_config",
	                                    NULL};
	if (only_keys(r, n, "http_config", known,
	              "follow_redirects, bearer_token(_file), authorization: {type, credentials(_file)}, "
	              "basic_auth: {username, password(_file)}, oauth2: {client_id, client_secret(_file), scopes, "
	              "token_url, endpoint_params}, proxy_url, no_proxy, proxy_from_environment, proxy_connect_header, "
	              "enable_http2, tls_config") < 0 ||
	    one_of(r, n, "bearer_token") < 0)
		return PANE_EINVAL;
	const struct pane_cfg_node *bt = NULL, *az = NULL, *ba = NULL, *oa = NULL;
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		const char *k = it->key;
		int rc = 0;
		if (!strcmp(k, "follow_redirects")) {
			rc = boolean(r, it, &h->follow_redirects);
		} else if (!strcmp(k, "bearer_token")) {
			bt = it;
			rc = secret(r, it) < 0 ? PANE_EINVAL : str(r, it, &h->auth_credentials);
		} else if (!strcmp(k, "bearer_token_file")) {
			bt = it;
			rc = secret_file(r, it, &h->auth_credentials);
		} else if (!strcmp(k, "authorization")) {
			static const char *const ak[] = {"type", "credentials", "credentials_file", NULL};
			az = it;
			rc = only_keys(r, it, "http_config.authorization", ak, "type, credentials, credentials_file");
			if (rc == 0)
				rc = one_of(r, it, "credentials");
			for (size_t j = 0; rc == 0 && j < it->n_items; j++) {
				const struct pane_cfg_node *a = it->items[j];
				if (!strcmp(a->key, "type"))
					rc = str(r, a, &h->auth_type);
				else if (!strcmp(a->key, "credentials_file"))
					rc = secret_file(r, a, &h->auth_credentials);
				else
					rc = secret(r, a) < 0 ? PANE_EINVAL : str(r, a, &h->auth_credentials);
			}
			if (rc == 0 && h->auth_type && !strcasecmp(h->auth_type, "basic"))
				rc = bad(r, it,
				         "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
		} else if (!strcmp(k, "basic_auth")) {
			static const char *const bk[] = {"username", "password", "password_file", NULL};
			ba = it;
			rc = only_keys(r, it, "http_config.basic_auth", bk, "username, password, password_file");
			if (rc == 0)
				rc = one_of(r, it, "password");
			for (size_t j = 0; rc == 0 && j < it->n_items; j++) {
				const struct pane_cfg_node *a = it->items[j];
				if (!strcmp(a->key, "username"))
					rc = str(r, a, &h->basic_user);
				else if (!strcmp(a->key, "password_file"))
					rc = secret_file(r, a, &h->basic_pass);
				else
					rc = secret(r, a) < 0 ? PANE_EINVAL : str(r, a, &h->basic_pass);
			}
			if (rc == 0 && !h->basic_user)
				h->basic_user = pane_xstrdup("");
		} else if (!strcmp(k, "oauth2")) {
			oa = it;
			rc = oauth2_node(r, it, h);
		} else if (!strcmp(k, "proxy_connect_header")) {
			rc = proxy_headers(r, it, h);
		} else if (!strcmp(k, "no_proxy")) {
			rc = str(r, it, &h->no_proxy);
		} else if (!strcmp(k, "proxy_from_environment")) {
			rc = boolean(r, it, &h->proxy_from_environment);
		} else if (!strcmp(k, "enable_http2")) {
			rc = boolean(r, it, &h->enable_http2);
		} else if (!strcmp(k, "proxy_url")) {
			rc = str(r, it, &h->proxy_url);
			if (rc == 0 && strncmp(h->proxy_url, "http://", 7) && strncmp(h->proxy_url, "https://", 8) &&
			    strncmp(h->proxy_url, "socks5://", 9))
				rc = bad(r, it, "proxy_url must be an http://, https:// or socks5:// URL");
		} else { /* tls_config */
			rc = tls_node(r, it, h);
		}
		if (rc < 0)
			return rc;
	}
	/* Prometheus' HTTPClientConfig.Validate on the proxy keys */
	if (h->proxy_from_environment && h->proxy_url)
		return bad(r, pane_cfg_get(n, "proxy_url"),
		           "if proxy_from_environment is configured, proxy_url must not be configured");
	if (h->proxy_from_environment && h->no_proxy)
		return bad(r, pane_cfg_get(n, "no_proxy"),
		           "if proxy_from_environment is configured, no_proxy must not be configured");
	if (h->n_proxy_headers && !h->proxy_url && !h->proxy_from_environment)
		return bad(r, pane_cfg_get(n, "proxy_connect_header"),
		           "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be "
		           "configured");
	if (h->no_proxy && !h->proxy_url)
		return bad(r, pane_cfg_get(n, "no_proxy"),
		           "if no_proxy is configured, proxy_url must also be configured");
	if (bt && az)
		return bad(r, az, "authorization is not compatible with bearer_token");
	if ((ba != NULL) + (bt != NULL) + (az != NULL) + (oa != NULL) > 1)
		return bad(r, oa ? oa : ba,
		           "at most one of basic_auth, oauth2, bearer_token & bearer_token_file, authorization must be "
		           "configured");
	if (az && !h->auth_credentials)
		return bad(r, az, "authorization needs credentials");
	if (h->auth_credentials && !h->auth_type)
		h->auth_type = pane_xstrdup("Bearer");
	return 0;
}

static int slack_fields_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_slack *s)
{
	if (want(r, n, PANE_CFG_SEQ) < 0)
		return PANE_EINVAL;
	static const char *const known[] = {"title", "value", "short", NULL};
	s->fields = pane_xcalloc(n->n_items + 1, sizeof *s->fields);
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *f = n->items[i];
		struct pane_am_slack_field *d = &s->fields[s->n_fields++];
		d->is_short = -1;
		if (only_keys(r, f, "slack_configs.fields", known, "title, value, short") < 0)
			return PANE_EINVAL;
		for (size_t j = 0; j < f->n_items; j++) {
			const struct pane_cfg_node *it = f->items[j];
			int rc;
			if (!strcmp(it->key, "short")) {
				bool b;
				rc = boolean(r, it, &b);
				d->is_short = b;
			} else {
				rc = text_key(r, it, !strcmp(it->key, "title") ? &d->title : &d->value, false);
			}
			if (rc < 0)
				return rc;
		}
		if (!d->title || !*d->title)
			return bad(r, f, "missing title in Slack field configuration");
		if (!d->value || !*d->value)
			return bad(r, f, "missing value in Slack field configuration");
	}
	return 0;
}

static int slack_actions_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_slack *s)
{
	if (want(r, n, PANE_CFG_SEQ) < 0)
		return PANE_EINVAL;
	static const char *const known[] = {"type", "text", "url", "style", "name", "value", "confirm", NULL};
	static const char *const ck[] = {"title", "text", "ok_text", "dismiss_text", NULL};
	s->actions = pane_xcalloc(n->n_items + 1, sizeof *s->actions);
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *an = n->items[i];
		struct pane_am_slack_action *a = &s->actions[s->n_actions++];
		if (only_keys(r, an, "slack_configs.actions", known, "type, text, url, style, name, value, confirm") <
		    0)
			return PANE_EINVAL;
		for (size_t j = 0; j < an->n_items; j++) {
			const struct pane_cfg_node *it = an->items[j];
			const char *k = it->key;
			int rc = 0;
			if (!strcmp(k, "confirm")) {
				a->has_confirm = true;
				rc = only_keys(r, it, "slack_configs.actions.confirm", ck,
				               "title, text, ok_text, dismiss_text");
				for (size_t m = 0; rc == 0 && m < it->n_items; m++) {
					const struct pane_cfg_node *c = it->items[m];
					rc = text_key(r, c,
					              !strcmp(c->key, "title")     ? &a->confirm_title
					              : !strcmp(c->key, "text")    ? &a->confirm_text
					              : !strcmp(c->key, "ok_text") ? &a->confirm_ok_text
					                                           : &a->confirm_dismiss_text,
					              false);
				}
				if (rc == 0 && (!a->confirm_text || !*a->confirm_text))
					rc = bad(r, it, "missing text in Slack confirmation configuration");
			} else {
				rc = text_key(r, it,
				              !strcmp(k, "type")    ? &a->type
				              : !strcmp(k, "text")  ? &a->text
				              : !strcmp(k, "url")   ? &a->url
				              : !strcmp(k, "style") ? &a->style
				              : !strcmp(k, "name")  ? &a->name
				                                    : &a->value,
				              false);
			}
			if (rc < 0)
				return rc;
		}
		if (!a->type || !*a->type)
			return bad(r, an, "missing type in Slack action configuration");
		if (!a->text || !*a->text)
			return bad(r, an, "missing text in Slack action configuration");
		if (a->url && *a->url) { /* a link button: Alertmanager drops the message-action fields */
			free(a->name), free(a->value);
			free(a->confirm_title), free(a->confirm_text), free(a->confirm_ok_text),
			    free(a->confirm_dismiss_text);
			a->name = a->value = NULL;
			a->confirm_title = a->confirm_text = a->confirm_ok_text = a->confirm_dismiss_text = NULL;
			a->has_confirm = false;
		} else if (a->name && *a->name) {
			free(a->url);
			a->url = NULL;
		} else {
			return bad(r, an, "missing name or url in Slack action configuration");
		}
	}
	return 0;
}

static int slack_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_slack *s, const char *global_url)
{
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	s->http.follow_redirects = true;
	s->http.enable_http2 = true;
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		const char *k = it->key;
		char **dst = !strcmp(k, "api_url")      ? &s->api_url
		             : !strcmp(k, "channel")    ? &s->channel
		             : !strcmp(k, "username")   ? &s->username
		             : !strcmp(k, "icon_emoji") ? &s->icon_emoji
		             : !strcmp(k, "icon_url")   ? &s->icon_url
		             : !strcmp(k, "title")      ? &s->title
		             : !strcmp(k, "text")       ? &s->text
		             : !strcmp(k, "color")      ? &s->color
		             : !strcmp(k, "pretext")    ? &s->pretext
		             : !strcmp(k, "title_link") ? &s->title_link
		             : !strcmp(k, "fallback")   ? &s->fallback
		             : !strcmp(k, "footer")     ? &s->footer
		                                        : NULL;
		if (!dst)
			dst = !strcmp(k, "image_url")     ? &s->image_url
			      : !strcmp(k, "thumb_url")   ? &s->thumb_url
			      : !strcmp(k, "callback_id") ? &s->callback_id
			                                  : NULL;
		int rc;
		if (dst)
			rc = text_key(r, it, dst, dst == &s->api_url);
		else if (!strcmp(k, "send_resolved"))
			rc = boolean(r, it, &s->send_resolved);
		else if (!strcmp(k, "short_fields"))
			rc = boolean(r, it, &s->short_fields);
		else if (!strcmp(k, "link_names"))
			rc = boolean(r, it, &s->link_names);
		else if (!strcmp(k, "mrkdwn_in")) {
			strlist_free(s->mrkdwn_in, s->n_mrkdwn_in);
			rc = strlist(r, it, &s->mrkdwn_in, &s->n_mrkdwn_in);
		} else if (!strcmp(k, "fields"))
			rc = slack_fields_node(r, it, s);
		else if (!strcmp(k, "actions"))
			rc = slack_actions_node(r, it, s);
		else if (!strcmp(k, "http_config"))
			rc = http_node(r, it, &s->http);
		else if (!strcmp(k, "api_url_file"))
			rc = one_of(r, n, "api_url") < 0 ? PANE_EINVAL : secret_file(r, it, &s->api_url);
		else
			rc = bad(r, it,
			         "slack_configs key not supported by pane (supported: api_url, api_url_file, channel, "
			         "username, "
			         "icon_emoji, icon_url, title, title_link, pretext, text, fallback, footer, color, "
			         "send_resolved, fields, short_fields, actions, image_url, thumb_url, callback_id, "
			         "link_names, mrkdwn_in, http_config)");
		if (rc < 0)
			return rc;
	}
	if (!s->api_url && global_url)
		s->api_url = pane_xstrdup(global_url);
	if (!s->api_url)
		return bad(r, n, "no api_url (and no global.slack_api_url)");
	return 0;
}

static int cmpkv(const void *a, const void *b)
{
	return strcmp(((const struct pane_am_kv *)a)->name, ((const struct pane_am_kv *)b)->name);
}

/* details: name -> template, then Alertmanager's defaults for the names not
 * given (config.PagerdutyConfig.UnmarshalYAML), sorted by name */
static int pd_details_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_pagerduty *p)
{
	static const char *const defaults[][2] = {
	    {"firing", "{{ template \"pagerduty.default.instances\" .Alerts.Firing }}"},
	    {"resolved", "{{ template \"pagerduty.default.instances\" .Alerts.Resolved }}"},
	    {"num_firing", "{{ .Alerts.Firing | len }}"},
	    {"num_resolved", "{{ .Alerts.Resolved | len }}"},
	};
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	for (size_t i = 0; i < p->n_details; i++)
		free(p->details[i].name), free(p->details[i].value);
	free(p->details);
	p->n_details = 0;
	p->details = pane_xcalloc(n->n_items + 5, sizeof *p->details);
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		struct pane_am_kv *d = &p->details[p->n_details++];
		d->name = pane_xstrdup(it->key);
		if (text_key(r, it, &d->value, false) < 0)
			return PANE_EINVAL;
	}
	for (size_t k = 0; k < 4; k++) {
		bool given = false;
		for (size_t i = 0; i < n->n_items && !given; i++)
			given = !strcmp(n->items[i]->key, defaults[k][0]);
		if (!given)
			p->details[p->n_details++] =
			    (struct pane_am_kv){pane_xstrdup(defaults[k][0]), pane_xstrdup(defaults[k][1])};
	}
	qsort(p->details, p->n_details, sizeof *p->details, cmpkv);
	return 0;
}

static int pd_links_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_pagerduty *p)
{
	static const char *const known[] = {"href", "text", NULL};
	if (want(r, n, PANE_CFG_SEQ) < 0)
		return PANE_EINVAL;
	p->has_links = true;
	p->links = pane_xcalloc(n->n_items + 1, sizeof *p->links);
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *l = n->items[i];
		struct pane_am_pd_link *d = &p->links[p->n_links++];
		if (only_keys(r, l, "pagerduty_configs.links", known, "href, text") < 0)
			return PANE_EINVAL;
		for (size_t j = 0; j < l->n_items; j++)
			if (text_key(r, l->items[j], !strcmp(l->items[j]->key, "href") ? &d->href : &d->text, false) <
			    0)
				return PANE_EINVAL;
	}
	return 0;
}

static int pd_images_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_pagerduty *p)
{
	static const char *const known[] = {"src", "alt", "href", NULL};
	if (want(r, n, PANE_CFG_SEQ) < 0)
		return PANE_EINVAL;
	p->has_images = true;
	p->images = pane_xcalloc(n->n_items + 1, sizeof *p->images);
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *l = n->items[i];
		struct pane_am_pd_image *d = &p->images[p->n_images++];
		if (only_keys(r, l, "pagerduty_configs.images", known, "src, alt, href") < 0)
			return PANE_EINVAL;
		for (size_t j = 0; j < l->n_items; j++) {
			const char *k = l->items[j]->key;
			if (text_key(r, l->items[j],
			             !strcmp(k, "src")   ? &d->src
			             : !strcmp(k, "alt") ? &d->alt
			                                 : &d->href,
			             false) < 0)
				return PANE_EINVAL;
		}
	}
	return 0;
}

static int pagerduty_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_pagerduty *p,
                          const char *global_url)
{
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	p->send_resolved = true;
	p->http.follow_redirects = true;
	p->http.enable_http2 = true;
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		const char *k = it->key;
		char **dst = !strcmp(k, "routing_key")   ? &p->routing_key
		             : !strcmp(k, "url")         ? &p->url
		             : !strcmp(k, "client")      ? &p->client
		             : !strcmp(k, "client_url")  ? &p->client_url
		             : !strcmp(k, "description") ? &p->description
		             : !strcmp(k, "severity")    ? &p->severity
		             : !strcmp(k, "class")       ? &p->class
		             : !strcmp(k, "component")   ? &p->component
		             : !strcmp(k, "group")       ? &p->group
		             : !strcmp(k, "source")      ? &p->source
		                                         : NULL;
		int rc;
		if (dst)
			rc = text_key(r, it, dst, dst == &p->routing_key);
		else if (!strcmp(k, "send_resolved"))
			rc = boolean(r, it, &p->send_resolved);
		else if (!strcmp(k, "service_key") || !strcmp(k, "service_key_file"))
			rc = bad(r, it, "service_key is the Events API v1; pane speaks v2: use routing_key");
		else if (!strcmp(k, "routing_key_file"))
			rc = one_of(r, n, "routing_key") < 0 ? PANE_EINVAL : secret_file(r, it, &p->routing_key);
		else if (!strcmp(k, "details"))
			rc = pd_details_node(r, it, p);
		else if (!strcmp(k, "links"))
			rc = pd_links_node(r, it, p);
		else if (!strcmp(k, "images"))
			rc = pd_images_node(r, it, p);
		else if (!strcmp(k, "http_config"))
			rc = http_node(r, it, &p->http);
		else
			rc = bad(r, it,
			         "pagerduty_configs key not supported by pane (supported: routing_key, "
			         "routing_key_file, url, "
			         "client, client_url, description, severity, class, component, group, source, "
			         "details, links, images, send_resolved, http_config)");
		if (rc < 0)
			return rc;
	}
	if (!p->url)
		p->url = pane_xstrdup(global_url ? global_url : "https://events.pagerduty.com/v2/enqueue");
	if (!p->routing_key)
		return bad(r, n, "routing_key is required");
	return 0;
}

static int webhook_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_webhook *w)
{
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	w->send_resolved = true;
	w->http.follow_redirects = true;
	w->http.enable_http2 = true;
	if (one_of(r, n, "url") < 0)
		return PANE_EINVAL;
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		int rc;
		if (!strcmp(it->key, "url"))
			rc = str(r, it, &w->url);
		else if (!strcmp(it->key, "url_file"))
			rc = secret_file(r, it, &w->url);
		else if (!strcmp(it->key, "http_config"))
			rc = http_node(r, it, &w->http);
		else if (!strcmp(it->key, "send_resolved"))
			rc = boolean(r, it, &w->send_resolved);
		else if (!strcmp(it->key, "max_alerts")) {
			int64_t v;
			rc = it->kind == PANE_CFG_SCALAR && pane_str_to_i64(pane_str_c(it->value), &v) == 0 && v >= 0
			         ? 0
			         : bad(r, it, "expected a number >= 0");
			w->max_alerts = v;
		} else
			rc = bad(r, it,
			         "webhook_configs key not supported by pane (supported: url, url_file, send_resolved, "
			         "max_alerts, http_config)");
		if (rc < 0)
			return rc;
	}
	if (!w->url)
		return bad(r, n, "url or url_file is required");
	return 0;
}

struct global {
	char *slack_api_url, *pagerduty_url;
};

static int receiver_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_receiver *rv,
                         const struct global *g)
{
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		const char *k = it->key;
		int rc = 0;
		if (!strcmp(k, "name"))
			rc = str(r, it, &rv->name);
		else if (!strcmp(k, "slack_configs")) {
			if (want(r, it, PANE_CFG_SEQ) < 0)
				return PANE_EINVAL;
			rv->slack = pane_xcalloc(it->n_items + 1, sizeof *rv->slack);
			for (size_t j = 0; j < it->n_items && rc == 0; j++) {
				rv->n_slack++;
				rc = slack_node(r, it->items[j], &rv->slack[j], g->slack_api_url);
			}
		} else if (!strcmp(k, "pagerduty_configs")) {
			if (want(r, it, PANE_CFG_SEQ) < 0)
				return PANE_EINVAL;
			rv->pagerduty = pane_xcalloc(it->n_items + 1, sizeof *rv->pagerduty);
			for (size_t j = 0; j < it->n_items && rc == 0; j++) {
				rv->n_pagerduty++;
				rc = pagerduty_node(r, it->items[j], &rv->pagerduty[j], g->pagerduty_url);
			}
		} else if (!strcmp(k, "webhook_configs")) {
			if (want(r, it, PANE_CFG_SEQ) < 0)
				return PANE_EINVAL;
			rv->webhook = pane_xcalloc(it->n_items + 1, sizeof *rv->webhook);
			for (size_t j = 0; j < it->n_items && rc == 0; j++) {
				rv->n_webhook++;
				rc = webhook_node(r, it->items[j], &rv->webhook[j]);
			}
		} else if (strstr(k, "_configs"))
			rc = bad(r, it,
			         "receiver kind '%s' is not supported by pane (supported: slack_configs, "
			         "pagerduty_configs, webhook_configs)",
			         k);
		else
			rc = bad(r, it, "unknown receiver key");
		if (rc < 0)
			return rc;
	}
	if (!rv->name || !*rv->name)
		return bad(r, n, "a receiver needs a name");
	return 0;
}

static int inhibit_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_inhibit *ih)
{
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		const char *k = it->key;
		int rc;
		if (!strcmp(k, "source_matchers"))
			rc = matchers_node(r, it, &ih->source, PANE_AM_NE);
		else if (!strcmp(k, "target_matchers"))
			rc = matchers_node(r, it, &ih->target, PANE_AM_NE);
		else if (!strcmp(k, "source_match"))
			rc = matchers_node(r, it, &ih->source, PANE_AM_EQ);
		else if (!strcmp(k, "target_match"))
			rc = matchers_node(r, it, &ih->target, PANE_AM_EQ);
		else if (!strcmp(k, "source_match_re"))
			rc = matchers_node(r, it, &ih->source, PANE_AM_RE);
		else if (!strcmp(k, "target_match_re"))
			rc = matchers_node(r, it, &ih->target, PANE_AM_RE);
		else if (!strcmp(k, "equal"))
			rc = strlist(r, it, &ih->equal, &ih->n_equal);
		else
			rc = bad(r, it,
			         "unknown inhibit rule key (known: source_matchers, target_matchers, "
			         "source_match, target_match, source_match_re, target_match_re, equal)");
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- time intervals ---- */

static const char *const weekday_names[] = {"sunday",   "monday", "tuesday",  "wednesday",
                                            "thursday", "friday", "saturday", NULL};
static const char *const month_names[] = {"january", "february",  "march",   "april",    "may",      "june", "july",
                                          "august",  "september", "october", "november", "december", NULL};

static int name_or_num(const char *s, const char *const *names, int base, int *out)
{
	for (int i = 0; names && names[i]; i++)
		if (pane_streq_nocase(s, names[i])) {
			*out = i + base;
			return 0;
		}
	int64_t v;
	if (pane_str_to_i64(pane_str_c(s), &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* "a:b" or "a" lists of names/numbers */
static int ranges(struct rd *r, const struct pane_cfg_node *n, const char *const *names, int base, int lo, int hi,
                  struct pane_am_range **out, size_t *nout)
{
	if (want(r, n, PANE_CFG_SEQ) < 0)
		return PANE_EINVAL;
	*out = pane_xcalloc(n->n_items + 1, sizeof **out);
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		if (it->kind != PANE_CFG_SCALAR)
			return bad(r, it, "expected a value");
		char *a = pane_xstrdup(it->value), *b = strchr(a + (a[0] == '-'), ':');
		if (b)
			*b++ = 0;
		int x, y;
		int rc = name_or_num(a, names, base, &x);
		if (rc == 0)
			rc = name_or_num(b ? b : a, names, base, &y);
		free(a);
		if (rc < 0 || x < lo || y > hi || (x > y && !(x > 0 && y < 0)) || (lo >= 0 && (x < lo || y < lo)))
			return bad(r, it, "'%s' is not a valid range", it->value);
		(*out)[(*nout)++] = (struct pane_am_range){x, y};
	}
	return 0;
}

static int hhmm(const char *s, int *out)
{
	int h, m;
	char tail;
	if (sscanf(s, "%d:%d%c", &h, &m, &tail) != 2 || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m))
		return -1;
	*out = h * 60 + m;
	return 0;
}

static int timeint_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_timeint *t)
{
	if (want(r, n, PANE_CFG_MAP) < 0)
		return PANE_EINVAL;
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		const char *k = it->key;
		int rc = 0;
		if (!strcmp(k, "times")) {
			if (want(r, it, PANE_CFG_SEQ) < 0)
				return PANE_EINVAL;
			t->times = pane_xcalloc(it->n_items + 1, sizeof *t->times);
			for (size_t j = 0; j < it->n_items && rc == 0; j++) {
				const struct pane_cfg_node *tn = it->items[j];
				const struct pane_cfg_node *st = pane_cfg_get(tn, "start_time");
				const struct pane_cfg_node *en = pane_cfg_get(tn, "end_time");
				int a, b;
				if (tn->kind != PANE_CFG_MAP || !st || !en || tn->n_items != 2 ||
				    st->kind != PANE_CFG_SCALAR || en->kind != PANE_CFG_SCALAR ||
				    hhmm(st->value, &a) < 0 || hhmm(en->value, &b) < 0 || a >= b)
					rc = bad(r, tn,
					         "expected {start_time: HH:MM, end_time: HH:MM} with start < end");
				else
					t->times[t->n_times++] = (struct pane_am_range){a, b};
			}
		} else if (!strcmp(k, "weekdays"))
			rc = ranges(r, it, weekday_names, 0, 0, 6, &t->weekdays, &t->n_weekdays);
		else if (!strcmp(k, "days_of_month"))
			rc = ranges(r, it, NULL, 0, -31, 31, &t->days, &t->n_days);
		else if (!strcmp(k, "months"))
			rc = ranges(r, it, month_names, 1, 1, 12, &t->months, &t->n_months);
		else if (!strcmp(k, "years"))
			rc = ranges(r, it, NULL, 0, 0, 9999, &t->years, &t->n_years);
		else if (!strcmp(k, "location")) {
			struct pane_err e = {0};
			if (it->kind != PANE_CFG_SCALAR)
				rc = bad(r, it, "expected a time zone name");
			else if (!(t->tz = pane_tz_load(it->value, &e)))
				rc = bad(r, it, "%s", e.msg);
		} else
			rc = bad(r, it,
			         "unknown time interval key (known: times, weekdays, days_of_month, "
			         "months, years, location)");
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int intervals_node(struct rd *r, const struct pane_cfg_node *n, struct pane_am_config *c)
{
	if (want(r, n, PANE_CFG_SEQ) < 0)
		return PANE_EINVAL;
	c->intervals = pane_xrealloc(c->intervals, (c->n_intervals + n->n_items + 1) * sizeof *c->intervals);
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		struct pane_am_timeinterval *ti = &c->intervals[c->n_intervals++];
		memset(ti, 0, sizeof *ti);
		if (want(r, it, PANE_CFG_MAP) < 0)
			return PANE_EINVAL;
		const struct pane_cfg_node *nm = pane_cfg_get(it, "name");
		const struct pane_cfg_node *tis = pane_cfg_get(it, "time_intervals");
		if (!nm || nm->kind != PANE_CFG_SCALAR)
			return bad(r, it, "a time interval needs a name");
		ti->name = pane_xstrdup(nm->value);
		if (pane_am_interval_find(c, ti->name) != ti)
			return bad(r, nm, "time interval '%s' is defined twice", ti->name);
		for (size_t j = 0; j < it->n_items; j++)
			if (strcmp(it->items[j]->key, "name") && strcmp(it->items[j]->key, "time_intervals"))
				return bad(r, it->items[j], "unknown key (known: name, time_intervals)");
		if (!tis)
			continue;
		if (want(r, tis, PANE_CFG_SEQ) < 0)
			return PANE_EINVAL;
		ti->v = pane_xcalloc(tis->n_items + 1, sizeof *ti->v);
		for (size_t j = 0; j < tis->n_items; j++) {
			ti->n++;
			if (timeint_node(r, tis->items[j], &ti->v[j]) < 0)
				return PANE_EINVAL;
		}
	}
	return 0;
}

static bool in_ranges(const struct pane_am_range *v, size_t n, int x, int days_in_month)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		int lo = v[i].lo, hi = v[i].hi;
		if (days_in_month) { /* negative days count from the end (-1 = last day) */
			if (lo < 0)
				lo = days_in_month + 1 + lo;
			if (hi < 0)
				hi = days_in_month + 1 + hi;
		}
		if (x >= lo && x <= hi)
			return true;
	}
	return false;
}

bool pane_am_interval_contains(const struct pane_am_timeinterval *ti, int64_t t_ms)
{
	int64_t secs = t_ms >= 0 ? t_ms / 1000 : -((-t_ms + 999) / 1000);
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	for (size_t i = 0; i < ti->n; i++) {
		const struct pane_am_timeint *p = &ti->v[i];
		/* the interval's fields are local to its location (Alertmanager: t.In(location)) */
		time_t t = (time_t)(secs + pane_tz_offset(p->tz, secs));
		struct tm tm;
		gmtime_r(&t, &tm);
		int y = tm.tm_year + 1900;
		int dim = mdays[tm.tm_mon] + (tm.tm_mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
		int minute = tm.tm_hour * 60 + tm.tm_min;
		bool in_time = p->n_times == 0;
		for (size_t j = 0; j < p->n_times && !in_time; j++)
			in_time = minute >= p->times[j].lo && minute < p->times[j].hi;
		if (in_time && in_ranges(p->weekdays, p->n_weekdays, tm.tm_wday, 0) &&
		    in_ranges(p->days, p->n_days, tm.tm_mday, dim) &&
		    in_ranges(p->months, p->n_months, tm.tm_mon + 1, 0) && in_ranges(p->years, p->n_years, y, 0))
			return true;
	}
	return false;
}

const struct pane_am_timeinterval *pane_am_interval_find(const struct pane_am_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_intervals; i++)
		if (c->intervals[i].name && !strcmp(c->intervals[i].name, name))
			return &c->intervals[i];
	return NULL;
}

const struct pane_am_receiver *pane_am_receiver_find(const struct pane_am_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_receivers; i++)
		if (c->receivers[i].name && !strcmp(c->receivers[i].name, name))
			return &c->receivers[i];
	return NULL;
}

static int check_route_refs(struct rd *r, const struct pane_cfg_node *n, const struct pane_am_config *c,
                            const struct pane_am_route *rt)
{
	if (!pane_am_receiver_find(c, rt->receiver))
		return bad(r, rt->receiver_node ? rt->receiver_node : n, "receiver '%s' is not defined", rt->receiver);
	for (size_t i = 0; i < rt->n_mute; i++)
		if (!pane_am_interval_find(c, rt->mute_intervals[i]))
			return bad(r, n, "route (line %d): time interval '%s' is not defined", rt->line,
			           rt->mute_intervals[i]);
	for (size_t i = 0; i < rt->n_active; i++)
		if (!pane_am_interval_find(c, rt->active_intervals[i]))
			return bad(r, n, "route (line %d): time interval '%s' is not defined", rt->line,
			           rt->active_intervals[i]);
	for (size_t i = 0; i < rt->n_routes; i++)
		if (check_route_refs(r, n, c, &rt->routes[i]) < 0)
			return PANE_EINVAL;
	return 0;
}

/* ---- the original text for /api/v2/status (YAML, secrets masked) ---- */

static bool secret_key(const char *k)
{
	return !strcmp(k, "api_url") || !strcmp(k, "routing_key") || !strcmp(k, "service_key") ||
	       !strcmp(k, "slack_api_url") || !strcmp(k, "bearer_token") || !strcmp(k, "credentials") ||
	       !strcmp(k, "password") || !strcmp(k, "client_secret");
}

/* a scalar YAML reads back as the same value without quotes (so booleans
 * and numbers keep their type for Alertmanager's strict decoder) */
static bool plain_ok(const char *v)
{
	if (!*v || strchr("-?:,[]{}#&*!|>'\"%@`~ ", v[0]))
		return false;
	for (const char *p = v; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("_./-", *p)))
			return false;
	return true;
}

/* masked: every value below is a secret (proxy_connect_header's); tls:
 * n is a tls_config, whose key (and only that "key") is a secret */
static void yaml_emit(struct pane_buf *b, const struct pane_cfg_node *n, int indent, bool skip_pane_keys, bool masked,
                      bool tls)
{
	for (size_t i = 0; i < n->n_items; i++) {
		const struct pane_cfg_node *it = n->items[i];
		if (skip_pane_keys && (!strcmp(it->key, "config_file") || !strcmp(it->key, "alertmanagers") ||
		                       !strcmp(it->key, "external_url") || !strcmp(it->key, "give_up")))
			continue;
		pane_buf_addf(b, "%*s", indent, "");
		if (n->kind == PANE_CFG_MAP)
			pane_buf_addf(b, "%s:", it->key);
		else
			pane_buf_adds(b, "-");
		if (it->kind == PANE_CFG_SCALAR) {
			pane_buf_addc(b, ' ');
			if (masked || (tls && !strcmp(it->key, "key")) ||
			    (n->kind == PANE_CFG_MAP && (secret_key(it->key) || /* a proxy's user:password@ */
			                                 (!strcmp(it->key, "proxy_url") && strchr(it->value, '@')))))
				pane_buf_adds(b, "<secret>");
			else if (plain_ok(it->value))
				pane_buf_adds(b, it->value);
			else
				pane_buf_add_json_str(b, it->value, strlen(it->value));
			pane_buf_addc(b, '\n');
		} else if (it->kind == PANE_CFG_NULL) {
			pane_buf_adds(b, " null\n");
		} else if (it->n_items == 0) {
			pane_buf_adds(b, it->kind == PANE_CFG_MAP ? " {}\n" : " []\n");
		} else {
			pane_buf_addc(b, '\n');
			bool map = n->kind == PANE_CFG_MAP;
			yaml_emit(b, it, indent + 2, false, masked || (map && !strcmp(it->key, "proxy_connect_header")),
			          map && !strcmp(it->key, "tls_config"));
		}
	}
}

/* ---- whole config ---- */

static int am_body(struct rd *r, const struct pane_cfg_node *n, struct pane_am_config *c, bool inline_)
{
	struct global g = {0};
	int rc = 0;
	const struct pane_cfg_node *route = NULL, *receivers = NULL, *inhibits = NULL;
	for (size_t i = 0; i < n->n_items && rc == 0; i++) {
		const struct pane_cfg_node *it = n->items[i];
		const char *k = it->key;
		if (!strcmp(k, "global")) {
			if (want(r, it, PANE_CFG_MAP) < 0) {
				rc = PANE_EINVAL;
				break;
			}
			for (size_t j = 0; j < it->n_items && rc == 0; j++) {
				const struct pane_cfg_node *gi = it->items[j];
				if (!strcmp(gi->key, "resolve_timeout"))
					rc = dur(r, gi, &c->resolve_timeout_ms);
				else if (!strcmp(gi->key, "slack_api_url"))
					rc = secret(r, gi) < 0 ? PANE_EINVAL : str(r, gi, &g.slack_api_url);
				else if (!strcmp(gi->key, "slack_api_url_file"))
					rc = one_of(r, it, "slack_api_url") < 0 ? PANE_EINVAL
					                                        : secret_file(r, gi, &g.slack_api_url);
				else if (!strcmp(gi->key, "pagerduty_url"))
					rc = str(r, gi, &g.pagerduty_url);
				else
					rc = bad(r, gi,
					         "global key not supported by pane (supported: resolve_timeout, "
					         "slack_api_url, slack_api_url_file, pagerduty_url)");
			}
		} else if (!strcmp(k, "route"))
			route = it;
		else if (!strcmp(k, "receivers"))
			receivers = it;
		else if (!strcmp(k, "inhibit_rules"))
			inhibits = it;
		else if (!strcmp(k, "time_intervals") || !strcmp(k, "mute_time_intervals"))
			rc = intervals_node(r, it, c);
		else if (!strcmp(k, "templates"))
			rc = templates_node(r, it, c);
		else if (inline_ && (!strcmp(k, "config_file") || !strcmp(k, "alertmanagers") ||
		                     !strcmp(k, "external_url") || !strcmp(k, "give_up")))
			continue;
		else
			rc = bad(r, it,
			         "unknown key (known: global, route, receivers, inhibit_rules, time_intervals, "
			         "mute_time_intervals, templates%s)",
			         inline_ ? ", config_file, alertmanagers, external_url, give_up" : "");
	}
	if (rc == 0 && receivers) {
		if (want(r, receivers, PANE_CFG_SEQ) < 0) {
			rc = PANE_EINVAL;
		} else {
			c->receivers = pane_xcalloc(receivers->n_items + 1, sizeof *c->receivers);
			for (size_t i = 0; i < receivers->n_items && rc == 0; i++) {
				c->n_receivers++;
				rc = receiver_node(r, receivers->items[i], &c->receivers[i], &g);
				if (rc == 0 && pane_am_receiver_find(c, c->receivers[i].name) != &c->receivers[i])
					rc = bad(r, receivers->items[i], "receiver '%s' is defined twice",
					         c->receivers[i].name);
			}
		}
	}
	if (rc == 0 && inhibits) {
		if (want(r, inhibits, PANE_CFG_SEQ) < 0) {
			rc = PANE_EINVAL;
		} else {
			c->inhibits = pane_xcalloc(inhibits->n_items + 1, sizeof *c->inhibits);
			for (size_t i = 0; i < inhibits->n_items && rc == 0; i++) {
				c->n_inhibits++;
				rc = inhibit_node(r, inhibits->items[i], &c->inhibits[i]);
			}
		}
	}
	if (rc == 0 && (route || c->n_receivers)) {
		if (!route)
			rc = bad(r, n, "no route (a route with a receiver is required)");
		else if ((rc = route_node(r, route, &c->route, NULL, 0)) == 0)
			rc = check_route_refs(r, route, c, &c->route);
	}
	if (rc == 0) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		yaml_emit(&b, n, 0, inline_, false, false);
		c->original = pane_buf_detach(&b, NULL);
	}
	free(g.slack_api_url);
	free(g.pagerduty_url);
	return rc;
}

static struct pane_am_config *config_new(void)
{
	struct pane_am_config *c = pane_xcalloc(1, sizeof *c);
	c->tmpl = pane_tmpl_set_new();
	c->resolve_timeout_ms = 300000;
	c->give_up_ms = 3600000;
	return c;
}

struct pane_am_config *pane_am_config_load_file(const char *path, struct pane_err *err)
{
	struct pane_cfg *f = pane_cfg_load(path, err);
	if (!f)
		return NULL;
	struct pane_am_config *c = config_new();
	struct rd r = {f, err, false};
	c->enabled = true;
	c->file = pane_xstrdup(path);
	if (am_body(&r, f->root, c, false) < 0) {
		pane_am_config_free(c);
		c = NULL;
	}
	pane_cfg_free(f);
	return c;
}

struct pane_am_config *pane_am_config_load(const struct pane_cfg *cfg, const struct pane_cfg_node *node,
                                           struct pane_err *err)
{
	struct pane_am_config *c = config_new();
	if (!node || node->kind == PANE_CFG_NULL)
		return c;
	struct rd r = {cfg, err, true};
	if (want(&r, node, PANE_CFG_MAP) < 0)
		goto fail;
	c->enabled = true;
	const struct pane_cfg_node *it;
	if ((it = pane_cfg_get(node, "external_url")) && str(&r, it, &c->external_url) < 0)
		goto fail;
	if ((it = pane_cfg_get(node, "give_up")) && dur(&r, it, &c->give_up_ms) < 0)
		goto fail;
	if ((it = pane_cfg_get(node, "alertmanagers"))) {
		if (want(&r, it, PANE_CFG_SEQ) < 0)
			goto fail;
		c->forward = pane_xcalloc(it->n_items + 1, sizeof *c->forward);
		for (size_t i = 0; i < it->n_items; i++) {
			const struct pane_cfg_node *am = it->items[i], *u = pane_cfg_get(am, "url");
			if (am->kind != PANE_CFG_MAP || !u || u->kind != PANE_CFG_SCALAR || am->n_items != 1 ||
			    (strncmp(u->value, "http://", 7) && strncmp(u->value, "https://", 8))) {
				bad(&r, am, "expected {url: http://host:9093}");
				goto fail;
			}
			c->forward[c->n_forward++].url = pane_xstrdup(u->value);
		}
	}
	const struct pane_cfg_node *cf = pane_cfg_get(node, "config_file");
	if (cf) {
		if (cf->kind != PANE_CFG_SCALAR) {
			bad(&r, cf, "expected a file name");
			goto fail;
		}
		for (size_t i = 0; i < node->n_items; i++) {
			const char *k = node->items[i]->key;
			if (strcmp(k, "config_file") && strcmp(k, "alertmanagers") && strcmp(k, "external_url") &&
			    strcmp(k, "give_up")) {
				bad(&r, node->items[i], "with config_file, the Alertmanager keys belong in that file");
				goto fail;
			}
		}
		char *path;
		if (cf->value[0] == '/' || !cfg->file) {
			path = pane_xstrdup(cf->value);
		} else {
			char *d = pane_xstrdup(cfg->file);
			struct pane_buf b;
			pane_buf_init(&b, PANE_BUF_NOLIMIT);
			pane_buf_addf(&b, "%s/%s", dirname(d), cf->value);
			free(d);
			path = pane_buf_detach(&b, NULL);
		}
		struct pane_am_config *fc = pane_am_config_load_file(path, err);
		free(path);
		if (!fc)
			goto fail;
		/* keep pane's own keys from pane.yaml */
		fc->forward = c->forward;
		fc->n_forward = c->n_forward;
		fc->external_url = c->external_url;
		fc->give_up_ms = c->give_up_ms;
		c->forward = NULL;
		c->n_forward = 0;
		c->external_url = NULL;
		pane_am_config_free(c);
		return fc;
	}
	c->file = pane_xstrdup(cfg->file ? cfg->file : "pane.yaml");
	if (am_body(&r, node, c, true) < 0)
		goto fail;
	return c;
fail:
	pane_am_config_free(c);
	return NULL;
}

void pane_am_config_free(struct pane_am_config *c)
{
	if (!c)
		return;
	route_free(&c->route);
	for (size_t i = 0; i < c->n_receivers; i++) {
		struct pane_am_receiver *rv = &c->receivers[i];
		free(rv->name);
		for (size_t j = 0; j < rv->n_slack; j++)
			pane_am_slack_release(&rv->slack[j]);
		for (size_t j = 0; j < rv->n_pagerduty; j++)
			pane_am_pagerduty_release(&rv->pagerduty[j]);
		for (size_t j = 0; j < rv->n_webhook; j++) {
			free(rv->webhook[j].url);
			pane_am_http_release(&rv->webhook[j].http);
		}
		free(rv->slack), free(rv->pagerduty), free(rv->webhook);
	}
	free(c->receivers);
	for (size_t i = 0; i < c->n_inhibits; i++) {
		pane_am_matchers_release(&c->inhibits[i].source);
		pane_am_matchers_release(&c->inhibits[i].target);
		strlist_free(c->inhibits[i].equal, c->inhibits[i].n_equal);
	}
	free(c->inhibits);
	for (size_t i = 0; i < c->n_intervals; i++) {
		struct pane_am_timeinterval *ti = &c->intervals[i];
		for (size_t j = 0; j < ti->n; j++) {
			free(ti->v[j].times), free(ti->v[j].weekdays), free(ti->v[j].days);
			pane_tz_free(ti->v[j].tz);
			free(ti->v[j].months), free(ti->v[j].years);
		}
		free(ti->v);
		free(ti->name);
	}
	free(c->intervals);
	for (size_t i = 0; i < c->n_forward; i++)
		free(c->forward[i].url);
	free(c->forward);
	free(c->external_url);
	free(c->original);
	free(c->file);
	pane_tmpl_set_free(c->tmpl);
	free(c);
}

/* Alertmanager's Route.Match: depth first; a route that matches returns its
 * matching children's results (or itself when none match); continue=false
 * stops at the first matching sibling. */
static size_t route_match(const struct pane_am_route *rt, const struct pane_labels *ls,
                          const struct pane_am_route **out, size_t max, size_t have)
{
	if (!pane_am_matchers_match(&rt->matchers, ls))
		return have;
	size_t before = have;
	for (size_t i = 0; i < rt->n_routes; i++) {
		size_t h2 = route_match(&rt->routes[i], ls, out, max, have);
		bool matched = h2 > have;
		have = h2;
		if (matched && !rt->routes[i].cont)
			break;
	}
	if (have == before) {
		if (have < max)
			out[have] = rt;
		have++;
	}
	return have;
}

size_t pane_am_route_match(const struct pane_am_route *root, const struct pane_labels *ls,
                           const struct pane_am_route **out, size_t max)
{
	if (!root->receiver)
		return 0;
	return route_match(root, ls, out, max, 0);
}

/* ---- copies for the notifier ---- */

static char *dupn(const char *s)
{
	return s ? pane_xstrdup(s) : NULL;
}

/* a NULL-terminated copy of n strings (NULL when n is 0) */
static char **strv_dup(char *const *v, size_t n)
{
	if (!n)
		return NULL;
	char **d = pane_xcalloc(n + 1, sizeof *d);
	for (size_t i = 0; i < n; i++)
		d[i] = pane_xstrdup(v[i]);
	return d;
}

void pane_am_http_copy(struct pane_am_http *dst, const struct pane_am_http *src)
{
	*dst = (struct pane_am_http){.follow_redirects = src->follow_redirects,
	                             .auth_type = dupn(src->auth_type),
	                             .auth_credentials = dupn(src->auth_credentials),
	                             .basic_user = dupn(src->basic_user),
	                             .basic_pass = dupn(src->basic_pass),
	                             .proxy_url = dupn(src->proxy_url),
	                             .no_proxy = dupn(src->no_proxy),
	                             .proxy_from_environment = src->proxy_from_environment,
	                             .enable_http2 = src->enable_http2,
	                             .ca_file = dupn(src->ca_file),
	                             .cert_file = dupn(src->cert_file),
	                             .key_file = dupn(src->key_file),
	                             .ca = dupn(src->ca),
	                             .proxy_headers = strv_dup(src->proxy_headers, src->n_proxy_headers),
	                             .n_proxy_headers = src->n_proxy_headers,
	                             .cert = dupn(src->cert),
	                             .key = dupn(src->key),
	                             .tls_min_version = src->tls_min_version,
	                             .tls_max_version = src->tls_max_version,
	                             .insecure_skip_verify = src->insecure_skip_verify};
	dst->oauth2 = pane_am_oauth2_dup(src->oauth2);
}

struct pane_am_oauth2 *pane_am_oauth2_dup(const struct pane_am_oauth2 *o)
{
	if (!o)
		return NULL;
	struct pane_am_oauth2 *d = pane_xcalloc(1, sizeof *d);
	*d = (struct pane_am_oauth2){.client_id = dupn(o->client_id),
	                             .client_secret = dupn(o->client_secret),
	                             .token_url = dupn(o->token_url),
	                             .params = dupn(o->params)};
	return d;
}

void pane_am_oauth2_free(struct pane_am_oauth2 *o)
{
	if (!o)
		return;
	free(o->client_id), free(o->client_secret), free(o->token_url), free(o->params);
	free(o);
}

void pane_am_http_release(struct pane_am_http *h)
{
	free(h->auth_type), free(h->auth_credentials), free(h->basic_user), free(h->basic_pass);
	free(h->proxy_url), free(h->no_proxy), free(h->ca_file), free(h->cert_file), free(h->key_file);
	free(h->ca), free(h->cert), free(h->key);
	strlist_free(h->proxy_headers, h->n_proxy_headers);
	pane_am_oauth2_free(h->oauth2);
	memset(h, 0, sizeof *h);
}

void pane_am_slack_copy(struct pane_am_slack *d, const struct pane_am_slack *s)
{
	*d = *s;
	char **strs[] = {&d->api_url,  &d->channel, &d->username,  &d->icon_emoji, &d->icon_url,
	                 &d->title,    &d->text,    &d->color,     &d->pretext,    &d->title_link,
	                 &d->fallback, &d->footer,  &d->image_url, &d->thumb_url,  &d->callback_id};
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
		*strs[i] = dupn(*strs[i]);
	d->mrkdwn_in = pane_xcalloc(s->n_mrkdwn_in + 1, sizeof *d->mrkdwn_in);
	for (size_t i = 0; i < s->n_mrkdwn_in; i++)
		d->mrkdwn_in[i] = pane_xstrdup(s->mrkdwn_in[i]);
	d->fields = pane_xcalloc(s->n_fields + 1, sizeof *d->fields);
	for (size_t i = 0; i < s->n_fields; i++)
		d->fields[i] = (struct pane_am_slack_field){dupn(s->fields[i].title), dupn(s->fields[i].value),
		                                            s->fields[i].is_short};
	d->actions = pane_xcalloc(s->n_actions + 1, sizeof *d->actions);
	for (size_t i = 0; i < s->n_actions; i++) {
		const struct pane_am_slack_action *a = &s->actions[i];
		d->actions[i] = (struct pane_am_slack_action){dupn(a->type),
		                                              dupn(a->text),
		                                              dupn(a->url),
		                                              dupn(a->style),
		                                              dupn(a->name),
		                                              dupn(a->value),
		                                              a->has_confirm,
		                                              dupn(a->confirm_title),
		                                              dupn(a->confirm_text),
		                                              dupn(a->confirm_ok_text),
		                                              dupn(a->confirm_dismiss_text)};
	}
	pane_am_http_copy(&d->http, &s->http);
}

void pane_am_slack_release(struct pane_am_slack *s)
{
	free(s->api_url), free(s->channel), free(s->username), free(s->icon_emoji);
	free(s->icon_url), free(s->title), free(s->text), free(s->color);
	free(s->pretext), free(s->title_link), free(s->fallback), free(s->footer);
	free(s->image_url), free(s->thumb_url), free(s->callback_id);
	strlist_free(s->mrkdwn_in, s->n_mrkdwn_in);
	for (size_t i = 0; i < s->n_fields; i++)
		free(s->fields[i].title), free(s->fields[i].value);
	free(s->fields);
	for (size_t i = 0; i < s->n_actions; i++) {
		struct pane_am_slack_action *a = &s->actions[i];
		free(a->type), free(a->text), free(a->url), free(a->style), free(a->name), free(a->value);
		free(a->confirm_title), free(a->confirm_text), free(a->confirm_ok_text), free(a->confirm_dismiss_text);
	}
	free(s->actions);
	pane_am_http_release(&s->http);
	memset(s, 0, sizeof *s);
}

void pane_am_pagerduty_copy(struct pane_am_pagerduty *d, const struct pane_am_pagerduty *s)
{
	*d = *s;
	char **strs[] = {&d->routing_key, &d->url,   &d->client,    &d->client_url, &d->description,
	                 &d->severity,    &d->class, &d->component, &d->group,      &d->source};
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
		*strs[i] = dupn(*strs[i]);
	d->details = pane_xcalloc(s->n_details + 1, sizeof *d->details);
	for (size_t i = 0; i < s->n_details; i++)
		d->details[i] = (struct pane_am_kv){dupn(s->details[i].name), dupn(s->details[i].value)};
	d->links = pane_xcalloc(s->n_links + 1, sizeof *d->links);
	for (size_t i = 0; i < s->n_links; i++)
		d->links[i] = (struct pane_am_pd_link){dupn(s->links[i].href), dupn(s->links[i].text)};
	d->images = pane_xcalloc(s->n_images + 1, sizeof *d->images);
	for (size_t i = 0; i < s->n_images; i++)
		d->images[i] =
		    (struct pane_am_pd_image){dupn(s->images[i].src), dupn(s->images[i].alt), dupn(s->images[i].href)};
	pane_am_http_copy(&d->http, &s->http);
}

void pane_am_pagerduty_release(struct pane_am_pagerduty *p)
{
	free(p->routing_key), free(p->url), free(p->client), free(p->client_url);
	free(p->description), free(p->severity), free(p->class), free(p->component), free(p->group);
	free(p->source);
	for (size_t i = 0; i < p->n_details; i++)
		free(p->details[i].name), free(p->details[i].value);
	free(p->details);
	for (size_t i = 0; i < p->n_links; i++)
		free(p->links[i].href), free(p->links[i].text);
	free(p->links);
	for (size_t i = 0; i < p->n_images; i++)
		free(p->images[i].src), free(p->images[i].alt), free(p->images[i].href);
	free(p->images);
	pane_am_http_release(&p->http);
	memset(p, 0, sizeof *p);
}
