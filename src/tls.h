/*
 * tls.h: TLS 1.2 termination with BearSSL, driven without blocking from the poll loop.
 * A `struct tls` is one engine with its record buffers; it is opaque here (only tls.c
 * and tlscert.c see BearSSL) and lives in config-sized static storage. The caller owns
 * the socket; these calls move records between it and the engine and plaintext between
 * the engine and the caller's buffers.
 */
#ifndef POLLUX_TLS_H
#define POLLUX_TLS_H

#include <stddef.h>

/* bytes of static storage per TLS slot: struct tls on a 64-bit board (37,112 bytes), up to
 * a multiple of 64 so every slot starts a cache line (checked against the size in tls.c) */
#define TLS_SLOT_BYTES 37120
/* bytes per session cache entry (BearSSL's LRU cache) */
#define TLS_SESSION_BYTES 100
/* certificates in the certs table, at most */
#define TLS_MAX_CERTS 16

struct tls;

/* before the loop: seeds the random generator, loads the certificates and sets up the
 * session cache; exits with a message when any of it fails */
void tls_init(void);

/* the engine of TLS slot i (i < conf.ntls) */
struct tls *tls_slot(unsigned i);

/* a new connection on this engine: a fresh handshake */
void tls_start(struct tls *t);

/* decrypted bytes into dst[0..len): a count, or IO_AGAIN / IO_EOF / IO_ERR (buf.h);
 * drives the handshake as needed */
long tls_read(struct tls *t, int fd, char *dst, size_t len);

/* plaintext from src[0..len) into records: the bytes taken, or IO_AGAIN / IO_ERR; what
 * was taken is flushed as one record when it all fit, full records otherwise; more:
 * the caller ends the connection right after, see tls_flush */
long tls_write(struct tls *t, int fd, const char *src, size_t len, int more);

/* pushes pending records to the socket: 0 when none is left, IO_AGAIN or IO_ERR; more
 * (once the handshake is done): a shutdown(2) or close(2) follows as soon as nothing
 * is pending, so the records go with MSG_MORE and the FIN rides on their segment */
long tls_flush(struct tls *t, int fd, int more);

/* the poll events the engine needs, given what the caller wants to do */
short tls_events(const struct tls *t, int want_read, int want_write);

/* 1 when a read would return without the socket: plaintext ready, or closed */
int tls_ready(const struct tls *t);

/* 1 while records wait to be written to the socket */
int tls_pending(const struct tls *t);

/* 1 until the handshake completed */
int tls_handshaking(const struct tls *t);

/* 1 once any byte came from the client */
int tls_heard(const struct tls *t);

/* starts a close_notify (flushed by tls_flush) */
void tls_close(struct tls *t);

/* the connection is over: releases what the handshake held */
void tls_end(struct tls *t);

/* why the engine failed, for a log line ("" when it did not) */
const char *tls_error(const struct tls *t);

/* SIGHUP: loads the certificates again; keeps the old ones (and logs why) on failure.
 * While handshakes from before the previous reload still run, the load waits for them. */
void tls_reload(void);

/* retries a reload that had to wait; called by the loop's sweep */
void tls_sweep(void);

#endif
