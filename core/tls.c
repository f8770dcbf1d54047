// SPDX-License-Identifier: GPL-2.0
/*
 * tls.c - TLS through mbedTLS (Debian's 2.28 LTS): certificates, handshakes
 * and records over two byte buffers, so the same code serves libuv's
 * non-blocking streams (shark serve) and a blocking client socket.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>
#include "tls.h"

struct shark_tls_config {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt certs;		/* server: its chain; client: the CAs */
	mbedtls_pk_context key;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_ticket_context ticket;	/* server: the key of its session tickets */
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
	mbedtls_ssl_ticket_init(&c->ticket);
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
	/*
	 * Session tickets (RFC 5077): a client back within a day resumes without
	 * the RSA and ECDHE of a full handshake, a tenth of its cost. The key
	 * lives in memory: after a restart clients do one full handshake again.
	 */
	rc = mbedtls_ssl_ticket_setup(&c->ticket, mbedtls_ctr_drbg_random, &c->drbg, MBEDTLS_CIPHER_AES_256_GCM,
				      86400);
	if (rc) {
		say(err, errlen, "TLS session tickets", rc);
		goto fail;
	}
	mbedtls_ssl_conf_session_tickets_cb(&c->conf, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, &c->ticket);
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
	mbedtls_ssl_ticket_free(&c->ticket);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	free(c);
}

int shark_tls__alpn(struct shark_tls_config *c, const char **protos)
{
	return mbedtls_ssl_conf_alpn_protocols(&c->conf, protos) ? -EINVAL : 0;
}

/* ------------------------------------------------- client sessions kept */

/*
 * The last session with each of a few servers, keyed by what the caller
 * says identifies one (URL host, port, CA file): the next connection offers
 * it and, if the server still knows its ticket, skips the full handshake.
 * Clients run on libuv's thread pool: one lock.
 */
#define SESSIONS 8
#define KEY_MAX 512

static struct {
	char key[KEY_MAX];
	mbedtls_ssl_session session;
	int used;
	unsigned long age;
} sessions[SESSIONS];
static unsigned long session_clock;
static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;

void shark_tls__resume(struct shark_tls *t, const char *key)
{
	int i;

	pthread_mutex_lock(&sessions_lock);
	for (i = 0; i < SESSIONS; i++) {
		if (sessions[i].used && !strcmp(sessions[i].key, key)) {
			/* a session that cannot be set is only a full handshake */
			mbedtls_ssl_set_session(&t->ssl, &sessions[i].session);
			break;
		}
	}
	pthread_mutex_unlock(&sessions_lock);
}

void shark_tls__keep(struct shark_tls *t, const char *key)
{
	int i, at = 0;

	if (strlen(key) >= KEY_MAX)
		return;
	pthread_mutex_lock(&sessions_lock);
	/* its own slot, else a free one, else the oldest */
	for (i = 0; i < SESSIONS; i++) {
		if (sessions[i].used && !strcmp(sessions[i].key, key)) {
			at = i;
			goto found;
		}
	}
	for (i = 0; i < SESSIONS; i++) {
		if (!sessions[i].used) {
			at = i;
			break;
		}
		if (sessions[i].age < sessions[at].age)
			at = i;
	}
found:
	if (sessions[at].used)
		mbedtls_ssl_session_free(&sessions[at].session);
	mbedtls_ssl_session_init(&sessions[at].session);
	if (mbedtls_ssl_get_session(&t->ssl, &sessions[at].session)) {
		mbedtls_ssl_session_free(&sessions[at].session);
		sessions[at].used = 0;
	} else {
		snprintf(sessions[at].key, KEY_MAX, "%s", key);
		sessions[at].used = 1;
		sessions[at].age = ++session_clock;
	}
	pthread_mutex_unlock(&sessions_lock);
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
