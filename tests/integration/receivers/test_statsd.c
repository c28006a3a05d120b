/* test_statsd.c - the StatsD listener on real sockets: the npm hot-shots
 * client over UDP, garbage datagrams, a bad line among good ones, and the
 * Unix datagram socket. Records land in a recorder sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/stats.h"
#include "receivers/statsd.h"
#include "recorder.h"
#include "support.h"

static struct pt_recorder *rec;
static struct pane_pipeline *pipe_;
static struct pane_statsd *sd;
static struct pane_stats *stats;
static char tmpdir[] = "/tmp/pane-statsd-XXXXXX";
static char sock_path[256];

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	snprintf(sock_path, sizeof sock_path, "%s/statsd.sock", tmpdir);
	rec = pt_recorder_new();
	stats = pane_stats_new();
	pipe_ = pane_pipeline_new();
	pane_pipeline_add_sink(pipe_, pt_recorder_sink(rec), PANE_SINK_PRIMARY);
	static const double q[] = {0.5, 0.99};
	struct pane_statsd_opts o = {.udp_listen = "127.0.0.1:0",
	                             .unix_path = sock_path,
	                             .flush_interval_ms = 200,
	                             .agg = {.quantiles = q, .n_quantiles = 2, .stats = stats}};
	struct pane_err err = {0};
	sd = pane_statsd_new(pipe_, &o, &err);
	if (!sd)
		fail_msg("%s", err.msg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pane_statsd_free(sd);
	pane_pipeline_free(pipe_);
	pt_recorder_free(rec);
	pane_stats_free(stats);
	rmdir(tmpdir);
	return 0;
}

/* Waits (bounded) until the newest sample of name has the value. */
static bool wait_value(const char *name, double want, const char *lk, const char *lv)
{
	int64_t deadline = pane_mono_ns() + 15 * 1000000000LL;
	while (pane_mono_ns() < deadline) {
		const struct pt_rec_sample *s =
		    lk ? pt_recorder_find(rec, name, lk, lv, NULL) : pt_recorder_find(rec, name, NULL);
		if (s && fabs(s->value - want) < 1e-9)
			return true;
		pane_sleep_ms(50);
	}
	const struct pt_rec_sample *s = pt_recorder_find(rec, name, NULL);
	print_message("%s: wanted %g, have %g\n", name, want, s ? s->value : NAN);
	return false;
}

static void hot_shots_client(void **state)
{
	(void)state;
	const char *root = getenv("PANE_SOURCE_ROOT");
	assert_non_null(root);
	char script[512];
	snprintf(script, sizeof script, "%s/client.js", tmpdir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f,
	        "const StatsD = require('hot-shots');\n"
	        "const c = new StatsD({host: '127.0.0.1', port: %d, globalTags: {env: 'test'},\n"
	        "  errorHandler: (e) => { console.error(e); process.exit(1); }});\n"
	        "for (let i = 0; i < 10; i++) c.increment('hs.requests', 3, {route: '/orders'});\n"
	        "c.gauge('hs.pool.in_use', 7);\n"
	        "for (let i = 1; i <= 100; i++) c.timing('hs.latency', i, ['route:/orders']);\n"
	        "c.histogram('hs.size', 10); c.distribution('hs.dist', 5);\n"
	        "c.set('hs.users', 'bob'); c.set('hs.users', 'alice'); c.set('hs.users', 'bob');\n"
	        "c.close((err) => process.exit(err ? 1 : 0));\n",
	        pane_statsd_port(sd));
	fclose(f);
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "NODE_PATH='%s/tests/integration/receivers/npm/node_modules' node '%s'", root,
	         script);
	int st = system(cmd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(script);
	assert_true(wait_value("hs_requests_total", 30, "route", "/orders"));
	const struct pt_rec_sample *s = pt_recorder_find(rec, "hs_requests_total", NULL);
	assert_string_equal(pane_labels_get(&s->labels, "environment"), "test"); /* DogStatsD env: tag */
	assert_null(pane_labels_get(&s->labels, "env"));
	assert_true(wait_value("hs_pool_in_use", 7, NULL, NULL));
	assert_true(wait_value("hs_latency_count", 100, "route", "/orders"));
	assert_true(wait_value("hs_latency_sum", 5050, NULL, NULL));
	assert_true(wait_value("hs_size_count", 1, NULL, NULL));
	assert_true(wait_value("hs_dist_sum", 5, NULL, NULL));
	/* quantiles/min/max/set describe one interval: they were all in one
	 * interval only if the client's burst fell into it, so check the
	 * cumulative view and that a quantile was emitted at all */
	assert_non_null(pt_recorder_find(rec, "hs_latency", "quantile", "0.99", NULL));
	assert_non_null(pt_recorder_find(rec, "hs_users", NULL));
}

static void send_udp(const void *buf, size_t len)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pane_statsd_port(sd))};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_true(sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof sa) == (ssize_t)len);
	close(fd);
}

static void garbage_and_mixed_packets(void **state)
{
	(void)state;
	struct pane_statsd_agg_counts c0;
	pane_statsd_agg_counts(pane_statsd_aggregator(sd), &c0);
	unsigned char junk[1400];
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (int k = 0; k < 20; k++) {
		for (size_t i = 0; i < sizeof junk; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			junk[i] = (unsigned char)x;
		}
		send_udp(junk, sizeof junk);
	}
	send_udp("", 0);
	const char mixed[] = "mixed.good:1|c\nthis is not statsd\nmixed.bad:1|zz\nmixed.good2:2|g|#k:v";
	send_udp(mixed, sizeof mixed - 1);
	assert_true(wait_value("mixed_good_total", 1, NULL, NULL));
	assert_true(wait_value("mixed_good2", 2, "k", "v"));
	struct pane_statsd_agg_counts c1;
	pane_statsd_agg_counts(pane_statsd_aggregator(sd), &c1);
	assert_true(c1.malformed >= c0.malformed + 2 + 20);
	struct pane_buf m;
	pane_buf_init(&m, PANE_BUF_NOLIMIT);
	pane_stats_render(stats, &m);
	assert_non_null(strstr(m.data, "pane_statsd_malformed_total"));
	pane_buf_release(&m);
}

static void unix_datagram_socket(void **state)
{
	(void)state;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	const char m[] = "uds.hits:4|c|#via:uds";
	assert_true(sendto(fd, m, sizeof m - 1, 0, (struct sockaddr *)&sa, sizeof sa) == (ssize_t)(sizeof m - 1));
	close(fd);
	assert_true(wait_value("uds_hits_total", 4, "via", "uds"));
}

static void bad_listen_address(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pane_statsd_opts o = {.udp_listen = "nonsense"};
	assert_null(pane_statsd_new(pipe_, &o, &err));
	assert_non_null(strstr(err.msg, "HOST:PORT"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hot_shots_client),
	    cmocka_unit_test(garbage_and_mixed_packets),
	    cmocka_unit_test(unix_datagram_socket),
	    cmocka_unit_test(bad_listen_address),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
