// SPDX-License-Identifier: GPL-2.0
/* http.c - an HTTP/1.1 server on shark's libuv loop (requests parsed by http-parser) and a blocking client. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <http_parser.h>
#include <uv.h>
#include "shark.h"
#include "http.h"
#include "tls.h"

#define HDR_MAX 4096		/* the longest Authorization or Content-Type we keep */
#define READ_BUF 65536
#define IDLE_MS 30000		/* a connection silent this long is closed */

struct shark_http_server {
	uv_tcp_t tcp;
	struct shark_tls_config *tls;	/* HTTPS when set */
	size_t max_body;
	shark_http_handler handler;
	void *ctx;
	int port;
};

enum hdr { HDR_NONE, HDR_AUTH, HDR_CTYPE, HDR_EXPECT };

struct shark_http_conn {
	uv_tcp_t tcp;
	uv_timer_t idle;		/* closes a connection that stalls (slow or stuck clients) */
	int handles;			/* of tcp and idle, still open */
	http_parser parser;
	struct shark_http_server *srv;
	char *buf;			/* the read buffer, reused */
	struct shark_http_request req;
	size_t url_cap, body_cap;
	char field[32];
	size_t field_len;
	enum hdr hdr;
	int in_value;
	size_t auth_len, ctype_len;
	char auth[HDR_MAX + 1], ctype[HDR_MAX + 1];
	int expect_continue;
	int refused;			/* answered early (413, 400): discard the rest, then close */
	size_t dropped;
	int closing;
	struct shark_tls *tls;		/* the connection's TLS, on an HTTPS server */
	char *plain;			/* plaintext out of TLS records, reused */
};

static http_parser_settings settings;

/* ------------------------------------------------------------- responses */

struct wreq {
	uv_write_t w;
	struct shark_http_conn *c;
	int close;
	char data[];
};

static void on_closed(uv_handle_t *h)
{
	struct shark_http_conn *c = h->data;

	if (--c->handles)
		return;
	free(c->buf);
	free(c->plain);
	free(c->req.url);
	free(c->req.body);
	shark_tls__free(c->tls);
	free(c);
}

static void conn_close(struct shark_http_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->tcp, on_closed);
	uv_close((uv_handle_t *)&c->idle, on_closed);
}

void shark_http__drop(struct shark_http_conn *c)
{
	conn_close(c);
}

static void on_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
	(void)status;
	free(s);
}

/*
 * After an early answer (413 before the body), closing at once could reset
 * the connection while the client still sends, and it would never read the
 * answer: end our side, drop what arrives, close on the client's EOF.
 */
static void on_written(uv_write_t *w, int status)
{
	struct wreq *r = (struct wreq *)w;
	struct shark_http_conn *c = r->c;
	uv_shutdown_t *s;

	if (status < 0) {
		conn_close(c);
	} else if (r->close && c->refused && !c->closing && (s = malloc(sizeof(*s)))) {
		if (uv_shutdown(s, (uv_stream_t *)&c->tcp, on_shutdown)) {
			free(s);
			conn_close(c);
		}
	} else if (r->close) {
		conn_close(c);
	}
	free(r);
}

static int send_bytes(struct shark_http_conn *c, const char *head, size_t hlen, const void *body, size_t blen,
		      int close_after);

/* TLS records waiting to go out (the handshake's, or a response's). */
static int flush_tls(struct shark_http_conn *c, int close_after)
{
	size_t n;
	const void *p = shark_tls__out(c->tls, &n);
	int err;

	if (!n && !close_after)
		return 0;
	err = send_bytes(c, p, n, NULL, 0, close_after);
	shark_tls__consumed(c->tls, n);
	return err;
}

static int send_raw(struct shark_http_conn *c, const char *head, size_t hlen, const void *body, size_t blen,
		    int close_after)
{
	if (c->tls) {
		if (c->closing)
			return -EPIPE;
		if (shark_tls__write(c->tls, head, hlen) || (blen && shark_tls__write(c->tls, body, blen))) {
			conn_close(c);
			return -EPROTO;
		}
		return flush_tls(c, close_after);
	}
	return send_bytes(c, head, hlen, body, blen, close_after);
}

static int send_bytes(struct shark_http_conn *c, const char *head, size_t hlen, const void *body, size_t blen,
		      int close_after)
{
	struct wreq *r;
	uv_buf_t b;
	int err;

	if (c->closing)
		return -EPIPE;
	r = malloc(sizeof(*r) + hlen + blen);
	if (!r) {
		conn_close(c);
		return -ENOMEM;
	}
	memcpy(r->data, head, hlen);
	if (blen)
		memcpy(r->data + hlen, body, blen);
	r->c = c;
	r->close = close_after;
	b = uv_buf_init(r->data, (unsigned int)(hlen + blen));
	err = uv_write(&r->w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
	if (err) {
		free(r);
		conn_close(c);
	}
	return err;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	default: return "Status";
	}
}

int shark_http__respond(struct shark_http_conn *c, int status, const char *ctype, const void *body, size_t len,
			const char *extra)
{
	char hdr[1024];
	int keep = !c->refused && http_should_keep_alive(&c->parser);
	int head = c->parser.type == HTTP_REQUEST && c->parser.method == HTTP_HEAD;
	int n;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n%s%s\r\n",
		     status, reason(status), ctype ? ctype : "text/plain; charset=utf-8", len,
		     keep ? "" : "Connection: close\r\n", extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return -EINVAL;
	return send_raw(c, hdr, (size_t)n, body, head ? 0 : len, !keep);
}

/* Answer before the body was read, then read and drop what the client still sends. */
static int refuse(struct shark_http_conn *c, int status, const char *msg)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", msg);

	c->refused = 1;
	shark_http__respond(c, status, "application/json", body, (size_t)n, NULL);
	return -1;
}

/* ---------------------------------------------------------- parsing */

static int grow(char **p, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 256;
	char *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct shark_http_conn *c = p->data;

	c->req.url_len = 0;
	c->req.body_len = 0;
	c->field_len = 0;
	c->hdr = HDR_NONE;
	c->in_value = 0;
	c->auth_len = c->ctype_len = 0;
	c->expect_continue = 0;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct shark_http_conn *c = p->data;

	if (c->req.url_len + len > 8192)
		return refuse(c, 400, "request line too long");
	if (grow(&c->req.url, &c->url_cap, c->req.url_len + len + 1))
		return -1;
	memcpy(c->req.url + c->req.url_len, at, len);
	c->req.url_len += len;
	c->req.url[c->req.url_len] = '\0';
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct shark_http_conn *c = p->data;

	if (c->in_value) {
		c->in_value = 0;
		c->field_len = 0;
	}
	for (size_t i = 0; i < len && c->field_len < sizeof(c->field) - 1; i++)
		c->field[c->field_len++] = (char)(at[i] | 0x20);	/* lower case: names are ASCII */
	c->field[c->field_len] = '\0';
	return 0;
}

static void append(char *dst, size_t *dlen, const char *at, size_t len)
{
	size_t n = len < HDR_MAX - *dlen ? len : HDR_MAX - *dlen;

	memcpy(dst + *dlen, at, n);
	*dlen += n;
	dst[*dlen] = '\0';
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct shark_http_conn *c = p->data;

	if (!c->in_value) {
		c->in_value = 1;
		c->hdr = !strcmp(c->field, "authorization") ? HDR_AUTH :
			 !strcmp(c->field, "content-type") ? HDR_CTYPE :
			 !strcmp(c->field, "expect") ? HDR_EXPECT : HDR_NONE;
	}
	if (c->hdr == HDR_AUTH)
		append(c->auth, &c->auth_len, at, len);
	else if (c->hdr == HDR_CTYPE)
		append(c->ctype, &c->ctype_len, at, len);
	else if (c->hdr == HDR_EXPECT && len >= 12 && !strncasecmp(at, "100-continue", 12))
		c->expect_continue = 1;
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct shark_http_conn *c = p->data;
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->srv->max_body)
		return refuse(c, 413, "body too large");
	if (c->expect_continue)
		send_raw(c, cont, sizeof(cont) - 1, NULL, 0, 0);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct shark_http_conn *c = p->data;

	if (c->req.body_len + len > c->srv->max_body)
		return refuse(c, 413, "body too large");
	if (grow(&c->req.body, &c->body_cap, c->req.body_len + len + 1))
		return refuse(c, 413, "out of memory for the body");
	memcpy(c->req.body + c->req.body_len, at, len);
	c->req.body_len += len;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct shark_http_conn *c = p->data;

	c->req.method = http_method_str((enum http_method)p->method);
	c->req.authorization = c->auth_len ? c->auth : NULL;
	c->req.content_type = c->ctype_len ? c->ctype : NULL;
	if (!c->req.url)
		return refuse(c, 400, "no request target");
	if (c->req.body)
		c->req.body[c->req.body_len] = '\0';
	c->srv->handler(c->srv->ctx, c, &c->req);
	return c->closing ? -1 : 0;
}

/* ---------------------------------------------------------- the streams */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct shark_http_conn *c = h->data;

	(void)suggested;
	if (!c->buf)
		c->buf = malloc(READ_BUF);
	*b = uv_buf_init(c->buf, c->buf ? READ_BUF : 0);
}

static void parse(struct shark_http_conn *c, const char *data, size_t len)
{
	size_t done = http_parser_execute(&c->parser, &settings, data, len);

	if (c->closing || c->refused)
		return;
	if (c->parser.upgrade || done != len || HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
		char msg[128];

		snprintf(msg, sizeof(msg), "malformed request: %s",
			 http_errno_description(HTTP_PARSER_ERRNO(&c->parser)));
		refuse(c, 400, msg);
	}
}

/* Records in, plaintext to the parser; the handshake's answers go out. */
static void read_tls(struct shark_http_conn *c, const char *data, size_t len)
{
	ssize_t n = 0;

	if (!c->plain)
		c->plain = malloc(READ_BUF);
	if (!c->plain || shark_tls__feed(c->tls, data, len)) {
		conn_close(c);
		return;
	}
	while (!c->closing && !c->refused && (n = shark_tls__read(c->tls, c->plain, READ_BUF)) > 0)
		parse(c, c->plain, (size_t)n);
	if (c->closing)
		return;
	flush_tls(c, 0);
	if (n < 0) {
		pr_debug("https: %s\n", shark_tls__error(c->tls));
		conn_close(c);
	}
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct shark_http_conn *c = s->data;

	if (nread < 0) {
		conn_close(c);
		return;
	}
	uv_timer_again(&c->idle);
	if (c->refused) {
		c->dropped += (size_t)nread;
		if (c->dropped > 4 * c->srv->max_body + (1 << 20))
			conn_close(c);
		return;	/* drop what follows an early answer; EOF closes */
	}
	if (c->closing || nread == 0)
		return;
	if (c->tls)
		read_tls(c, b->base, (size_t)nread);
	else
		parse(c, b->base, (size_t)nread);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct shark_http_server *srv = server->data;
	struct shark_http_conn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->srv = srv;
	uv_tcp_init(server->loop, &c->tcp);
	uv_timer_init(server->loop, &c->idle);
	c->tcp.data = c;
	c->idle.data = c;
	c->handles = 2;
	uv_timer_start(&c->idle, on_idle, IDLE_MS, IDLE_MS);
	if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
		conn_close(c);
		return;
	}
	if (srv->tls && !(c->tls = shark_tls__new(srv->tls, NULL))) {
		conn_close(c);
		return;
	}
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
		conn_close(c);
}

struct shark_http_server *shark_http__listen(void *loop, const char *host, int port, size_t max_body,
					     shark_http_handler handler, void *ctx, int *errp)
{
	struct shark_http_server *srv;
	struct sockaddr_storage ss;
	int len = sizeof(ss), err;

	http_parser_settings_init(&settings);
	settings.on_message_begin = on_message_begin;
	settings.on_url = on_url;
	settings.on_header_field = on_header_field;
	settings.on_header_value = on_header_value;
	settings.on_headers_complete = on_headers_complete;
	settings.on_body = on_body;
	settings.on_message_complete = on_message_complete;

	err = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
	if (err)
		err = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
	if (err) {
		*errp = -EINVAL;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		*errp = -ENOMEM;
		return NULL;
	}
	srv->max_body = max_body;
	srv->handler = handler;
	srv->ctx = ctx;
	uv_tcp_init(loop, &srv->tcp);
	srv->tcp.data = srv;
	err = uv_tcp_bind(&srv->tcp, (struct sockaddr *)&ss, 0);
	if (!err)
		err = uv_listen((uv_stream_t *)&srv->tcp, 128, on_connection);
	if (!err)
		err = uv_tcp_getsockname(&srv->tcp, (struct sockaddr *)&ss, &len);
	if (err) {
		*errp = err;
		uv_close((uv_handle_t *)&srv->tcp, (uv_close_cb)free);
		return NULL;
	}
	srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
			  ((struct sockaddr_in *)&ss)->sin_port);
	return srv;
}

int shark_http__tls(struct shark_http_server *srv, const char *cert, const char *key, char *err, size_t errlen)
{
	struct shark_tls_config *cfg = shark_tls__server(cert, key, err, errlen);

	if (!cfg)
		return -EINVAL;
	shark_tls__config_free(srv->tls);
	srv->tls = cfg;
	return 0;
}

int shark_http__port(const struct shark_http_server *srv)
{
	return srv->port;
}

/* An HTTPS server's TLS config stays: connections still open may use it. */
void shark_http__close(struct shark_http_server *srv)
{
	if (srv)
		uv_close((uv_handle_t *)&srv->tcp, (uv_close_cb)free);
}

/* ---------------------------------------------------------- the client */

struct resp {
	char *buf;
	int32_t cap, len;
	int done, truncated;
	char *hdr;		/* "Name: value\n" lines, if asked for */
	int32_t hcap, hlen;
	int last;		/* the last header callback: 1 field, 2 value */
};

/* Append to the header lines, cut at the buffer's end. */
static void hdr_put(struct resp *r, const char *at, size_t len)
{
	size_t room;

	if (!r->hdr || r->hcap < 1)
		return;
	room = (size_t)(r->hcap - 1 - r->hlen);
	if (len > room)
		len = room;
	memcpy(r->hdr + r->hlen, at, len);
	r->hlen += (int32_t)len;
	r->hdr[r->hlen] = '\0';
}

static int on_resp_field(http_parser *p, const char *at, size_t len)
{
	struct resp *r = p->data;

	/* a name or value may come in pieces: separators only between them */
	if (r->last == 2)
		hdr_put(r, "\n", 1);
	r->last = 1;
	hdr_put(r, at, len);
	return 0;
}

static int on_resp_value(http_parser *p, const char *at, size_t len)
{
	struct resp *r = p->data;

	if (r->last == 1)
		hdr_put(r, ": ", 2);
	r->last = 2;
	hdr_put(r, at, len);
	return 0;
}

static int on_resp_body(http_parser *p, const char *at, size_t len)
{
	struct resp *r = p->data;
	size_t room = (size_t)(r->cap - 1 - r->len);

	if (len > room) {
		len = room;
		r->truncated = 1;
	}
	memcpy(r->buf + r->len, at, len);
	r->len += (int32_t)len;
	r->buf[r->len] = '\0';
	return 0;
}

static int on_resp_done(http_parser *p)
{
	((struct resp *)p->data)->done = 1;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	int64_t left = deadline - now_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	do
		n = poll(&pfd, 1, (int)left);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

static int connect_to(const char *host, const char *port, int64_t deadline)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	int fd = -1, err = -EHOSTUNREACH;

	if (getaddrinfo(host, port, &hints, &ai))
		return -EADDRNOTAVAIL;
	for (a = ai; a; a = a->ai_next) {
		socklen_t l = sizeof(err);
		int soerr = 0;

		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) && errno != EINPROGRESS) {
			err = -errno;
		} else if (!(err = wait_fd(fd, POLLOUT, deadline))) {
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
			err = -soerr;
		}
		if (!err) {
			int one = 1;

			/* a request goes out in a few small writes (TLS records, head, body): unheld */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd >= 0 ? fd : err;
}

/*
 * "http[s]://host[:port]/path" into its parts, with http-parser's URL
 * parser. Return: 0 (http), 1 (https) or -EINVAL.
 */
static int split_url(const char *url, char *host, size_t hlen, char *port, size_t plen, const char **path,
		     unsigned dport)
{
	struct http_parser_url u;
	size_t n = strlen(url), slen;
	int https;

	http_parser_url_init(&u);
	if (http_parser_parse_url(url, n, 0, &u) || !(u.field_set & (1 << UF_HOST)) ||
	    !(u.field_set & (1 << UF_SCHEMA)) || u.field_data[UF_HOST].len >= hlen)
		return -EINVAL;
	slen = u.field_data[UF_SCHEMA].len;
	if (slen == 4 && !strncasecmp(url + u.field_data[UF_SCHEMA].off, "http", 4))
		https = 0;
	else if (slen == 5 && !strncasecmp(url + u.field_data[UF_SCHEMA].off, "https", 5))
		https = 1;
	else
		return -EINVAL;
	memcpy(host, url + u.field_data[UF_HOST].off, u.field_data[UF_HOST].len);
	host[u.field_data[UF_HOST].len] = '\0';
	if (!dport)
		dport = https ? 443u : 80u;
	snprintf(port, plen, "%u", (u.field_set & (1 << UF_PORT)) ? u.port : dport);
	*path = (u.field_set & (1 << UF_PATH)) ? url + u.field_data[UF_PATH].off : "/";
	return https;
}

static int send_all(int fd, const char *p, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int err = wait_fd(fd, POLLOUT, deadline);

			if (err)
				return err;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int32_t shark_http_request(const char *method, const char *url, const char *headers, const void *body,
			   uint64_t len, int32_t timeout_ms, char *resp_buf, int32_t resp_len, int32_t *status)
{
	struct shark_http_call call = { .method = method, .url = url, .headers = headers, .body = body,
					.len = len, .timeout_ms = timeout_ms, .resp = resp_buf, .resp_len = resp_len };
	int32_t rc = shark_http_call(&call);

	*status = call.status;
	return rc;
}

/* TLS over the blocking socket: records out, then wait for the peer's. */
static int tls_flush(int fd, struct shark_tls *t, int64_t deadline)
{
	size_t n;
	const void *p = shark_tls__out(t, &n);
	int err = n ? send_all(fd, p, n, deadline) : 0;

	shark_tls__consumed(t, n);
	return err;
}

/* recv() on the non-blocking socket, waiting for data until the deadline: bytes, 0 at EOF, or -errno. */
static ssize_t recv_wait(int fd, char *buf, size_t cap, int64_t deadline)
{
	for (;;) {
		ssize_t got = recv(fd, buf, cap, 0);

		if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
			int err = wait_fd(fd, POLLIN, deadline);

			if (err)
				return err;
			continue;
		}
		return got < 0 ? -errno : got;
	}
}

static int tls_pull(int fd, struct shark_tls *t, int64_t deadline)
{
	char buf[16384];
	ssize_t got = recv_wait(fd, buf, sizeof(buf), deadline);

	if (got < 0)
		return (int)got;
	if (!got)
		return -ECONNRESET;
	return shark_tls__feed(t, buf, (size_t)got);
}

static int tls_connect(int fd, struct shark_tls *t, int64_t deadline)
{
	for (;;) {
		int rc = shark_tls__handshake(t), err = tls_flush(fd, t, deadline);

		if (rc < 0)
			return rc;
		if (err)
			return err;
		if (rc == 1)
			return 0;
		err = tls_pull(fd, t, deadline);
		if (err)
			return err;
	}
}

/* The response's bytes: plaintext of the socket, or of its TLS records. */
static ssize_t read_some(int fd, struct shark_tls *t, char *buf, size_t cap, int64_t deadline)
{
	if (!t)
		return recv_wait(fd, buf, cap, deadline);
	for (;;) {
		ssize_t got = shark_tls__read(t, buf, cap);
		int err;

		if (got == -EPIPE)
			return 0;
		if (got)
			return got;
		err = tls_pull(fd, t, deadline);
		if (err == -ECONNRESET)
			return 0;
		if (err)
			return err;
	}
}

static int send_request(int fd, struct shark_tls *t, const char *head, size_t hlen, const void *body, size_t len,
			int64_t deadline)
{
	int err;

	if (!t) {
		err = send_all(fd, head, hlen, deadline);
		return !err && len ? send_all(fd, body, len, deadline) : err;
	}
	err = shark_tls__write(t, head, hlen);
	if (!err && len)
		err = shark_tls__write(t, body, len);
	return err ? err : tls_flush(fd, t, deadline);
}

int32_t shark_http_call(struct shark_http_call *call)
{
	http_parser_settings rs;
	http_parser p;
	struct resp r = { .buf = call->resp, .cap = call->resp_len, .hdr = call->resp_hdr, .hcap = call->hdr_len };
	char host[256], port[16], head[2048], rbuf[16384], skey[512];
	const char *path, *method = call->method, *headers = call->headers, *url = call->url;
	char *resp_buf = call->resp, *resp_hdr = call->resp_hdr;
	int32_t resp_len = call->resp_len, hdr_len = call->hdr_len;
	const void *body = call->body;
	uint64_t len = call->len;
	int64_t deadline = now_ms() + call->timeout_ms;
	struct shark_tls_config *cfg = NULL;
	struct shark_tls *t = NULL;
	int fd, err, n, https;

	call->error[0] = '\0';
	https = split_url(url, host, sizeof(host), port, sizeof(port), &path, 0);
	if (resp_len < 1 || https < 0)
		return -EINVAL;
	if (https) {
		if (!call->ca_file) {
			snprintf(call->error, sizeof(call->error), "https needs a CA file to check the server against");
			return -EPROTO;
		}
		cfg = shark_tls__client(call->ca_file, call->error, sizeof(call->error));
		if (!cfg)
			return -EPROTO;
		t = shark_tls__new(cfg, host);
		if (!t) {
			shark_tls__config_free(cfg);
			return -ENOMEM;
		}
		n = snprintf(skey, sizeof(skey), "%s\n%s\n%s", host, port, call->ca_file);
		if (n < 0 || (size_t)n >= sizeof(skey))
			skey[0] = '\0';	/* too long to keep: full handshakes */
		else
			shark_tls__resume(t, skey);
	}
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Length: %llu\r\n"
		     "Connection: close\r\nUser-Agent: shark/" SHARK_VERSION "\r\n%s\r\n",
		     method, path, host, port, (unsigned long long)len, headers ? headers : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -E2BIG;
	fd = connect_to(host, port, deadline);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	err = t ? tls_connect(fd, t, deadline) : 0;
	if (t && !err && skey[0])
		shark_tls__keep(t, skey);
	if (!err)
		err = send_request(fd, t, head, (size_t)n, body, (size_t)len, deadline);
	http_parser_settings_init(&rs);
	rs.on_body = on_resp_body;
	rs.on_message_complete = on_resp_done;
	rs.on_header_field = on_resp_field;
	rs.on_header_value = on_resp_value;
	if (resp_hdr && hdr_len > 0)
		resp_hdr[0] = '\0';
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &r;
	resp_buf[0] = '\0';
	while (!err && !r.done) {
		ssize_t got = read_some(fd, t, rbuf, sizeof(rbuf), deadline);

		if (got < 0) {
			err = (int)got;
			break;
		}
		/* 0 bytes tells the parser the connection ended */
		if (http_parser_execute(&p, &rs, rbuf, (size_t)got) != (size_t)got ||
		    HTTP_PARSER_ERRNO(&p) != HPE_OK)
			err = -EPROTO;
		else if (!got && !r.done)
			err = -ECONNRESET;
	}
	close(fd);
out:
	if (err && t && !call->error[0])
		snprintf(call->error, sizeof(call->error), "%s", shark_tls__error(t));
	shark_tls__free(t);
	shark_tls__config_free(cfg);
	if (err)
		return err;
	call->status = (int32_t)p.status_code;
	return r.len;
}

/* ------------------------------------------- the blocking client for grpc.c */

int64_t shark_httpc__now_ms(void)
{
	return now_ms();
}

int shark_httpc__split_url(const char *url, char *host, size_t hlen, char *port, size_t plen, const char **path,
			   unsigned dport)
{
	return split_url(url, host, hlen, port, plen, path, dport);
}

int shark_httpc__connect(const char *host, const char *port, struct shark_tls *t, int64_t deadline)
{
	int fd = connect_to(host, port, deadline), err;

	if (fd < 0 || !t)
		return fd;
	err = tls_connect(fd, t, deadline);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int shark_httpc__send(int fd, struct shark_tls *t, const void *p, size_t len, int64_t deadline)
{
	return send_request(fd, t, p, len, NULL, 0, deadline);
}

ssize_t shark_httpc__recv(int fd, struct shark_tls *t, void *buf, size_t cap, int64_t deadline)
{
	return read_some(fd, t, buf, cap, deadline);
}
