/* SPDX-License-Identifier: GPL-2.0 */
/* httpc.h - the client half of http.c (the server is in http.h). */
#ifndef SHARK_HTTPC_H
#define SHARK_HTTPC_H

#include <stdint.h>

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

#endif /* SHARK_HTTPC_H */
