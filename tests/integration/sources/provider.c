/*
 * provider.c - the provider source tests' fixture (see provider.h).
 */
#include "provider.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct provider_fx *provider_new(const char *source, struct fakectl *fk)
{
	struct provider_fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->source = source;
	snprintf(f->dir, sizeof f->dir, "/tmp/pane-%s-XXXXXX", source);
	assert_non_null(mkdtemp(f->dir));
	f->p = pt_recorder_pipeline(&f->rec);
	f->ev = evrec_attach(f->p);
	if (fk)
		free(fake_post(fk, "/__fake/reset", "{}"));
	return f;
}

void provider_free(struct provider_fx *f)
{
	pane_sources_free(f->ss);
	pane_cfg_free(f->cfg);
	pane_pipeline_free(f->p);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
}

void provider_start(struct provider_fx *f, const char *yaml)
{
	pane_sources_free(f->ss);
	pane_cfg_free(f->cfg);
	f->ss = NULL;
	struct pane_err err = {0};
	f->cfg = pane_cfg_parse("pane.yaml", yaml, strlen(yaml), &err);
	if (!f->cfg)
		fail_msg("%s", err.msg);
	struct pane_sources_opts o = {
	    .cfg = f->cfg, .section = pane_cfg_get(f->cfg->root, "sources"), .pipeline = f->p, .data_dir = f->dir};
	f->ss = pane_sources_new(&o, &err);
	if (!f->ss)
		fail_msg("%s", err.msg);
}

int provider_collect(struct provider_fx *f, struct pane_err *err)
{
	memset(err, 0, sizeof *err);
	return pane_sources_collect_once(f->ss, f->source, err);
}
