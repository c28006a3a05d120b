/*
 * upgrade.c - connections upgraded after 101 Switching Protocols
 * (websockets: pane_http_resp_upgrade).
 *
 * Idea: MHD hands the socket over once the 101 is sent; the route's function
 * owns it until pane_http_upgraded_close. The server lists them so that
 * pane_http_server_free can shut their sockets down (the owner's next read
 * or write fails) and wait for every owner to close before stopping MHD.
 *
 * Invariants:
 *   (1) the list (srv->up_head) is guarded by srv->susp_mu;
 *   (2) once the server is stopping, a new upgrade is closed at once and
 *       the route's function gets NULL.
 */
#include "http/server_internal.h"

#include <stdlib.h>

#include "base/mem.h"

void http_on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in, size_t extra_in_size,
                     MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct upgrade_cb *cb = cls;
	struct pane_http_upgraded *u = pane_xcalloc(1, sizeof *u);
	*u = (struct pane_http_upgraded){.srv = cb->srv, .urh = urh, .fd = (int)sock};
	pthread_mutex_lock(&cb->srv->susp_mu);
	bool stopping = cb->srv->stopping;
	if (!stopping) {
		u->next = cb->srv->up_head;
		cb->srv->up_head = u;
	}
	pthread_mutex_unlock(&cb->srv->susp_mu);
	if (stopping) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		free(u);
		u = NULL; /* fn only frees its arg */
	}
	cb->fn(cb->arg, u);
	free(cb);
}

void pane_http_resp_upgrade(struct pane_http_resp *resp, void (*fn)(void *arg, struct pane_http_upgraded *u), void *arg)
{
	free(resp->upgrade);
	resp->upgrade = pane_xcalloc(1, sizeof *resp->upgrade);
	resp->upgrade->fn = fn;
	resp->upgrade->arg = arg;
	resp->status = 101;
}

int pane_http_upgraded_fd(const struct pane_http_upgraded *u)
{
	return u->fd;
}

void pane_http_upgraded_close(struct pane_http_upgraded *u)
{
	struct pane_http_server *srv = u->srv;
	pthread_mutex_lock(&srv->susp_mu);
	for (struct pane_http_upgraded **p = &srv->up_head; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			break;
		}
	pthread_mutex_unlock(&srv->susp_mu);
	MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(u);
}
