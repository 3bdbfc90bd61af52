/*
 * util.c: clock, address and socket helpers. Nothing here keeps state or allocates.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int64_t
util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
util_addr(union addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, &a->in.sin_addr) == 1) {
		a->in.sin_family = AF_INET;
		a->in.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons(port);
		return 0;
	}
	return -1;
}

int
util_same_ip(const union addr *a, const union addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET6)
		return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
	return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
}

socklen_t
util_addrlen(const union addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

char *
util_ip(const union addr *a, char *dst)
{
	if (a->sa.sa_family == AF_INET) {       /* by hand: once or twice per request */
		const unsigned char *b = (const unsigned char *)&a->in.sin_addr;
		char *p = dst;
		for (int i = 0; i < 4; i++) {
			unsigned v = b[i];
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return dst;
	}
	const void *src = a->sa.sa_family == AF_INET6 ? (const void *)&a->in6.sin6_addr
	    : (const void *)&a->in.sin_addr;

	if (!inet_ntop(a->sa.sa_family, src, dst, ADDR_TEXT))
		strcpy(dst, "?");
	return dst;
}

char *
util_ipport(const union addr *a, char *dst)
{
	char ip[ADDR_TEXT];
	int v6 = a->sa.sa_family == AF_INET6;
	unsigned port = ntohs(v6 ? a->in6.sin6_port : a->in.sin_port);

	snprintf(dst, ADDR_TEXT, v6 ? "[%s]:%u" : "%s:%u", util_ip(a, ip), port);
	return dst;
}

int
util_socket(int family)
{
	int one = 1;
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd >= 0 && family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int
util_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

void
util_abort_close(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int
util_casecmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

char *
util_logcpy(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i;

	if (cap == 0)
		return dst;
	for (i = 0; i < n && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
	}
	dst[i] = '\0';
	return dst;
}

/*
 * The entry "name:x:a:b..." of a colon-separated database (/etc/passwd, /etc/group):
 * field 2 goes to *a and field 3 to *b (b may be NULL). Read with small reads into a
 * stack buffer: no stdio, no allocation. Returns 0, or -1 when there is no such name.
 */
int
util_db_lookup(const char *path, const char *name, unsigned *a, unsigned *b)
{
	char buf[4096], line[512];
	size_t nl = 0, len = strlen(name);
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = -1;

	if (fd < 0)
		return -1;
	while (found < 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && found < 0; i++) {
			if (buf[i] != '\n') {
				if (nl < sizeof(line) - 1)
					line[nl++] = buf[i];
				continue;
			}
			line[nl] = '\0';
			nl = 0;
			if (strncmp(line, name, len) != 0 || line[len] != ':')
				continue;
			char *f = strchr(line + len + 1, ':');      /* past the password */
			if (!f)
				continue;
			*a = (unsigned)strtoul(f + 1, &f, 10);
			if (b && *f == ':')
				*b = (unsigned)strtoul(f + 1, NULL, 10);
			found = 0;
		}
	}
	close(fd);
	return found;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long
util_b64dec(const char *src, size_t n, char *dst, size_t cap)
{
	uint32_t acc = 0;
	size_t o = 0, bits = 0;

	while (n && src[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)src[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			dst[o++] = (char)(acc >> bits);
		}
	}
	return (long)o;
}

int
util_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
