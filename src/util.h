/*
 * util.h: small helpers shared by every module: the monotonic clock, socket addresses,
 * non-blocking sockets, and case-insensitive byte comparisons. No state.
 */
#ifndef POLLUX_UTIL_H
#define POLLUX_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* a text address "ip" or "[ip]:port", long enough for any IPv6 form */
#define ADDR_TEXT 56

/* milliseconds from an arbitrary start, never going back */
int64_t util_now(void);

/* fills a from a numeric IPv4/IPv6 address and port; returns 0, or -1 when not numeric */
int util_addr(union addr *a, const char *ip, uint16_t port);

/* 1 when a and b hold the same IP address (ports aside) */
int util_same_ip(const union addr *a, const union addr *b);

/* socklen of a's family */
socklen_t util_addrlen(const union addr *a);

/* writes a's ip (no port) into dst[ADDR_TEXT]; returns dst */
char *util_ip(const union addr *a, char *dst);

/* writes "ip:port" or "[ip]:port" into dst[ADDR_TEXT]; returns dst */
char *util_ipport(const union addr *a, char *dst);

/* a new non-blocking, close-on-exec stream socket of the family (TCP_NODELAY for IP),
 * or -1 */
int util_socket(int family);

/* makes fd non-blocking and close-on-exec; returns 0 or -1 */
int util_nonblock(int fd);

/* close that sends RST instead of FIN: the peer sees an aborted stream */
void util_abort_close(int fd);

/* 1 when a[0..n) equals b[0..n) ignoring ASCII case */
int util_casecmp(const char *a, const char *b, size_t n);

/* 1 when s[0..n) equals the NUL-terminated word ignoring case. Inline, so that the
 * length of a literal word is a constant: the parser compares header names and
 * tokens with literals on every request */
static inline int
util_caseeq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && util_casecmp(s, word, n);
}

/* copies at most cap-1 bytes of s[0..n) into dst, replacing control bytes and quotes
 * with '?' so log lines stay one line; returns dst */
char *util_logcpy(char *dst, size_t cap, const char *s, size_t n);

/* looks name up in a passwd-style file: field 3 into *a, field 4 into *b (if b);
 * 0, or -1 when absent */
int util_db_lookup(const char *path, const char *name, unsigned *a, unsigned *b);

/* the value of a hex digit, or -1 */
int util_hexval(unsigned char c);

/* decodes base64 src[0..n) into dst[0..cap); returns the length, or -1 when it is not
 * base64 or does not fit */
long util_b64dec(const char *src, size_t n, char *dst, size_t cap);

#endif
