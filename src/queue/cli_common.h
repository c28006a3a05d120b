/*
 * cli_common.h - what the queue's commands share.
 */
#ifndef PANE_QUEUE_CLI_COMMON_H
#define PANE_QUEUE_CLI_COMMON_H

#include <libpq-fe.h>

/* Connects to the flag's URL or $DATABASE_URL; prints why on stderr and
 * returns NULL on failure. PQfinish() the result. */
PGconn *pane_queue_cli_connect(const char *cmd, const char *url_flag);
/* 0, or prints a usage error and returns PANE_EXIT_USAGE. */
int pane_queue_cli_check_schema(const char *cmd, const char *usage, const char *schema);

#endif
