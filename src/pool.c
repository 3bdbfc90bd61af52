/*
 * pool.c: backend choice. Smooth weighted round robin (nginx's: every pick adds each
 * live backend's weight to its current weight, takes the largest, and subtracts the
 * total from the one taken), so requests spread evenly in proportion to the weights.
 * Backups are only considered while every primary is down. A failed connect leaves a
 * backend out for T_DOWN; after that it is tried again.
 */
#include "conf.h"
#include "log.h"
#include "pool.h"

void
pool_init(void)
{
	for (unsigned i = 0; i < conf.nbackends; i++) {
		struct pool_be *b = &conf.be[i];
		const struct conf_backend *c = &conf.backends[i];
		if (util_addr(&b->addr, c->addr, c->port) < 0)
			log_fatal("backend %s: not a numeric address", c->addr);
		util_ipport(&b->addr, b->name);
		b->down_until = 0;
		b->cw = 0;
		b->nbusy = 0;
	}
}

static int
alive(unsigned i, int64_t now)
{
	struct pool_be *b = &conf.be[i];

	if (b->down_until && b->down_until <= now) {
		b->down_until = 0;
		log_info("backend %s: back in rotation", b->name);
	}
	return b->down_until == 0;
}

/* one smooth weighted round robin pick among the live backends of pool with the
 * given backup flag; -1 when none is live */
static int
swrr(unsigned pool, int backup, int64_t now)
{
	int best = -1, total = 0;

	for (unsigned i = 0; i < conf.nbackends; i++) {
		const struct conf_backend *c = &conf.backends[i];
		if (c->pool != pool || !!c->backup != backup || !alive(i, now))
			continue;
		conf.be[i].cw += c->weight;
		total += c->weight;
		if (best < 0 || conf.be[i].cw > conf.be[best].cw)
			best = (int)i;
	}
	if (best >= 0)
		conf.be[best].cw -= total;
	return best;
}

int
pool_pick(unsigned pool, const union addr *client, int64_t now)
{
	(void)client;               /* used by the client-IP hash policy */
	int be = swrr(pool, 0, now);

	return be >= 0 ? be : swrr(pool, 1, now);
}

void
pool_down(unsigned be, int64_t now, const char *why)
{
	struct pool_be *b = &conf.be[be];

	if (!b->down_until)
		log_warn("backend %s: down for %ums: %s", b->name, conf.t_down, why);
	b->down_until = now + conf.t_down;
}

struct pool_be *
pool_be(unsigned be)
{
	return &conf.be[be];
}
