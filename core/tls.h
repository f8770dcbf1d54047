/* SPDX-License-Identifier: GPL-2.0 */
/* tls.h - TLS for shark serve and its clients (mbedTLS), over byte buffers the caller moves. */
#ifndef SHARK_TLS_H
#define SHARK_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct shark_tls_config;
struct shark_tls;

/* A server's certificate chain and key (PEM files); NULL and why in err. */
struct shark_tls_config *shark_tls__server(const char *cert, const char *key, char *err, size_t errlen);
/* A client that verifies servers against the CA certificates in ca_file (PEM). */
struct shark_tls_config *shark_tls__client(const char *ca_file, char *err, size_t errlen);
void shark_tls__config_free(struct shark_tls_config *cfg);
/* Offer these protocols by ALPN (a NULL-ended list that outlives cfg): 0 or -EINVAL. */
int shark_tls__alpn(struct shark_tls_config *cfg, const char **protos);
/* The protocol the peer chose by ALPN once the handshake is done, or NULL. */
const char *shark_tls__alpn_chosen(struct shark_tls *t);

/* One connection; host: the name a client checks the server's certificate for. */
struct shark_tls *shark_tls__new(struct shark_tls_config *cfg, const char *host);
void shark_tls__free(struct shark_tls *t);

/* Ciphertext that arrived from the peer. 0 or -ENOMEM. */
int shark_tls__feed(struct shark_tls *t, const void *buf, size_t len);
/*
 * Plaintext out of what was fed (the handshake runs first): bytes read, 0
 * when more ciphertext is needed, -EPIPE when the peer closed, -EPROTO with
 * shark_tls__error() saying why.
 */
ssize_t shark_tls__read(struct shark_tls *t, void *buf, size_t cap);
/* Encrypt plaintext (once the handshake is done): 0 or -errno. */
int shark_tls__write(struct shark_tls *t, const void *buf, size_t len);
/* Drive the handshake: 1 done, 0 wants more from the peer, -EPROTO failed. */
int shark_tls__handshake(struct shark_tls *t);
/* Ciphertext to send to the peer: its bytes and length, then consume them. */
const void *shark_tls__out(struct shark_tls *t, size_t *len);
void shark_tls__consumed(struct shark_tls *t, size_t len);
const char *shark_tls__error(struct shark_tls *t);

/*
 * Client sessions: before the handshake, offer the session kept under key
 * (say the server's host, port and CA file); after it, keep this one.
 */
void shark_tls__resume(struct shark_tls *t, const char *key);
void shark_tls__keep(struct shark_tls *t, const char *key);

#endif /* SHARK_TLS_H */
