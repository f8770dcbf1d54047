/* SPDX-License-Identifier: GPL-2.0 */
/* http.h - the HTTP server of shark serve (internal: Lua reaches it through the shark.http module). */
#ifndef SHARK_HTTP_H
#define SHARK_HTTP_H

#include <stddef.h>

/* One parsed request; valid during the handler call only. */
struct shark_http_request {
	const char *method;		/* "GET", "POST", … */
	char *url;			/* the request target: path and query */
	size_t url_len;
	const char *authorization;	/* the header's value, or NULL */
	const char *content_type;
	char *body;			/* NUL-terminated, body_len bytes before the NUL */
	size_t body_len;
};

struct shark_http_server;
struct shark_http_conn;

/* Called once per complete request; must answer with shark_http__respond(). */
typedef void (*shark_http_handler)(void *ctx, struct shark_http_conn *c, const struct shark_http_request *req);

/**
 * shark_http__listen() - serve HTTP/1.1 on @loop (a uv_loop_t).
 * @port: 0 picks a free port (see shark_http__port)
 * @max_body: larger bodies are answered 413 without being read
 * @errp: receives -errno (a libuv error) on failure
 *
 * Malformed requests are answered 400 by the server itself.
 * Return: the server, or NULL.
 */
struct shark_http_server *shark_http__listen(void *loop, const char *host, int port, size_t max_body,
					     shark_http_handler handler, void *ctx, int *errp);
/* Serve HTTPS with this PEM certificate chain and key: 0, or -EINVAL and why in err. */
int shark_http__tls(struct shark_http_server *srv, const char *cert, const char *key, char *err, size_t errlen);
int shark_http__port(const struct shark_http_server *srv);
void shark_http__close(struct shark_http_server *srv);
/* Close the connection of a request without answering it (the server stops). */
void shark_http__drop(struct shark_http_conn *c);
/* extra: more header lines, each ending in "\r\n", or NULL */
int shark_http__respond(struct shark_http_conn *c, int status, const char *ctype, const void *body, size_t len,
			const char *extra);

#endif /* SHARK_HTTP_H */
