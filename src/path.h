/*
 * path.h: the normal form of a request path, so that routing and access rules cannot
 * be bypassed by spelling: percent-encoded unreserved characters are decoded, the
 * remaining percent-encodings get upper-case hex, "." and ".." segments are resolved
 * and repeated slashes fold into one. Pure; works in place (the result never grows).
 */
#ifndef POLLUX_PATH_H
#define POLLUX_PATH_H

#include <stddef.h>

/*
 * Normalises the path p[0..len) (no query) in place. Returns the new length, or -1 for
 * a path that has no normal form: a bad or NUL percent-encoding, a ".." above the
 * root, or a path not starting with '/'. "*" (OPTIONS) is left as it is.
 */
long path_normalize(char *p, size_t len);

#endif
