/*
 * pool.c: backend choice and backend health. Policies, per pool:
 *  - smooth weighted round robin (nginx's): every pick adds each live backend's weight
 *    to its current weight, takes the largest and subtracts the total from it, so
 *    requests spread in proportion to the weights and never in bursts;
 *  - least connections: the fewest busy connections per unit of weight, ties broken
 *    by the same round robin;
 *  - client-IP hash: the address hashes to a point on the pool's weights; a backend
 *    that is out passes its clients to the next live one and nobody else moves.
 * Backups are considered only while every primary is out. A backend is out while a
 * passive mark lasts (T_DOWN) or while its active checks have failed `fall` times in a
 * row, until `rise` good checks in a row.
 */
#include <string.h>

#include "conf.h"
#include "log.h"
#include "pool.h"

void
pool_init(void)
{
	for (unsigned i = 0; i < conf.nbackends; i++) {
		struct pool_be *b = &conf.be[i];
		const struct conf_backend *c = &conf.backends[i];
		memset(b, 0, sizeof(*b));
		if (c->addr[0] == '/') {
			if (strlen(c->addr) >= sizeof(b->sa.un.sun_path))
				log_fatal("backend %s: Unix socket path too long", c->addr);
			b->sa.un.sun_family = AF_UNIX;
			strcpy(b->sa.un.sun_path, c->addr);
			b->salen = sizeof(b->sa.un);
			strcpy(b->name, "unix:");
			strcat(b->name, c->addr);
			continue;
		}
		if (util_addr(&b->sa.ip, c->addr, c->port) < 0)
			log_fatal("backend %s: not a numeric address", c->addr);
		b->salen = util_addrlen(&b->sa.ip);
		util_ipport(&b->sa.ip, b->name);
	}
}

static int
alive(unsigned i, int64_t now)
{
	struct pool_be *b = &conf.be[i];

	if (b->down_until && b->down_until <= now) {
		b->down_until = 0;
		if (!b->check_down)
			log_info("backend %s: back in rotation", b->name);
	}
	return b->down_until == 0 && !b->check_down;
}

static int excluded = -1;       /* the backend a retry must avoid, for one pick */

/* whether backend i is a candidate: in the pool, of the tier asked for, live */
static int
candidate(unsigned i, unsigned pool, int backup, int64_t now)
{
	const struct conf_backend *c = &conf.backends[i];

	return c->pool == pool && !!c->backup == backup && (int)i != excluded && alive(i, now);
}

/* round robin's choice: the larger current weight */
static int
more_weight(unsigned a, unsigned b)
{
	return conf.be[a].cw > conf.be[b].cw;
}

/* busy per unit of weight, compared without division: a/wa < b/wb */
static int
less_loaded(unsigned a, unsigned b)
{
	uint64_t la = (uint64_t)conf.be[a].nbusy * conf.backends[b].weight;
	uint64_t lb = (uint64_t)conf.be[b].nbusy * conf.backends[a].weight;

	if (la != lb)
		return la < lb;
	return conf.be[a].cw > conf.be[b].cw;   /* a tie: the round robin's choice */
}

/* one smooth weighted round of the live candidates, the best by `better` taken */
static int
weighted(unsigned pool, int backup, int64_t now, int (*better)(unsigned, unsigned))
{
	int best = -1, total = 0;

	for (unsigned i = 0; i < conf.nbackends; i++) {
		if (!candidate(i, pool, backup, now))
			continue;
		conf.be[i].cw += conf.backends[i].weight;
		total += conf.backends[i].weight;
		if (best < 0 || better(i, (unsigned)best))
			best = (int)i;
	}
	if (best >= 0)
		conf.be[best].cw -= total;
	return best;
}

static uint32_t
addr_hash(const union addr *a)
{
	const unsigned char *p = a->sa.sa_family == AF_INET6 ?
	    (const unsigned char *)&a->in6.sin6_addr : (const unsigned char *)&a->in.sin_addr;
	size_t n = a->sa.sa_family == AF_INET6 ? 16 : 4;
	uint32_t h = 2166136261u;               /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static int
ip_hash(unsigned pool, int backup, const union addr *client, int64_t now)
{
	uint32_t total = 0, point;
	unsigned n = conf.nbackends, start = 0;

	for (unsigned i = 0; i < n; i++)
		if (conf.backends[i].pool == pool && !!conf.backends[i].backup == backup)
			total += conf.backends[i].weight;
	if (total == 0)
		return -1;
	/* the backend whose share of the weights holds the client's point */
	point = addr_hash(client) % total;
	for (unsigned i = 0; i < n; i++) {
		if (conf.backends[i].pool != pool || !!conf.backends[i].backup != backup)
			continue;
		if (point < conf.backends[i].weight) {
			start = i;
			break;
		}
		point -= conf.backends[i].weight;
	}
	/* it, or the next live one after it */
	for (unsigned k = 0; k < n; k++)
		if (candidate((start + k) % n, pool, backup, now))
			return (int)((start + k) % n);
	return -1;
}

static int
pick_tier(unsigned pool, int backup, const union addr *client, int64_t now)
{
	switch (conf.pools[pool].policy) {
	case LB_LEAST_CONN:
		return weighted(pool, backup, now, less_loaded);
	case LB_IP_HASH:
		return ip_hash(pool, backup, client, now);
	default:
		return weighted(pool, backup, now, more_weight);
	}
}

int
pool_pick_other(unsigned pool, const union addr *client, int64_t now, int not)
{
	int be;

	excluded = not;
	be = pool_pick(pool, client, now);
	excluded = -1;
	return be;
}

int
pool_pick(unsigned pool, const union addr *client, int64_t now)
{
	int be = pick_tier(pool, 0, client, now);

	if (be < 0)
		be = pick_tier(pool, 1, client, now);
	if (be >= 0)
		conf.be[be].nreq++;
	return be;
}

void
pool_down(unsigned be, int64_t now, const char *why)
{
	struct pool_be *b = &conf.be[be];

	b->nfail++;
	if (!b->down_until && !b->check_down) {
		b->ndown++;
		log_warn("backend %s: out for %ums: %s", b->name, conf.t_down, why);
	}
	b->down_until = now + conf.t_down;
}

void
pool_check(unsigned be, int ok, const char *why)
{
	struct pool_be *b = &conf.be[be];
	const struct conf_pool *p = &conf.pools[conf.backends[be].pool];
	unsigned rise = p->check_rise ? p->check_rise : 2, fall = p->check_fall ? p->check_fall : 2;

	b->nok = ok ? (uint8_t)(b->nok < 255 ? b->nok + 1 : 255) : 0;
	b->nbad = ok ? 0 : (uint8_t)(b->nbad < 255 ? b->nbad + 1 : 255);
	if (!b->check_down && b->nbad >= fall) {
		b->check_down = 1;
		b->ndown++;
		log_warn("backend %s: out: %u checks failed in a row: %s", b->name, b->nbad, why);
	} else if (b->check_down && b->nok >= rise) {
		b->check_down = 0;
		b->down_until = 0;
		log_info("backend %s: back in rotation: %u checks passed", b->name, b->nok);
	}
}

struct pool_be *
pool_be(unsigned be)
{
	return &conf.be[be];
}
