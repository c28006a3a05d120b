/*
 * overview.c - the Overview page's numbers in one round trip (overview.h).
 *
 * Idea: the page is a handful of PromQL range queries grouped by
 * (provider, service, environment), never a query per tile. Running them
 * here, over the same reader the Prometheus API uses, turns ten requests
 * into one; each query is still plain PromQL a user can paste into Explore.
 *
 * The queue's series have one producer in the store (the `queue` source,
 * docs/queue.md), so its tiles sum per queue: two instances reading two
 * databases that both hold a queue "emails" add up, nothing counts twice.
 */
#include "console/overview.h"

#include <string.h>

#include "base/json.h"
#include "query/query.h"

#define BY "by (provider, service, environment) "

const struct pane_console_panel pane_console_overview_panels[] = {
    {"services", "count " BY "({service!=\"\", provider!=\"pane\"})"},
    {"requests", "sum " BY "(render_http_requests)"},
    {"errors", "sum " BY "(render_http_requests{status_code=~\"5..\"}) / sum " BY "(render_http_requests)"},
    {"p95", "max " BY "(render_http_latency_seconds{quantile=\"0.95\"})"},
    {"cpu", "sum " BY "(render_cpu_usage_cores) / sum " BY "(render_cpu_limit_cores)"},
    {"mem", "sum " BY "(render_memory_usage_bytes) / sum " BY "(render_memory_limit_bytes)"},
    {"up", "min by (source, provider) (pane_source_up)"},
    {"queue_depth", "sum by (queue) (pane_queue_jobs{state=~\"available|scheduled\"})"},
    {"queue_oldest", "max by (queue) (pane_queue_oldest_runnable_age_seconds)"},
    {"queue_failed", "sum by (queue) (pane_queue_jobs{state=\"failed\"})"},
    {"supabase", "min by (component) (supabase_service_healthy)"},
    {"db_connections", "sum " BY "(pg_stat_activity_count)"},
    {"db_max_connections", "max " BY "(pg_settings_max_connections)"},
    {"db_size", "sum " BY "(pg_database_size_bytes)"},
    {"db_longest_query", "max " BY "(pg_stat_activity_max_query_duration_seconds)"},
    {"load5", "max " BY "(node_load5)"},
    {NULL, NULL},
};

int pane_console_overview(struct pane_reader reader, int64_t start, int64_t end, int64_t step, struct pane_buf *out,
                          struct pane_err *err)
{
	/* the range rules and their wording are the engine's (one owner) */
	const char *param;
	struct pane_err re = {0};
	if (pane_query_check_range(start, end, step, true, 0, &param, &re) < 0) {
		if (param)
			pane_err_set(err, PANE_EINVAL, "invalid parameter \"%s\": %s", param, re.msg);
		else
			pane_err_set(err, PANE_EINVAL, "%s", re.msg);
		return PANE_EINVAL;
	}
	struct pane_json j;
	pane_json_init(&j, out);
	pane_json_obj(&j);
	for (const struct pane_console_panel *p = pane_console_overview_panels; p->name; p++) {
		pane_json_key(&j, p->name);
		struct pane_query_result r = {0};
		enum pane_query_errclass cls = PANE_QERR_NONE;
		struct pane_err e = {0};
		if (pane_query_exec(reader, &(struct pane_query_opts){.timeout_ms = 10000}, p->expr, start, end, step,
		                    &r, &cls, &e) < 0) {
			pane_json_obj(&j);
			pane_json_key(&j, "error");
			pane_json_str(&j, e.msg);
			pane_json_obj_end(&j);
		} else {
			pane_json_raw(&j, ""); /* the engine writes the result's JSON itself */
			pane_query_result_json(&r, out);
		}
		pane_query_result_release(&r);
	}
	pane_json_obj_end(&j);
	return 0;
}
