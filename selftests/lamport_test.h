/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the lamport selftests: reading a node and its peers
 * back in full, configuring them, a small deterministic PRNG, namespaces,
 * capabilities and the few rtnetlink requests that build a veth pair.
 *
 * Everything here is static inline so that a test includes what it uses
 * without "defined but not used" warnings; nothing here asserts: helpers
 * return 0 or -errno and the tests decide.
 */
#ifndef LAMPORT_SELFTEST_H
#define LAMPORT_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/lamport.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <libmnl/libmnl.h>

#include "nl.h"

#define LT_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- environment ------------------------------------------------------ */

/* The KASAN/lockdep guest kernel: scale iteration counts, never assertions. */
static inline bool lt_debug_kernel(void)
{
	const char *v = getenv("LAMPORT_DEBUG_KERNEL");

	return v && *v && strcmp(v, "0") != 0;
}

/* n, or n / 5 (at least 1) on the debug kernel. */
static inline unsigned int lt_scaled(unsigned int n)
{
	if (!lt_debug_kernel())
		return n;
	return n / 5 ? n / 5 : 1;
}

static inline uint64_t lt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void lt_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- deterministic PRNG (splitmix64) ---------------------------------- */

struct lt_rng {
	uint64_t state;
};

static inline void lt_rng_seed(struct lt_rng *r, uint64_t seed)
{
	r->state = seed;
}

static inline uint64_t lt_rand64(struct lt_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint32_t lt_rand32(struct lt_rng *r)
{
	return (uint32_t)(lt_rand64(r) >> 32);
}

/* Uniform in 0..n-1; n == 0 gives 0. */
static inline uint32_t lt_below(struct lt_rng *r, uint32_t n)
{
	return n ? (uint32_t)(((lt_rand64(r) >> 32) * n) >> 32) : 0;
}

/* Uniform in lo..hi, both included. */
static inline uint32_t lt_range(struct lt_rng *r, uint32_t lo, uint32_t hi)
{
	uint64_t span = (uint64_t)hi - lo + 1;

	return lo + (uint32_t)((lt_rand64(r) >> 11) % span);
}

/* True with probability num/den. */
static inline bool lt_chance(struct lt_rng *r, uint32_t num, uint32_t den)
{
	return lt_below(r, den) < num;
}

static inline void lt_fill(struct lt_rng *r, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)lt_rand64(r);
}

/*
 * The seed of a test: $name (decimal or 0x-hex) when set, else one that
 * differs from run to run.  Tests print it so that a failure reproduces.
 */
static inline uint64_t lt_seed_from_env(const char *name)
{
	const char *v = getenv(name);
	struct timespec ts;

	if (v && *v)
		return strtoull(v, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
	       ((uint64_t)getpid() << 16);
}

/* ---- privileges and namespaces ---------------------------------------- */

/* Drops every capability of the calling thread (effective and permitted). */
static inline int lt_drop_all_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};

	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* Enters a new network namespace and returns an fd of it, or -errno. */
static inline int lt_netns_new(void)
{
	int fd;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static inline int lt_netns_enter(int fd)
{
	return setns(fd, CLONE_NEWNET) ? -errno : 0;
}

/* ---- reading a node back ---------------------------------------------- */

#define LT_CONF_MAX	512

struct lt_node {
	bool has_id, has_port, has_addr, has_stats;
	uint32_t id;
	uint16_t port;
	uint16_t addr_len;
	uint8_t addr[16];
	bool has_stat[LAMPORT_NODE_STAT_MAX + 1];
	uint64_t stat[LAMPORT_NODE_STAT_MAX + 1];
	/*
	 * Every top-level attribute of the reply except NODE_STATS and PAD,
	 * as the kernel sent it (header and payload): what a comparison of
	 * the node's configuration looks at.
	 */
	size_t conf_len;
	uint8_t conf[LT_CONF_MAX];
};

static inline const char *lt_node_stat_name(unsigned int i)
{
	static const char *const names[LAMPORT_NODE_STAT_MAX + 1] = {
		[LAMPORT_NODE_STAT_RX]			= "RX",
		[LAMPORT_NODE_STAT_TX]			= "TX",
		[LAMPORT_NODE_STAT_TX_ERRORS]		= "TX_ERRORS",
		[LAMPORT_NODE_STAT_DROP_SHORT]		= "DROP_SHORT",
		[LAMPORT_NODE_STAT_DROP_MAGIC]		= "DROP_MAGIC",
		[LAMPORT_NODE_STAT_DROP_VERSION]	= "DROP_VERSION",
		[LAMPORT_NODE_STAT_DROP_TYPE]		= "DROP_TYPE",
		[LAMPORT_NODE_STAT_DROP_LENGTH]		= "DROP_LENGTH",
		[LAMPORT_NODE_STAT_DROP_SENDER]		= "DROP_SENDER",
		[LAMPORT_NODE_STAT_DROP_ADDR]		= "DROP_ADDR",
		[LAMPORT_NODE_STAT_DROP_RECEIVER]	= "DROP_RECEIVER",
	};

	return i < LT_ARRAY_SIZE(names) && names[i] ? names[i] : "?";
}

/* Stores a u64 counter of a stats nest; PAD and unknown counters are skipped. */
static inline int lt_put_stat(const struct nlattr *a, unsigned int max,
			      bool *has, uint64_t *val)
{
	uint16_t t = mnl_attr_get_type(a);

	if (t > max || t < 2)	/* UNSPEC, PAD, or newer than this test */
		return 0;
	if (mnl_attr_get_payload_len(a) != sizeof(uint64_t)) {
		errno = EPROTO;
		return -1;
	}
	has[t] = true;
	memcpy(&val[t], mnl_attr_get_payload(a), sizeof(uint64_t));
	return 0;
}

/* A reply attribute has the wrong size: fail the request with -EPROTO. */
static inline int lt_bad_reply(void)
{
	errno = EPROTO;
	return MNL_CB_ERROR;
}

static inline int lt_node_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lt_node *n = data;
	const struct nlattr *a, *s;
	uint16_t t, len;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		t = mnl_attr_get_type(a);
		len = mnl_attr_get_payload_len(a);
		switch (t) {
		case LAMPORT_A_NODE_ID:
			if (len != 4)
				return lt_bad_reply();
			n->has_id = true;
			n->id = mnl_attr_get_u32(a);
			break;
		case LAMPORT_A_NODE_PORT:
			if (len != 2)
				return lt_bad_reply();
			n->has_port = true;
			n->port = mnl_attr_get_u16(a);
			break;
		case LAMPORT_A_NODE_ADDR:
			if (len != 4 && len != 16)
				return lt_bad_reply();
			n->has_addr = true;
			n->addr_len = len;
			memcpy(n->addr, mnl_attr_get_payload(a), len);
			break;
		case LAMPORT_A_NODE_STATS:
			n->has_stats = true;
			mnl_attr_for_each_nested(s, a) {
				if (lt_put_stat(s, LAMPORT_NODE_STAT_MAX,
						n->has_stat, n->stat))
					return MNL_CB_ERROR;
			}
			continue;	/* not configuration */
		case LAMPORT_A_PAD:
			continue;
		}
		if (n->conf_len + a->nla_len > sizeof(n->conf))
			return lt_bad_reply();
		memcpy(n->conf + n->conf_len, a, a->nla_len);
		n->conf_len += a->nla_len;
	}
	return MNL_CB_OK;
}

/* NODE_GET: fills *n (cleared first).  Returns 0 or -errno. */
static inline int lt_node_get(struct lnl *nl, struct lt_node *n)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh = lnl_msg(nl, buf, LAMPORT_CMD_NODE_GET, 0);

	memset(n, 0, sizeof(*n));
	return lnl_talk(nl, nlh, lt_node_cb, n);
}

/* ---- reading peers back ----------------------------------------------- */

/* The configuration of a peer as PEER_GET reports it; zero-filled. */
struct lt_peer_conf {
	uint32_t present;	/* bit (1 << LAMPORT_A_PEER_*) per attribute */
	uint32_t id;
	uint16_t addr_len;
	uint16_t port;
	uint8_t addr[16];
	uint32_t interval_us;
	uint32_t threshold;
	uint8_t mult;
	uint8_t mode;
	uint8_t pad_[2];	/* keeps memcmp() of two confs meaningful */
};

#define LT_PEER_CONF_ATTRS \
	((1u << LAMPORT_A_PEER_ID) | (1u << LAMPORT_A_PEER_ADDR) | \
	 (1u << LAMPORT_A_PEER_PORT) | (1u << LAMPORT_A_PEER_INTERVAL_US) | \
	 (1u << LAMPORT_A_PEER_MULT) | (1u << LAMPORT_A_PEER_MODE) | \
	 (1u << LAMPORT_A_PEER_THRESHOLD))

struct lt_peer {
	struct lt_peer_conf conf;
	bool has_state, has_stats;
	uint8_t state;
	bool has_stat[LAMPORT_PEER_STAT_MAX + 1];
	uint64_t stat[LAMPORT_PEER_STAT_MAX + 1];
};

static inline const char *lt_peer_state_name(unsigned int s)
{
	static const char *const names[] = {
		[LAMPORT_PEER_UNKNOWN]	= "unknown",
		[LAMPORT_PEER_ALIVE]	= "alive",
		[LAMPORT_PEER_SUSPECT]	= "suspect",
		[LAMPORT_PEER_DEAD]	= "dead",
	};

	return s < LT_ARRAY_SIZE(names) ? names[s] : "?";
}

/* Parses one PEER_GET message into *p (cleared first). */
static inline int lt_peer_parse(const struct nlmsghdr *nlh, struct lt_peer *p)
{
	const struct nlattr *a, *s;
	uint16_t t, len;

	memset(p, 0, sizeof(*p));
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		t = mnl_attr_get_type(a);
		len = mnl_attr_get_payload_len(a);
		switch (t) {
		case LAMPORT_A_PEER_ID:
			if (len != 4)
				return lt_bad_reply();
			p->conf.id = mnl_attr_get_u32(a);
			break;
		case LAMPORT_A_PEER_ADDR:
			if (len != 4 && len != 16)
				return lt_bad_reply();
			p->conf.addr_len = len;
			memcpy(p->conf.addr, mnl_attr_get_payload(a), len);
			break;
		case LAMPORT_A_PEER_PORT:
			if (len != 2)
				return lt_bad_reply();
			p->conf.port = mnl_attr_get_u16(a);
			break;
		case LAMPORT_A_PEER_INTERVAL_US:
			if (len != 4)
				return lt_bad_reply();
			p->conf.interval_us = mnl_attr_get_u32(a);
			break;
		case LAMPORT_A_PEER_MULT:
			if (len != 1)
				return lt_bad_reply();
			p->conf.mult = mnl_attr_get_u8(a);
			break;
		case LAMPORT_A_PEER_MODE:
			if (len != 1)
				return lt_bad_reply();
			p->conf.mode = mnl_attr_get_u8(a);
			break;
		case LAMPORT_A_PEER_THRESHOLD:
			if (len != 4)
				return lt_bad_reply();
			p->conf.threshold = mnl_attr_get_u32(a);
			break;
		case LAMPORT_A_PEER_STATE:
			if (len != 1)
				return lt_bad_reply();
			p->has_state = true;
			p->state = mnl_attr_get_u8(a);
			continue;
		case LAMPORT_A_PEER_STATS:
			p->has_stats = true;
			mnl_attr_for_each_nested(s, a) {
				if (lt_put_stat(s, LAMPORT_PEER_STAT_MAX,
						p->has_stat, p->stat))
					return MNL_CB_ERROR;
			}
			continue;
		default:
			continue;
		}
		p->conf.present |= 1u << t;
	}
	return MNL_CB_OK;
}

static inline int lt_peer_cb(const struct nlmsghdr *nlh, void *data)
{
	return lt_peer_parse(nlh, data);
}

/* PEER_GET of one peer.  Returns 0 or -errno (-ENOENT: no such peer). */
static inline int lt_peer_get(struct lnl *nl, uint32_t id, struct lt_peer *p)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh = lnl_msg(nl, buf, LAMPORT_CMD_PEER_GET, 0);

	memset(p, 0, sizeof(*p));
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, id);
	return lnl_talk(nl, nlh, lt_peer_cb, p);
}

struct lt_peer_list {
	struct lt_peer *peers;
	unsigned int max, n;
};

static inline int lt_peer_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lt_peer_list *l = data;

	if (l->n >= l->max) {
		errno = E2BIG;
		return MNL_CB_ERROR;
	}
	if (lt_peer_parse(nlh, &l->peers[l->n]) != MNL_CB_OK)
		return MNL_CB_ERROR;
	l->n++;
	return MNL_CB_OK;
}

static inline int lt_peer_cmp(const void *a, const void *b)
{
	const struct lt_peer *x = a, *y = b;

	return x->conf.id < y->conf.id ? -1 : x->conf.id > y->conf.id;
}

/*
 * A PEER_GET dump into peers[0..max-1], sorted by id; *n is the count.
 * An interrupted dump is retried.  Returns 0 or -errno (-E2BIG: more
 * than max peers).
 */
static inline int lt_peer_dump(struct lnl *nl, struct lt_peer *peers,
			       unsigned int max, unsigned int *n)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct lt_peer_list l = { .peers = peers, .max = max };
	struct nlmsghdr *nlh;
	int err, tries = 0;

	do {
		l.n = 0;
		nlh = lnl_msg(nl, buf, LAMPORT_CMD_PEER_GET, NLM_F_DUMP);
		err = lnl_talk(nl, nlh, lt_peer_list_cb, &l);
	} while (err == -EINTR && ++tries < 10);
	*n = l.n;
	if (!err)
		qsort(peers, l.n, sizeof(*peers), lt_peer_cmp);
	return err;
}

/* ---- configuring ------------------------------------------------------ */

/* NODE_SET: port 0 and addr NULL leave those attributes out. */
static inline int lt_node_set(struct lnl *nl, uint32_t id, uint16_t port,
			      const void *addr, uint16_t addr_len)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh = lnl_msg(nl, buf, LAMPORT_CMD_NODE_SET, 0);

	mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, id);
	if (port)
		mnl_attr_put_u16(nlh, LAMPORT_A_NODE_PORT, port);
	if (addr)
		mnl_attr_put(nlh, LAMPORT_A_NODE_ADDR, addr_len, addr);
	return lnl_talk(nl, nlh, NULL, NULL);
}

/* What PEER_ADD/PEER_SET send: zero (or has_mode false) leaves it out. */
struct lt_peer_cfg {
	uint32_t id;
	const void *addr;
	uint16_t addr_len;
	uint16_t port;
	uint32_t interval_us;
	uint8_t mult;
	bool has_mode;
	uint8_t mode;
	uint32_t threshold;
};

static inline void lt_peer_cfg_put(struct nlmsghdr *nlh,
				   const struct lt_peer_cfg *c)
{
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, c->id);
	if (c->addr)
		mnl_attr_put(nlh, LAMPORT_A_PEER_ADDR, c->addr_len, c->addr);
	if (c->port)
		mnl_attr_put_u16(nlh, LAMPORT_A_PEER_PORT, c->port);
	if (c->interval_us)
		mnl_attr_put_u32(nlh, LAMPORT_A_PEER_INTERVAL_US, c->interval_us);
	if (c->mult)
		mnl_attr_put_u8(nlh, LAMPORT_A_PEER_MULT, c->mult);
	if (c->has_mode)
		mnl_attr_put_u8(nlh, LAMPORT_A_PEER_MODE, c->mode);
	if (c->threshold)
		mnl_attr_put_u32(nlh, LAMPORT_A_PEER_THRESHOLD, c->threshold);
}

static inline int lt_peer_add(struct lnl *nl, const struct lt_peer_cfg *c)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh = lnl_msg(nl, buf, LAMPORT_CMD_PEER_ADD, 0);

	lt_peer_cfg_put(nlh, c);
	return lnl_talk(nl, nlh, NULL, NULL);
}

static inline int lt_peer_set(struct lnl *nl, const struct lt_peer_cfg *c)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh = lnl_msg(nl, buf, LAMPORT_CMD_PEER_SET, 0);

	lt_peer_cfg_put(nlh, c);
	return lnl_talk(nl, nlh, NULL, NULL);
}

static inline int lt_peer_del(struct lnl *nl, uint32_t id)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh = lnl_msg(nl, buf, LAMPORT_CMD_PEER_DEL, 0);

	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, id);
	return lnl_talk(nl, nlh, NULL, NULL);
}

/* ---- rtnetlink: veth pairs, links, addresses -------------------------- */

/* Sends one rtnetlink request from the current netns and waits for its ACK. */
static inline int lt_rtnl_talk(struct nlmsghdr *nlh)
{
	alignas(struct nlmsghdr) char buf[8192];
	struct mnl_socket *sock;
	unsigned int portid;
	ssize_t len;
	int ret, err = 0;

	sock = mnl_socket_open(NETLINK_ROUTE);
	if (!sock)
		return -errno;
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(sock);
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		len = mnl_socket_recvfrom(sock, buf, sizeof(buf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		ret = mnl_cb_run(buf, len, nlh->nlmsg_seq, portid, NULL, NULL);
		if (ret == MNL_CB_ERROR) {
			err = errno ? -errno : -EPROTO;
			break;
		}
		if (ret == MNL_CB_STOP)
			break;
	}
out:
	mnl_socket_close(sock);
	return err;
}

static inline struct nlmsghdr *lt_rtnl_msg(void *buf, size_t size,
					   uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

/*
 * Creates the veth pair name <-> peer in the current netns, with peer moved
 * into the netns of peer_netns_fd (-1: stays here).
 */
/* A bridge called name in the current netns. */
static inline int lt_bridge_add(const char *name)
{
	alignas(struct nlmsghdr) char buf[256];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *li;

	nlh = lt_rtnl_msg(buf, sizeof(buf), RTM_NEWLINK,
			  NLM_F_CREATE | NLM_F_EXCL);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, li);
	return lt_rtnl_talk(nlh);
}

static inline int lt_veth_add(const char *name, const char *peer,
			      int peer_netns_fd)
{
	alignas(struct nlmsghdr) char buf[1024];
	struct nlattr *linkinfo, *data, *peer_nest;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	nlh = lt_rtnl_msg(buf, sizeof(buf), RTM_NEWLINK,
			  NLM_F_CREATE | NLM_F_EXCL);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's own ifinfomsg, then its attributes. */
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(nlh, peer_nest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return lt_rtnl_talk(nlh);
}

/* Sets the link name of the current netns up. */
static inline int lt_link_up(const char *name)
{
	alignas(struct nlmsghdr) char buf[256];
	unsigned int index = if_nametoindex(name);
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (!index)
		return -errno;
	nlh = lt_rtnl_msg(buf, sizeof(buf), RTM_NEWLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)index;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	return lt_rtnl_talk(nlh);
}

/*
 * Adds addr/prefix (family AF_INET: 4 bytes, AF_INET6: 16 bytes) to the
 * link name of the current netns; IPv6 addresses skip DAD (nodad).
 */
static inline int lt_addr_add(const char *name, int family, const void *addr,
			      uint8_t prefix)
{
	alignas(struct nlmsghdr) char buf[256];
	unsigned int index = if_nametoindex(name);
	size_t len = family == AF_INET ? 4 : 16;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!index)
		return -errno;
	nlh = lt_rtnl_msg(buf, sizeof(buf), RTM_NEWADDR,
			  NLM_F_CREATE | NLM_F_EXCL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	if (family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, len, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, addr);
	return lt_rtnl_talk(nlh);
}

#endif /* LAMPORT_SELFTEST_H */
