/*
 * http.h: pure HTTP/1.1 message parsing (RFC 9110, RFC 9112). No sockets, no state
 * beyond the caller's structs. Everything a parser returns is a view (offset, length)
 * into the caller's head buffer; nothing is copied.
 */
#ifndef POLLUX_HTTP_H
#define POLLUX_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* a status carries its HTTP code; 0 means "no error" where a status is returned */
enum http_status {
	S_NONE = 0,
	S_CONTINUE = 100,
	S_SWITCHING = 101,
	S_OK = 200,
	S_NO_CONTENT = 204,
	S_NOT_MODIFIED = 304,
	S_REQUEST_TIMEOUT = 408,
	S_BAD_REQUEST = 400,
	S_MOVED = 301,
	S_UNAUTHORIZED = 401,
	S_FORBIDDEN = 403,
	S_NOT_FOUND = 404,
	S_LENGTH_REQUIRED = 411,
	S_PAYLOAD_TOO_LARGE = 413,
	S_URI_TOO_LONG = 414,
	S_EXPECTATION_FAILED = 417,
	S_TOO_MANY = 429,
	S_HEADERS_TOO_LARGE = 431,
	S_INTERNAL = 500,
	S_NOT_IMPLEMENTED = 501,
	S_BAD_GATEWAY = 502,
	S_UNAVAILABLE = 503,
	S_GATEWAY_TIMEOUT = 504,
	S_VERSION = 505     /* not sent: other versions get 400 (issue 6) */
};

enum http_method {
	M_OTHER, M_GET, M_HEAD, M_POST, M_PUT, M_DELETE, M_OPTIONS, M_CONNECT, M_TRACE, M_PATCH
};

/* header classes the proxy acts on; everything else is H_OTHER */
enum http_hdr {
	H_OTHER, H_HOST, H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_CONNECTION, H_KEEP_ALIVE,
	H_PROXY_CONNECTION, H_TE, H_TRAILER, H_UPGRADE, H_EXPECT, H_X_FORWARDED_FOR,
	H_X_FORWARDED_PROTO, H_X_FORWARDED_HOST, H_VIA, H_AUTHORIZATION
};

/* how a message body is delimited */
enum http_framing { HB_NONE, HB_LENGTH, HB_CHUNKED, HB_CLOSE };

/* http_msg.flags */
enum {
	HF_CLOSE = 1 << 0,      /* Connection: close (or HTTP/1.0 without keep-alive) */
	HF_KEEPALIVE = 1 << 1,  /* Connection: keep-alive token present */
	HF_UPGRADE = 1 << 2,    /* Connection: upgrade token and an Upgrade field */
	HF_EXPECT_100 = 1 << 3, /* Expect: 100-continue */
	HF_EXPECT_OTHER = 1 << 4, /* an Expect value other than 100-continue */
	HF_ABSOLUTE = 1 << 5    /* request target in absolute-form */
};

struct http_span {
	uint16_t off, len;      /* bytes [off, off+len) of the head buffer */
};

struct http_field {
	struct http_span name, value; /* value without surrounding whitespace */
	struct http_span line;        /* the whole field line including its CRLF */
	uint8_t cls;                  /* enum http_hdr */
	uint8_t hop;                  /* hop-by-hop: a fixed one or named in Connection */
};

struct http_msg {
	struct http_field *f;   /* caller-owned field array */
	uint16_t nf, fcap;      /* fields parsed, capacity of f */
	uint16_t head_len;      /* bytes of the head including the final empty line */
	uint8_t version;        /* 10 or 11 */
	uint8_t method;         /* enum http_method (requests) */
	uint16_t status;        /* status code (responses) */
	uint8_t framing;        /* enum http_framing */
	uint8_t flags;          /* HF_* */
	uint64_t length;        /* Content-Length when framing is HB_LENGTH */
	struct http_span line;  /* start line without CRLF */
	struct http_span mtok;  /* method token (requests) */
	struct http_span target; /* request target as sent */
	struct http_span path;  /* path and query of the target (origin-form part) */
	struct http_span host;  /* Host value, or the authority of an absolute-form target */
};

/*
 * Looks for the end of a head in p[0..len). Returns its length (through the empty line)
 * when complete, 0 when more bytes are needed, -1 when the bytes can never form a valid
 * head (a bare LF or CR, a NUL). *scan keeps the progress between calls on a growing
 * buffer; set it to 0 for a new head.
 */
long http_head_len(const char *p, size_t len, size_t *scan);

/*
 * Parses a complete request head p[0..len) (len as returned by http_head_len) into m,
 * whose f/fcap the caller set. Returns S_NONE, or the status to answer with:
 * S_BAD_REQUEST (malformed, or a version other than HTTP/1.0 and HTTP/1.1, or a
 * Connection header naming Host, Content-Length or Transfer-Encoding),
 * S_HEADERS_TOO_LARGE (more fields than fcap), S_NOT_IMPLEMENTED (a transfer
 * coding other than chunked).
 */
int http_parse_request(const char *p, size_t len, struct http_msg *m);

/*
 * Parses a complete response head p[0..len). method is the request's enum http_method
 * (a HEAD request means no body). Returns S_NONE or S_BAD_GATEWAY when malformed
 * (the status line needs "HTTP/1.x SP 3DIGIT SP", a code 100..599; an HTTP/1.0
 * response with Transfer-Encoding, both CL and TE, several CL are refused).
 */
int http_parse_response(const char *p, size_t len, int method, struct http_msg *m);

/* case-insensitive search of a comma-separated token list for tok; 1 when found */
int http_has_token(const char *v, size_t vlen, const char *tok);

/* returns the index of the next field of class cls at or after index i, or -1 */
int http_find(const struct http_msg *m, int cls, int i);

/* the same by name (lower case; compared without case), for the fields with no class;
 * p is the head the message was parsed from */
int http_find_name(const struct http_msg *m, const char *p, const char *name, int i);

/* streaming body delimiter: tells which bytes belong to the message, passes them unchanged */
struct http_body {
	uint64_t left;          /* bytes left of the body or of the current chunk */
	uint64_t data;          /* body bytes seen so far, without chunk framing */
	uint8_t mode;           /* enum http_framing */
	uint8_t st;             /* chunked decoder state */
	uint8_t ndig;           /* hex digits seen in a chunk size */
	uint8_t done;           /* 1 once the message end was reached */
};

/* starts delimiting a body of the given framing (and length for HB_LENGTH) */
void http_body_init(struct http_body *b, int framing, uint64_t length);

/*
 * Scans p[0..len) and returns how many of these bytes belong to the message (<= len);
 * b->done is set once its end is reached. Returns -1 on malformed chunked framing.
 * HB_CLOSE takes everything and only ends at EOF (the caller's business).
 */
long http_body_scan(struct http_body *b, const char *p, size_t len);

/* counts n bytes of an HB_LENGTH body that went past unseen (spliced): at most what is
 * left; b->done is set once none is */
void http_body_skip(struct http_body *b, uint64_t n);

/*
 * Like http_body_scan, but stops after the first run of body data: returns how many
 * bytes of p[0..len) it took (framing, then at most one data run), and sets
 * [*doff, *doff + *dlen) to that run (dlen 0: none). Returns -1 on malformed framing.
 * Called in a loop, it yields the body without its chunked framing.
 */
long http_body_next(struct http_body *b, const char *p, size_t len, size_t *doff,
    size_t *dlen);

/* the reason phrase of a status, "" for an unknown one */
const char *http_reason(int status);

/*
 * Writes a complete short response for status into dst (status line, Content-Type,
 * Content-Length, Connection: close, extra header lines if any, body "<code> <reason>\n";
 * no body when head_only). extra is NULL or "Name: value\r\n" lines. Returns the length,
 * or 0 when cap is too small.
 */
size_t http_error(char *dst, size_t cap, int status, int head_only, const char *extra);

#endif
