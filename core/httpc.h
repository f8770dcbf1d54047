/* SPDX-License-Identifier: GPL-2.0 */
/* httpc.h - the client half of http.c (the server is in http.h). */
#ifndef SHARK_HTTPC_H
#define SHARK_HTTPC_H

#include <stdint.h>
#include <sys/types.h>

/* A request with its response's header lines ("Name: value\n"); https:// needs ca_file. */
struct shark_http_call {
	const char *method, *url, *headers, *ca_file;
	const void *body;
	uint64_t len;
	int32_t timeout_ms;
	char *resp;		/* the body, cut to resp_len - 1, NUL-terminated */
	int32_t resp_len;
	char *resp_hdr;		/* may be NULL */
	int32_t hdr_len;
	int32_t status;		/* out */
	char error[192];	/* out: why a TLS request failed */
};
int32_t shark_http_call(struct shark_http_call *call);

/*
 * A gRPC unary call over HTTP/2 (grpc.c, on nghttp2): url is
 * "http[s]://host[:port]/package.Service/Method" (port 4317 by default;
 * http:// speaks HTTP/2 with prior knowledge, https:// negotiates "h2" by
 * ALPN and checks the server against ca_file). Returns 0 once a gRPC status
 * is known (grpc_status, message; an HTTP error without one is mapped as
 * gRPC does), or -errno with error saying why no status came.
 */
#define SHARK_GRPC_RESP_MAX (1 << 20)	/* the response message taken */
struct shark_grpc_call {
	const char *url, *metadata, *ca_file;	/* metadata: "name: value\r\n" lines */
	const void *msg;
	uint64_t len;
	int32_t timeout_ms;
	int32_t http_status;	/* out */
	int32_t grpc_status;	/* out */
	int32_t retry_ms;	/* out: RetryInfo's delay in grpc-status-details-bin, or -1 */
	uint32_t resp_len;	/* out: the response message's length */
	char message[256];	/* out: grpc-message, percent-decoded */
	char error[192];	/* out */
};
int32_t shark_grpc_call(struct shark_grpc_call *call);

/* http.c's blocking client socket, for grpc.c: plain, or TLS when t is given. */
struct shark_tls;
int64_t shark_httpc__now_ms(void);
/* 0 (http), 1 (https) or -EINVAL; dport: the port when the URL has none (0: the scheme's) */
int shark_httpc__split_url(const char *url, char *host, size_t hlen, char *port, size_t plen, const char **path,
			   unsigned dport);
/* a connected socket (the TLS handshake done), or -errno */
int shark_httpc__connect(const char *host, const char *port, struct shark_tls *t, int64_t deadline);
int shark_httpc__send(int fd, struct shark_tls *t, const void *p, size_t len, int64_t deadline);
/* bytes read, 0 at the end, or -errno */
ssize_t shark_httpc__recv(int fd, struct shark_tls *t, void *buf, size_t cap, int64_t deadline);

#endif /* SHARK_HTTPC_H */
