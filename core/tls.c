// SPDX-License-Identifier: GPL-2.0
/*
 * tls.c - TLS through mbedTLS (Debian's 2.28 LTS): certificates, handshakes
 * and records over two byte buffers, so the same code serves libuv's
 * non-blocking streams (shark serve) and a blocking client socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include "tls.h"

struct shark_tls_config {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt certs;		/* server: its chain; client: the CAs */
	mbedtls_pk_context key;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	int server;
};

struct buf {
	unsigned char *p;
	size_t len, cap, off;
};

struct shark_tls {
	mbedtls_ssl_context ssl;
	struct buf in, out;
	int done;
	char err[256];
};

static void say(char *err, size_t errlen, const char *what, int rc)
{
	char msg[120];

	mbedtls_strerror(rc, msg, sizeof(msg));
	snprintf(err, errlen, "%s: %s", what, msg);
}

static struct shark_tls_config *config_new(int server, char *err, size_t errlen)
{
	struct shark_tls_config *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->server = server;
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_x509_crt_init(&c->certs);
	mbedtls_pk_init(&c->key);
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
	rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
				   (const unsigned char *)"shark", 5);
	if (!rc)
		rc = mbedtls_ssl_config_defaults(&c->conf, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
						 MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc) {
		say(err, errlen, "TLS setup", rc);
		shark_tls__config_free(c);
		return NULL;
	}
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	return c;
}

struct shark_tls_config *shark_tls__server(const char *cert, const char *key, char *err, size_t errlen)
{
	struct shark_tls_config *c = config_new(1, err, errlen);
	int rc;

	if (!c)
		return NULL;
	rc = mbedtls_x509_crt_parse_file(&c->certs, cert);
	if (rc) {
		say(err, errlen, cert, rc);
		goto fail;
	}
	rc = mbedtls_pk_parse_keyfile(&c->key, key, NULL);
	if (rc) {
		say(err, errlen, key, rc);
		goto fail;
	}
	rc = mbedtls_ssl_conf_own_cert(&c->conf, &c->certs, &c->key);
	if (rc) {
		say(err, errlen, "the certificate does not go with the key", rc);
		goto fail;
	}
	return c;
fail:
	shark_tls__config_free(c);
	return NULL;
}

struct shark_tls_config *shark_tls__client(const char *ca_file, char *err, size_t errlen)
{
	struct shark_tls_config *c = config_new(0, err, errlen);
	int rc;

	if (!c)
		return NULL;
	rc = mbedtls_x509_crt_parse_file(&c->certs, ca_file);
	if (rc) {
		say(err, errlen, ca_file, rc);
		shark_tls__config_free(c);
		return NULL;
	}
	mbedtls_ssl_conf_ca_chain(&c->conf, &c->certs, NULL);
	mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	return c;
}

void shark_tls__config_free(struct shark_tls_config *c)
{
	if (!c)
		return;
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_x509_crt_free(&c->certs);
	mbedtls_pk_free(&c->key);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	free(c);
}

int shark_tls__alpn(struct shark_tls_config *c, const char **protos)
{
	return mbedtls_ssl_conf_alpn_protocols(&c->conf, protos) ? -EINVAL : 0;
}

/* ------------------------------------------------------------- buffers */

static int put(struct buf *b, const void *p, size_t len)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		unsigned char *n;

		if (b->off) {
			memmove(b->p, b->p + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		while (cap < b->len + len)
			cap *= 2;
		if (cap != b->cap) {
			n = realloc(b->p, cap);
			if (!n)
				return -ENOMEM;
			b->p = n;
			b->cap = cap;
		}
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

static int bio_send(void *ctx, const unsigned char *p, size_t len)
{
	struct shark_tls *t = ctx;

	return put(&t->out, p, len) ? MBEDTLS_ERR_SSL_ALLOC_FAILED : (int)len;
}

static int bio_recv(void *ctx, unsigned char *p, size_t len)
{
	struct shark_tls *t = ctx;
	size_t have = t->in.len - t->in.off;

	if (!have)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (len > have)
		len = have;
	memcpy(p, t->in.p + t->in.off, len);
	t->in.off += len;
	return (int)len;
}

/* ---------------------------------------------------------- connections */

struct shark_tls *shark_tls__new(struct shark_tls_config *cfg, const char *host)
{
	struct shark_tls *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	mbedtls_ssl_init(&t->ssl);
	if (mbedtls_ssl_setup(&t->ssl, &cfg->conf) || (host && mbedtls_ssl_set_hostname(&t->ssl, host))) {
		shark_tls__free(t);
		return NULL;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	return t;
}

void shark_tls__free(struct shark_tls *t)
{
	if (!t)
		return;
	mbedtls_ssl_free(&t->ssl);
	free(t->in.p);
	free(t->out.p);
	free(t);
}

int shark_tls__feed(struct shark_tls *t, const void *buf, size_t len)
{
	return put(&t->in, buf, len);
}

static int failed(struct shark_tls *t, const char *what, int rc)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);

	if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags) {
		char why[96];

		mbedtls_x509_crt_verify_info(why, sizeof(why), "", flags);
		why[strcspn(why, "\n")] = '\0';
		snprintf(t->err, sizeof(t->err), "%s: the server's certificate is not trusted: %s", what, why);
	} else {
		say(t->err, sizeof(t->err), what, rc);
	}
	return -EPROTO;
}

int shark_tls__handshake(struct shark_tls *t)
{
	int rc;

	if (t->done)
		return 1;
	rc = mbedtls_ssl_handshake(&t->ssl);
	if (!rc) {
		t->done = 1;
		return 1;
	}
	if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
		return 0;
	return failed(t, "TLS handshake", rc);
}

ssize_t shark_tls__read(struct shark_tls *t, void *buf, size_t cap)
{
	int rc = shark_tls__handshake(t);

	if (rc <= 0)
		return rc;
	rc = mbedtls_ssl_read(&t->ssl, buf, cap);
	if (rc > 0)
		return rc;
	if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
		return 0;
	if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return -EPIPE;
	return failed(t, "TLS", rc);
}

int shark_tls__write(struct shark_tls *t, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		int rc = mbedtls_ssl_write(&t->ssl, p, len);

		if (rc < 0)
			return failed(t, "TLS write", rc);
		p += rc;
		len -= (size_t)rc;
	}
	return 0;
}

const void *shark_tls__out(struct shark_tls *t, size_t *len)
{
	*len = t->out.len - t->out.off;
	return t->out.p + t->out.off;
}

void shark_tls__consumed(struct shark_tls *t, size_t len)
{
	t->out.off += len;
}

const char *shark_tls__alpn_chosen(struct shark_tls *t)
{
	return mbedtls_ssl_get_alpn_protocol(&t->ssl);
}

const char *shark_tls__error(struct shark_tls *t)
{
	return t->err[0] ? t->err : "TLS error";
}
