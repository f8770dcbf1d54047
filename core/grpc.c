// SPDX-License-Identifier: GPL-2.0
/*
 * grpc.c - a gRPC unary call (what OTLP/gRPC's Export is) over HTTP/2 with
 * nghttp2's session API: the request's HEADERS and its one length-prefixed
 * message, then the response's headers, message and trailers (grpc-status,
 * grpc-message, grpc-status-details-bin). Blocking, with a deadline, on
 * http.c's client socket (plain with prior knowledge, or TLS with ALPN
 * "h2"): it runs in libuv's thread pool (lib_httpc.c). Everything the
 * server sends is bounded: headers, the response message, its prefix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <nghttp2/nghttp2.h>
#include <sodium.h>
#include "grpc_status.pb-c.h"
#include "shark.h"
#include "tls.h"

#define HDRS_MAX 16384		/* the header and trailer bytes taken */
#define PREFIX 5		/* compressed flag, big-endian length */

struct grpc {
	struct shark_grpc_call *call;
	const unsigned char *req;	/* the message, after req_prefix, sent as DATA */
	size_t req_len, req_off;
	unsigned char req_prefix[PREFIX];
	unsigned char prefix[PREFIX];
	size_t got;			/* bytes of the response's DATA so far */
	uint32_t msg_len;
	size_t hdr_bytes;
	int32_t stream;
	int closed, have_status, grpc_ctype;
	uint32_t reset;			/* the stream's error code when it closed */
	char ctype[64];
	char *details;			/* grpc-status-details-bin, base64 */
	int err;			/* a failure seen in a callback */
};

static int fail(struct grpc *g, int err, const char *fmt, const char *arg, long long n)
{
	if (!g->err) {
		g->err = err;
		snprintf(g->call->error, sizeof(g->call->error), fmt, arg, n);
	}
	return NGHTTP2_ERR_CALLBACK_FAILURE;
}

/* The request's DATA: its 5-byte prefix, then the message itself (not copied). */
static ssize_t read_req(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			nghttp2_data_source *src, void *user)
{
	struct grpc *g = user;
	size_t off = g->req_off, n = 0;

	(void)s;
	(void)id;
	(void)src;
	while (n < len && off < PREFIX + g->req_len) {
		size_t take;

		if (off < PREFIX) {
			take = PREFIX - off < len - n ? PREFIX - off : len - n;
			memcpy(buf + n, g->req_prefix + off, take);
		} else {
			take = PREFIX + g->req_len - off < len - n ? PREFIX + g->req_len - off : len - n;
			memcpy(buf + n, g->req + (off - PREFIX), take);
		}
		n += take;
		off += take;
	}
	g->req_off = off;
	if (off == PREFIX + g->req_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* grpc-message is percent-encoded (the gRPC HTTP/2 spec): decoded, cut to fit */
static void unpercent(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 1 < cap; i++) {
		unsigned int c;

		if (v[i] == '%' && i + 2 < len && sscanf((const char *)v + i + 1, "%2x", &c) == 1) {
			dst[o++] = (char)c;
			i += 2;
		} else {
			dst[o++] = (char)v[i];
		}
	}
	dst[o] = '\0';
}

static int is(const uint8_t *name, size_t len, const char *want)
{
	return len == strlen(want) && !memcmp(name, want, len);
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
		     const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
	struct grpc *g = user;
	struct shark_grpc_call *c = g->call;

	(void)s;
	(void)flags;
	if (f->hd.type != NGHTTP2_HEADERS || f->hd.stream_id != g->stream)
		return 0;
	g->hdr_bytes += nlen + vlen + 32;
	if (g->hdr_bytes > HDRS_MAX)
		return fail(g, -E2BIG, "the response's headers are larger than %s%lld bytes", "", HDRS_MAX);
	if (is(name, nlen, ":status")) {
		c->http_status = (int32_t)strtol((const char *)value, NULL, 10);
	} else if (is(name, nlen, "content-type")) {
		snprintf(g->ctype, sizeof(g->ctype), "%.*s", (int)vlen, value);
		g->grpc_ctype = vlen >= 16 && !memcmp(value, "application/grpc", 16);
	} else if (is(name, nlen, "grpc-status")) {
		char *end;
		char v[16];
		long code;

		snprintf(v, sizeof(v), "%.*s", (int)vlen, value);
		code = strtol(v, &end, 10);
		if (!vlen || *end || code < 0 || code > 9999)
			return fail(g, -EPROTO, "a malformed grpc-status: \"%s\"%.0lld", v, 0);
		c->grpc_status = (int32_t)code;
		g->have_status = 1;
	} else if (is(name, nlen, "grpc-message")) {
		unpercent(c->message, sizeof(c->message), value, vlen);
	} else if (is(name, nlen, "grpc-status-details-bin")) {
		free(g->details);
		g->details = strndup((const char *)value, vlen);
		if (!g->details)
			return fail(g, -ENOMEM, "out of memory%s%.0lld", "", 0);
	}
	return 0;
}

/* The response's one message: its prefix checked, its bytes counted (the OTLP response is not read further). */
static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user)
{
	struct grpc *g = user;

	(void)s;
	(void)flags;
	/* not gRPC's (an HTTP error page): outcome() tells from the status, the body is not read */
	if (id != g->stream || !g->grpc_ctype || g->call->http_status != 200)
		return 0;
	while (len) {
		if (g->got < PREFIX) {
			size_t n = PREFIX - g->got < len ? PREFIX - g->got : len;

			memcpy(g->prefix + g->got, data, n);
			g->got += n;
			data += n;
			len -= n;
			if (g->got < PREFIX)
				break;
			if (g->prefix[0] > 1)
				return fail(g, -EPROTO, "a malformed response message: compressed flag %s%lld", "",
					    g->prefix[0]);
			if (g->prefix[0] == 1)
				return fail(g, -EPROTO, "a compressed response message%s (none was asked for)%.0lld",
					    "", 0);
			g->msg_len = (uint32_t)g->prefix[1] << 24 | (uint32_t)g->prefix[2] << 16 |
				     (uint32_t)g->prefix[3] << 8 | g->prefix[4];
			if (g->msg_len > SHARK_GRPC_RESP_MAX)
				return fail(g, -E2BIG, "the response message is %s%lld bytes, more than the 1 MiB "
					    "taken", "", g->msg_len);
			continue;
		}
		if (g->got - PREFIX + len > g->msg_len)
			return fail(g, -EPROTO, "more response data than its one message's %s%lld bytes (a unary "
				    "call answers one message)", "", g->msg_len);
		g->got += len;
		len = 0;
	}
	return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	struct grpc *g = user;

	(void)s;
	if (id == g->stream) {
		g->closed = 1;
		g->reset = code;
	}
	return 0;
}

/* RetryInfo in the status details (base64 of a google.rpc.Status): its delay in ms, or -1. */
static int32_t retry_delay(const char *b64)
{
	static const char want[] = "/google.rpc.RetryInfo";
	size_t cap = strlen(b64), len = 0, i;
	unsigned char *bin = malloc(cap + 1);
	Shark__Grpc__Status *st = NULL;
	int32_t ms = -1;

	if (!bin || sodium_base642bin(bin, cap + 1, b64, cap, "=", &len, NULL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING))
		goto out;
	st = shark__grpc__status__unpack(NULL, len, bin);
	for (i = 0; st && i < st->n_details && ms < 0; i++) {
		const char *t = st->details[i]->type_url;
		size_t tl = strlen(t);
		Shark__Grpc__RetryInfo *ri;

		if (tl < sizeof(want) - 1 || strcmp(t + tl - (sizeof(want) - 1), want))
			continue;
		ri = shark__grpc__retry_info__unpack(NULL, st->details[i]->value.len, st->details[i]->value.data);
		if (ri && ri->retry_delay && ri->retry_delay->seconds >= 0 && ri->retry_delay->seconds < 86400 &&
		    ri->retry_delay->nanos >= 0)
			ms = (int32_t)(ri->retry_delay->seconds * 1000 + ri->retry_delay->nanos / 1000000);
		if (ri)
			shark__grpc__retry_info__free_unpacked(ri, NULL);
	}
out:
	if (st)
		shark__grpc__status__free_unpacked(st, NULL);
	free(bin);
	return ms;
}

/* HTTP statuses as gRPC reads them when no grpc-status came (its http-grpc-status-mapping). */
static int32_t from_http(int32_t status)
{
	switch (status) {
	case 400: return 13;	/* INTERNAL */
	case 401: return 16;	/* UNAUTHENTICATED */
	case 403: return 7;	/* PERMISSION_DENIED */
	case 404: return 12;	/* UNIMPLEMENTED */
	case 429: case 502: case 503: case 504: return 14;	/* UNAVAILABLE */
	default: return 2;	/* UNKNOWN */
	}
}

/* What the stream's end tells: 0 with a gRPC status, or -errno with why not. */
static int outcome(struct grpc *g)
{
	struct shark_grpc_call *c = g->call;

	if (g->err)
		return g->err;
	if (!g->closed) {
		snprintf(c->error, sizeof(c->error), "the connection ended before the response did");
		return -ECONNRESET;
	}
	if (!g->have_status && c->http_status && c->http_status != 200) {
		c->grpc_status = from_http(c->http_status);
		snprintf(c->message, sizeof(c->message), "HTTP %d without a grpc-status", c->http_status);
		return 0;
	}
	if (!g->have_status && g->reset) {
		snprintf(c->error, sizeof(c->error), "the server reset the stream: %s",
			 nghttp2_http2_strerror(g->reset));
		return -ECONNRESET;
	}
	if (!g->have_status) {
		snprintf(c->error, sizeof(c->error), g->grpc_ctype ? "the response has no grpc-status trailer" :
			 "not a gRPC response (HTTP %d, content-type \"%s\")", c->http_status, g->ctype);
		return -EPROTO;
	}
	if (g->got && g->got < PREFIX) {
		snprintf(c->error, sizeof(c->error), "the response ended inside a message's 5-byte prefix (%zu bytes)",
			 g->got);
		return -EPROTO;
	}
	if (g->got && g->got - PREFIX < g->msg_len) {
		snprintf(c->error, sizeof(c->error), "the response ended inside its message (%zu of %u bytes)",
			 g->got - PREFIX, g->msg_len);
		return -EPROTO;
	}
	c->resp_len = g->got ? g->msg_len : 0;
	if (g->details)
		c->retry_ms = retry_delay(g->details);
	return 0;
}

static nghttp2_nv nv(const char *name, const char *value)
{
	nghttp2_nv h = { (uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value), NGHTTP2_NV_FLAG_NONE };

	return h;
}

#define NV_MAX 40

/*
 * The metadata lines ("Name: value\r\n", the [otlp] headers) as header
 * fields: split in place in meta (a copy), names lower-cased as HTTP/2
 * wants them. Return the fields added to h[n..], or -E2BIG.
 */
static int metadata(nghttp2_nv *h, int n, char *meta)
{
	char *line, *save = NULL;

	for (line = strtok_r(meta, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(line, ':'), *p, *v;

		if (!colon || colon == line)
			continue;
		if (n == NV_MAX)
			return -E2BIG;
		*colon = '\0';
		for (p = line; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		h[n++] = nv(line, v);
	}
	return n;
}

static nghttp2_session *session_new(struct grpc *g)
{
	nghttp2_session_callbacks *cb;
	nghttp2_session *s = NULL;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, HDRS_MAX },
	};

	if (nghttp2_session_callbacks_new(&cb))
		return NULL;
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	if (nghttp2_session_client_new(&s, cb, g))
		s = NULL;
	nghttp2_session_callbacks_del(cb);
	if (s && nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]))) {
		nghttp2_session_del(s);
		s = NULL;
	}
	return s;
}

/* Frames out, frames in, until the stream closed: 0, or -errno with the error said. */
static int exchange(struct grpc *g, nghttp2_session *s, int fd, struct shark_tls *t, int64_t deadline)
{
	struct shark_grpc_call *c = g->call;
	uint8_t buf[16384];

	while (!g->closed && !g->err) {
		const uint8_t *out;
		ssize_t n;
		int err;

		while ((n = nghttp2_session_mem_send(s, &out)) > 0) {
			err = shark_httpc__send(fd, t, out, (size_t)n, deadline);
			if (err)
				return err;
		}
		if (n < 0) {
			snprintf(c->error, sizeof(c->error), "HTTP/2: %s", nghttp2_strerror((int)n));
			return -EPROTO;
		}
		if (g->closed || g->err)
			break;
		n = shark_httpc__recv(fd, t, buf, sizeof(buf), deadline);
		if (n < 0)
			return (int)n;
		if (!n)
			break;		/* the peer closed: outcome() says what was missing */
		n = nghttp2_session_mem_recv(s, buf, (size_t)n);
		if (n < 0 && !g->err) {
			snprintf(c->error, sizeof(c->error), "HTTP/2 from the server: %s", nghttp2_strerror((int)n));
			return -EPROTO;
		}
	}
	return 0;
}

static const char *alpn_h2[] = { "h2", NULL };

/* The connection: TLS with ALPN "h2" checked against ca_file, or plain. */
static int dial(struct shark_grpc_call *c, int https, const char *host, const char *port, int64_t deadline,
		struct shark_tls_config **cfg, struct shark_tls **t)
{
	const char *proto;
	char key[512];
	int fd, n = -1;

	if (https) {
		if (!c->ca_file) {
			snprintf(c->error, sizeof(c->error), "https needs a CA file to check the server against");
			return -EPROTO;
		}
		*cfg = shark_tls__client(c->ca_file, c->error, sizeof(c->error));
		if (!*cfg)
			return -EPROTO;
		if (shark_tls__alpn(*cfg, alpn_h2) || !(*t = shark_tls__new(*cfg, host)))
			return -ENOMEM;
		/* the last session with this server offered again, as http.c does (a key of its own: h2) */
		n = snprintf(key, sizeof(key), "grpc\n%s\n%s\n%s", host, port, c->ca_file);
		if (n > 0 && (size_t)n < sizeof(key))
			shark_tls__resume(*t, key);
	}
	fd = shark_httpc__connect(host, port, *t, deadline);
	if (fd < 0 || !*t)
		return fd;
	if (n > 0 && (size_t)n < sizeof(key))
		shark_tls__keep(*t, key);
	proto = shark_tls__alpn_chosen(*t);
	if (!proto || strcmp(proto, "h2")) {
		snprintf(c->error, sizeof(c->error), "the server did not agree to HTTP/2 by ALPN (it chose %s)",
			 proto ? proto : "none");
		close(fd);
		return -EPROTO;
	}
	return fd;
}

static void say_errno(struct shark_grpc_call *c, struct shark_tls *t, int err, const char *host, const char *port)
{
	if (c->error[0])
		return;
	if (t && err == -EPROTO)
		snprintf(c->error, sizeof(c->error), "%s", shark_tls__error(t));
	else if (err == -ETIMEDOUT)
		snprintf(c->error, sizeof(c->error), "no answer from %.100s:%s within %d ms", host, port, c->timeout_ms);
	else
		snprintf(c->error, sizeof(c->error), "%.100s:%s: %s", host, port, strerror(-err));
}

/* The request on s: its headers (the metadata after gRPC's), then its one prefixed message. */
static int submit(struct grpc *g, nghttp2_session *s, int https, const char *host, const char *port,
		  const char *path, char *meta)
{
	struct shark_grpc_call *c = g->call;
	nghttp2_data_provider data = { .read_callback = read_req };
	char authority[300], timeout[24];
	nghttp2_nv h[NV_MAX];
	int n = 0;

	snprintf(authority, sizeof(authority), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
	snprintf(timeout, sizeof(timeout), "%dm", c->timeout_ms);
	h[n++] = nv(":method", "POST");
	h[n++] = nv(":scheme", https ? "https" : "http");
	h[n++] = nv(":path", path);
	h[n++] = nv(":authority", authority);
	h[n++] = nv("content-type", "application/grpc");
	h[n++] = nv("te", "trailers");
	h[n++] = nv("grpc-timeout", timeout);
	h[n++] = nv("grpc-accept-encoding", "identity");
	h[n++] = nv("user-agent", "shark/" SHARK_VERSION);
	n = metadata(h, n, meta);
	if (n < 0) {
		snprintf(c->error, sizeof(c->error), "more than %d metadata headers", NV_MAX - 9);
		return n;
	}
	g->req_prefix[0] = 0;	/* not compressed */
	g->req_prefix[1] = (unsigned char)(c->len >> 24);
	g->req_prefix[2] = (unsigned char)(c->len >> 16);
	g->req_prefix[3] = (unsigned char)(c->len >> 8);
	g->req_prefix[4] = (unsigned char)c->len;
	g->req = c->msg;
	g->req_len = c->len;
	/* nghttp2 copies the header fields it is given */
	g->stream = nghttp2_submit_request(s, NULL, h, (size_t)n, &data, NULL);
	if (g->stream < 0) {
		snprintf(c->error, sizeof(c->error), "HTTP/2: %s", nghttp2_strerror(g->stream));
		return -EINVAL;
	}
	return 0;
}

int32_t shark_grpc_call(struct shark_grpc_call *c)
{
	char host[256], port[16], *meta = NULL;
	const char *path;
	int64_t deadline = shark_httpc__now_ms() + c->timeout_ms;
	struct grpc g = { .call = c, .stream = -1 };
	struct shark_tls_config *cfg = NULL;
	struct shark_tls *t = NULL;
	nghttp2_session *s = NULL;
	int https, fd = -1, err;

	c->error[0] = c->message[0] = '\0';
	c->http_status = c->grpc_status = 0;
	c->retry_ms = -1;
	c->resp_len = 0;
	https = shark_httpc__split_url(c->url, host, sizeof(host), port, sizeof(port), &path, 4317);
	if (https < 0 || c->len > UINT32_MAX || c->timeout_ms <= 0) {
		snprintf(c->error, sizeof(c->error), https < 0 ? "not an http:// or https:// URL: %.150s" :
			 "a message over 4 GiB, or no time to send it", c->url);
		return -EINVAL;
	}
	meta = strdup(c->metadata ? c->metadata : "");
	s = meta ? session_new(&g) : NULL;
	if (!s) {
		err = -ENOMEM;
		goto out;
	}
	err = submit(&g, s, https, host, port, path, meta);
	if (err)
		goto out;
	fd = dial(c, https, host, port, deadline, &cfg, &t);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	err = exchange(&g, s, fd, t, deadline);
	if (!err)
		err = outcome(&g);
out:
	if (err)
		say_errno(c, t, err, host, port);
	if (fd >= 0)
		close(fd);
	if (s)
		nghttp2_session_del(s);
	shark_tls__free(t);
	shark_tls__config_free(cfg);
	free(g.details);
	free(meta);
	return err;
}
