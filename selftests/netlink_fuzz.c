// SPDX-License-Identifier: GPL-2.0
/*
 * A bounded fuzzer of the "lamport" generic netlink family.
 *
 * A deterministic PRNG (seed printed; LAMPORT_FUZZ_SEED=<n> replays a run)
 * builds requests for every command, and for command numbers the family
 * does not have: three in five well-formed (a third of those then spoilt
 * by one defect the API must reject), the rest random attribute sets of
 * random types (0..LAMPORT_A_MAX + 3), sizes (0..24, or the type's own) and
 * bytes, with nested garbage, lying nla_len and NLM_F_DUMP thrown in.
 * Whatever the request, the kernel must answer it and
 *
 *  - a rejected request (negative errno) changes nothing: the node's
 *    configuration (NODE_GET without its counters) and every peer's
 *    configuration (PEER_GET dump: id, addr, port, interval, mult, mode,
 *    threshold) read back identical, and EINVAL, ERANGE, EEXIST and ENOENT
 *    come with an extack message;
 *  - a read (NODE_GET, PEER_GET) never changes anything either;
 *  - a well-formed request is answered as the API says (accepted, or the
 *    errno it must get), and an accepted one did what it asked.
 *
 * Without CAP_NET_ADMIN every state-changing command gets EPERM and the
 * state never changes at all.
 *
 * Every test runs in a fresh network namespace (the harness forks each).
 */

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/lamport.h>
#include <libmnl/libmnl.h>

#include "kselftest_harness.h"
#include "nl.h"
#include "lamport_test.h"

#define FUZZ_ITERATIONS	3000	/* lt_scaled(): 600 on the debug kernel */
#define PEERS_KEPT	16	/* more are deleted after each accepted request */
#define SNAP_PEERS_MAX	64
#define ITEMS_MAX	12
#define ITEM_DATA_MAX	128
#define ATTR_TYPE_TOP	(LAMPORT_A_MAX + 3)	/* random types: 0..this */

/* A snapshot of everything a request may change, nothing that time changes. */
struct snapshot {
	struct lt_node node;	/* compared: node.conf only */
	unsigned int npeers;
	struct lt_peer peers[SNAP_PEERS_MAX];	/* sorted by id */
};

/* One attribute of a request; written in order, each at an aligned offset. */
struct item {
	uint16_t type;		/* with NLA_F_* bits, if any */
	uint16_t len;		/* payload bytes */
	int lie;		/* -1: nla_len is the truth; else this nla_len */
	uint8_t data[ITEM_DATA_MAX];
};

/* Which requests are counted together. */
enum slot {
	S_NODE_GET,
	S_NODE_SET,
	S_PEER_ADD,
	S_PEER_DEL,
	S_PEER_SET,
	S_PEER_GET,
	S_UNKNOWN,	/* command numbers the family does not have */
	S_MAX,
};

static const char *const slot_names[S_MAX] = {
	"NODE_GET", "NODE_SET", "PEER_ADD", "PEER_DEL", "PEER_SET",
	"PEER_GET", "unknown",
};

struct request {
	enum slot slot;
	uint8_t cmd;
	uint16_t flags;
	unsigned int n;
	struct item it[ITEMS_MAX];
	const char *what;		/* the generator's description */
	/*
	 * The outcomes allowed: nallow == 0 and !must_fail: anything; else
	 * one of allow[] or, with must_fail, any negative errno.
	 */
	int allow[4];
	unsigned int nallow;
	bool must_fail;
	/* Well-formed and accepted: what the new state must show. */
	bool check;
	uint32_t want_node_id;
	uint16_t want_node_port;	/* 0: not asked for */
	struct lt_peer_conf want;	/* want.present: the attributes sent */
};

struct fuzz {
	struct lnl *nl;
	struct lt_rng rng;
	bool privileged;
	struct snapshot cur;		/* the state before the next request */
	unsigned int accepted[S_MAX], rejected[S_MAX];
	unsigned int bounded;		/* peers deleted to stay bounded */
};

/* ---- snapshots --------------------------------------------------------- */

static void snap_take(struct __test_metadata *_metadata, struct lnl *nl,
		      struct snapshot *s)
{
	unsigned int i;
	int err;

	memset(s, 0, sizeof(*s));
	err = lt_node_get(nl, &s->node);
	ASSERT_EQ(0, err) {
		TH_LOG("NODE_GET for a snapshot: %s (%s)", strerror(-err),
		       nl->err_msg);
	}
	ASSERT_TRUE(s->node.has_id);
	err = lt_peer_dump(nl, s->peers, SNAP_PEERS_MAX, &s->npeers);
	ASSERT_EQ(0, err) {
		TH_LOG("PEER_GET dump for a snapshot: %s (%s)",
		       strerror(-err), nl->err_msg);
	}
	for (i = 0; i < s->npeers; i++) {
		/* Each peer message has every config attribute, state, stats. */
		ASSERT_EQ(LT_PEER_CONF_ATTRS, s->peers[i].conf.present) {
			TH_LOG("peer %u reported attributes 0x%x",
			       s->peers[i].conf.id, s->peers[i].conf.present);
		}
		ASSERT_TRUE(s->peers[i].has_state);
		ASSERT_TRUE(s->peers[i].has_stats);
		if (i)
			ASSERT_LT(s->peers[i - 1].conf.id, s->peers[i].conf.id);
	}
}

static bool snap_equal(const struct snapshot *a, const struct snapshot *b)
{
	unsigned int i;

	if (a->node.conf_len != b->node.conf_len ||
	    memcmp(a->node.conf, b->node.conf, a->node.conf_len) ||
	    a->npeers != b->npeers)
		return false;
	for (i = 0; i < a->npeers; i++)
		if (memcmp(&a->peers[i].conf, &b->peers[i].conf,
			   sizeof(a->peers[i].conf)))
			return false;
	return true;
}

static void fmt_addr(char *out, size_t size, const uint8_t *a, unsigned int len)
{
	if (len == 4)
		snprintf(out, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	else if (len == 16)
		snprintf(out, size,
			 "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x",
			 a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
			 a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
	else
		snprintf(out, size, "-");
}

static void snap_log(struct __test_metadata *_metadata, const char *name,
		     const struct snapshot *s)
{
	char hex[2 * LT_CONF_MAX + 1], addr[64];
	unsigned int i;

	for (i = 0; i < s->node.conf_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", s->node.conf[i]);
	hex[2 * s->node.conf_len] = '\0';
	TH_LOG("%s: node id %u port %u addr %s; attributes %s", name,
	       s->node.id, s->node.port,
	       s->node.has_addr ? (fmt_addr(addr, sizeof(addr), s->node.addr,
					    s->node.addr_len), addr) : "any",
	       hex);
	for (i = 0; i < s->npeers; i++) {
		const struct lt_peer_conf *c = &s->peers[i].conf;

		fmt_addr(addr, sizeof(addr), c->addr, c->addr_len);
		TH_LOG("%s: peer %u addr %s port %u interval %u mult %u mode %u threshold %u",
		       name, c->id, addr, c->port, c->interval_us, c->mult,
		       c->mode, c->threshold);
	}
}

static const struct lt_peer *snap_peer(const struct snapshot *s, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < s->npeers; i++)
		if (s->peers[i].conf.id == id)
			return &s->peers[i];
	return NULL;
}

static bool snap_addr_used(const struct snapshot *s, const uint8_t *addr,
			   unsigned int len)
{
	unsigned int i;

	for (i = 0; i < s->npeers; i++)
		if (s->peers[i].conf.addr_len == len &&
		    !memcmp(s->peers[i].conf.addr, addr, len))
			return true;
	return false;
}

/*
 * Whether a peer of this address family certainly fits the node: the node
 * is bound to no address (any, both families) or to one of the same family.
 */
static bool snap_family_ok(const struct snapshot *s, unsigned int addr_len)
{
	return !s->node.has_addr || s->node.addr_len == addr_len;
}

/* ---- building requests ------------------------------------------------- */

static struct item *put_item(struct request *r, uint16_t type,
			     const void *data, uint16_t len)
{
	struct item *it;

	if (r->n >= ITEMS_MAX || len > ITEM_DATA_MAX)
		return NULL;
	it = &r->it[r->n++];
	memset(it, 0, sizeof(*it));
	it->type = type;
	it->len = len;
	it->lie = -1;
	if (len)
		memcpy(it->data, data, len);
	return it;
}

static void put_u32(struct request *r, uint16_t type, uint32_t v)
{
	put_item(r, type, &v, sizeof(v));
}

static void put_u16(struct request *r, uint16_t type, uint16_t v)
{
	put_item(r, type, &v, sizeof(v));
}

static void put_u8(struct request *r, uint16_t type, uint8_t v)
{
	put_item(r, type, &v, sizeof(v));
}

static int find_item(const struct request *r, uint16_t type)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (r->it[i].type == type)
			return (int)i;
	return -1;
}

static void remove_item(struct request *r, unsigned int i)
{
	memmove(&r->it[i], &r->it[i + 1], (r->n - i - 1) * sizeof(r->it[0]));
	r->n--;
}

static void expect(struct request *r, int a, int b, int c)
{
	r->nallow = 0;
	r->allow[r->nallow++] = a;
	if (b != 1)
		r->allow[r->nallow++] = b;
	if (c != 1)
		r->allow[r->nallow++] = c;
}

static void expect_any(struct request *r)
{
	r->nallow = 0;
	r->must_fail = false;
	r->check = false;
}

static bool cmd_takes(uint8_t cmd, uint16_t type)
{
	switch (cmd) {
	case LAMPORT_CMD_NODE_SET:
		return type == LAMPORT_A_NODE_ID || type == LAMPORT_A_NODE_PORT ||
		       type == LAMPORT_A_NODE_ADDR;
	case LAMPORT_CMD_PEER_ADD:
	case LAMPORT_CMD_PEER_SET:
		return type >= LAMPORT_A_PEER_ID &&
		       type <= LAMPORT_A_PEER_THRESHOLD;
	case LAMPORT_CMD_PEER_DEL:
	case LAMPORT_CMD_PEER_GET:
		return type == LAMPORT_A_PEER_ID;
	}
	return false;
}

/* The payload size an attribute type has; 0 for nests and PAD, -1: none. */
static int attr_size(struct lt_rng *r, uint16_t type)
{
	switch (type) {
	case LAMPORT_A_NODE_ID:
	case LAMPORT_A_PEER_ID:
	case LAMPORT_A_PEER_INTERVAL_US:
	case LAMPORT_A_PEER_THRESHOLD:
		return 4;
	case LAMPORT_A_NODE_PORT:
	case LAMPORT_A_PEER_PORT:
		return 2;
	case LAMPORT_A_NODE_ADDR:
	case LAMPORT_A_PEER_ADDR:
		return lt_chance(r, 1, 2) ? 4 : 16;
	case LAMPORT_A_PEER_MULT:
	case LAMPORT_A_PEER_MODE:
	case LAMPORT_A_PEER_STATE:
	case LAMPORT_A_EVENT_OLD_STATE:
	case LAMPORT_A_EVENT_REASON:
		return 1;
	case LAMPORT_A_EVENT_TIME_NS:
	case LAMPORT_A_EVENT_LAST_RX_NS:
	case LAMPORT_A_EVENT_DETECT_NS:
		return 8;
	case LAMPORT_A_PAD:
	case LAMPORT_A_NODE_STATS:
	case LAMPORT_A_PEER_STATS:
		return 0;
	}
	return -1;
}

/* A peer address nobody uses: 198.18.a.b or 2001:db8::/96 + 32 bits. */
static void fresh_addr(struct lt_rng *r, const struct snapshot *s,
		       uint8_t *addr, uint16_t *len, bool v6)
{
	do {
		memset(addr, 0, 16);
		if (v6) {
			addr[0] = 0x20;
			addr[1] = 0x01;
			addr[2] = 0x0d;
			addr[3] = 0xb8;
			lt_fill(r, addr + 12, 4);
			addr[15] |= 1;
			*len = 16;
		} else {
			addr[0] = 198;
			addr[1] = 18;
			addr[2] = (uint8_t)lt_range(r, 1, 254);
			addr[3] = (uint8_t)lt_range(r, 1, 254);
			*len = 4;
		}
	} while (snap_addr_used(s, addr, *len));
}

static uint32_t any_peer_id(struct lt_rng *r, const struct snapshot *s)
{
	return s->peers[lt_below(r, s->npeers)].conf.id;
}

/* A non-zero id that is neither a peer's nor the node's. */
static uint32_t unused_id(struct lt_rng *r, const struct snapshot *s)
{
	uint32_t id;

	do {
		id = lt_chance(r, 3, 4) ? lt_range(r, 1, 5000) : lt_rand32(r);
	} while (!id || id == s->node.id || snap_peer(s, id));
	return id;
}

/* Peers whose heartbeats are faster than the fuzz's usual 50 ms. */
static unsigned int fast_peers(const struct snapshot *s)
{
	unsigned int i, n = 0;

	for (i = 0; i < s->npeers; i++)
		n += s->peers[i].conf.interval_us < 50000;
	return n;
}

static uint32_t valid_interval(struct lt_rng *r, const struct snapshot *s)
{
	switch (lt_below(r, 10)) {
	case 0:
		/*
		 * The lower bound, but one such peer at a time: a dozen
		 * peers at 1 kHz, which some seeds made, saturated the
		 * debug kernel under emulation and the run took 10 minutes.
		 */
		if (!fast_peers(s))
			return LAMPORT_INTERVAL_MIN_US;
		break;
	case 1:
		return LAMPORT_INTERVAL_MAX_US;
	}
	/* Mostly slow: the heartbeats go nowhere, but cost CPU. */
	return lt_range(r, 50000, LAMPORT_INTERVAL_MAX_US);
}

static uint8_t valid_mult(struct lt_rng *r)
{
	switch (lt_below(r, 5)) {
	case 0:
		return LAMPORT_MULT_MIN;
	case 1:
		return LAMPORT_MULT_MAX;
	}
	return (uint8_t)lt_range(r, LAMPORT_MULT_MIN, LAMPORT_MULT_MAX);
}

static uint32_t valid_threshold(struct lt_rng *r)
{
	switch (lt_below(r, 5)) {
	case 0:
		return LAMPORT_THRESHOLD_MIN;
	case 1:
		return LAMPORT_THRESHOLD_MAX;
	}
	return lt_range(r, LAMPORT_THRESHOLD_MIN, LAMPORT_THRESHOLD_MAX);
}

/*
 * The peer configuration attributes PEER_ADD or PEER_SET sends, each with
 * probability pct/100, recorded in r->want.
 */
static void put_peer_fields(struct lt_rng *rng, const struct snapshot *s,
			    struct request *r, unsigned int pct,
			    unsigned int addr_pct, bool *family_ok)
{
	struct lt_peer_conf *w = &r->want;

	*family_ok = true;
	if (lt_below(rng, 100) < addr_pct) {
		fresh_addr(rng, s, w->addr, &w->addr_len, lt_chance(rng, 1, 4));
		put_item(r, LAMPORT_A_PEER_ADDR, w->addr, w->addr_len);
		w->present |= 1u << LAMPORT_A_PEER_ADDR;
		*family_ok = snap_family_ok(s, w->addr_len);
	}
	if (lt_below(rng, 100) < pct) {
		w->port = lt_chance(rng, 1, 3) ? LAMPORT_DEFAULT_PORT :
			  (uint16_t)lt_range(rng, 1, 65535);
		put_u16(r, LAMPORT_A_PEER_PORT, w->port);
		w->present |= 1u << LAMPORT_A_PEER_PORT;
	}
	if (lt_below(rng, 100) < pct) {
		w->interval_us = valid_interval(rng, s);
		put_u32(r, LAMPORT_A_PEER_INTERVAL_US, w->interval_us);
		w->present |= 1u << LAMPORT_A_PEER_INTERVAL_US;
	}
	if (lt_below(rng, 100) < pct) {
		w->mult = valid_mult(rng);
		put_u8(r, LAMPORT_A_PEER_MULT, w->mult);
		w->present |= 1u << LAMPORT_A_PEER_MULT;
	}
	if (lt_below(rng, 100) < pct) {
		w->mode = (uint8_t)lt_below(rng, 2);
		put_u8(r, LAMPORT_A_PEER_MODE, w->mode);
		w->present |= 1u << LAMPORT_A_PEER_MODE;
	}
	if (lt_below(rng, 100) < pct) {
		w->threshold = valid_threshold(rng);
		put_u32(r, LAMPORT_A_PEER_THRESHOLD, w->threshold);
		w->present |= 1u << LAMPORT_A_PEER_THRESHOLD;
	}
}

static uint8_t unknown_cmd(struct lt_rng *r)
{
	switch (lt_below(r, 4)) {
	case 0:
		return LAMPORT_CMD_UNSPEC;
	case 1:
		/* Multicast only: nobody may send it. */
		return LAMPORT_CMD_PEER_EVENT;
	}
	return (uint8_t)lt_range(r, LAMPORT_CMD_MAX + 1, 255);
}

static const uint8_t slot_cmd[S_MAX] = {
	[S_NODE_GET] = LAMPORT_CMD_NODE_GET,
	[S_NODE_SET] = LAMPORT_CMD_NODE_SET,
	[S_PEER_ADD] = LAMPORT_CMD_PEER_ADD,
	[S_PEER_DEL] = LAMPORT_CMD_PEER_DEL,
	[S_PEER_SET] = LAMPORT_CMD_PEER_SET,
	[S_PEER_GET] = LAMPORT_CMD_PEER_GET,
};

static enum slot pick_slot(struct lt_rng *r)
{
	/* Weights: the commands that change state more often. */
	static const enum slot table[] = {
		S_NODE_GET, S_NODE_SET, S_NODE_SET, S_PEER_ADD, S_PEER_ADD,
		S_PEER_DEL, S_PEER_SET, S_PEER_SET, S_PEER_GET, S_UNKNOWN,
	};

	return table[lt_below(r, LT_ARRAY_SIZE(table))];
}

/* A well-formed request of r->slot and the answer it must get. */
static void gen_valid(struct lt_rng *rng, const struct snapshot *s,
		      struct request *r)
{
	bool exists, family_ok;
	uint32_t id;

	r->what = "well-formed";
	switch (r->slot) {
	case S_NODE_GET:
		expect(r, 0, 1, 1);
		break;
	case S_NODE_SET: {
		static const uint8_t bind_addrs[4][16] = {
			{ 0 },				/* 0.0.0.0 */
			{ 0 },				/* :: */
			{ 127, 0, 0, 1 },
			{ [15] = 1 },			/* ::1 */
		};
		unsigned int k;

		id = lt_chance(rng, 3, 5) ? s->node.id :
		     lt_chance(rng, 1, 8) && s->npeers ? any_peer_id(rng, s) :
		     unused_id(rng, s);
		put_u32(r, LAMPORT_A_NODE_ID, id);
		r->want_node_id = id;
		r->check = true;
		/* Only a new id that no peer has is certain to be taken. */
		if (!snap_peer(s, id))
			expect(r, 0, 1, 1);
		if (lt_chance(rng, 3, 10)) {
			r->want_node_port = lt_chance(rng, 1, 3) ?
				LAMPORT_DEFAULT_PORT + (uint16_t)lt_below(rng, 2) :
				(uint16_t)lt_range(rng, 1024, 65535);
			put_u16(r, LAMPORT_A_NODE_PORT, r->want_node_port);
			r->nallow = 0;	/* binding may fail */
		}
		if (lt_chance(rng, 1, 10)) {
			k = lt_below(rng, 4);
			put_item(r, LAMPORT_A_NODE_ADDR, bind_addrs[k],
				 k & 1 ? 16 : 4);
			r->nallow = 0;	/* binding may fail */
		}
		break;
	}
	case S_PEER_ADD:
		exists = s->npeers && lt_chance(rng, 1, 5);
		if (exists)
			id = any_peer_id(rng, s);
		else if (lt_chance(rng, 1, 20))
			id = s->node.id;
		else
			id = unused_id(rng, s);
		put_u32(r, LAMPORT_A_PEER_ID, id);
		r->want.id = id;
		r->want.present = 1u << LAMPORT_A_PEER_ID;
		put_peer_fields(rng, s, r, 50, 100, &family_ok);
		if (!family_ok || id == s->node.id)
			break;		/* the API does not say */
		if (exists) {
			expect(r, -EEXIST, 1, 1);
		} else if (s->npeers < LAMPORT_PEERS_MAX) {
			expect(r, 0, 1, 1);
			r->check = true;
		}
		break;
	case S_PEER_DEL:
		exists = s->npeers && lt_chance(rng, 17, 20);
		id = exists ? any_peer_id(rng, s) : unused_id(rng, s);
		put_u32(r, LAMPORT_A_PEER_ID, id);
		r->want.id = id;
		if (exists) {
			expect(r, 0, 1, 1);
			r->check = true;
		} else {
			expect(r, -ENOENT, 1, 1);
		}
		break;
	case S_PEER_SET:
		exists = s->npeers && lt_chance(rng, 17, 20);
		id = exists ? any_peer_id(rng, s) : unused_id(rng, s);
		put_u32(r, LAMPORT_A_PEER_ID, id);
		r->want.id = id;
		r->want.present = 1u << LAMPORT_A_PEER_ID;
		put_peer_fields(rng, s, r, 40, 20, &family_ok);
		if (r->n == 1) {
			r->want.interval_us = valid_interval(rng, s);
			put_u32(r, LAMPORT_A_PEER_INTERVAL_US, r->want.interval_us);
			r->want.present |= 1u << LAMPORT_A_PEER_INTERVAL_US;
		}
		if (!exists) {
			expect(r, -ENOENT, 1, 1);
		} else if (family_ok) {
			expect(r, 0, 1, 1);
			r->check = true;
		}
		break;
	case S_PEER_GET:
		if (lt_chance(rng, 1, 2)) {
			r->flags = NLM_F_DUMP;
			r->what = "dump";
			expect(r, 0, -EINTR, 1);
			break;
		}
		exists = s->npeers && lt_chance(rng, 4, 5);
		id = exists ? any_peer_id(rng, s) : unused_id(rng, s);
		put_u32(r, LAMPORT_A_PEER_ID, id);
		if (exists)
			expect(r, 0, 1, 1);
		else
			expect(r, -ENOENT, 1, 1);
		break;
	case S_UNKNOWN:
	case S_MAX:
		break;
	}
}

/*
 * Spoils a well-formed request in one way the API rejects: an unknown
 * attribute, one the command does not take, a wrong size, a value out of
 * range, or a required attribute left out.  The answer must then be
 * EINVAL or ERANGE, or the error the unspoilt request had.
 */
static bool mutate(struct lt_rng *rng, struct request *r)
{
	static const uint16_t u32_bad[] = { 0, 1, 2, 3, 5, 8 };
	static const uint16_t u16_bad[] = { 0, 1, 3, 4 };
	static const uint16_t u8_bad[] = { 0, 2, 4 };
	static const uint16_t addr_bad[] = { 0, 1, 3, 5, 8, 15, 17, 20 };
	int base = r->nallow == 1 && r->allow[0] < 0 ? r->allow[0] : 1;
	bool extra_enoent = false;
	uint8_t junk[24];
	struct item *it;
	uint16_t type;
	int i, size;

	lt_fill(rng, junk, sizeof(junk));
	switch (lt_below(rng, 5)) {
	case 0:	/* unknown attribute type */
		type = lt_chance(rng, 1, 4) ? LAMPORT_A_UNSPEC :
		       (uint16_t)lt_range(rng, LAMPORT_A_MAX + 1, ATTR_TYPE_TOP);
		put_item(r, type, junk, (uint16_t)lt_below(rng, 9));
		r->what = "well-formed + unknown attribute";
		break;
	case 1:	/* an attribute the command does not take */
		do {
			type = (uint16_t)lt_range(rng, LAMPORT_A_PAD, LAMPORT_A_MAX);
		} while (cmd_takes(r->cmd, type));
		size = attr_size(rng, type);
		put_item(r, type, junk, (uint16_t)(size > 0 ? size : 0));
		r->what = "well-formed + attribute the command does not take";
		break;
	case 2:	/* wrong size */
		if (!r->n)
			return false;
		it = &r->it[lt_below(rng, r->n)];
		switch (it->type) {
		case LAMPORT_A_NODE_ADDR:
		case LAMPORT_A_PEER_ADDR:
			it->len = addr_bad[lt_below(rng, LT_ARRAY_SIZE(addr_bad))];
			break;
		default:
			if (it->len == 4)
				it->len = u32_bad[lt_below(rng, LT_ARRAY_SIZE(u32_bad))];
			else if (it->len == 2)
				it->len = u16_bad[lt_below(rng, LT_ARRAY_SIZE(u16_bad))];
			else
				it->len = u8_bad[lt_below(rng, LT_ARRAY_SIZE(u8_bad))];
		}
		/* A short id may read as an unknown one first. */
		extra_enoent = it->type == LAMPORT_A_PEER_ID;
		r->what = "well-formed with a wrong attribute size";
		break;
	case 3: {	/* out of range */
		static const uint32_t interval_bad[] = {
			0, LAMPORT_INTERVAL_MIN_US - 1, LAMPORT_INTERVAL_MAX_US + 1,
			0xffffffff,
		};
		static const uint32_t threshold_bad[] = {
			0, LAMPORT_THRESHOLD_MIN - 1, LAMPORT_THRESHOLD_MAX + 1,
			0xffffffff,
		};
		uint32_t v32;
		uint16_t v16 = 0;
		uint8_t v8;

		if (!r->n)
			return false;
		it = &r->it[lt_below(rng, r->n)];
		switch (it->type) {
		case LAMPORT_A_NODE_ID:
		case LAMPORT_A_PEER_ID:
			v32 = 0;
			memcpy(it->data, &v32, 4);
			extra_enoent = it->type == LAMPORT_A_PEER_ID;
			break;
		case LAMPORT_A_NODE_PORT:
		case LAMPORT_A_PEER_PORT:
			memcpy(it->data, &v16, 2);
			break;
		case LAMPORT_A_PEER_INTERVAL_US:
			v32 = interval_bad[lt_below(rng, 4)];
			memcpy(it->data, &v32, 4);
			break;
		case LAMPORT_A_PEER_THRESHOLD:
			v32 = threshold_bad[lt_below(rng, 4)];
			memcpy(it->data, &v32, 4);
			break;
		case LAMPORT_A_PEER_MULT:
			v8 = (uint8_t)lt_below(rng, LAMPORT_MULT_MIN);
			memcpy(it->data, &v8, 1);
			break;
		case LAMPORT_A_PEER_MODE:
			v8 = (uint8_t)lt_range(rng, LAMPORT_FD_PHI + 1, 255);
			memcpy(it->data, &v8, 1);
			break;
		default:	/* addresses: any 4 or 16 bytes are in range */
			return false;
		}
		r->what = "well-formed with a value out of range";
		break;
	}
	case 4:	/* a required attribute left out */
		if (r->cmd == LAMPORT_CMD_NODE_GET)
			return false;
		if (r->cmd == LAMPORT_CMD_PEER_ADD && lt_chance(rng, 1, 2))
			i = find_item(r, LAMPORT_A_PEER_ADDR);
		else if (r->cmd == LAMPORT_CMD_NODE_SET &&
			 find_item(r, LAMPORT_A_NODE_PORT) < 0 &&
			 find_item(r, LAMPORT_A_NODE_ADDR) < 0)
			/* NODE_SET needs something to set, not the id itself. */
			i = find_item(r, LAMPORT_A_NODE_ID);
		else if (r->cmd == LAMPORT_CMD_NODE_SET)
			return false;
		else
			i = find_item(r, LAMPORT_A_PEER_ID);
		if (i < 0)
			return false;
		remove_item(r, (unsigned int)i);
		r->what = "well-formed without a required attribute";
		break;
	}
	r->check = false;
	r->must_fail = r->nallow == 0;
	if (r->must_fail)
		return true;
	expect(r, -EINVAL, -ERANGE, base);
	if (extra_enoent && r->nallow < LT_ARRAY_SIZE(r->allow))
		r->allow[r->nallow++] = -ENOENT;
	return true;
}

/* Random attributes: any type, size, bytes; nests, lies and dumps. */
static void gen_garbage(struct lt_rng *rng, const struct snapshot *s,
			struct request *r)
{
	unsigned int i, n = lt_below(rng, 7), k, nin;
	uint8_t data[ITEM_DATA_MAX];
	uint16_t type, len;
	struct item *it;
	int size;

	r->what = "random attributes";
	if (lt_chance(rng, 1, 10))
		r->flags |= NLM_F_DUMP;
	if (lt_chance(rng, 1, 20))
		r->flags |= (uint16_t)(lt_below(rng, 16) << 8);
	for (i = 0; i < n; i++) {
		memset(data, 0, sizeof(data));
		if (lt_chance(rng, 1, 12)) {
			/* A nest of random attributes, flagged or not. */
			type = (uint16_t)lt_below(rng, ATTR_TYPE_TOP + 1);
			if (lt_chance(rng, 7, 10))
				type |= NLA_F_NESTED;
			nin = lt_below(rng, 4);
			len = 0;
			for (k = 0; k < nin; k++) {
				struct nlattr *in = (struct nlattr *)(data + len);
				uint16_t l = (uint16_t)lt_below(rng, 13);

				in->nla_type = (uint16_t)lt_below(rng, 20);
				in->nla_len = (uint16_t)(NLA_HDRLEN + l);
				lt_fill(rng, data + len + NLA_HDRLEN, l);
				len = (uint16_t)(len + NLA_ALIGN(NLA_HDRLEN + l));
			}
			it = put_item(r, type, data, len);
		} else {
			if (lt_chance(rng, 1, 2)) {
				do {
					type = (uint16_t)lt_range(rng, LAMPORT_A_PAD,
								  LAMPORT_A_MAX);
				} while (!cmd_takes(r->cmd, type) &&
					 lt_chance(rng, 9, 10));
			} else {
				type = (uint16_t)lt_below(rng, ATTR_TYPE_TOP + 1);
			}
			size = attr_size(rng, type);
			len = size >= 0 && lt_chance(rng, 1, 2) ?
			      (uint16_t)size : (uint16_t)lt_below(rng, 25);
			lt_fill(rng, data, len);
			if (len == size && lt_chance(rng, 3, 5)) {
				/* A value the API would take. */
				uint32_t v = 0;

				switch (type) {
				case LAMPORT_A_NODE_ID:
				case LAMPORT_A_PEER_ID:
					v = s->npeers && lt_chance(rng, 1, 2) ?
					    any_peer_id(rng, s) : unused_id(rng, s);
					break;
				case LAMPORT_A_PEER_INTERVAL_US:
					v = valid_interval(rng, s);
					break;
				case LAMPORT_A_PEER_THRESHOLD:
					v = valid_threshold(rng);
					break;
				case LAMPORT_A_PEER_MULT:
					v = valid_mult(rng);
					break;
				case LAMPORT_A_PEER_MODE:
				case LAMPORT_A_PEER_STATE:
					v = lt_below(rng, 2);
					break;
				case LAMPORT_A_NODE_PORT:
				case LAMPORT_A_PEER_PORT:
					v = lt_range(rng, 1, 65535);
					break;
				case LAMPORT_A_NODE_ADDR:
				case LAMPORT_A_PEER_ADDR:
					fresh_addr(rng, s, data, &len, len == 16);
					break;
				}
				if (len == 4 && type != LAMPORT_A_NODE_ADDR &&
				    type != LAMPORT_A_PEER_ADDR) {
					memcpy(data, &v, 4);
				} else if (len == 2) {
					uint16_t v16 = (uint16_t)v;

					memcpy(data, &v16, 2);
				} else if (len == 1) {
					data[0] = (uint8_t)v;
				}
			}
			if (lt_chance(rng, 1, 30))
				type |= NLA_F_NET_BYTEORDER;
			if (lt_chance(rng, 1, 30))
				type |= NLA_F_NESTED;
			it = put_item(r, type, data, len);
		}
		if (it && lt_chance(rng, 1, 20))
			it->lie = (int)lt_below(rng, 65);
	}
	expect_any(r);
}

static void gen_request(struct fuzz *f, struct request *r)
{
	struct lt_rng *rng = &f->rng;
	bool dump;

	memset(r, 0, sizeof(*r));
	r->slot = pick_slot(rng);
	r->cmd = r->slot == S_UNKNOWN ? unknown_cmd(rng) : slot_cmd[r->slot];
	if (r->slot != S_UNKNOWN && lt_chance(rng, 3, 5)) {
		gen_valid(rng, &f->cur, r);
		if (!(r->flags & NLM_F_DUMP) && lt_chance(rng, 7, 20))
			mutate(rng, r);
	} else {
		gen_garbage(rng, &f->cur, r);
	}

	/* What the generic netlink core itself answers. */
	dump = (r->flags & NLM_F_DUMP) == NLM_F_DUMP;
	if (r->slot == S_UNKNOWN) {
		r->must_fail = false;
		expect(r, -EOPNOTSUPP, 1, 1);
	} else if (!f->privileged && r->slot != S_NODE_GET &&
		   r->slot != S_PEER_GET) {
		/* Refused before any attribute is looked at. */
		r->must_fail = false;
		r->check = false;
		if (dump)	/* no dump handler: may be refused first */
			expect(r, -EPERM, -EOPNOTSUPP, 1);
		else
			expect(r, -EPERM, 1, 1);
	}
}

static struct nlmsghdr *serialize(struct lnl *nl, void *buf,
				  const struct request *r)
{
	struct nlmsghdr *nlh = lnl_msg(nl, buf, r->cmd, r->flags);
	struct nlattr *a;
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		a = mnl_nlmsg_get_payload_tail(nlh);
		mnl_attr_put(nlh, r->it[i].type, r->it[i].len, r->it[i].data);
		if (r->it[i].lie >= 0)
			a->nla_len = (uint16_t)r->it[i].lie;
	}
	return nlh;
}

static void describe(char *out, size_t size, const struct request *r)
{
	size_t off;
	unsigned int i;

	off = (size_t)snprintf(out, size, "%s cmd %u flags 0x%x (%s):",
			       slot_names[r->slot], r->cmd, r->flags, r->what);
	for (i = 0; i < r->n && off < size; i++) {
		off += (size_t)snprintf(out + off, size - off, " %u/%u",
					r->it[i].type, r->it[i].len);
		if (r->it[i].lie >= 0 && off < size)
			off += (size_t)snprintf(out + off, size - off,
						"(nla_len %d)", r->it[i].lie);
	}
}

static bool allowed(const struct request *r, int err)
{
	unsigned int high = r->flags & 0xf00;
	unsigned int i;

	/*
	 * Generic netlink refuses request flags other than a whole NLM_F_DUMP
	 * ("ambiguous or reserved bits set in nlmsg_flags") before it looks
	 * at the command, its permissions or its attributes.
	 */
	if (high && high != NLM_F_DUMP && err == -EINVAL)
		return true;
	if (r->must_fail)
		return err < 0;
	if (!r->nallow)
		return true;
	for (i = 0; i < r->nallow; i++)
		if (r->allow[i] == err)
			return true;
	return false;
}

/* An accepted well-formed request did what it asked, and nothing else. */
static void check_applied(struct __test_metadata *_metadata,
			  const struct request *r, const struct snapshot *old,
			  const struct snapshot *now)
{
	const struct lt_peer_conf *w = &r->want;
	const struct lt_peer *before, *after;
	unsigned int i;

	switch (r->cmd) {
	case LAMPORT_CMD_NODE_SET:
		EXPECT_EQ(r->want_node_id, now->node.id);
		if (r->want_node_port)
			EXPECT_EQ(r->want_node_port, now->node.port);
		EXPECT_EQ(old->npeers, now->npeers);
		break;
	case LAMPORT_CMD_PEER_DEL:
		EXPECT_EQ(NULL, snap_peer(now, w->id));
		EXPECT_EQ(old->npeers - 1, now->npeers);
		break;
	case LAMPORT_CMD_PEER_ADD:
	case LAMPORT_CMD_PEER_SET:
		after = snap_peer(now, w->id);
		before = snap_peer(old, w->id);
		ASSERT_NE(NULL, after) {
			TH_LOG("peer %u missing after an accepted request", w->id);
		}
		EXPECT_EQ(old->npeers + (r->cmd == LAMPORT_CMD_PEER_ADD),
			  now->npeers);
		if (w->present & (1u << LAMPORT_A_PEER_ADDR)) {
			EXPECT_EQ(w->addr_len, after->conf.addr_len);
			EXPECT_EQ(0, memcmp(w->addr, after->conf.addr, w->addr_len));
		}
		if (w->present & (1u << LAMPORT_A_PEER_PORT))
			EXPECT_EQ(w->port, after->conf.port);
		if (w->present & (1u << LAMPORT_A_PEER_INTERVAL_US))
			EXPECT_EQ(w->interval_us, after->conf.interval_us);
		if (w->present & (1u << LAMPORT_A_PEER_MULT))
			EXPECT_EQ(w->mult, after->conf.mult);
		if (w->present & (1u << LAMPORT_A_PEER_MODE))
			EXPECT_EQ(w->mode, after->conf.mode);
		if (w->present & (1u << LAMPORT_A_PEER_THRESHOLD))
			EXPECT_EQ(w->threshold, after->conf.threshold);
		if (r->cmd == LAMPORT_CMD_PEER_SET && before) {
			/* What was not sent stays as it was. */
			if (!(w->present & (1u << LAMPORT_A_PEER_ADDR)))
				EXPECT_EQ(0, memcmp(before->conf.addr,
						    after->conf.addr, 16));
			if (!(w->present & (1u << LAMPORT_A_PEER_PORT)))
				EXPECT_EQ(before->conf.port, after->conf.port);
			if (!(w->present & (1u << LAMPORT_A_PEER_INTERVAL_US)))
				EXPECT_EQ(before->conf.interval_us,
					  after->conf.interval_us);
			if (!(w->present & (1u << LAMPORT_A_PEER_MULT)))
				EXPECT_EQ(before->conf.mult, after->conf.mult);
			if (!(w->present & (1u << LAMPORT_A_PEER_MODE)))
				EXPECT_EQ(before->conf.mode, after->conf.mode);
			if (!(w->present & (1u << LAMPORT_A_PEER_THRESHOLD)))
				EXPECT_EQ(before->conf.threshold,
					  after->conf.threshold);
		}
		break;
	}
	/* Every other peer is untouched. */
	for (i = 0; i < old->npeers; i++) {
		const struct lt_peer *p = &old->peers[i];

		if (p->conf.id == w->id)
			continue;
		after = snap_peer(now, p->conf.id);
		ASSERT_NE(NULL, after) {
			TH_LOG("peer %u vanished", p->conf.id);
		}
		EXPECT_EQ(0, memcmp(&p->conf, &after->conf, sizeof(p->conf))) {
			TH_LOG("peer %u changed", p->conf.id);
		}
	}
}

/* Deletes peers until no more than PEERS_KEPT remain. */
static void bound_peers(struct __test_metadata *_metadata, struct fuzz *f)
{
	uint32_t id;
	int err;

	while (f->cur.npeers > PEERS_KEPT) {
		id = any_peer_id(&f->rng, &f->cur);
		err = lt_peer_del(f->nl, id);
		ASSERT_EQ(0, err) {
			TH_LOG("deleting peer %u: %s (%s)", id, strerror(-err),
			       f->nl->err_msg);
		}
		f->bounded++;
		snap_take(_metadata, f->nl, &f->cur);
	}
}

static void fuzz_one(struct __test_metadata *_metadata, struct fuzz *f,
		     unsigned int iter)
{
	alignas(struct nlmsghdr) static char buf[LNL_MSG_SIZE];
	static struct snapshot after;
	char desc[512], err_msg[sizeof(f->nl->err_msg)];
	struct request r;
	struct nlmsghdr *nlh;
	bool read_only;
	int err;

	gen_request(f, &r);
	describe(desc, sizeof(desc), &r);
	nlh = serialize(f->nl, buf, &r);
	err = lnl_talk(f->nl, nlh, NULL, NULL);
	memcpy(err_msg, f->nl->err_msg, sizeof(err_msg));

	ASSERT_TRUE(allowed(&r, err)) {
		char want[64] = "any error";
		unsigned int i, off = 0;

		for (i = 0; i < r.nallow && !r.must_fail; i++)
			off += (unsigned int)snprintf(want + off, sizeof(want) - off,
						      "%s%d", i ? " or " : "",
						      r.allow[i]);
		TH_LOG("iteration %u: %s", iter, desc);
		TH_LOG("answered %d (%s) \"%s\", must be %s", err,
		       strerror(-err), err_msg, want);
	}

	snap_take(_metadata, f->nl, &after);
	/* An interrupted dump was still a read that worked. */
	read_only = r.cmd == LAMPORT_CMD_NODE_GET ||
		    r.cmd == LAMPORT_CMD_PEER_GET || !f->privileged;
	if (err == 0 || (err == -EINTR && (r.flags & NLM_F_DUMP))) {
		f->accepted[r.slot]++;
		if (read_only) {
			ASSERT_TRUE(snap_equal(&f->cur, &after)) {
				TH_LOG("iteration %u: a read changed the state: %s",
				       iter, desc);
				snap_log(_metadata, "before", &f->cur);
				snap_log(_metadata, "after", &after);
			}
		} else if (r.check) {
			check_applied(_metadata, &r, &f->cur, &after);
			ASSERT_EQ(KSFT_PASS, _metadata->exit_code) {
				TH_LOG("iteration %u: %s", iter, desc);
				snap_log(_metadata, "before", &f->cur);
				snap_log(_metadata, "after", &after);
			}
		}
		f->cur = after;
		bound_peers(_metadata, f);
		return;
	}

	f->rejected[r.slot]++;
	ASSERT_TRUE(snap_equal(&f->cur, &after)) {
		TH_LOG("iteration %u: rejected (%d, \"%s\") but changed the state: %s",
		       iter, err, err_msg, desc);
		snap_log(_metadata, "before", &f->cur);
		snap_log(_metadata, "after", &after);
	}
	if (err == -EINVAL || err == -ERANGE || err == -EEXIST ||
	    err == -ENOENT) {
		ASSERT_NE(0U, strlen(err_msg)) {
			TH_LOG("iteration %u: %s (%d) without an extack message: %s",
			       iter, strerror(-err), err, desc);
		}
	}
}

static void fuzz_run(struct __test_metadata *_metadata, struct lnl *nl,
		     bool privileged)
{
	static struct fuzz f;
	unsigned int iters = lt_scaled(FUZZ_ITERATIONS), i;
	uint64_t seed = lt_seed_from_env("LAMPORT_FUZZ_SEED");
	struct snapshot initial;
	struct lt_node node;

	memset(&f, 0, sizeof(f));
	f.nl = nl;
	f.privileged = privileged;
	lt_rng_seed(&f.rng, seed);
	TH_LOG("LAMPORT_FUZZ_SEED=%llu, %u iterations, %s",
	       (unsigned long long)seed, iters,
	       privileged ? "CAP_NET_ADMIN" : "no capabilities");

	snap_take(_metadata, nl, &f.cur);
	initial = f.cur;
	for (i = 0; i < iters; i++)
		fuzz_one(_metadata, &f, i);

	for (i = 0; i < S_MAX; i++)
		TH_LOG("%-8s accepted %4u rejected %4u", slot_names[i],
		       f.accepted[i], f.rejected[i]);
	TH_LOG("%u peers at the end, %u deleted to stay within %u",
	       f.cur.npeers, f.bounded, PEERS_KEPT);

	/* The socket still works, and the node is still there. */
	ASSERT_EQ(0, lt_node_get(nl, &node));
	ASSERT_TRUE(node.has_id);
	EXPECT_NE(0U, node.id);
	EXPECT_EQ(0U, f.accepted[S_UNKNOWN]);

	if (privileged) {
		/* The generator reached both sides of the commands that matter. */
		EXPECT_LT(0U, f.accepted[S_NODE_SET]);
		EXPECT_LT(0U, f.rejected[S_NODE_SET]);
		EXPECT_LT(0U, f.accepted[S_PEER_ADD]);
		EXPECT_LT(0U, f.rejected[S_PEER_ADD]);
		EXPECT_LT(0U, f.accepted[S_PEER_SET]);
		EXPECT_LT(0U, f.rejected[S_PEER_SET]);
		EXPECT_GE(PEERS_KEPT, f.cur.npeers);
	} else {
		EXPECT_EQ(0U, f.accepted[S_NODE_SET]);
		EXPECT_EQ(0U, f.accepted[S_PEER_ADD]);
		EXPECT_EQ(0U, f.accepted[S_PEER_DEL]);
		EXPECT_EQ(0U, f.accepted[S_PEER_SET]);
		EXPECT_LT(0U, f.rejected[S_NODE_SET]);
		EXPECT_LT(0U, f.rejected[S_PEER_ADD]);
		EXPECT_LT(0U, f.rejected[S_PEER_SET]);
		EXPECT_TRUE(snap_equal(&initial, &f.cur));
	}
}

FIXTURE(fuzz) {
	struct lnl nl;
};

/* A node with an id and three peers at addresses that exist nowhere. */
FIXTURE_SETUP(fuzz)
{
	static const uint8_t addrs[3][4] = {
		{ 198, 18, 0, 1 }, { 198, 18, 0, 2 }, { 198, 18, 0, 3 },
	};
	struct lt_peer_cfg cfg = {
		.addr_len = 4,
		.interval_us = 1000000,
	};
	unsigned int i;
	int fd;

	fd = lt_netns_new();
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, lnl_open(&self->nl));
	ASSERT_EQ(0, lt_node_set(&self->nl, 1000, 0, NULL, 0));
	for (i = 0; i < 3; i++) {
		cfg.id = 1001 + i;
		cfg.addr = addrs[i];
		ASSERT_EQ(0, lt_peer_add(&self->nl, &cfg)) {
			TH_LOG("PEER_ADD %u: %s", cfg.id, self->nl.err_msg);
		}
	}
}

FIXTURE_TEARDOWN(fuzz)
{
	lnl_close(&self->nl);
}

TEST_F_TIMEOUT(fuzz, privileged, 300)
{
	fuzz_run(_metadata, &self->nl, true);
}

TEST_F_TIMEOUT(fuzz, unprivileged, 300)
{
	ASSERT_EQ(0, lt_drop_all_capabilities());
	fuzz_run(_metadata, &self->nl, false);
}

TEST_HARNESS_MAIN
