// SPDX-License-Identifier: GPL-2.0
/*
 * AF_LAMPORT sockets: the family, bind/send errors, datagram semantics,
 * Lamport's clock rules, and SOCK_RDM's exactly-once delivery, flow and
 * congestion control, dead peers and teardown.
 *
 * Two fixtures:
 *  - node: one fresh network namespace, node id 1, no peers (local
 *    delivery only);
 *  - cluster: nodes 1..3, each in its own namespace on a bridge in a
 *    fourth one (the test's), full mesh of peers, all alive before a
 *    test starts. netem, when a test wants it, goes on every node's own
 *    link (v1..v3), so each packet, data or ack, meets it exactly once.
 *
 * On the debug kernel iteration counts shrink (lt_scaled) and waits grow
 * (wait_ms), never the assertions. Random choices come from LAMPORT_SEED
 * (printed) so that a failure reproduces.
 *
 * An EXPECT or ASSERT under if or for keeps its braces: the harness's
 * macros are more than one statement.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/genetlink.h>
#include <linux/lamport.h>
#include <linux/sockios.h>
#include <libmnl/libmnl.h>

#include "kselftest_harness.h"
#include "af_lamport.h"
#include "nl.h"
#include "lamport_test.h"

#define NODES		3
/*
 * Detection after 50 intervals (500 ms): no false death under netem or a
 * busy emulated guest; rdm_dead_peer waits for the real one.
 */
#define MULT		50
#define RX_PORT		7000
/* An skb holding one message, whatever the allocator did: for bounds. */
#define ONE_MSG_TRUESIZE_MAX	8192

_Static_assert(sizeof(struct sockaddr_lamport) == 8, "sockaddr_lamport is 8 bytes");

static const int types[] = { SOCK_DGRAM, SOCK_RDM };

static const char *type_name(int type)
{
	return type == SOCK_RDM ? "RDM" : "DGRAM";
}

/* ---- the family ------------------------------------------------------- */

/* The number lamport.ko registered the family on (user/af_lamport.h). */
static int fam;

/* ---- time ------------------------------------------------------------- */

static uint32_t interval_us(void)
{
	return lt_debug_kernel() ? 50000 : 10000;
}

static int detect_ms(void)
{
	return (int)(MULT * interval_us() / 1000);
}

/* A wait of ms on the stock kernels, five times that on the debug kernel. */
static int wait_ms(int ms)
{
	return lt_debug_kernel() ? 5 * ms : ms;
}

/* ---- addresses and sockets -------------------------------------------- */

static struct sockaddr_lamport slam(uint32_t node, uint16_t port)
{
	struct sockaddr_lamport a = {
		.slam_family = (__kernel_sa_family_t)fam,
		.slam_port = port,
		.slam_node = node,
	};

	return a;
}

static int lsocket(int type, int protocol)
{
	int fd = socket(fam, type, protocol);

	return fd < 0 ? -errno : fd;
}

static int bind_raw(int fd, const void *addr, socklen_t len)
{
	return bind(fd, addr, len) ? -errno : 0;
}

static int lbind(int fd, uint32_t node, uint16_t port)
{
	struct sockaddr_lamport a = slam(node, port);

	return bind_raw(fd, &a, sizeof(a));
}

static int lconnect(int fd, uint32_t node, uint16_t port)
{
	struct sockaddr_lamport a = slam(node, port);

	return connect(fd, (struct sockaddr *)&a, sizeof(a)) ? -errno : 0;
}

/* A socket bound to port (0: ephemeral) of this namespace's node. */
static int bound_socket(int type, uint16_t port)
{
	int fd = lsocket(type, 0), err;

	if (fd < 0)
		return fd;
	err = lbind(fd, 0, port);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* getsockname(); 0 or -errno. */
static int lname(int fd, struct sockaddr_lamport *a)
{
	socklen_t len = sizeof(*a);

	memset(a, 0, sizeof(*a));
	if (getsockname(fd, (struct sockaddr *)a, &len))
		return -errno;
	return len == sizeof(*a) ? 0 : -EPROTO;
}

/* The bound port, or -errno. */
static int lport(int fd)
{
	struct sockaddr_lamport a;
	int err = lname(fd, &a);

	return err ? err : a.slam_port;
}

static ssize_t sendto_raw(int fd, const void *buf, size_t len, int flags,
			  const void *addr, socklen_t alen)
{
	ssize_t n = sendto(fd, buf, len, flags, addr, alen);

	return n < 0 ? -errno : n;
}

static ssize_t lsend(int fd, uint32_t node, uint16_t port, const void *buf,
		     size_t len, int flags)
{
	struct sockaddr_lamport a = slam(node, port);

	return sendto_raw(fd, buf, len, flags, &a, sizeof(a));
}

/* What recvmsg() said besides the data. */
struct lmsg {
	struct sockaddr_lamport from;
	socklen_t fromlen;
	int flags;			/* msg_flags */
	bool stamped;			/* a LAMPORT_CMSG_STAMP came */
	struct lamport_stamp st;
};

static ssize_t lrecv(int fd, void *buf, size_t len, int flags, struct lmsg *m)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct lamport_stamp)) + 64];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	memset(m, 0, sizeof(*m));
	mh.msg_name = &m->from;
	mh.msg_namelen = sizeof(m->from);
	n = recvmsg(fd, &mh, flags);
	if (n < 0)
		return -errno;
	m->fromlen = mh.msg_namelen;
	m->flags = mh.msg_flags;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_LAMPORT ||
		    c->cmsg_type != LAMPORT_CMSG_STAMP ||
		    c->cmsg_len != CMSG_LEN(sizeof(m->st)))
			continue;
		memcpy(&m->st, CMSG_DATA(c), sizeof(m->st));
		m->stamped = true;
	}
	return n;
}

/* Waits up to ms for a message, then receives it without blocking. */
static ssize_t recv_wait(int fd, void *buf, size_t len, struct lmsg *m, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, ms);

	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return lrecv(fd, buf, len, MSG_DONTWAIT, m);
}

/* poll() revents of fd for events after up to ms, or -errno. */
static int poll_one(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, ms);

	return n < 0 ? -errno : n ? p.revents : 0;
}

static int lclock(int fd, uint64_t *clock)
{
	socklen_t len = sizeof(*clock);

	if (getsockopt(fd, SOL_LAMPORT, LAMPORT_CLOCK, clock, &len))
		return -errno;
	return len == sizeof(*clock) ? 0 : -EPROTO;
}

/* The clock, or UINT64_MAX when it cannot be read (then asserts fail). */
static uint64_t clock_of(int fd)
{
	uint64_t c;

	return lclock(fd, &c) ? UINT64_MAX : c;
}

static int ltick(int fd, bool with_value)
{
	int one = 1;

	if (with_value)
		return setsockopt(fd, SOL_LAMPORT, LAMPORT_TICK, &one,
				  sizeof(one)) ? -errno : 0;
	return setsockopt(fd, SOL_LAMPORT, LAMPORT_TICK, NULL, 0) ? -errno : 0;
}

static int so_error(int fd)
{
	socklen_t len = sizeof(int);
	int err = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return err;
}

static int so_get(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int v;

	return getsockopt(fd, SOL_SOCKET, opt, &v, &len) ? -errno : v;
}

static int so_set(int fd, int opt, int v)
{
	return setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) ? -errno : 0;
}

static bool same_addr(const struct sockaddr_lamport *a, uint32_t node,
		      uint16_t port)
{
	return a->slam_family == fam && a->slam_node == node &&
	       a->slam_port == port;
}

/* ---- LAMPORT_CMD_SOCK_GET --------------------------------------------- */

#define FLOWS_MAX	16

struct flow_info {
	uint8_t dir;
	uint32_t node;
	uint16_t port;
	bool has[LAMPORT_FLOW_STAT_MAX + 1];
	uint64_t stat[LAMPORT_FLOW_STAT_MAX + 1];
};

struct sock_info {
	uint8_t type;
	uint16_t port;
	uint64_t inode, clock;
	bool has[LAMPORT_SOCK_STAT_MAX + 1];
	uint64_t stat[LAMPORT_SOCK_STAT_MAX + 1];
	unsigned int nflows;		/* all of them; the first FLOWS_MAX kept */
	struct flow_info flow[FLOWS_MAX];
};

struct sock_dump {
	uint64_t inode;			/* the socket looked for, 0: none */
	unsigned int count;		/* sockets in the dump */
	bool found;
	struct sock_info info;
};

/* A u8/u16/u32/u64 attribute of exactly that size, or an EPROTO error. */
static int attr_uint(const struct nlattr *a, enum mnl_attr_data_type t,
		     uint64_t *v)
{
	if (mnl_attr_validate(a, t) < 0)
		return lt_bad_reply();
	switch (t) {
	case MNL_TYPE_U8:
		*v = mnl_attr_get_u8(a);
		break;
	case MNL_TYPE_U16:
		*v = mnl_attr_get_u16(a);
		break;
	case MNL_TYPE_U32:
		*v = mnl_attr_get_u32(a);
		break;
	default:
		*v = mnl_attr_get_u64(a);
		break;
	}
	return MNL_CB_OK;
}

static int flow_parse(const struct nlattr *nest, struct flow_info *f)
{
	const struct nlattr *a, *s;
	uint64_t v = 0;
	int err = MNL_CB_OK;

	memset(f, 0, sizeof(*f));
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case LAMPORT_A_FLOW_DIR:
			err = attr_uint(a, MNL_TYPE_U8, &v);
			f->dir = (uint8_t)v;
			break;
		case LAMPORT_A_FLOW_NODE:
			err = attr_uint(a, MNL_TYPE_U32, &v);
			f->node = (uint32_t)v;
			break;
		case LAMPORT_A_FLOW_PORT:
			err = attr_uint(a, MNL_TYPE_U16, &v);
			f->port = (uint16_t)v;
			break;
		case LAMPORT_A_FLOW_STATS:
			mnl_attr_for_each_nested(s, a)
				if (lt_put_stat(s, LAMPORT_FLOW_STAT_MAX,
						f->has, f->stat))
					return MNL_CB_ERROR;
			break;
		}
		if (err != MNL_CB_OK)
			return err;
	}
	return MNL_CB_OK;
}

static int sock_parse(const struct nlmsghdr *nlh, struct sock_info *s)
{
	const struct nlattr *a, *st;
	uint64_t v = 0;
	int err = MNL_CB_OK;

	memset(s, 0, sizeof(*s));
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		switch (mnl_attr_get_type(a)) {
		case LAMPORT_A_SOCK_TYPE:
			err = attr_uint(a, MNL_TYPE_U8, &v);
			s->type = (uint8_t)v;
			break;
		case LAMPORT_A_SOCK_PORT:
			err = attr_uint(a, MNL_TYPE_U16, &v);
			s->port = (uint16_t)v;
			break;
		case LAMPORT_A_SOCK_INODE:
			err = attr_uint(a, MNL_TYPE_U64, &s->inode);
			break;
		case LAMPORT_A_SOCK_CLOCK:
			err = attr_uint(a, MNL_TYPE_U64, &s->clock);
			break;
		case LAMPORT_A_SOCK_STATS:
			mnl_attr_for_each_nested(st, a)
				if (lt_put_stat(st, LAMPORT_SOCK_STAT_MAX,
						s->has, s->stat))
					return MNL_CB_ERROR;
			break;
		case LAMPORT_A_SOCK_FLOW:
			if (s->nflows < FLOWS_MAX)
				err = flow_parse(a, &s->flow[s->nflows]);
			s->nflows++;
			break;
		}
		if (err != MNL_CB_OK)
			return err;
	}
	return MNL_CB_OK;
}

static int sock_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sock_dump *d = data;
	struct sock_info s;

	if (sock_parse(nlh, &s) != MNL_CB_OK)
		return MNL_CB_ERROR;
	d->count++;
	if (d->inode && s.inode == d->inode) {
		d->info = s;
		d->found = true;
	}
	return MNL_CB_OK;
}

/* A SOCK_GET dump of nl's node, keeping the socket of inode. */
static int sock_dump(struct lnl *nl, uint64_t inode, struct sock_dump *d)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh;
	int err, tries = 0;

	do {
		memset(d, 0, sizeof(*d));
		d->inode = inode;
		nlh = lnl_msg(nl, buf, LAMPORT_CMD_SOCK_GET, NLM_F_DUMP);
		err = lnl_talk(nl, nlh, sock_dump_cb, d);
	} while (err == -EINTR && ++tries < 10);
	return err;
}

/* The dump entry of socket fd: 0, -ENOENT when it is not listed, -errno. */
static int sock_get(struct lnl *nl, int fd, struct sock_info *s)
{
	struct sock_dump d;
	struct stat st;
	int err;

	if (fstat(fd, &st))
		return -errno;
	err = sock_dump(nl, st.st_ino, &d);
	if (!err && !d.found)
		err = -ENOENT;
	if (!err)
		*s = d.info;
	return err;
}

/* Sockets the node lists, or -errno. */
static int sock_count(struct lnl *nl)
{
	struct sock_dump d;
	int err = sock_dump(nl, 0, &d);

	return err ? err : (int)d.count;
}

/* Waits up to ms for the node to list want sockets; the last count. */
static int wait_sock_count(struct lnl *nl, int want, int ms)
{
	uint64_t end = lt_now_ms() + (uint64_t)ms;
	int n;

	for (;;) {
		n = sock_count(nl);
		if (n == want || n < 0 || lt_now_ms() > end)
			return n;
		lt_sleep_ms(10);
	}
}

static const struct flow_info *find_flow(const struct sock_info *s,
					 uint8_t dir, uint32_t node,
					 uint16_t port)
{
	unsigned int i;

	for (i = 0; i < s->nflows && i < FLOWS_MAX; i++)
		if (s->flow[i].dir == dir && s->flow[i].node == node &&
		    s->flow[i].port == port)
			return &s->flow[i];
	return NULL;
}

/* The tx flow of socket fd to node:port; 0 or -errno (-ENOENT: none). */
static int tx_flow(struct lnl *nl, int fd, uint32_t node, uint16_t port,
		   struct flow_info *f)
{
	struct sock_info s;
	const struct flow_info *p;
	int err = sock_get(nl, fd, &s);

	if (err)
		return err;
	p = find_flow(&s, LAMPORT_FLOW_TX, node, port);
	if (!p)
		return -ENOENT;
	*f = *p;
	return 0;
}

/* ---- rtnetlink beyond lamport_test.h ---------------------------------- */

static int link_msg(char *buf, size_t size, const char *name,
		    struct nlmsghdr **nlhp)
{
	unsigned int index = if_nametoindex(name);
	struct ifinfomsg *ifm;

	if (!index)
		return -errno;
	*nlhp = lt_rtnl_msg(buf, size, RTM_NEWLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(*nlhp, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)index;
	return 0;
}

static int link_set_up(const char *name, bool up)
{
	alignas(struct nlmsghdr) char buf[256];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int err = link_msg(buf, sizeof(buf), name, &nlh);

	if (err)
		return err;
	ifm = mnl_nlmsg_get_payload(nlh);
	ifm->ifi_flags = up ? IFF_UP : 0;
	ifm->ifi_change = IFF_UP;
	return lt_rtnl_talk(nlh);
}

static int link_set_master(const char *name, const char *master)
{
	alignas(struct nlmsghdr) char buf[256];
	unsigned int m = if_nametoindex(master);
	struct nlmsghdr *nlh;
	int err;

	if (!m)
		return -errno;
	err = link_msg(buf, sizeof(buf), name, &nlh);
	if (err)
		return err;
	mnl_attr_put_u32(nlh, IFLA_MASTER, m);
	return lt_rtnl_talk(nlh);
}

/* ---- the node fixture -------------------------------------------------- */

#define NODE_ID	1

FIXTURE(node) {
	struct lnl nl;
};

FIXTURE_SETUP(node)
{
	fam = lamport_af_family();
	ASSERT_LT(0, fam) {
		TH_LOG("%s", lamport_af_strerror(fam));
	}
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, lt_link_up("lo"));
	ASSERT_EQ(0, lnl_open(&self->nl));
	ASSERT_EQ(0, lt_node_set(&self->nl, NODE_ID, 0, NULL, 0));
}

FIXTURE_TEARDOWN(node)
{
	lnl_close(&self->nl);
}

/* ---- the cluster fixture ---------------------------------------------- */

FIXTURE(cluster) {
	int home;			/* the bridge's namespace, the test's */
	int ns[NODES + 1];
	struct lnl nl[NODES + 1];
};

static int cluster_enter(FIXTURE_DATA(cluster) *self, int node)
{
	return lt_netns_enter(node ? self->ns[node] : self->home);
}

/* Addresses, the node id and the peers of node i, from its namespace. */
static int cluster_node_setup(FIXTURE_DATA(cluster) *self, int i)
{
	uint8_t ip[4] = { 198, 18, 0, (uint8_t)i };
	char dev[IFNAMSIZ];
	int err, back, j;

	snprintf(dev, sizeof(dev), "v%d", i);
	err = cluster_enter(self, i);
	if (!err)
		err = lt_addr_add(dev, AF_INET, ip, 24);
	if (!err)
		err = lt_link_up(dev);
	if (!err)
		err = lnl_open(&self->nl[i]);
	if (!err)
		err = lt_node_set(&self->nl[i], (uint32_t)i, 0, NULL, 0);
	for (j = 1; j <= NODES && !err; j++) {
		uint8_t pip[4] = { 198, 18, 0, (uint8_t)j };
		struct lt_peer_cfg c = {
			.id = (uint32_t)j, .addr = pip, .addr_len = 4,
			.interval_us = interval_us(), .mult = MULT,
		};

		if (j != i)
			err = lt_peer_add(&self->nl[i], &c);
	}
	back = cluster_enter(self, 0);
	return err ? err : back;
}

/* Polls until node's view of peer is state; 0 or -ETIMEDOUT after ms. */
static int wait_peer_state(FIXTURE_DATA(cluster) *self, int node, int peer,
			   uint8_t state, int ms)
{
	uint64_t end = lt_now_ms() + (uint64_t)ms;
	struct lt_peer p;
	int err;

	for (;;) {
		err = lt_peer_get(&self->nl[node], (uint32_t)peer, &p);
		if (err)
			return err;
		if (p.state == state)
			return 0;
		if (lt_now_ms() > end)
			return -ETIMEDOUT;
		lt_sleep_ms(2);
	}
}

FIXTURE_SETUP(cluster)
{
	char dev[IFNAMSIZ], port[IFNAMSIZ];
	int i, j;

	fam = lamport_af_family();
	ASSERT_LT(0, fam) {
		TH_LOG("%s", lamport_af_strerror(fam));
	}
	signal(SIGPIPE, SIG_IGN);
	self->home = lt_netns_new();
	ASSERT_LE(0, self->home);
	ASSERT_EQ(0, lt_bridge_add("br0"));
	ASSERT_EQ(0, lt_link_up("br0"));
	for (i = 1; i <= NODES; i++) {
		self->ns[i] = lt_netns_new();
		ASSERT_LE(0, self->ns[i]);
		ASSERT_EQ(0, lt_link_up("lo"));
		ASSERT_EQ(0, cluster_enter(self, 0));
		snprintf(dev, sizeof(dev), "v%d", i);
		snprintf(port, sizeof(port), "p%d", i);
		ASSERT_EQ(0, lt_veth_add(port, dev, self->ns[i]));
		ASSERT_EQ(0, link_set_master(port, "br0"));
		ASSERT_EQ(0, lt_link_up(port));
	}
	for (i = 1; i <= NODES; i++) {
		ASSERT_EQ(0, cluster_node_setup(self, i));
	}
	for (i = 1; i <= NODES; i++) {
		for (j = 1; j <= NODES; j++) {
			if (i == j)
				continue;
			ASSERT_EQ(0, wait_peer_state(self, i, j, LAMPORT_PEER_ALIVE,
						     wait_ms(5000))) {
				TH_LOG("node %d never saw node %d alive", i, j);
			}
		}
	}
}

FIXTURE_TEARDOWN(cluster)
{
	int i;

	/* The namespaces go with the test's process, sockets still open. */
	for (i = 1; i <= NODES; i++) {
		lnl_close(&self->nl[i]);
		if (self->ns[i] > 0)
			close(self->ns[i]);
	}
	if (self->home > 0)
		close(self->home);
}

/* A socket of node i: created in its namespace, it stays the node's. */
static int node_socket(FIXTURE_DATA(cluster) *self, int i, int type)
{
	int fd, err;

	err = cluster_enter(self, i);
	if (err)
		return err;
	fd = lsocket(type, 0);
	err = cluster_enter(self, 0);
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}

static int node_bound(FIXTURE_DATA(cluster) *self, int i, int type,
		      uint16_t port)
{
	int fd = node_socket(self, i, type), err;

	if (fd < 0)
		return fd;
	err = lbind(fd, 0, port);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int sh_in(FIXTURE_DATA(cluster) *self, int node, const char *fmt, ...)
{
	char cmd[256];
	va_list ap;
	int err, rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	err = cluster_enter(self, node);
	if (err)
		return err;
	rc = system(cmd);
	err = cluster_enter(self, 0);
	return rc ? -EIO : err;
}

/* netem on every node's link: each packet meets it once. */
static int netem_all(FIXTURE_DATA(cluster) *self, const char *opts)
{
	int i, err = 0;

	for (i = 1; i <= NODES && !err; i++)
		err = sh_in(self, i, "tc qdisc add dev v%d root netem %s", i, opts);
	return err;
}

/* Link v<node> up or down: down, the node is cut off the bridge. */
static int node_link(FIXTURE_DATA(cluster) *self, int node, bool up)
{
	char dev[IFNAMSIZ];
	int err, back;

	snprintf(dev, sizeof(dev), "v%d", node);
	err = cluster_enter(self, node);
	if (err)
		return err;
	err = link_set_up(dev, up);
	back = cluster_enter(self, 0);
	return err ? err : back;
}

/* ---- sequenced RDM transfers ------------------------------------------ */

#define TX_MAX	2

struct xfer_hdr {
	uint32_t sender;
	uint32_t seq;		/* from 1 */
};

/*
 * ntx senders each send messages 1..n to one receiver; every message's
 * length and bytes follow from (seed, sender, seq), so the receiver checks
 * order, exactly-once and content.
 */
struct xfer {
	uint64_t seed;
	uint32_t n;
	int ntx;
	int tx[TX_MAX];
	uint32_t tx_node[TX_MAX];
	uint16_t tx_port[TX_MAX];
	uint32_t sent[TX_MAX];		/* accepted by send() */
	uint64_t bytes[TX_MAX];		/* payload accepted */
	int rx;
	uint32_t rx_node;
	uint16_t rx_port;
	uint32_t got[TX_MAX];		/* delivered, all in order */
	uint32_t total;
	char why[192];			/* the first violation */
};

static size_t make_msg(uint64_t seed, uint32_t sender, uint32_t seq,
		       uint8_t *buf)
{
	struct xfer_hdr h = { .sender = sender, .seq = seq };
	struct lt_rng r;
	size_t len;

	lt_rng_seed(&r, seed ^ ((uint64_t)sender << 40) ^ seq);
	len = lt_range(&r, sizeof(h), LAMPORT_MSG_MAX);
	memcpy(buf, &h, sizeof(h));
	lt_fill(&r, buf + sizeof(h), len - sizeof(h));
	return len;
}

static size_t msg_len(uint64_t seed, uint32_t sender, uint32_t seq)
{
	uint8_t buf[LAMPORT_MSG_MAX];

	return make_msg(seed, sender, seq, buf);
}

static int xfer_fail(struct xfer *x, const char *fmt, ...)
{
	va_list ap;

	if (!x->why[0]) {
		va_start(ap, fmt);
		vsnprintf(x->why, sizeof(x->why), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Sender i sends until EAGAIN or all n are accepted; 0 or -1. */
static int xfer_send(struct xfer *x, int i)
{
	uint8_t buf[LAMPORT_MSG_MAX];
	size_t len;
	ssize_t n;

	while (x->sent[i] < x->n) {
		len = make_msg(x->seed, (uint32_t)i, x->sent[i] + 1, buf);
		n = lsend(x->tx[i], x->rx_node, x->rx_port, buf, len,
			  MSG_DONTWAIT);
		if (n == -EAGAIN)
			return 0;
		if (n != (ssize_t)len)
			return xfer_fail(x, "sender %d: send of seq %u: %s", i,
					 x->sent[i] + 1,
					 n < 0 ? strerror((int)-n) : "short");
		x->sent[i]++;
		x->bytes[i] += len;
	}
	return 0;
}

/* Receives all that is queued, checking each message; 0 or -1. */
static int xfer_recv(struct xfer *x)
{
	uint8_t buf[LAMPORT_MSG_MAX + 64], want[LAMPORT_MSG_MAX];
	struct xfer_hdr h;
	struct lmsg m;
	size_t len;
	ssize_t n;
	uint32_t i;

	for (;;) {
		n = lrecv(x->rx, buf, sizeof(buf), MSG_DONTWAIT, &m);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return xfer_fail(x, "recv: %s", strerror((int)-n));
		if (n < (ssize_t)sizeof(h))
			return xfer_fail(x, "a message of %zd bytes", n);
		memcpy(&h, buf, sizeof(h));
		i = h.sender;
		if (i >= (uint32_t)x->ntx)
			return xfer_fail(x, "a message from sender %u", i);
		if (!same_addr(&m.from, x->tx_node[i], x->tx_port[i]))
			return xfer_fail(x, "sender %u's message from %u:%u", i,
					 m.from.slam_node, m.from.slam_port);
		if (h.seq != x->got[i] + 1 || h.seq > x->sent[i])
			return xfer_fail(x, "sender %u: seq %u after %u (%s)",
					 i, h.seq, x->got[i],
					 h.seq <= x->got[i] ? "duplicate" :
					 h.seq > x->sent[i] ? "never sent" :
					 "out of order or lost");
		len = make_msg(x->seed, i, h.seq, want);
		if ((size_t)n != len || memcmp(buf, want, len))
			return xfer_fail(x, "sender %u seq %u: %zd bytes, %zu sent, content %s",
					 i, h.seq, n, len,
					 (size_t)n == len ? "differs" : "-");
		if (!m.stamped || (m.flags & MSG_TRUNC))
			return xfer_fail(x, "seq %u: no stamp or truncated", h.seq);
		x->got[i]++;
		x->total++;
	}
}

static bool xfer_done(const struct xfer *x)
{
	return x->total == (uint32_t)x->ntx * x->n;
}

/* Sends and receives until all n of every sender arrived; 0 or -1. */
static int xfer_run(struct xfer *x, int ms)
{
	uint64_t end = lt_now_ms() + (uint64_t)ms;
	struct pollfd p[TX_MAX + 1];
	int i, np;

	for (;;) {
		for (i = 0; i < x->ntx; i++)
			if (xfer_send(x, i))
				return -1;
		if (xfer_recv(x))
			return -1;
		if (xfer_done(x))
			return 0;
		if (lt_now_ms() > end)
			return xfer_fail(x, "timed out: %u of %u delivered, %u+%u sent",
					 x->total, x->ntx * x->n, x->sent[0],
					 x->ntx > 1 ? x->sent[1] : 0);
		np = 0;
		p[np++] = (struct pollfd){ .fd = x->rx, .events = POLLIN };
		for (i = 0; i < x->ntx; i++)
			if (x->sent[i] < x->n)
				p[np++] = (struct pollfd){ .fd = x->tx[i],
							   .events = POLLOUT };
		poll(p, (nfds_t)np, 10);
	}
}

/* After the last message: nothing more (no late duplicate) for ms. */
static int xfer_quiet(struct xfer *x, int ms)
{
	if (poll_one(x->rx, POLLIN, ms) > 0) {
		xfer_recv(x);
		return xfer_fail(x, "a message after the last one");
	}
	return 0;
}

/* Sets up x for senders at nodes tx_nodes[] to node rx_node:RX_PORT. */
static int xfer_setup(FIXTURE_DATA(cluster) *self, struct xfer *x, int ntx,
		      const int *tx_nodes, int rx_node, uint32_t n)
{
	int i, port;

	memset(x, 0, sizeof(*x));
	x->seed = lt_seed_from_env("LAMPORT_SEED");
	x->n = n;
	x->ntx = ntx;
	x->rx_node = (uint32_t)rx_node;
	x->rx_port = RX_PORT;
	x->rx = node_bound(self, rx_node, SOCK_RDM, RX_PORT);
	if (x->rx < 0)
		return x->rx;
	for (i = 0; i < ntx; i++) {
		x->tx[i] = node_bound(self, tx_nodes[i], SOCK_RDM, 0);
		if (x->tx[i] < 0)
			return x->tx[i];
		port = lport(x->tx[i]);
		if (port < 0)
			return port;
		x->tx_node[i] = (uint32_t)tx_nodes[i];
		x->tx_port[i] = (uint16_t)port;
	}
	return 0;
}

/* ======================================================================= */
/* The family                                                              */
/* ======================================================================= */

TEST_F(node, family)
{
	socklen_t len;
	uint64_t clock[2];
	unsigned int t;
	int fd;

	EXPECT_LT(AF_UNSPEC, fam);
	EXPECT_GT(AF_MAX, fam);
	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		fd = lsocket(types[t], 0);
		ASSERT_LE(0, fd) {
			TH_LOG("socket(%d, %s, 0): %s", fam, type_name(types[t]),
			       strerror(-fd));
		}
		EXPECT_EQ(types[t], so_get(fd, SO_TYPE));
		EXPECT_EQ(fam, so_get(fd, SO_DOMAIN));
		/* LAMPORT_CLOCK is a __u64: a shorter optlen is refused. */
		len = 4;
		EXPECT_EQ(-1, getsockopt(fd, SOL_LAMPORT, LAMPORT_CLOCK, clock, &len));
		EXPECT_EQ(EINVAL, errno);
		len = sizeof(clock);
		EXPECT_EQ(0, getsockopt(fd, SOL_LAMPORT, LAMPORT_CLOCK, clock, &len));
		EXPECT_EQ(8, len);
		close(fd);

		fd = lsocket(types[t] | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, fd);
		EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
		EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);

		EXPECT_EQ(-EPROTONOSUPPORT, lsocket(types[t], 1));
	}
	EXPECT_EQ(-ESOCKTNOSUPPORT, lsocket(SOCK_STREAM, 0));
	EXPECT_EQ(-ESOCKTNOSUPPORT, lsocket(SOCK_SEQPACKET, 0));
	EXPECT_EQ(-ESOCKTNOSUPPORT, lsocket(SOCK_RAW, 0));
}

/* A node without an id can have sockets, not addresses. */
TEST(no_node_id)
{
	struct sockaddr_lamport a;
	unsigned int t;
	struct lnl nl;
	int fd[2];

	fam = lamport_af_family();
	ASSERT_LT(0, fam) {
		TH_LOG("%s", lamport_af_strerror(fam));
	}
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		fd[t] = lsocket(types[t], 0);
		ASSERT_LE(0, fd[t]);
		EXPECT_EQ(-EADDRNOTAVAIL, lbind(fd[t], 0, 0));
		EXPECT_EQ(-EADDRNOTAVAIL, lbind(fd[t], 0, 5000));
		EXPECT_EQ(-EADDRNOTAVAIL, lsend(fd[t], 1, 5000, "x", 1, 0));
	}
	/* Once the node has an id, the same sockets bind. */
	ASSERT_EQ(0, lnl_open(&nl));
	ASSERT_EQ(0, lt_node_set(&nl, 5, 0, NULL, 0));
	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		EXPECT_EQ(0, lbind(fd[t], 0, 5000));
		ASSERT_EQ(0, lname(fd[t], &a));
		EXPECT_TRUE(same_addr(&a, 5, 5000));
		close(fd[t]);
	}
	lnl_close(&nl);
}

/* ======================================================================= */
/* bind()                                                                  */
/* ======================================================================= */

TEST_F(node, bind_errors)
{
	struct sockaddr_lamport a, b;
	struct sockaddr_storage ss;
	int fd, fd2, fd3, fd4, e1, e2, p1, p2;
	unsigned int t;

	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		int type = types[t];

		TH_LOG("%s", type_name(type));
		fd = lsocket(type, 0);
		ASSERT_LE(0, fd);
		a = slam(0, 5000);
		EXPECT_EQ(-EINVAL, bind_raw(fd, &a, sizeof(a) - 1));
		EXPECT_EQ(-EINVAL, bind_raw(fd, &a, sizeof(sa_family_t)));
		a.slam_family = AF_INET;
		EXPECT_EQ(-EINVAL, bind_raw(fd, &a, sizeof(a)));
		EXPECT_EQ(-EADDRNOTAVAIL, lbind(fd, NODE_ID + 1, 5000));
		/* None of that bound it: its own node id, given, works. */
		ASSERT_EQ(0, lname(fd, &b));
		EXPECT_EQ(0, b.slam_port);
		ASSERT_EQ(0, lbind(fd, NODE_ID, 5000));
		ASSERT_EQ(0, lname(fd, &b));
		EXPECT_TRUE(same_addr(&b, NODE_ID, 5000));
		EXPECT_EQ(-EINVAL, lbind(fd, 0, 5001));
		EXPECT_EQ(-EINVAL, lbind(fd, 0, 5000));
		EXPECT_EQ(5000, lport(fd));

		fd2 = lsocket(type, 0);
		ASSERT_LE(0, fd2);
		EXPECT_EQ(-EADDRINUSE, lbind(fd2, 0, 5000));
		EXPECT_EQ(0, lbind(fd2, 0, 5002));
		/* A closed socket's port is free again. */
		close(fd);
		fd3 = lsocket(type, 0);
		ASSERT_LE(0, fd3);
		EXPECT_EQ(0, lbind(fd3, 0, 5000));

		/* Port 0: an ephemeral port, a different one each time. */
		e1 = bound_socket(type, 0);
		e2 = bound_socket(type, 0);
		ASSERT_LE(0, e1);
		ASSERT_LE(0, e2);
		ASSERT_EQ(0, lname(e1, &b));
		EXPECT_EQ(NODE_ID, b.slam_node);
		EXPECT_EQ(fam, b.slam_family);
		p1 = lport(e1);
		p2 = lport(e2);
		EXPECT_LE(LAMPORT_PORT_EPHEMERAL_MIN, p1);
		EXPECT_GE(LAMPORT_PORT_EPHEMERAL_MAX, p1);
		EXPECT_LE(LAMPORT_PORT_EPHEMERAL_MIN, p2);
		EXPECT_GE(LAMPORT_PORT_EPHEMERAL_MAX, p2);
		EXPECT_NE(p1, p2);
		/* A longer address is fine: only a shorter one is refused. */
		a = slam(0, 5003);
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, &a, sizeof(a));
		fd4 = lsocket(type, 0);
		ASSERT_LE(0, fd4);
		EXPECT_EQ(0, bind_raw(fd4, &ss, sizeof(ss)));
		EXPECT_EQ(5003, lport(fd4));
		close(fd4);
		close(fd2);
		close(fd3);
		close(e1);
		close(e2);
	}
	/* DGRAM and RDM ports are separate spaces. */
	fd = bound_socket(SOCK_DGRAM, 6000);
	ASSERT_LE(0, fd);
	fd2 = bound_socket(SOCK_RDM, 6000);
	EXPECT_LE(0, fd2);
	fd3 = lsocket(SOCK_DGRAM, 0);
	EXPECT_EQ(-EADDRINUSE, lbind(fd3, 0, 6000));
}

/* In a child without capabilities: a bitmask of what went wrong. */
static int unprivileged_binds(void)
{
	unsigned int t;
	int bad = 0, fd;

	if (lt_drop_all_capabilities())
		return 0x80;
	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		fd = lsocket(types[t], 0);
		if (fd < 0)
			return 0x40;
		if (lbind(fd, 0, LAMPORT_PORT_PRIVILEGED - 1) != -EACCES)
			bad |= 1 << (t * 3);
		if (lbind(fd, 0, 1000) != -EACCES)
			bad |= 2 << (t * 3);
		/* The refusals left it unbound: an unprivileged port works. */
		if (lbind(fd, 0, LAMPORT_PORT_PRIVILEGED))
			bad |= 4 << (t * 3);
		close(fd);
	}
	return bad;
}

TEST_F(node, bind_privileged_port)
{
	unsigned int t;
	int fd, status;
	pid_t pid;

	/* With CAP_NET_BIND_SERVICE (root): allowed. */
	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		fd = bound_socket(types[t], 1000);
		EXPECT_LE(0, fd) {
			TH_LOG("%s: bind to 1000 as root: %s",
			       type_name(types[t]), strerror(-fd));
		}
		if (fd >= 0)
			close(fd);
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(unprivileged_binds());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("bits (3 per type, DGRAM first): 1 port 1023 not EACCES, "
		       "2 port 1000 not EACCES, 4 port 1024 refused; 0x80 capset failed");
	}
}

/* ======================================================================= */
/* sendmsg()                                                               */
/* ======================================================================= */

TEST_F(node, send_errors)
{
	static uint8_t big[LAMPORT_MSG_MAX + 1], in[LAMPORT_MSG_MAX + 64];
	struct sockaddr_lamport a;
	struct iovec iov[2];
	struct msghdr mh;
	struct lmsg m;
	unsigned int t;
	uint64_t c0;
	int r, s, rport;

	memset(big, 0xa5, sizeof(big));
	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		TH_LOG("%s", type_name(types[t]));
		r = bound_socket(types[t], 5000);
		s = bound_socket(types[t], 0);
		ASSERT_LE(0, r);
		ASSERT_LE(0, s);
		rport = 5000;
		ASSERT_EQ(0, lclock(s, &c0));

		EXPECT_EQ(-EHOSTUNREACH, lsend(s, 7, 5000, "x", 1, 0));
		EXPECT_EQ(-EINVAL, lsend(s, NODE_ID, 0, "x", 1, 0));
		EXPECT_EQ(-EINVAL, lsend(s, 0, 5000, "x", 1, 0));
		a = slam(NODE_ID, 5000);
		EXPECT_EQ(-EINVAL, sendto_raw(s, "x", 1, 0, &a, sizeof(a) - 1));
		a.slam_family = AF_INET;
		EXPECT_EQ(-EINVAL, sendto_raw(s, "x", 1, 0, &a, sizeof(a)));
		EXPECT_EQ(-EMSGSIZE, lsend(s, NODE_ID, 5000, big, sizeof(big), 0));
		/* The limit counts the whole message, not one iovec. */
		a = slam(NODE_ID, 5000);
		iov[0] = (struct iovec){ big, 700 };
		iov[1] = (struct iovec){ big, LAMPORT_MSG_MAX + 1 - 700 };
		mh = (struct msghdr){ .msg_name = &a, .msg_namelen = sizeof(a),
				      .msg_iov = iov, .msg_iovlen = 2 };
		EXPECT_EQ(-1, sendmsg(s, &mh, 0));
		EXPECT_EQ(EMSGSIZE, errno);
		EXPECT_EQ(-1, send(s, "x", 1, 0));
		EXPECT_EQ(EDESTADDRREQ, errno);
		EXPECT_EQ(-EOPNOTSUPP, lsend(s, NODE_ID, 5000, "x", 1, MSG_OOB));
		/* Only an accepted message ticks the clock; none got through. */
		EXPECT_EQ(c0, clock_of(s));
		EXPECT_EQ(-EAGAIN, lrecv(r, in, sizeof(in), MSG_DONTWAIT, &m));

		/* The largest message, then an empty one: both delivered. */
		EXPECT_EQ(LAMPORT_MSG_MAX, lsend(s, NODE_ID, rport, big,
						 LAMPORT_MSG_MAX, 0));
		EXPECT_EQ(LAMPORT_MSG_MAX, recv_wait(r, in, sizeof(in), &m, wait_ms(2000)));
		EXPECT_EQ(0, memcmp(in, big, LAMPORT_MSG_MAX));
		EXPECT_EQ(c0 + 1, m.st.stamp);
		EXPECT_EQ(0, lsend(s, NODE_ID, rport, NULL, 0, 0));
		EXPECT_EQ(0, recv_wait(r, in, sizeof(in), &m, wait_ms(2000)));
		EXPECT_TRUE(m.stamped);
		EXPECT_EQ(c0 + 2, m.st.stamp);
		EXPECT_TRUE(same_addr(&m.from, NODE_ID, (uint16_t)lport(s)));
		EXPECT_EQ(sizeof(a), m.fromlen);
		EXPECT_EQ(c0 + 2, clock_of(s));

		EXPECT_EQ(0, shutdown(s, SHUT_WR));
		EXPECT_EQ(-EPIPE, lsend(s, NODE_ID, rport, "x", 1, 0));
		EXPECT_EQ(c0 + 2, clock_of(s));
		close(s);
		close(r);
	}
}

TEST_F(node, connect_default_destination)
{
	struct sockaddr_lamport a;
	socklen_t len;
	struct lmsg m;
	unsigned int t;
	char buf[16];
	int r, r2, s, sport;

	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		TH_LOG("%s", type_name(types[t]));
		r = bound_socket(types[t], 5000);
		r2 = bound_socket(types[t], 5001);
		s = lsocket(types[t], 0);
		ASSERT_LE(0, r);
		ASSERT_LE(0, r2);
		ASSERT_LE(0, s);
		len = sizeof(a);
		EXPECT_EQ(-1, getpeername(s, (struct sockaddr *)&a, &len));
		EXPECT_EQ(ENOTCONN, errno);
		/* connect() checks the address as sendto() does. */
		EXPECT_EQ(-EINVAL, lconnect(s, 0, 5000));
		EXPECT_EQ(-EINVAL, lconnect(s, NODE_ID, 0));
		EXPECT_EQ(-EHOSTUNREACH, lconnect(s, 9, 5000));
		len = sizeof(a);
		EXPECT_EQ(-1, getpeername(s, (struct sockaddr *)&a, &len));

		ASSERT_EQ(0, lconnect(s, NODE_ID, 5000));
		len = sizeof(a);
		ASSERT_EQ(0, getpeername(s, (struct sockaddr *)&a, &len));
		EXPECT_EQ(sizeof(a), len);
		EXPECT_TRUE(same_addr(&a, NODE_ID, 5000));

		/* send() goes there, from an ephemeral port bound on the way. */
		EXPECT_EQ(1, send(s, "a", 1, 0));
		EXPECT_EQ(1, recv_wait(r, buf, sizeof(buf), &m, wait_ms(2000)));
		sport = lport(s);
		EXPECT_LE(LAMPORT_PORT_EPHEMERAL_MIN, sport);
		EXPECT_TRUE(same_addr(&m.from, NODE_ID, (uint16_t)sport));
		/* An explicit address wins over the default. */
		EXPECT_EQ(1, lsend(s, NODE_ID, 5001, "b", 1, 0));
		EXPECT_EQ(1, recv_wait(r2, buf, sizeof(buf), &m, wait_ms(2000)));
		EXPECT_EQ('b', buf[0]);
		EXPECT_EQ(-EAGAIN, lrecv(r, buf, sizeof(buf), MSG_DONTWAIT, &m));

		/* AF_UNSPEC forgets the default destination. */
		a = slam(0, 0);
		a.slam_family = AF_UNSPEC;
		EXPECT_EQ(0, connect(s, (struct sockaddr *)&a, sizeof(a)));
		len = sizeof(a);
		EXPECT_EQ(-1, getpeername(s, (struct sockaddr *)&a, &len));
		EXPECT_EQ(ENOTCONN, errno);
		EXPECT_EQ(-1, send(s, "c", 1, 0));
		EXPECT_EQ(EDESTADDRREQ, errno);
		close(s);
		close(r);
		close(r2);
	}
}

TEST_F(node, local_delivery)
{
	const uint32_t n = 50;
	bool seen[50];
	struct lmsg m;
	unsigned int t;
	uint32_t i, v;
	uint64_t c0, cr;
	int r, s, sport;

	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		TH_LOG("%s", type_name(types[t]));
		r = bound_socket(types[t], 5000);
		s = bound_socket(types[t], 0);
		ASSERT_LE(0, r);
		ASSERT_LE(0, s);
		sport = lport(s);
		ASSERT_EQ(0, lclock(s, &c0));
		for (i = 0; i < n; i++) {
			ASSERT_EQ(sizeof(i), lsend(s, NODE_ID, 5000, &i, sizeof(i), 0));
		}
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < n; i++) {
			ASSERT_EQ(0, lclock(r, &cr));
			ASSERT_EQ(sizeof(v), recv_wait(r, &v, sizeof(v), &m, wait_ms(2000)));
			EXPECT_TRUE(same_addr(&m.from, NODE_ID, (uint16_t)sport));
			ASSERT_GT(n, v);
			EXPECT_FALSE(seen[v]);
			seen[v] = true;
			/* The message's stamp is the sender's clock after its send. */
			EXPECT_EQ(c0 + 1 + v, m.st.stamp);
			EXPECT_EQ((cr > m.st.stamp ? cr : m.st.stamp) + 1, m.st.clock);
			EXPECT_EQ(m.st.clock, clock_of(r));
			if (types[t] == SOCK_RDM) {
				EXPECT_EQ(i, v);
			}
		}
		EXPECT_EQ(-EAGAIN, lrecv(r, &v, sizeof(v), MSG_DONTWAIT, &m));
		close(s);
		close(r);
	}
}

/* Writes text to a tracefs file; 0 or -errno. */
static int tracefs_write(const char *file, const char *text)
{
	char path[128];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/%s", file);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fputs(text, f) < 0)
		err = -EIO;
	if (fclose(f))
		err = -errno;
	return err;
}

/* Whether the trace buffer has a line holding both needles. */
static bool traced(const char *event, const char *needle)
{
	FILE *f = fopen("/sys/kernel/tracing/trace", "r");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, event) && strstr(line, needle);
	fclose(f);
	return found;
}

/*
 * The lamport_msg_send and lamport_msg_recv tracepoints carry the stamps:
 * the message's, and the receiver's clock after the merge.
 */
TEST_F(node, tracepoints_carry_stamps)
{
	char send_needle[96], recv_needle[96];
	struct lmsg m;
	int r, s, sport, i;
	uint64_t c;

	ASSERT_EQ(0, tracefs_write("trace", ""));
	ASSERT_EQ(0, tracefs_write("events/lamport/lamport_msg_send/enable", "1"));
	ASSERT_EQ(0, tracefs_write("events/lamport/lamport_msg_recv/enable", "1"));
	r = bound_socket(SOCK_RDM, 5100);
	s = bound_socket(SOCK_RDM, 0);
	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	sport = lport(s);
	/* Three local events on the sender, nine on the receiver. */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, setsockopt(s, SOL_LAMPORT, LAMPORT_TICK, NULL, 0));
	}
	for (i = 0; i < 9; i++) {
		ASSERT_EQ(0, setsockopt(r, SOL_LAMPORT, LAMPORT_TICK, NULL, 0));
	}
	ASSERT_EQ(5, lsend(s, NODE_ID, 5100, "hello", 5, 0));
	ASSERT_EQ(5, recv_wait(r, send_needle, sizeof(send_needle), &m, wait_ms(2000)));
	EXPECT_EQ(4, m.st.stamp);
	EXPECT_EQ(10, m.st.clock);
	ASSERT_EQ(0, lclock(r, &c));
	EXPECT_EQ(10, c);
	tracefs_write("events/lamport/lamport_msg_send/enable", "0");
	tracefs_write("events/lamport/lamport_msg_recv/enable", "0");

	snprintf(send_needle, sizeof(send_needle),
		 "rdm port=%d to=%u:5100 stamp=4 len=5", sport, NODE_ID);
	snprintf(recv_needle, sizeof(recv_needle),
		 "rdm port=5100 from=%u:%d stamp=4 clock=10 len=5", NODE_ID, sport);
	EXPECT_TRUE(traced("lamport_msg_send:", send_needle)) {
		TH_LOG("no \"%s\" in the trace", send_needle);
	}
	EXPECT_TRUE(traced("lamport_msg_recv:", recv_needle)) {
		TH_LOG("no \"%s\" in the trace", recv_needle);
	}
	close(s);
	close(r);
}

/* FIONREAD (SIOCINQ) is the next message's length, as for UDP. */
TEST_F(node, ioctls)
{
	struct lmsg m;
	char buf[16];
	int r, s, n;

	r = bound_socket(SOCK_DGRAM, 5200);
	s = bound_socket(SOCK_DGRAM, 0);
	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, ioctl(r, FIONREAD, &n));
	EXPECT_EQ(0, n);
	ASSERT_EQ(3, lsend(s, NODE_ID, 5200, "abc", 3, 0));
	ASSERT_EQ(5, lsend(s, NODE_ID, 5200, "defgh", 5, 0));
	ASSERT_TRUE(poll_one(r, POLLIN, wait_ms(2000)) & POLLIN);
	ASSERT_EQ(0, ioctl(r, FIONREAD, &n));
	EXPECT_EQ(3, n);
	ASSERT_EQ(3, lrecv(r, buf, sizeof(buf), 0, &m));
	ASSERT_EQ(5, recv_wait(r, buf, sizeof(buf), &m, wait_ms(2000)));
	ASSERT_EQ(0, ioctl(r, FIONREAD, &n));
	EXPECT_EQ(0, n);
	ASSERT_EQ(0, ioctl(s, SIOCOUTQ, &n));
	EXPECT_LE(0, n);
	close(s);
	close(r);
}

TEST_F(node, shutdown_read)
{
	struct lmsg m;
	unsigned int t;
	char buf[16];
	int r, s;

	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		r = bound_socket(types[t], 5000);
		s = bound_socket(types[t], 0);
		ASSERT_LE(0, r);
		ASSERT_LE(0, s);
		ASSERT_EQ(3, lsend(s, NODE_ID, 5000, "abc", 3, 0));
		ASSERT_NE(0, poll_one(r, POLLIN, wait_ms(2000)) & POLLIN);
		ASSERT_EQ(0, shutdown(r, SHUT_RD));
		/* What was queued is still read, then end of file. */
		EXPECT_EQ(3, lrecv(r, buf, sizeof(buf), MSG_DONTWAIT, &m));
		EXPECT_EQ(0, lrecv(r, buf, sizeof(buf), MSG_DONTWAIT, &m));
		EXPECT_FALSE(m.stamped);
		EXPECT_EQ(0, lrecv(r, buf, sizeof(buf), 0, &m));
		close(s);
		close(r);
	}
}

TEST_F(node, bad_input)
{
	union {
		struct cmsghdr align;
		char buf[sizeof(struct cmsghdr)];
	} tiny;
	char out[300], in[600];
	struct sockaddr_lamport a = slam(NODE_ID, 5000);
	struct iovec iov[3];
	struct msghdr mh;
	unsigned int t, i;
	socklen_t len;
	uint64_t c0, big[4];
	int r, s, v;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (char)i;
	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		TH_LOG("%s", type_name(types[t]));
		r = bound_socket(types[t], 5000);
		s = bound_socket(types[t], 0);
		ASSERT_LE(0, r);
		ASSERT_LE(0, s);
		ASSERT_EQ(0, lclock(s, &c0));
		/* Unreadable address or data: EFAULT, nothing sent. */
		EXPECT_EQ(-EFAULT, sendto_raw(s, "x", 1, 0, (void *)8, sizeof(a)));
		EXPECT_EQ(-EFAULT, sendto_raw(s, (void *)8, 10, 0, &a, sizeof(a)));
		EXPECT_EQ(-EINVAL, sendto_raw(s, "x", 1, 0, &a, 1000));
		EXPECT_EQ(c0, clock_of(s));
		EXPECT_EQ(0, poll_one(r, POLLIN, 50));

		/* Scattered out, gathered in, an empty iovec between. */
		iov[0] = (struct iovec){ out, 100 };
		iov[1] = (struct iovec){ out + 100, 0 };
		iov[2] = (struct iovec){ out + 100, 200 };
		mh = (struct msghdr){ .msg_name = &a, .msg_namelen = sizeof(a),
				      .msg_iov = iov, .msg_iovlen = 3 };
		EXPECT_EQ(300, sendmsg(s, &mh, 0));
		ASSERT_NE(0, poll_one(r, POLLIN, wait_ms(2000)) & POLLIN);
		memset(in, 0, sizeof(in));
		iov[0] = (struct iovec){ in, 50 };
		iov[1] = (struct iovec){ in + 50, 500 };
		/* No room for the stamp: the data comes, MSG_CTRUNC says so. */
		mh = (struct msghdr){ .msg_iov = iov, .msg_iovlen = 2,
				      .msg_control = tiny.buf,
				      .msg_controllen = sizeof(tiny.buf) };
		EXPECT_EQ(300, recvmsg(r, &mh, MSG_DONTWAIT));
		EXPECT_EQ(0, memcmp(in, out, 300));
		EXPECT_TRUE(mh.msg_flags & MSG_CTRUNC);

		/* Socket options: a longer optlen is cut to 8, others refused. */
		len = sizeof(big);
		EXPECT_EQ(0, getsockopt(s, SOL_LAMPORT, LAMPORT_CLOCK, big, &len));
		EXPECT_EQ(8, len);
		EXPECT_EQ(c0 + 1, big[0]);
		len = sizeof(v);
		EXPECT_EQ(-1, getsockopt(s, SOL_LAMPORT, 99, &v, &len));
		EXPECT_EQ(ENOPROTOOPT, errno);
		v = 1;
		EXPECT_EQ(-1, setsockopt(s, SOL_LAMPORT, 99, &v, sizeof(v)));
		EXPECT_EQ(ENOPROTOOPT, errno);
		EXPECT_EQ(c0 + 1, clock_of(s));
		close(s);
		close(r);
	}
}

/* ======================================================================= */
/* Datagram semantics                                                      */
/* ======================================================================= */

TEST_F(cluster, dgram_semantics)
{
	char buf[128], big[100];
	struct lmsg m, p;
	uint64_t cr, cs;
	int r, s, sport;

	r = node_bound(self, 2, SOCK_DGRAM, 4000);
	s = node_bound(self, 1, SOCK_DGRAM, 0);
	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	sport = lport(s);
	ASSERT_LE(LAMPORT_PORT_EPHEMERAL_MIN, sport);

	/* Empty: no POLLIN, EAGAIN without waiting; room to send. */
	EXPECT_EQ(0, poll_one(r, POLLIN, 0));
	EXPECT_EQ(-EAGAIN, lrecv(r, buf, sizeof(buf), MSG_DONTWAIT, &m));
	EXPECT_NE(0, poll_one(s, POLLOUT, 0) & POLLOUT);

	ASSERT_EQ(11, lsend(s, 2, 4000, "hello world", 11, 0));
	cs = clock_of(s);
	ASSERT_NE(0, poll_one(r, POLLIN, wait_ms(2000)) & POLLIN);
	cr = clock_of(r);

	/* MSG_PEEK: the message, its sender and stamp; no merge. */
	ASSERT_EQ(11, lrecv(r, buf, sizeof(buf), MSG_PEEK, &p));
	EXPECT_EQ(0, memcmp(buf, "hello world", 11));
	EXPECT_EQ(sizeof(p.from), p.fromlen);
	EXPECT_TRUE(same_addr(&p.from, 1, (uint16_t)sport));
	EXPECT_TRUE(p.stamped);
	EXPECT_EQ(cs, p.st.stamp);
	EXPECT_EQ(cr, p.st.clock);
	EXPECT_EQ(cr, clock_of(r));
	/* A short peek with MSG_TRUNC still tells the full length. */
	EXPECT_EQ(11, lrecv(r, buf, 4, MSG_PEEK | MSG_TRUNC, &m));
	EXPECT_TRUE(m.flags & MSG_TRUNC);

	/* The real receive: the same message, merged into the clock. */
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(11, lrecv(r, buf, sizeof(buf), 0, &m));
	EXPECT_EQ(0, memcmp(buf, "hello world", 11));
	EXPECT_TRUE(same_addr(&m.from, 1, (uint16_t)sport));
	EXPECT_EQ(p.st.stamp, m.st.stamp);
	EXPECT_EQ((cr > cs ? cr : cs) + 1, m.st.clock);
	EXPECT_EQ(m.st.clock, clock_of(r));
	EXPECT_FALSE(m.flags & MSG_TRUNC);
	EXPECT_EQ(0, poll_one(r, POLLIN, 0));

	/* Truncation, with and without MSG_TRUNC; the rest is discarded. */
	memset(big, 'z', sizeof(big));
	ASSERT_EQ(100, lsend(s, 2, 4000, big, 100, 0));
	EXPECT_EQ(10, recv_wait(r, buf, 10, &m, wait_ms(2000)));
	EXPECT_TRUE(m.flags & MSG_TRUNC);
	ASSERT_EQ(50, lsend(s, 2, 4000, big, 50, 0));
	ASSERT_NE(0, poll_one(r, POLLIN, wait_ms(2000)) & POLLIN);
	EXPECT_EQ(50, lrecv(r, buf, 10, MSG_TRUNC, &m));
	EXPECT_TRUE(m.flags & MSG_TRUNC);
	ASSERT_EQ(3, lsend(s, 2, 4000, "end", 3, 0));
	EXPECT_EQ(3, recv_wait(r, buf, 10, &m, wait_ms(2000)));
	EXPECT_EQ(0, memcmp(buf, "end", 3));
	EXPECT_FALSE(m.flags & MSG_TRUNC);
	EXPECT_EQ(-EAGAIN, lrecv(r, buf, sizeof(buf), MSG_DONTWAIT, &m));
}

/* A receiver with the smallest buffer drops what does not fit, and counts it. */
TEST_F(cluster, dgram_rcvbuf_drops)
{
	const uint32_t n = 200;
	char buf[1000];
	struct sock_info si;
	struct lmsg m;
	uint32_t i, got = 0;
	int r, s, rcvbuf;

	r = node_bound(self, 2, SOCK_DGRAM, 4000);
	s = node_bound(self, 1, SOCK_DGRAM, 0);
	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, so_set(r, SO_RCVBUF, 1));
	rcvbuf = so_get(r, SO_RCVBUF);
	ASSERT_LT(0, rcvbuf);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(sizeof(buf), lsend(s, 2, 4000, buf, sizeof(buf), 0));
	}
	lt_sleep_ms((unsigned int)wait_ms(200));
	while (lrecv(r, buf, sizeof(buf), MSG_DONTWAIT, &m) == sizeof(buf))
		got++;
	TH_LOG("%u of %u delivered with SO_RCVBUF %d", got, n, rcvbuf);
	EXPECT_LT(0, got);
	EXPECT_GT(n, got);

	ASSERT_EQ(0, sock_get(&self->nl[2], r, &si));
	EXPECT_EQ(SOCK_DGRAM, si.type);
	EXPECT_EQ(4000, si.port);
	EXPECT_EQ((uint64_t)rcvbuf, si.stat[LAMPORT_SOCK_STAT_RCVBUF]);
	EXPECT_EQ(got, si.stat[LAMPORT_SOCK_STAT_RX]);
	EXPECT_LT(0, si.stat[LAMPORT_SOCK_STAT_DROP_RCVBUF]);
	EXPECT_GE(n, got + si.stat[LAMPORT_SOCK_STAT_DROP_RCVBUF]);
	EXPECT_EQ(0, si.stat[LAMPORT_SOCK_STAT_RX_QUEUED]);
	ASSERT_EQ(0, sock_get(&self->nl[1], s, &si));
	EXPECT_EQ(n, si.stat[LAMPORT_SOCK_STAT_TX]);
	EXPECT_EQ(clock_of(s), si.clock);
}

/* ======================================================================= */
/* Lamport's rules                                                         */
/* ======================================================================= */

#define PER_NODE	3
#define NSOCK		(NODES * PER_NODE)

struct rules_sock {
	int fd;
	uint32_t node;
	uint16_t port;
	uint64_t clock;		/* what the rules say it must be */
	uint64_t last_stamp;	/* of its last message sent */
};

struct rules_msg {
	uint32_t id;
	uint32_t from;		/* index of the sending socket */
	uint32_t pair_seq;	/* per (from, to), from 1 */
	uint32_t pad;
	uint64_t before;	/* the sender's clock just before the send */
	uint64_t prev_stamp;	/* the sender's previous message's stamp */
};

struct rules {
	int type;
	struct rules_sock s[NSOCK];
	uint32_t pair_sent[NSOCK][NSOCK], pair_got[NSOCK][NSOCK];
	uint8_t *seen;
	uint32_t sent, delivered;
};

/* Receives what socket k has queued, checking each message's clocks. */
static void rules_drain(struct __test_metadata *_metadata, struct rules *R,
			int k)
{
	struct rules_sock *r = &R->s[k], *f;
	struct rules_msg msg;
	struct lmsg m;
	uint64_t want;
	ssize_t n;

	for (;;) {
		n = lrecv(r->fd, &msg, sizeof(msg), MSG_DONTWAIT, &m);
		if (n == -EAGAIN)
			return;
		ASSERT_EQ(sizeof(msg), n);
		ASSERT_GT(NSOCK, msg.from);
		ASSERT_GT(R->sent, msg.id);
		f = &R->s[msg.from];
		EXPECT_TRUE(same_addr(&m.from, f->node, f->port));
		EXPECT_EQ(0, R->seen[msg.id]) {
			TH_LOG("message %u delivered twice", msg.id);
		}
		R->seen[msg.id] = 1;
		ASSERT_TRUE(m.stamped);
		/* Sending ticks: the stamp is the sender's clock + 1. */
		EXPECT_EQ(msg.before + 1, m.st.stamp);
		EXPECT_GT(m.st.stamp, msg.prev_stamp);
		/* Receiving merges: max(clock, stamp) + 1, after the stamp. */
		want = (r->clock > m.st.stamp ? r->clock : m.st.stamp) + 1;
		EXPECT_EQ(want, m.st.clock);
		EXPECT_GT(m.st.clock, m.st.stamp);
		EXPECT_GT(m.st.clock, r->clock);
		EXPECT_EQ(want, clock_of(r->fd));
		r->clock = want;
		if (R->type == SOCK_RDM) {
			EXPECT_EQ(++R->pair_got[msg.from][k], msg.pair_seq) {
				TH_LOG("socket %u to %d: out of order", msg.from, k);
			}
		}
		R->delivered++;
	}
}

static void rules_send(struct __test_metadata *_metadata, struct rules *R,
		       int from, int to, struct lt_rng *rng)
{
	struct rules_sock *s = &R->s[from], *d = &R->s[to];
	struct rules_msg msg = { .id = R->sent, .from = (uint32_t)from };
	uint64_t c;

	/* Now and then a local event: +1. */
	if (lt_chance(rng, 1, 6)) {
		ASSERT_EQ(0, ltick(s->fd, lt_chance(rng, 1, 2)));
		s->clock++;
		EXPECT_EQ(s->clock, clock_of(s->fd));
	}
	ASSERT_EQ(0, lclock(s->fd, &c));
	ASSERT_EQ(s->clock, c);
	msg.before = c;
	msg.prev_stamp = s->last_stamp;
	msg.pair_seq = ++R->pair_sent[from][to];
	ASSERT_EQ(sizeof(msg), lsend(s->fd, d->node, d->port, &msg, sizeof(msg), 0));
	s->clock = c + 1;
	EXPECT_GT(s->clock, s->last_stamp);
	s->last_stamp = s->clock;
	EXPECT_EQ(s->clock, clock_of(s->fd));
	R->sent++;
}

static void lamport_rules(struct __test_metadata *_metadata,
			  FIXTURE_DATA(cluster) *self, int type,
			  struct lt_rng *rng, uint32_t count)
{
	struct rules *R = calloc(1, sizeof(*R));
	uint64_t end;
	int i, from, to, port;

	ASSERT_NE(NULL, R);
	R->type = type;
	R->seen = calloc(count, 1);
	ASSERT_NE(NULL, R->seen);
	for (i = 0; i < NSOCK; i++) {
		struct rules_sock *s = &R->s[i];

		s->node = (uint32_t)(1 + i / PER_NODE);
		s->fd = node_bound(self, (int)s->node, type, 0);
		ASSERT_LE(0, s->fd);
		port = lport(s->fd);
		ASSERT_LT(0, port);
		s->port = (uint16_t)port;
		ASSERT_EQ(0, lclock(s->fd, &s->clock));
	}
	while (R->sent < count) {
		from = (int)lt_below(rng, NSOCK);
		to = (int)lt_below(rng, NSOCK - 1);
		if (to >= from)
			to++;
		rules_send(_metadata, R, from, to, rng);
		for (i = 0; i < NSOCK; i++)
			rules_drain(_metadata, R, i);
	}
	end = lt_now_ms() + (uint64_t)wait_ms(3000);
	while (R->delivered < count && lt_now_ms() < end) {
		lt_sleep_ms(5);
		for (i = 0; i < NSOCK; i++)
			rules_drain(_metadata, R, i);
	}
	TH_LOG("%s: %u of %u delivered", type_name(type), R->delivered, count);
	if (type == SOCK_RDM) {
		EXPECT_EQ(count, R->delivered);
	} else {
		/* fair-loss, but on a quiet veth nearly nothing is lost */
		EXPECT_LE(count * 9 / 10, R->delivered);
	}
	for (i = 0; i < NSOCK; i++)
		close(R->s[i].fd);
	free(R->seen);
	free(R);
}

TEST_F(cluster, lamport_rules)
{
	uint64_t seed = lt_seed_from_env("LAMPORT_SEED");
	struct lt_rng rng;

	TH_LOG("LAMPORT_SEED=%llu", (unsigned long long)seed);
	lt_rng_seed(&rng, seed);
	lamport_rules(_metadata, self, SOCK_DGRAM, &rng, lt_scaled(300));
	lamport_rules(_metadata, self, SOCK_RDM, &rng, lt_scaled(300));
}

/* ======================================================================= */
/* SOCK_RDM                                                                */
/* ======================================================================= */

/* Nodes 1 and 2 send n messages each to node 3 through netem. */
static void rdm_under_netem(struct __test_metadata *_metadata,
			    FIXTURE_DATA(cluster) *self, const char *netem,
			    bool lossy)
{
	static const int tx_nodes[] = { 1, 2 };
	uint64_t retransmits = 0, duplicates = 0, end;
	struct flow_info f;
	struct sock_info si;
	const struct flow_info *rf;
	struct xfer x;
	int i, err;

	ASSERT_EQ(0, netem_all(self, netem));
	ASSERT_EQ(0, xfer_setup(self, &x, 2, tx_nodes, 3, lt_scaled(500)));
	TH_LOG("netem %s, LAMPORT_SEED=%llu", netem, (unsigned long long)x.seed);
	err = xfer_run(&x, wait_ms(30000));
	ASSERT_EQ(0, err) {
		TH_LOG("%s", x.why);
	}
	ASSERT_EQ(0, xfer_quiet(&x, wait_ms(300))) {
		TH_LOG("%s", x.why);
	}
	/* Every message is acknowledged in the end; the stats agree. */
	for (i = 0; i < 2; i++) {
		end = lt_now_ms() + (uint64_t)wait_ms(5000);
		do {
			ASSERT_EQ(0, tx_flow(&self->nl[tx_nodes[i]], x.tx[i], 3,
					     RX_PORT, &f));
			if (!f.stat[LAMPORT_FLOW_STAT_QUEUED])
				break;
			lt_sleep_ms(10);
		} while (lt_now_ms() < end);
		EXPECT_EQ(0, f.stat[LAMPORT_FLOW_STAT_QUEUED]);
		EXPECT_EQ(0, f.stat[LAMPORT_FLOW_STAT_IN_FLIGHT]);
		EXPECT_EQ(x.n + 1, f.stat[LAMPORT_FLOW_STAT_SND_NXT]);
		EXPECT_EQ(x.n + 1, f.stat[LAMPORT_FLOW_STAT_SND_UNA]);
		retransmits += f.stat[LAMPORT_FLOW_STAT_RETRANSMITS];
		TH_LOG("sender %d: retransmits %llu timeouts %llu fast %llu cwnd %llu",
		       i, (unsigned long long)f.stat[LAMPORT_FLOW_STAT_RETRANSMITS],
		       (unsigned long long)f.stat[LAMPORT_FLOW_STAT_TIMEOUTS],
		       (unsigned long long)f.stat[LAMPORT_FLOW_STAT_FAST_RETRANSMITS],
		       (unsigned long long)f.stat[LAMPORT_FLOW_STAT_CWND]);
	}
	ASSERT_EQ(0, sock_get(&self->nl[3], x.rx, &si));
	EXPECT_EQ(2u * x.n, si.stat[LAMPORT_SOCK_STAT_RX]);
	for (i = 0; i < 2; i++) {
		rf = find_flow(&si, LAMPORT_FLOW_RX, x.tx_node[i], x.tx_port[i]);
		ASSERT_NE(NULL, rf);
		EXPECT_EQ(x.n, rf->stat[LAMPORT_FLOW_STAT_DELIVERED]);
		EXPECT_EQ(x.n + 1, rf->stat[LAMPORT_FLOW_STAT_RCV_NXT]);
		duplicates += rf->stat[LAMPORT_FLOW_STAT_DUPLICATES];
	}
	TH_LOG("retransmits %llu, duplicates suppressed %llu",
	       (unsigned long long)retransmits, (unsigned long long)duplicates);
	if (lossy) {
		/* netem did lose and duplicate: the repair was exercised. */
		EXPECT_LT(0, retransmits);
		EXPECT_LT(0, duplicates);
	}
}

TEST_F_TIMEOUT(cluster, rdm_exactly_once_loss_dup_reorder, 120)
{
	rdm_under_netem(_metadata, self,
			"delay 5ms loss 5% duplicate 5% reorder 25%", true);
}

TEST_F_TIMEOUT(cluster, rdm_exactly_once_corrupt, 120)
{
	rdm_under_netem(_metadata, self, "corrupt 1%", false);
}

/*
 * A receiver that does not read closes its window; the sender's queue
 * fills up to SO_SNDBUF and send() says EAGAIN; nothing is lost.
 */
TEST_F_TIMEOUT(cluster, rdm_flow_control, 60)
{
	static const int tx_nodes[] = { 1 };
	struct sock_info rs, ts;
	struct flow_info f;
	uint64_t t0, acked = 0;
	uint8_t buf[LAMPORT_MSG_MAX];
	struct timeval tv = { .tv_usec = 100000 };
	int sndbuf, rcvbuf, err;
	uint32_t seq;
	ssize_t n;
	struct xfer x;

	ASSERT_EQ(0, xfer_setup(self, &x, 1, tx_nodes, 2, lt_scaled(300)));
	ASSERT_EQ(0, so_set(x.rx, SO_RCVBUF, 4096));
	ASSERT_EQ(0, so_set(x.tx[0], SO_SNDBUF, 16384));
	rcvbuf = so_get(x.rx, SO_RCVBUF);
	sndbuf = so_get(x.tx[0], SO_SNDBUF);
	ASSERT_LT(0, rcvbuf);
	ASSERT_LT(0, sndbuf);

	/*
	 * The receiver does not read: the sender stops, long before n. Once
	 * the acks of the first burst are in, it is stopped for good.
	 */
	ASSERT_EQ(0, xfer_send(&x, 0)) {
		TH_LOG("%s", x.why);
	}
	/*
	 * Not scaled: the unanswered probes of a closed window count as
	 * timeouts (LAMPORT_RDM_RETRIES in a row fail the flow).
	 */
	lt_sleep_ms(200);
	ASSERT_EQ(0, xfer_send(&x, 0)) {
		TH_LOG("%s", x.why);
	}
	TH_LOG("%u messages (%llu bytes) accepted, SO_SNDBUF %d, SO_RCVBUF %d",
	       x.sent[0], (unsigned long long)x.bytes[0], sndbuf, rcvbuf);
	ASSERT_GT(x.n, x.sent[0]);
	ASSERT_LT(0, x.sent[0]);
	EXPECT_EQ(0, poll_one(x.tx[0], POLLOUT, 0) & POLLOUT);
	/* A blocking send waits SO_SNDTIMEO, then gives up. */
	ASSERT_EQ(0, setsockopt(x.tx[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	seq = x.sent[0] + 1;
	t0 = lt_now_ms();
	n = lsend(x.tx[0], 2, RX_PORT, buf, make_msg(x.seed, 0, seq, buf), 0);
	EXPECT_EQ(-EAGAIN, n);
	EXPECT_LE(90, lt_now_ms() - t0);
	if (n > 0) {
		x.sent[0]++;
		x.bytes[0] += (uint64_t)n;
	}

	ASSERT_EQ(0, sock_get(&self->nl[2], x.rx, &rs));
	ASSERT_EQ(0, sock_get(&self->nl[1], x.tx[0], &ts));
	ASSERT_EQ(0, tx_flow(&self->nl[1], x.tx[0], 2, RX_PORT, &f));
	TH_LOG("receiver: %llu queued, %llu bytes; sender: %llu bytes held, rwnd %llu, zero windows %llu",
	       (unsigned long long)rs.stat[LAMPORT_SOCK_STAT_RX],
	       (unsigned long long)rs.stat[LAMPORT_SOCK_STAT_RX_QUEUED],
	       (unsigned long long)ts.stat[LAMPORT_SOCK_STAT_TX_QUEUED],
	       (unsigned long long)f.stat[LAMPORT_FLOW_STAT_RWND],
	       (unsigned long long)f.stat[LAMPORT_FLOW_STAT_ZERO_WINDOW]);
	/* Receiver memory: SO_RCVBUF and one message more, at most. */
	EXPECT_LE(rs.stat[LAMPORT_SOCK_STAT_RX_QUEUED],
		  (uint64_t)rcvbuf + ONE_MSG_TRUESIZE_MAX);
	EXPECT_GT(x.sent[0], rs.stat[LAMPORT_SOCK_STAT_RX]);
	EXPECT_LT(0, f.stat[LAMPORT_FLOW_STAT_ZERO_WINDOW]);
	/* Sender memory: SO_SNDBUF and one message more, at most. */
	EXPECT_LE(ts.stat[LAMPORT_SOCK_STAT_TX_QUEUED],
		  (uint64_t)sndbuf + ONE_MSG_TRUESIZE_MAX);
	for (seq = 1; seq <= rs.stat[LAMPORT_SOCK_STAT_RX]; seq++)
		acked += msg_len(x.seed, 0, seq);
	EXPECT_LE(x.bytes[0] - acked, (uint64_t)sndbuf + LAMPORT_MSG_MAX);

	/*
	 * The receiver reads now: everything arrives, in order. Its buffer
	 * grows first, so that the time this takes does not depend on how
	 * fast a sender learns that a closed window opened again.
	 */
	ASSERT_EQ(0, so_set(x.rx, SO_RCVBUF, 1 << 20));
	err = xfer_run(&x, wait_ms(20000));
	ASSERT_EQ(0, err) {
		TH_LOG("%s", x.why);
	}
	ASSERT_EQ(0, xfer_quiet(&x, wait_ms(100))) {
		TH_LOG("%s", x.why);
	}
	EXPECT_NE(0, poll_one(x.tx[0], POLLOUT, wait_ms(2000)) & POLLOUT);
}

/* Under loss the congestion window shrinks, and grows again. */
TEST_F_TIMEOUT(cluster, rdm_congestion_window, 60)
{
	static const int tx_nodes[] = { 1 };
	uint64_t cwnd, prev = 0, max = 0, min = UINT64_MAX, end;
	bool decreased = false, increased_after = false;
	unsigned int samples = 0;
	struct pollfd p[2];
	struct flow_info f = {};
	struct xfer x;
	int err;

	ASSERT_EQ(0, netem_all(self, "delay 2ms loss 5%"));
	ASSERT_EQ(0, xfer_setup(self, &x, 1, tx_nodes, 2, lt_scaled(5000)));
	end = lt_now_ms() + (uint64_t)wait_ms(20000);
	while (lt_now_ms() < end && !xfer_done(&x)) {
		ASSERT_EQ(0, xfer_send(&x, 0)) {
			TH_LOG("%s", x.why);
		}
		ASSERT_EQ(0, xfer_recv(&x)) {
			TH_LOG("%s", x.why);
		}
		err = tx_flow(&self->nl[1], x.tx[0], 2, RX_PORT, &f);
		if (err == -ENOENT && !x.sent[0])
			continue;
		ASSERT_EQ(0, err);
		ASSERT_TRUE(f.has[LAMPORT_FLOW_STAT_CWND]);
		cwnd = f.stat[LAMPORT_FLOW_STAT_CWND];
		ASSERT_LE(1, cwnd);
		samples++;
		if (samples > 1 && cwnd < prev)
			decreased = true;
		else if (decreased && cwnd > prev)
			increased_after = true;
		prev = cwnd;
		max = cwnd > max ? cwnd : max;
		min = cwnd < min ? cwnd : min;
		if (decreased && increased_after &&
		    f.stat[LAMPORT_FLOW_STAT_RETRANSMITS])
			break;
		p[0] = (struct pollfd){ .fd = x.rx, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = x.tx[0], .events = POLLOUT };
		poll(p, 2, 2);
	}
	TH_LOG("%u samples, cwnd %llu..%llu, ssthresh %llu, retransmits %llu, timeouts %llu, fast %llu, %u delivered",
	       samples, (unsigned long long)min, (unsigned long long)max,
	       (unsigned long long)f.stat[LAMPORT_FLOW_STAT_SSTHRESH],
	       (unsigned long long)f.stat[LAMPORT_FLOW_STAT_RETRANSMITS],
	       (unsigned long long)f.stat[LAMPORT_FLOW_STAT_TIMEOUTS],
	       (unsigned long long)f.stat[LAMPORT_FLOW_STAT_FAST_RETRANSMITS],
	       x.total);
	EXPECT_LT(0, f.stat[LAMPORT_FLOW_STAT_RETRANSMITS]);
	EXPECT_LT(0, f.stat[LAMPORT_FLOW_STAT_TIMEOUTS] +
		     f.stat[LAMPORT_FLOW_STAT_FAST_RETRANSMITS]);
	EXPECT_TRUE(decreased);
	EXPECT_TRUE(increased_after);
	EXPECT_LT(0, x.total);
}

/*
 * Node 2 is cut off: once the detector declares it dead, what was queued
 * for it is dropped with EHOSTDOWN as the socket error, and sends to it
 * fail at once. Other destinations are not affected; when node 2 comes
 * back a new flow starts.
 */
TEST_F_TIMEOUT(cluster, rdm_dead_peer, 60)
{
	struct lt_peer peer;
	struct lmsg m;
	uint64_t t0;
	char buf[32];
	int tx, rx, rx3, fresh, i, rev;

	tx = node_bound(self, 1, SOCK_RDM, 0);
	rx = node_bound(self, 2, SOCK_RDM, RX_PORT);
	rx3 = node_bound(self, 3, SOCK_RDM, RX_PORT);
	ASSERT_LE(0, tx);
	ASSERT_LE(0, rx);
	ASSERT_LE(0, rx3);
	ASSERT_EQ(5, lsend(tx, 2, RX_PORT, "hello", 5, 0));
	ASSERT_EQ(5, recv_wait(rx, buf, sizeof(buf), &m, wait_ms(2000)));

	ASSERT_EQ(0, node_link(self, 2, false));
	t0 = lt_now_ms();
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(6, lsend(tx, 2, RX_PORT, "queued", 6, 0));
	}
	/* No events asked for: poll() wakes up for POLLERR only. */
	rev = poll_one(tx, 0, detect_ms() + wait_ms(3000));
	TH_LOG("socket error %llu ms after the cut (detection time %d ms)",
	       (unsigned long long)(lt_now_ms() - t0), detect_ms());
	ASSERT_LT(0, rev);
	EXPECT_TRUE(rev & POLLERR);
	EXPECT_EQ(EHOSTDOWN, so_error(tx));
	EXPECT_EQ(0, so_error(tx));
	ASSERT_EQ(0, lt_peer_get(&self->nl[1], 2, &peer));
	EXPECT_EQ(LAMPORT_PEER_DEAD, peer.state);

	/* Sends to the dead node fail at once, from any socket. */
	EXPECT_EQ(-EHOSTDOWN, lsend(tx, 2, RX_PORT, "x", 1, 0));
	fresh = node_socket(self, 1, SOCK_RDM);
	ASSERT_LE(0, fresh);
	EXPECT_EQ(-EHOSTDOWN, lsend(fresh, 2, RX_PORT, "x", 1, 0));
	/* The socket's flow to node 3 is fine. */
	EXPECT_EQ(4, lsend(tx, 3, RX_PORT, "node", 4, 0));
	EXPECT_EQ(4, recv_wait(rx3, buf, sizeof(buf), &m, wait_ms(2000)));

	/* Node 2 is back: a new flow, the dropped messages stay dropped. */
	ASSERT_EQ(0, node_link(self, 2, true));
	ASSERT_EQ(0, wait_peer_state(self, 1, 2, LAMPORT_PEER_ALIVE, wait_ms(5000)));
	EXPECT_EQ(5, lsend(tx, 2, RX_PORT, "again", 5, 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(5, recv_wait(rx, buf, sizeof(buf), &m, wait_ms(2000)));
	EXPECT_EQ(0, memcmp(buf, "again", 5));
	EXPECT_EQ(0, poll_one(rx, POLLIN, wait_ms(200)));
}

/*
 * The receiving socket is closed and opened again on the same port: it
 * does not know the sender's flow, which is past where a flow can begin,
 * so it resets it. The sender learns ECONNRESET instead of retrying for
 * ever; its next send starts a new flow that the new socket takes.
 */
TEST_F_TIMEOUT(cluster, rdm_reset_by_reopened_receiver, 60)
{
	const uint32_t n = 80;	/* past the 65 where a new flow may start */
	struct flow_info f = {};
	uint64_t end;
	struct lmsg m;
	uint32_t i, v;
	int tx, rx, rev;

	tx = node_bound(self, 1, SOCK_RDM, 0);
	rx = node_bound(self, 2, SOCK_RDM, RX_PORT);
	ASSERT_LE(0, tx);
	ASSERT_LE(0, rx);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(sizeof(i), lsend(tx, 2, RX_PORT, &i, sizeof(i), 0));
		ASSERT_EQ(sizeof(v), recv_wait(rx, &v, sizeof(v), &m, wait_ms(2000)));
		ASSERT_EQ(i, v);
	}
	/*
	 * Every message acknowledged first: were the last one still
	 * unacknowledged, its retransmission would meet the new socket and
	 * reset the flow before the send below.
	 */
	end = lt_now_ms() + (uint64_t)wait_ms(2000);
	do {
		ASSERT_EQ(0, tx_flow(&self->nl[1], tx, 2, RX_PORT, &f));
		if (!f.stat[LAMPORT_FLOW_STAT_QUEUED])
			break;
		lt_sleep_ms(5);
	} while (lt_now_ms() < end);
	ASSERT_EQ(0, f.stat[LAMPORT_FLOW_STAT_QUEUED]);
	close(rx);
	rx = node_bound(self, 2, SOCK_RDM, RX_PORT);
	ASSERT_LE(0, rx);

	i = n;
	ASSERT_EQ(sizeof(i), lsend(tx, 2, RX_PORT, &i, sizeof(i), 0));
	rev = poll_one(tx, 0, wait_ms(3000));
	ASSERT_LT(0, rev);
	EXPECT_TRUE(rev & POLLERR);
	EXPECT_EQ(ECONNRESET, so_error(tx));
	/* The reset message was not delivered to the new socket. */
	EXPECT_EQ(-EAGAIN, lrecv(rx, &v, sizeof(v), MSG_DONTWAIT, &m));

	/* A new flow, from sequence 1: the new socket takes it. */
	i = n + 1;
	ASSERT_EQ(sizeof(i), lsend(tx, 2, RX_PORT, &i, sizeof(i), 0));
	ASSERT_EQ(sizeof(v), recv_wait(rx, &v, sizeof(v), &m, wait_ms(2000)));
	EXPECT_EQ(n + 1, v);
	close(tx);
	close(rx);
}

/*
 * Node 2 stops being node 1's peer: node 1's RDM flows to it fail at once
 * with EHOSTUNREACH instead of timing out, and so do later sends.
 */
TEST_F(cluster, rdm_peer_deleted)
{
	uint64_t t0;
	int tx, rev, i;

	tx = node_bound(self, 1, SOCK_RDM, 0);
	ASSERT_LE(0, tx);
	/* Nobody listens there: the messages stay unacknowledged. */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, lsend(tx, 2, RX_PORT + 7, "x", 1, 0));
	}
	t0 = lt_now_ms();
	ASSERT_EQ(0, lt_peer_del(&self->nl[1], 2));
	rev = poll_one(tx, 0, wait_ms(1000));
	TH_LOG("socket error %llu ms after the peer was deleted",
	       (unsigned long long)(lt_now_ms() - t0));
	ASSERT_LT(0, rev);
	EXPECT_TRUE(rev & POLLERR);
	EXPECT_EQ(EHOSTUNREACH, so_error(tx));
	EXPECT_EQ(-EHOSTUNREACH, lsend(tx, 2, RX_PORT, "x", 1, 0));
	close(tx);
}

static uint64_t timed_close(int fd)
{
	uint64_t t0 = lt_now_ms();

	close(fd);
	return lt_now_ms() - t0;
}

static int set_linger(int fd, int seconds)
{
	struct linger l = { .l_onoff = 1, .l_linger = seconds };

	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) ? -errno : 0;
}

TEST_F_TIMEOUT(cluster, rdm_close_with_unacked_data, 60)
{
	struct lt_node node3;
	struct lmsg m;
	uint64_t ms, drops;
	char buf[16];
	int tx, txl, rx, i;

	/* Linger, all acknowledged: close returns once it is, quickly. */
	rx = node_bound(self, 3, SOCK_RDM, RX_PORT);
	tx = node_bound(self, 1, SOCK_RDM, 0);
	ASSERT_LE(0, rx);
	ASSERT_LE(0, tx);
	ASSERT_EQ(0, set_linger(tx, 1));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(1, lsend(tx, 3, RX_PORT, "a", 1, 0));
	}
	ms = timed_close(tx);
	TH_LOG("linger, acknowledged: close took %llu ms", (unsigned long long)ms);
	EXPECT_GT((uint64_t)wait_ms(500), ms);
	/* Acknowledged means held by the receiver: all five are there. */
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(1, lrecv(rx, buf, sizeof(buf), MSG_DONTWAIT, &m));
	}

	/* Linger, never acknowledged (no socket at that port): 1 s. */
	ASSERT_EQ(0, lt_node_get(&self->nl[3], &node3));
	drops = node3.stat[LAMPORT_NODE_STAT_DROP_PORT];
	tx = node_bound(self, 1, SOCK_RDM, 0);
	ASSERT_LE(0, tx);
	ASSERT_EQ(0, set_linger(tx, 1));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(1, lsend(tx, 3, RX_PORT + 1, "b", 1, 0));
	}
	ms = timed_close(tx);
	TH_LOG("linger 1 s, unacknowledged: close took %llu ms", (unsigned long long)ms);
	EXPECT_LE(900, ms);
	EXPECT_GE((uint64_t)(1500 + (lt_debug_kernel() ? 1000 : 0)), ms);
	ASSERT_EQ(0, lt_node_get(&self->nl[3], &node3));
	EXPECT_LT(drops, node3.stat[LAMPORT_NODE_STAT_DROP_PORT]);

	/*
	 * Destination cut: without linger close does not wait; with
	 * SO_LINGER {1, 1} it waits 1 s at most (less once node 2 is
	 * declared dead and the messages are dropped).
	 */
	rx = node_bound(self, 2, SOCK_RDM, RX_PORT);
	tx = node_bound(self, 1, SOCK_RDM, 0);
	txl = node_bound(self, 1, SOCK_RDM, 0);
	ASSERT_LE(0, rx);
	ASSERT_LE(0, tx);
	ASSERT_LE(0, txl);
	ASSERT_EQ(0, set_linger(txl, 1));
	ASSERT_EQ(1, lsend(tx, 2, RX_PORT, "c", 1, 0));
	ASSERT_EQ(1, recv_wait(rx, buf, sizeof(buf), &m, wait_ms(2000)));
	ASSERT_EQ(1, lsend(txl, 2, RX_PORT, "c", 1, 0));
	ASSERT_EQ(1, recv_wait(rx, buf, sizeof(buf), &m, wait_ms(2000)));
	ASSERT_EQ(0, node_link(self, 2, false));
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(1, lsend(tx, 2, RX_PORT, "d", 1, 0));
		ASSERT_EQ(1, lsend(txl, 2, RX_PORT, "d", 1, 0));
	}
	ms = timed_close(tx);
	TH_LOG("no linger, destination cut: close took %llu ms", (unsigned long long)ms);
	EXPECT_GT((uint64_t)wait_ms(250), ms);
	ms = timed_close(txl);
	TH_LOG("linger 1 s, destination cut: close took %llu ms", (unsigned long long)ms);
	EXPECT_GE((uint64_t)(1500 + (lt_debug_kernel() ? 1000 : 0)), ms);
	/* Node 1 has no AF_LAMPORT socket left. */
	EXPECT_EQ(0, wait_sock_count(&self->nl[1], 0, wait_ms(1000)));
}

/* ======================================================================= */
/* Teardown and concurrency                                                */
/* ======================================================================= */

TEST_F_TIMEOUT(node, many_sockets, 120)
{
	const int n = 1000;		/* per type */
	struct rlimit rl = { .rlim_cur = 2 * n + 256, .rlim_max = 2 * n + 256 };
	uint8_t *used = calloc(2, 65536);
	int *fd = calloc(2 * (size_t)n, sizeof(int));
	uint16_t *port = calloc(2 * (size_t)n, sizeof(uint16_t));
	struct lmsg m;
	int i, t, p, k, from;
	char c;

	ASSERT_NE(NULL, used);
	ASSERT_NE(NULL, fd);
	ASSERT_NE(NULL, port);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (i = 0; i < 2 * n; i++) {
		t = i / n;
		fd[i] = bound_socket(types[t], 0);
		ASSERT_LE(0, fd[i]) {
			TH_LOG("socket %d: %s", i, strerror(-fd[i]));
		}
		p = lport(fd[i]);
		ASSERT_LE(LAMPORT_PORT_EPHEMERAL_MIN, p);
		ASSERT_GE(LAMPORT_PORT_EPHEMERAL_MAX, p);
		ASSERT_EQ(0, used[t * 65536 + p]) {
			TH_LOG("%s port %d given twice", type_name(types[t]), p);
		}
		used[t * 65536 + p] = 1;
		port[i] = (uint16_t)p;
	}
	EXPECT_EQ(2 * n, sock_count(&self->nl));

	/* A ring per type: each socket sends to the next one. */
	for (i = 0; i < 2 * n; i++) {
		t = i / n;
		k = t * n + (i % n + 1) % n;
		c = (char)i;
		ASSERT_EQ(1, lsend(fd[i], NODE_ID, port[k], &c, 1, 0));
	}
	for (i = 0; i < 2 * n; i++) {
		t = i / n;
		from = t * n + (i % n + n - 1) % n;
		ASSERT_EQ(1, recv_wait(fd[i], &c, 1, &m, wait_ms(2000)));
		EXPECT_EQ((char)from, c);
		EXPECT_TRUE(same_addr(&m.from, NODE_ID, port[from]));
	}
	/* Again, but close everything with the messages unread. */
	for (i = 0; i < 2 * n; i++) {
		t = i / n;
		k = t * n + (i % n + 1) % n;
		ASSERT_EQ(1, lsend(fd[i], NODE_ID, port[k], "x", 1, 0));
	}
	for (i = 0; i < 2 * n; i++)
		close(fd[i]);
	EXPECT_EQ(0, wait_sock_count(&self->nl, 0, wait_ms(2000)));
	/* Their ports are free again. */
	for (t = 0; t < 2; t++) {
		i = bound_socket(types[t], port[t * n]);
		EXPECT_LE(0, i);
		if (i >= 0)
			close(i);
	}
	free(used);
	free(fd);
	free(port);
}

struct shared_msg {
	uint32_t who;		/* 0 parent, 1 child */
	uint32_t seq;
};

static int shared_send(int s, uint16_t port, uint32_t who, uint32_t n)
{
	struct shared_msg msg = { .who = who };

	for (msg.seq = 0; msg.seq < n; msg.seq++)
		if (lsend(s, NODE_ID, port, &msg, sizeof(msg), 0) != sizeof(msg))
			return 1;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Parent and child send on one socket: one clock, every tick seen once. */
TEST_F(node, fork_shared_socket)
{
	const uint32_t n = 50;
	uint64_t c0, stamps[100];
	uint32_t next[2], i;
	struct shared_msg msg;
	struct lmsg m;
	unsigned int t;
	int r, s, status, sport;
	pid_t pid;

	for (t = 0; t < LT_ARRAY_SIZE(types); t++) {
		TH_LOG("%s", type_name(types[t]));
		r = bound_socket(types[t], 5000);
		s = bound_socket(types[t], 0);
		ASSERT_LE(0, r);
		ASSERT_LE(0, s);
		sport = lport(s);
		ASSERT_EQ(0, lclock(s, &c0));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(shared_send(s, 5000, 1, n));
		EXPECT_EQ(0, shared_send(s, 5000, 0, n));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

		next[0] = next[1] = 0;
		for (i = 0; i < 2 * n; i++) {
			ASSERT_EQ(sizeof(msg), recv_wait(r, &msg, sizeof(msg), &m,
							 wait_ms(2000)));
			ASSERT_GT(2, msg.who);
			EXPECT_TRUE(same_addr(&m.from, NODE_ID, (uint16_t)sport));
			/* Each process's messages in its order (RDM: always). */
			if (types[t] == SOCK_RDM) {
				EXPECT_EQ(next[msg.who], msg.seq);
			}
			next[msg.who]++;
			stamps[i] = m.st.stamp;
		}
		EXPECT_EQ(n, next[0]);
		EXPECT_EQ(n, next[1]);
		/* 2n sends, 2n ticks of the one clock: stamps c0+1..c0+2n. */
		qsort(stamps, 2 * n, sizeof(stamps[0]), cmp_u64);
		for (i = 0; i < 2 * n; i++) {
			EXPECT_EQ(c0 + 1 + i, stamps[i]);
		}
		EXPECT_EQ(c0 + 2 * n, clock_of(s));
		close(s);
		close(r);
	}
}

struct race {
	int s, r;
	struct sockaddr_lamport dst;
	atomic_bool stop;
	atomic_uint sent, received;
	atomic_int bad;			/* the first unexpected errno */
};

struct race_rx {
	struct race *x;
	int end;			/* what ended recv: 0 or -errno */
};

static void race_bad(struct race *x, int err)
{
	int zero = 0;

	atomic_compare_exchange_strong(&x->bad, &zero, err);
}

static void *race_sender(void *arg)
{
	struct race *x = arg;
	char buf[64] = "race";

	while (!atomic_load(&x->stop)) {
		if (sendto(x->s, buf, sizeof(buf), MSG_DONTWAIT,
			   (struct sockaddr *)&x->dst, sizeof(x->dst)) >= 0) {
			atomic_fetch_add(&x->sent, 1);
			continue;
		}
		if (errno == EBADF)	/* the main thread closed it */
			break;
		if (errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED) {
			race_bad(x, errno);
			break;
		}
		usleep(100);
	}
	return NULL;
}

static void *race_receiver(void *arg)
{
	struct race_rx *rx = arg;
	char buf[128];
	ssize_t n;

	for (;;) {
		n = recv(rx->x->r, buf, sizeof(buf), 0);
		if (n > 0) {
			atomic_fetch_add(&rx->x->received, 1);
			continue;
		}
		rx->end = n == 0 ? 0 : -errno;
		return NULL;
	}
}

/*
 * Two threads send on one socket, two receive on another; the receiving
 * socket is shut down and closed under them, then the sending one.
 */
static void race_round(struct __test_metadata *_metadata,
		       FIXTURE_DATA(cluster) *self, int type, int rnode,
		       uint16_t port)
{
	struct race x = {};
	struct race_rx rx[2] = { { .x = &x }, { .x = &x } };
	pthread_t tt[4];
	uint64_t end;
	int i;

	x.s = node_bound(self, 1, type, 0);
	x.r = node_bound(self, rnode, type, port);
	ASSERT_LE(0, x.s);
	ASSERT_LE(0, x.r);
	x.dst = slam((uint32_t)rnode, port);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_create(&tt[i], NULL, race_sender, &x));
		ASSERT_EQ(0, pthread_create(&tt[2 + i], NULL, race_receiver, &rx[i]));
	}
	end = lt_now_ms() + (uint64_t)wait_ms(2000);
	while (atomic_load(&x.received) < 20 && lt_now_ms() < end)
		lt_sleep_ms(1);
	EXPECT_EQ(0, shutdown(x.r, SHUT_RDWR));
	lt_sleep_ms(1);
	close(x.r);
	lt_sleep_ms(1);
	close(x.s);
	atomic_store(&x.stop, true);
	for (i = 0; i < 4; i++)
		pthread_join(tt[i], NULL);
	TH_LOG("%s to node %d: %u sent, %u received, receivers ended %d %d",
	       type_name(type), rnode, atomic_load(&x.sent),
	       atomic_load(&x.received), rx[0].end, rx[1].end);
	EXPECT_LT(0, atomic_load(&x.received));
	EXPECT_EQ(0, atomic_load(&x.bad)) {
		TH_LOG("a sender got %s", strerror(atomic_load(&x.bad)));
	}
	for (i = 0; i < 2; i++) {
		EXPECT_TRUE(rx[i].end == 0 || rx[i].end == -EBADF) {
			TH_LOG("receiver %d ended with %s", i, strerror(-rx[i].end));
		}
	}
}

TEST_F_TIMEOUT(cluster, concurrent_send_recv_close, 60)
{
	unsigned int k, rounds = lt_scaled(8) < 4 ? 4 : lt_scaled(8);
	struct lmsg m;
	char buf[8];
	int r, s;

	for (k = 0; k < rounds; k++)
		race_round(_metadata, self, types[k % 2], k / 2 % 2 ? 2 : 1,
			   (uint16_t)(RX_PORT + k));
	/* Nothing left behind, and the nodes still work. */
	EXPECT_EQ(0, wait_sock_count(&self->nl[1], 0, wait_ms(2000)));
	EXPECT_EQ(0, wait_sock_count(&self->nl[2], 0, wait_ms(2000)));
	r = node_bound(self, 2, SOCK_RDM, RX_PORT);
	s = node_bound(self, 1, SOCK_RDM, 0);
	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	EXPECT_EQ(2, lsend(s, 2, RX_PORT, "ok", 2, 0));
	EXPECT_EQ(2, recv_wait(r, buf, sizeof(buf), &m, wait_ms(2000)));
}

TEST_HARNESS_MAIN
