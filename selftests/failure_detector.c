// SPDX-License-Identifier: GPL-2.0
/*
 * The heartbeat failure detector between real nodes: three network
 * namespaces on a bridge, full mesh of peers, heartbeats every 10 ms.
 *
 * Times are taken from the kernel's own bookkeeping: a peer's state change
 * happened at (query time - PEER_STAT_STATE_AGE_NS), both CLOCK_MONOTONIC,
 * so the latencies asserted here do not include the test's polling delay.
 *
 * Margins: timers in a TCG guest wake up 0.2-0.5 ms late on average and up
 * to ~9 ms at worst (shared/notes/test-vms.md), so decisions are allowed
 * DETECT_MARGIN_NS, two intervals, beyond their ideal time.
 *
 * On the debug kernel (KASAN, lockdep: several times slower under TCG) the
 * workload is scaled, never the assertions: heartbeats every 50 ms instead
 * of 10 ms, and every time below follows from the interval.
 */

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/lamport.h>
#include <libmnl/libmnl.h>

#include "kselftest_harness.h"
#include "nl.h"
#include "lamport_test.h"

#define NODES			3
#define INTERVAL_US		interval_us()
#define MULT			3
#define MS			1000000LL
#define DETECT_MARGIN_NS	(2LL * INTERVAL_US * 1000)
#define DETECT_NS		((int64_t)MULT * INTERVAL_US * 1000)

/* A peer as PEER_GET reports it, and when it was asked. */
struct peer_info {
	struct lt_peer lt;
	int64_t queried_ns;
};

static uint32_t interval_us(void)
{
	return lt_debug_kernel() ? 50000 : 10000;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int enter_netns(const char *name)
{
	char path[128];
	int fd, err;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	err = setns(fd, CLONE_NEWNET);
	close(fd);
	return err;
}

/* A lamport netlink socket in the named netns. */
static int open_node(const char *netns, struct lnl *nl)
{
	int home = open("/proc/self/ns/net", O_RDONLY);
	int err;

	if (home < 0)
		return -errno;
	err = enter_netns(netns);
	if (!err)
		err = lnl_open(nl);
	if (setns(home, CLONE_NEWNET) && !err)
		err = -errno;
	close(home);
	return err;
}

static int node_set_id(struct lnl *nl, uint32_t id)
{
	return lt_node_set(nl, id, 0, NULL, 0);
}

static int peer_add(struct lnl *nl, uint32_t id, const char *ip,
		    uint32_t interval_us, uint8_t mult)
{
	struct in_addr a;
	struct lt_peer_cfg c = {
		.id = id, .addr = &a, .addr_len = sizeof(a),
		.interval_us = interval_us, .mult = mult,
	};

	if (inet_pton(AF_INET, ip, &a) != 1)
		return -EINVAL;
	return lt_peer_add(nl, &c);
}

/* PEER_SET of one of interval, multiplier or mode. */
static int peer_set(struct lnl *nl, uint32_t id, uint16_t attr, uint32_t value)
{
	struct lt_peer_cfg c = { .id = id };

	if (attr == LAMPORT_A_PEER_INTERVAL_US)
		c.interval_us = value;
	else if (attr == LAMPORT_A_PEER_MULT)
		c.mult = (uint8_t)value;
	else if (attr == LAMPORT_A_PEER_MODE)
		c.has_mode = true, c.mode = (uint8_t)value;
	else
		return -EINVAL;
	return lt_peer_set(nl, &c);
}

static int peer_get(struct lnl *nl, uint32_t id, struct peer_info *p)
{
	p->queried_ns = now_ns();
	return lt_peer_get(nl, id, &p->lt);
}

/* When the peer entered its current state, on CLOCK_MONOTONIC. */
static int64_t state_since(const struct peer_info *p)
{
	return p->queried_ns - (int64_t)p->lt.stat[LAMPORT_PEER_STAT_STATE_AGE_NS];
}

/* Polls until peer id on nl is in state; 0, or -ETIMEDOUT after ms. */
static int wait_state(struct lnl *nl, uint32_t id, uint8_t state, int ms,
		      struct peer_info *p)
{
	int64_t end = now_ns() + ms * MS;
	int err;

	do {
		err = peer_get(nl, id, p);
		if (err)
			return err;
		if (p->lt.state == state)
			return 0;
		usleep(2000);
	} while (now_ns() < end);
	return -ETIMEDOUT;
}

/* Link v<n> of node n up or down, by ioctl so that the time is exact. */
static int set_link(int n, int up, int64_t *when)
{
	int home = open("/proc/self/ns/net", O_RDONLY);
	char netns[16], dev[IFNAMSIZ];
	struct ifreq ifr = {};
	int fd, err = 0;

	snprintf(netns, sizeof(netns), "lf-n%d", n);
	snprintf(dev, sizeof(dev), "v%d", n);
	if (home < 0 || enter_netns(netns))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	if (!err) {
		ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr))
			err = -errno;
		*when = now_ns();
	}
	if (fd >= 0)
		close(fd);
	if (setns(home, CLONE_NEWNET) && !err)
		err = -errno;
	close(home);
	return err;
}

FIXTURE(cluster) {
	struct lnl node[NODES + 1];
	int64_t configured_ns;
};

FIXTURE_SETUP(cluster)
{
	int i, j;

	sh("ip netns del lf-sw 2>/dev/null; for i in 1 2 3; do ip netns del lf-n$i 2>/dev/null; done");
	ASSERT_EQ(0, sh("ip netns add lf-sw && ip -n lf-sw link add br0 type bridge && ip -n lf-sw link set br0 up"));
	for (i = 1; i <= NODES; i++) {
		ASSERT_EQ(0, sh("ip netns add lf-n%d && "
				"ip link add v%d netns lf-n%d type veth peer name p%d netns lf-sw && "
				"ip -n lf-sw link set p%d master br0 up && "
				"ip -n lf-n%d addr add 198.18.0.%d/24 dev v%d && "
				"ip -n lf-n%d addr add fd00::%d/64 dev v%d nodad && "
				"ip -n lf-n%d link set v%d up && ip -n lf-n%d link set lo up",
				i, i, i, i, i, i, i, i, i, i, i, i, i, i));
		ASSERT_EQ(0, open_node(i == 1 ? "lf-n1" : i == 2 ? "lf-n2" : "lf-n3",
				       &self->node[i]));
		ASSERT_EQ(0, node_set_id(&self->node[i], i));
	}
	for (i = 1; i <= NODES; i++)
		for (j = 1; j <= NODES; j++) {
			char ip[32];

			if (i == j)
				continue;
			snprintf(ip, sizeof(ip), "198.18.0.%d", j);
			ASSERT_EQ(0, peer_add(&self->node[i], j, ip, INTERVAL_US, MULT));
		}
	self->configured_ns = now_ns();
}

FIXTURE_TEARDOWN(cluster)
{
	int i;

	for (i = 1; i <= NODES; i++)
		lnl_close(&self->node[i]);
	/* Deleting the namespaces with heartbeats running is part of the test. */
	sh("ip netns del lf-sw; for i in 1 2 3; do ip netns del lf-n$i; done");
}

static void wait_all_alive(struct __test_metadata *_metadata,
			   FIXTURE_DATA(cluster) *self, int64_t *latest)
{
	struct peer_info p;
	int i, j;

	*latest = 0;
	for (i = 1; i <= NODES; i++)
		for (j = 1; j <= NODES; j++) {
			if (i == j)
				continue;
			ASSERT_EQ(0, wait_state(&self->node[i], j, LAMPORT_PEER_ALIVE,
						2000, &p)) {
				TH_LOG("node %d: peer %d is in state %d", i, j, p.lt.state);
			}
			if (state_since(&p) > *latest)
				*latest = state_since(&p);
		}
}

/*
 * Cuts node 3 and checks nodes 1 and 2 declare it dead in time, and not
 * before min_silence_ns without a heartbeat from it.  The lower bound is
 * on the silence, not on the time since the cut: a guest starved of CPU
 * may have heard nothing for a while before the cut already.
 */
static void cut_node3(struct __test_metadata *_metadata,
		      FIXTURE_DATA(cluster) *self, int64_t detect_ns,
		      int64_t min_silence_ns)
{
	struct peer_info p;
	int64_t cut;
	int i;

	ASSERT_EQ(0, set_link(3, 0, &cut));
	for (i = 1; i <= 2; i++) {
		int64_t latency, silence;

		ASSERT_EQ(0, wait_state(&self->node[i], 3, LAMPORT_PEER_DEAD,
					5000, &p));
		latency = state_since(&p) - cut;
		/* Both ages are taken at the same instant in the kernel. */
		silence = (int64_t)p.lt.stat[LAMPORT_PEER_STAT_LAST_RX_AGE_NS] -
			  (int64_t)p.lt.stat[LAMPORT_PEER_STAT_STATE_AGE_NS];
		TH_LOG("node %d declared node 3 dead %.2f ms after the cut, %.2f ms after its last heartbeat (T_D %.1f ms)",
		       i, latency / 1e6, silence / 1e6,
		       p.lt.stat[LAMPORT_PEER_STAT_DETECT_NS] / 1e6);
		EXPECT_LE(latency, detect_ns + DETECT_MARGIN_NS);
		EXPECT_GE(silence, min_silence_ns);
	}
}

TEST_F(cluster, cut_node_is_declared_dead_then_recovers)
{
	int64_t latest, up, detect = DETECT_NS;
	struct peer_info p;
	int i;

	wait_all_alive(_metadata, self, &latest);
	ASSERT_EQ(0, peer_get(&self->node[1], 3, &p));
	EXPECT_EQ((uint64_t)detect, p.lt.stat[LAMPORT_PEER_STAT_DETECT_NS]);
	/* Fixed mode: dead after exactly T_D of silence, never sooner. */
	cut_node3(_metadata, self, detect, detect);

	ASSERT_EQ(0, set_link(3, 1, &up));
	for (i = 1; i <= 2; i++) {
		ASSERT_EQ(0, wait_state(&self->node[i], 3, LAMPORT_PEER_ALIVE,
					5000, &p));
		EXPECT_EQ(1, p.lt.stat[LAMPORT_PEER_STAT_RECOVERIES]);
		TH_LOG("node %d: node 3 alive again %.1f ms after the link came up",
		       i, (state_since(&p) - up) / 1e6);
	}
	/* Node 3 itself saw both others die and come back. */
	for (i = 1; i <= 2; i++) {
		ASSERT_EQ(0, wait_state(&self->node[3], i, LAMPORT_PEER_ALIVE,
					5000, &p));
		EXPECT_EQ(1, p.lt.stat[LAMPORT_PEER_STAT_RECOVERIES]);
	}
}

TEST_F(cluster, interval_change_takes_effect)
{
	struct peer_info p;
	int64_t latest, end;

	wait_all_alive(_metadata, self, &latest);
	ASSERT_EQ(0, peer_set(&self->node[3], 1, LAMPORT_A_PEER_INTERVAL_US,
			      2 * INTERVAL_US));
	ASSERT_EQ(0, peer_get(&self->node[3], 1, &p));
	EXPECT_EQ(2 * INTERVAL_US, p.lt.conf.interval_us);
	end = now_ns() + 2000 * MS;
	do {
		ASSERT_EQ(0, peer_get(&self->node[1], 3, &p));
		if (p.lt.stat[LAMPORT_PEER_STAT_REMOTE_INTERVAL_US] == 2 * INTERVAL_US)
			break;
		usleep(5000);
	} while (now_ns() < end);
	EXPECT_EQ(2 * INTERVAL_US, p.lt.stat[LAMPORT_PEER_STAT_REMOTE_INTERVAL_US]);
	/* T_D = M_r * max(I_r, I_l) = 3 * 2 intervals. */
	EXPECT_EQ(2 * DETECT_NS, (int64_t)p.lt.stat[LAMPORT_PEER_STAT_DETECT_NS]);
	EXPECT_EQ(LAMPORT_PEER_ALIVE, p.lt.state);
}

TEST_F(cluster, phi_rides_out_jitter_and_detects_dead)
{
	uint64_t transitions;
	struct peer_info p;
	int64_t latest;
	int i;

	wait_all_alive(_metadata, self, &latest);
	for (i = 1; i <= 2; i++)
		ASSERT_EQ(0, peer_set(&self->node[i], 3, LAMPORT_A_PEER_MODE,
				      LAMPORT_FD_PHI));
	ASSERT_EQ(0, sh("ip netns exec lf-n3 tc qdisc add dev v3 root netem delay 4ms 2ms"));
	usleep(300 * 1000);
	ASSERT_EQ(0, peer_get(&self->node[1], 3, &p));
	EXPECT_EQ(LAMPORT_FD_PHI, p.lt.conf.mode);
	transitions = p.lt.stat[LAMPORT_PEER_STAT_TRANSITIONS];
	sleep(2);
	ASSERT_EQ(0, peer_get(&self->node[1], 3, &p));
	TH_LOG("phi now %.3f, mean detection time %.1f ms, lost %llu",
	       p.lt.stat[LAMPORT_PEER_STAT_PHI_MILLI] / 1000.0,
	       p.lt.stat[LAMPORT_PEER_STAT_DETECT_NS] / 1e6,
	       (unsigned long long)p.lt.stat[LAMPORT_PEER_STAT_LOST]);
	EXPECT_EQ(0, p.lt.stat[LAMPORT_PEER_STAT_RECOVERIES]);
	EXPECT_NE(LAMPORT_PEER_DEAD, p.lt.state);
	EXPECT_LE(p.lt.stat[LAMPORT_PEER_STAT_TRANSITIONS], transitions + 2);
	/* Phi's detection time follows the observed arrivals. */
	cut_node3(_metadata, self, p.lt.stat[LAMPORT_PEER_STAT_DETECT_NS] + INTERVAL_US * 1000LL, 0);
}

TEST_F(cluster, loss_5pct_mult_5_no_false_dead)
{
	uint64_t lost = 0;
	struct peer_info p;
	int64_t latest;
	int i, j;

	wait_all_alive(_metadata, self, &latest);
	for (i = 1; i <= NODES; i++) {
		for (j = 1; j <= NODES; j++)
			if (i != j)
				ASSERT_EQ(0, peer_set(&self->node[i], j,
						      LAMPORT_A_PEER_MULT, 5));
		ASSERT_EQ(0, sh("ip netns exec lf-n%d tc qdisc add dev v%d root netem loss 5%%", i, i));
	}
	sleep(lt_debug_kernel() ? 3 : 5);
	for (i = 1; i <= NODES; i++)
		for (j = 1; j <= NODES; j++) {
			if (i == j)
				continue;
			ASSERT_EQ(0, peer_get(&self->node[i], j, &p));
			TH_LOG("node %d peer %d: rx %llu lost %llu transitions %llu",
			       i, j, (unsigned long long)p.lt.stat[LAMPORT_PEER_STAT_RX],
			       (unsigned long long)p.lt.stat[LAMPORT_PEER_STAT_LOST],
			       (unsigned long long)p.lt.stat[LAMPORT_PEER_STAT_TRANSITIONS]);
			EXPECT_EQ(0, p.lt.stat[LAMPORT_PEER_STAT_RECOVERIES]);
			EXPECT_NE(LAMPORT_PEER_DEAD, p.lt.state);
			lost += p.lt.stat[LAMPORT_PEER_STAT_LOST];
		}
	/*
	 * The loss did happen. Not per pair: on the debug kernel a pair
	 * sees ~70 heartbeats in the window, none lost 3 % of the time.
	 */
	EXPECT_GT(lost, 0);
}

/* Reconfiguration races the timers and the receive path. */
TEST_F(cluster, churn_while_heartbeats_flow)
{
	int64_t latest;
	int k, rounds = lt_debug_kernel() ? 40 : 200;

	wait_all_alive(_metadata, self, &latest);
	for (k = 0; k < rounds; k++) {
		ASSERT_EQ(0, lt_peer_del(&self->node[1], 3));
		ASSERT_EQ(0, peer_add(&self->node[1], 3, "198.18.0.3", 1000 + k * 100, 2));
		ASSERT_EQ(0, peer_set(&self->node[1], 3, LAMPORT_A_PEER_MODE, k & 1));
		ASSERT_EQ(0, peer_set(&self->node[1], 3, LAMPORT_A_PEER_INTERVAL_US,
				      INTERVAL_US));
	}
	wait_all_alive(_metadata, self, &latest);
}

/*
 * Node 1 forgets node 3 and adds it again: its heartbeats to node 3 start
 * a new sequence at 1, far below the one node 3 has seen. Node 3 must take
 * them at once (a new epoch), not as old duplicates until the new sequence
 * passes the old one: it never declares node 1 dead. (A soft suspicion may
 * come: the gap around the re-add can pass half the detection time.)
 */
TEST_F(cluster, restarted_sequence_is_heard_at_once)
{
	struct peer_info before, p;
	int64_t latest, end;

	wait_all_alive(_metadata, self, &latest);
	/* Let node 3 see a sequence well above the 3 heartbeats T_D spans. */
	usleep(20 * INTERVAL_US);
	ASSERT_EQ(0, peer_get(&self->node[3], 1, &before));
	ASSERT_EQ(LAMPORT_PEER_ALIVE, before.lt.state);
	ASSERT_GT(before.lt.stat[LAMPORT_PEER_STAT_RX], 10);

	ASSERT_EQ(0, lt_peer_del(&self->node[1], 3));
	ASSERT_EQ(0, peer_add(&self->node[1], 3, "198.18.0.3", INTERVAL_US, MULT));
	end = now_ns() + 4 * DETECT_NS;
	while (now_ns() < end) {
		ASSERT_EQ(0, peer_get(&self->node[3], 1, &p));
		ASSERT_NE(LAMPORT_PEER_DEAD, p.lt.state) {
			TH_LOG("node 3 declared node 1 dead: its new heartbeats went unheard");
		}
		usleep(INTERVAL_US / 2);
	}
	EXPECT_EQ(LAMPORT_PEER_ALIVE, p.lt.state);
	EXPECT_GT(p.lt.stat[LAMPORT_PEER_STAT_RX],
		  before.lt.stat[LAMPORT_PEER_STAT_RX] + 2);
	EXPECT_EQ(before.lt.stat[LAMPORT_PEER_STAT_DUPLICATES],
		  p.lt.stat[LAMPORT_PEER_STAT_DUPLICATES]);
	EXPECT_EQ(before.lt.stat[LAMPORT_PEER_STAT_RECOVERIES],
		  p.lt.stat[LAMPORT_PEER_STAT_RECOVERIES]);
}

struct event {
	uint32_t node, peer;
	uint8_t old_state, new_state, reason;
	uint64_t time_ns, last_rx_ns, detect_ns;
};

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct event *ev = data;
	struct nlattr *a;

	if (g->cmd != LAMPORT_CMD_PEER_EVENT)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		switch (mnl_attr_get_type(a)) {
		case LAMPORT_A_NODE_ID:
			ev->node = mnl_attr_get_u32(a);
			break;
		case LAMPORT_A_PEER_ID:
			ev->peer = mnl_attr_get_u32(a);
			break;
		case LAMPORT_A_EVENT_OLD_STATE:
			ev->old_state = mnl_attr_get_u8(a);
			break;
		case LAMPORT_A_PEER_STATE:
			ev->new_state = mnl_attr_get_u8(a);
			break;
		case LAMPORT_A_EVENT_REASON:
			ev->reason = mnl_attr_get_u8(a);
			break;
		case LAMPORT_A_EVENT_TIME_NS:
			ev->time_ns = mnl_attr_get_u64(a);
			break;
		case LAMPORT_A_EVENT_LAST_RX_NS:
			ev->last_rx_ns = mnl_attr_get_u64(a);
			break;
		case LAMPORT_A_EVENT_DETECT_NS:
			ev->detect_ns = mnl_attr_get_u64(a);
			break;
		}
	}
	return MNL_CB_STOP;
}

/*
 * The next event for peer (0: any) on a socket that joined "events";
 * 0 or -errno.
 */
static int next_event(struct lnl *nl, uint32_t peer, struct event *ev, int ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int64_t end = now_ns() + ms * MS;
	int fd = mnl_socket_get_fd(nl->sock);
	struct timeval tv = { .tv_usec = 100000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (now_ns() < end) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		memset(ev, 0, sizeof(*ev));
		if (mnl_cb_run(buf, n, 0, 0, event_cb, ev) >= 0 && ev->peer &&
		    (!peer || ev->peer == peer))
			return 0;
	}
	return -ETIMEDOUT;
}

/*
 * Every state change is multicast on "events" with its decision time, the
 * last heartbeat's arrival and the detection time in force, and fires the
 * lamport_peer_state tracepoint.
 */
TEST_F(cluster, state_changes_are_events_and_tracepoints)
{
	struct lnl mon;
	struct event ev;
	int64_t latest, cut;
	uint8_t expect_state = LAMPORT_PEER_ALIVE;
	int seen_dead = 0, i;
	FILE *f;
	char line[512];
	int traced = 0;

	wait_all_alive(_metadata, self, &latest);
	ASSERT_EQ(0, sh("echo > /sys/kernel/tracing/trace && "
			"echo 1 > /sys/kernel/tracing/events/lamport/lamport_peer_state/enable"));
	ASSERT_EQ(0, open_node("lf-n1", &mon));
	ASSERT_EQ(0, lnl_join_group(&mon, LAMPORT_MCGRP_EVENTS));
	ASSERT_EQ(0, set_link(3, 0, &cut));
	for (i = 0; i < 32 && !seen_dead; i++) {
		ASSERT_EQ(0, next_event(&mon, 3, &ev, 3000));
		EXPECT_EQ(1, ev.node);
		/* Before the cut a busy guest may flap alive <-> suspect. */
		if ((int64_t)ev.time_ns < cut) {
			expect_state = ev.new_state;
			continue;
		}
		EXPECT_EQ(expect_state, ev.old_state);
		EXPECT_EQ(LAMPORT_REASON_TIMEOUT, ev.reason);
		EXPECT_LT(ev.last_rx_ns, ev.time_ns);
		EXPECT_EQ(DETECT_NS, (int64_t)ev.detect_ns);
		if (ev.new_state == LAMPORT_PEER_DEAD) {
			seen_dead = 1;
			EXPECT_GE(ev.time_ns - ev.last_rx_ns, (uint64_t)ev.detect_ns);
			EXPECT_LE((int64_t)ev.time_ns - cut, DETECT_NS + DETECT_MARGIN_NS);
		}
		expect_state = ev.new_state;
	}
	EXPECT_EQ(1, seen_dead);
	ASSERT_EQ(0, set_link(3, 1, &cut));
	ASSERT_EQ(0, next_event(&mon, 3, &ev, 5000));
	EXPECT_EQ(LAMPORT_PEER_DEAD, ev.old_state);
	EXPECT_EQ(LAMPORT_PEER_ALIVE, ev.new_state);
	EXPECT_EQ(LAMPORT_REASON_HEARTBEAT, ev.reason);
	lnl_close(&mon);

	sh("echo 0 > /sys/kernel/tracing/events/lamport/lamport_peer_state/enable");
	f = fopen("/sys/kernel/tracing/trace", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "lamport_peer_state:") &&
		    strstr(line, "peer=3 suspect->dead reason=timeout"))
			traced = 1;
	fclose(f);
	EXPECT_EQ(1, traced);
}

/*
 * All peers come alive within three intervals of being configured: the
 * mesh is rebuilt with every node's event stream open, and the time of
 * each peer's unknown -> alive event is compared with the last PEER_ADD.
 */
TEST_F(cluster, all_alive_within_three_intervals)
{
	struct lnl mon[NODES + 1];
	int64_t configured, latest = 0;
	struct event ev;
	int i, j, seen;

	for (i = 1; i <= NODES; i++) {
		char netns[16];

		snprintf(netns, sizeof(netns), "lf-n%d", i);
		ASSERT_EQ(0, open_node(netns, &mon[i]));
		ASSERT_EQ(0, lnl_join_group(&mon[i], LAMPORT_MCGRP_EVENTS));
		for (j = 1; j <= NODES; j++)
			if (i != j)
				ASSERT_EQ(0, lt_peer_del(&self->node[i], j));
	}
	for (i = 1; i <= NODES; i++)
		for (j = 1; j <= NODES; j++) {
			char ip[32];

			if (i == j)
				continue;
			snprintf(ip, sizeof(ip), "198.18.0.%d", j);
			ASSERT_EQ(0, peer_add(&self->node[i], j, ip, INTERVAL_US, MULT));
		}
	configured = now_ns();
	for (i = 1; i <= NODES; i++) {
		for (seen = 0; seen < NODES - 1;) {
			ASSERT_EQ(0, next_event(&mon[i], 0, &ev, 2000));
			if (ev.old_state != LAMPORT_PEER_UNKNOWN)
				continue;
			EXPECT_EQ(LAMPORT_PEER_ALIVE, ev.new_state);
			EXPECT_EQ(LAMPORT_REASON_HEARTBEAT, ev.reason);
			if ((int64_t)ev.time_ns > latest)
				latest = ev.time_ns;
			seen++;
		}
		lnl_close(&mon[i]);
	}
	TH_LOG("all peers alive %.1f ms after the last peer was added",
	       (latest - configured) / 1e6);
	EXPECT_LE(latest - configured, 3LL * INTERVAL_US * 1000);
}

/* Peers over IPv6: the same node pair, moved to fd00::/64. */
TEST_F(cluster, ipv6_peers)
{
	char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh;
	struct in6_addr a;
	struct peer_info p;
	int64_t latest, moved;
	int i, j;

	wait_all_alive(_metadata, self, &latest);
	for (i = 1; i <= 3; i += 2) {
		char ip[32];

		j = 4 - i;
		snprintf(ip, sizeof(ip), "fd00::%d", j);
		ASSERT_EQ(1, inet_pton(AF_INET6, ip, &a));
		nlh = lnl_msg(&self->node[i], buf, LAMPORT_CMD_PEER_SET, 0);
		mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, j);
		mnl_attr_put(nlh, LAMPORT_A_PEER_ADDR, sizeof(a), &a);
		ASSERT_EQ(0, lnl_talk(&self->node[i], nlh, NULL, NULL));
	}
	moved = now_ns();
	usleep(300 * 1000);
	ASSERT_EQ(0, peer_get(&self->node[1], 3, &p));
	EXPECT_EQ(LAMPORT_PEER_ALIVE, p.lt.state);
	/* Heard over IPv6 since the move: its last heartbeat is recent. */
	EXPECT_LT((int64_t)p.lt.stat[LAMPORT_PEER_STAT_LAST_RX_AGE_NS],
		  p.queried_ns - moved);
	ASSERT_EQ(0, peer_get(&self->node[3], 1, &p));
	EXPECT_EQ(LAMPORT_PEER_ALIVE, p.lt.state);
}

FIXTURE(lonely) {
	struct lnl nl;
};

FIXTURE_SETUP(lonely)
{
	sh("ip netns del lf-many 2>/dev/null");
	ASSERT_EQ(0, sh("ip netns add lf-many && ip -n lf-many link set lo up && "
			"ip -n lf-many route add blackhole 198.18.64.0/18"));
	ASSERT_EQ(0, open_node("lf-many", &self->nl));
	ASSERT_EQ(0, node_set_id(&self->nl, 1));
}

FIXTURE_TEARDOWN(lonely)
{
	lnl_close(&self->nl);
	sh("ip netns del lf-many");
}

static void peer_ip(uint32_t i, char *ip, size_t len)
{
	snprintf(ip, len, "198.18.%u.%u", 64 + i / 250, 1 + i % 250);
}

/*
 * 1024 peers at 10 ms on one node: about 100,000 heartbeats a second. They
 * go to a blackhole route, so what is measured is the node's own work (timers,
 * building messages, routing); the namespace is then deleted with all of it
 * running. Under TCG the timers cannot keep that pace and fire late: the
 * test asserts correctness, not throughput. On the debug kernel the 1024
 * peers beat once a second.
 */
TEST_F_TIMEOUT(lonely, thousand_peers_at_10ms, 120)
{
	uint32_t i, n = 1024, interval = lt_debug_kernel() ? 1000000 : 10000;
	struct peer_info p;
	char ip[32];

	for (i = 0; i < n; i++) {
		peer_ip(i, ip, sizeof(ip));
		ASSERT_EQ(0, peer_add(&self->nl, 2 + i, ip, interval, MULT));
	}
	usleep(lt_debug_kernel() ? 2000 * 1000 : 500 * 1000);
	for (i = 0; i < n; i += 97) {
		ASSERT_EQ(0, peer_get(&self->nl, 2 + i, &p));
		EXPECT_GT(p.lt.stat[LAMPORT_PEER_STAT_TX], 0);
		EXPECT_EQ(LAMPORT_PEER_UNKNOWN, p.lt.state);
	}
}

TEST_F_TIMEOUT(lonely, peer_limit, 120)
{
	char buf[LNL_MSG_SIZE], ip[32];
	struct nlmsghdr *nlh;
	uint32_t i;

	for (i = 0; i < LAMPORT_PEERS_MAX; i++) {
		peer_ip(i, ip, sizeof(ip));
		ASSERT_EQ(0, peer_add(&self->nl, 2 + i, ip, 60000000, MULT));
	}
	nlh = lnl_msg(&self->nl, buf, LAMPORT_CMD_PEER_ADD, 0);
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, 100000);
	mnl_attr_put(nlh, LAMPORT_A_PEER_ADDR, 4, "\xc6\x12\x40\x01");
	EXPECT_EQ(-ENOSPC, lnl_talk(&self->nl, nlh, NULL, NULL));
	EXPECT_NE(NULL, strstr(self->nl.err_msg, "limit"));
	/* A freed slot can be taken again. */
	ASSERT_EQ(0, lt_peer_del(&self->nl, 2));
	EXPECT_EQ(0, lnl_talk(&self->nl, nlh, NULL, NULL));
}

TEST_HARNESS_MAIN
