// SPDX-License-Identifier: GPL-2.0
/*
 * lamport bench msg: AF_LAMPORT against the kernel's own transports on the
 * same path. Nodes 1 (netns lpbench-a) and 2 (lpbench-b) are peers over the
 * bench's veth pair, heartbeats every 10 ms; every message from A to B
 * crosses that veth, whether a UDP or TCP segment or an AF_LAMPORT message
 * inside the nodes' UDP port.
 *
 *	dgram-64, dgram-1024	UDP vs DGRAM: A blasts for D seconds, B counts
 *	rtt-64, rtt-1024	UDP vs DGRAM: ping-pong, B echoes
 *	rdm-clean, rdm-lossP	TCP vs RDM: A writes 1 KiB for D seconds, B
 *				counts bytes read; lossP: netem loss P % on
 *				both veth ends, no delay
 *
 * Sockets are opened inside their namespace (a socket keeps the netns it
 * was made in); B's side then runs in a thread, A's in the main thread,
 * pinned to CPU 0 and CPU 1 by default (pin split): unpinned, the two
 * threads sometimes share a vCPU and sometimes not, and a TCG guest's
 * cross-CPU wake-ups (up to a 4 ms tick) make such runs bimodal. What
 * arrived is counted by B and read by A at the end of its D seconds, so
 * data still queued then does not count.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "af_lamport.h"
#include "bench.h"

#define MSG_PORT_BASE	5300
#define MSG_RCVBUF	212992	/* the blasts' receivers, UDP and DGRAM alike */
#define MSG_RTT_WARMUP	20	/* round trips not counted */
#define MSG_RX_TIMEO_MS	100
#define MSG_RTT_TIMEO_MS 1000
#define MSG_BUF		65536

enum proto { P_UDP, P_TCP, P_DGRAM, P_RDM };

static const char *const proto_name[] = { "UDP", "TCP", "DGRAM", "RDM" };

struct msg_bench {
	const struct msg_opts *o;
	struct msg_results *r;
	int family;		/* AF_LAMPORT's number */
	uint16_t port;		/* B's port of the next run; A's is port + 1 */
	int b_cpu;		/* B's CPU; -1: anywhere (A's is 0 then too) */
	struct netem na, nb;
};

/* A run's two ends: B's socket served by a thread, A's by the caller. */
struct msg_pair {
	enum proto proto;
	enum msg_kind kind;
	uint32_t size;
	int a, b;		/* sockets; b listens for TCP */
	int b_cpu;		/* B's thread runs there; -1: anywhere */
	pthread_t thread;
	bool started;
	atomic_bool stop;
	_Atomic uint64_t rx_msgs, rx_bytes;
	int rx_err;		/* errno that ended B's loop */
};

static volatile sig_atomic_t msg_stop;

static void on_signal(int sig)
{
	(void)sig;
	msg_stop = 1;
}

/* --- the nodes ---------------------------------------------------------- */

struct node_cfg {
	uint32_t id, peer;
	const char *peer_addr;
	uint8_t state;		/* out: the peer's state */
};

static int nl_node_peer(void *arg)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct node_cfg *c = arg;
	struct node_req node = { .has_id = true, .id = c->id };
	/*
	 * Detection after 30 intervals: netem's 5 % loss on both links must
	 * not get the peer declared dead (its RDM sends would fail).
	 */
	struct peer_req peer = { .id = c->peer, .has_mult = true, .mult = 30 };
	struct nlmsghdr *nlh;
	struct lnl nl;
	int err;

	if (parse_addr(c->peer_addr, &peer.addr))
		return -EINVAL;
	err = lnl_open(&nl);
	if (err)
		return err;
	nlh = lnl_msg(&nl, buf, LAMPORT_CMD_NODE_SET, 0);
	node_put(nlh, &node);
	err = lnl_talk(&nl, nlh, NULL, NULL);
	if (!err) {
		nlh = lnl_msg(&nl, buf, LAMPORT_CMD_PEER_ADD, 0);
		peer_put(nlh, &peer);
		err = lnl_talk(&nl, nlh, NULL, NULL);
	}
	if (err)
		fprintf(stderr, "Error: bench: node %u: %s%s%s\n", c->id,
			strerror(-err), nl.err_msg[0] ? ": " : "", nl.err_msg);
	lnl_close(&nl);
	return err;
}

static int peer_state_cb(const struct nlmsghdr *nlh, void *data)
{
	struct peer_info info;

	if (peer_decode(nlh, &info) != MNL_CB_OK)
		return MNL_CB_ERROR;
	*(uint8_t *)data = info.state;
	return MNL_CB_OK;
}

static int nl_peer_state(void *arg)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct node_cfg *c = arg;
	struct nlmsghdr *nlh;
	struct lnl nl;
	int err = lnl_open(&nl);

	if (err)
		return err;
	nlh = lnl_msg(&nl, buf, LAMPORT_CMD_PEER_GET, 0);
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, c->peer);
	err = lnl_talk(&nl, nlh, peer_state_cb, &c->state);
	lnl_close(&nl);
	return err;
}

/* Nodes 1 and 2, peers of each other (default heartbeats), both alive. */
static int nodes_up(void)
{
	struct node_cfg cfg[2] = {
		{ 1, 2, BENCH_ADDR_B, 0 }, { 2, 1, BENCH_ADDR_A, 0 },
	};
	const char *ns[2] = { BENCH_NS_A, BENCH_NS_B };
	uint64_t deadline;
	int i, err;

	for (i = 0; i < 2; i++)
		if ((err = netns_run(ns[i], nl_node_peer, &cfg[i])))
			return err;
	deadline = now_ns() + 5 * NSEC_PER_SEC;
	for (i = 0; i < 2 && !msg_stop;) {
		err = netns_run(ns[i], nl_peer_state, &cfg[i]);
		if (err)
			return err;
		if (cfg[i].state == LAMPORT_PEER_ALIVE) {
			i++;
			continue;
		}
		if (now_ns() > deadline) {
			fprintf(stderr, "Error: bench: node %u never saw node %u alive\n",
				cfg[i].id, cfg[i].peer);
			return -ETIMEDOUT;
		}
		usleep(20000);
	}
	return msg_stop ? -EINTR : 0;
}

/* --- sockets ------------------------------------------------------------ */

static int set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v)) ? -errno : 0;
}

static int set_timeo(int fd, int opt, unsigned int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) ? -errno : 0;
}

static socklen_t inet_sa(struct sockaddr_storage *ss, const char *addr,
			 uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, addr, &sin->sin_addr);
	return sizeof(*sin);
}

static socklen_t lamport_sa(struct sockaddr_storage *ss, int family,
			    uint32_t node, uint16_t port)
{
	struct sockaddr_lamport *sl = (struct sockaddr_lamport *)ss;

	memset(ss, 0, sizeof(*ss));
	sl->slam_family = (__kernel_sa_family_t)family;
	sl->slam_port = port;
	sl->slam_node = node;
	return sizeof(*sl);
}

/* side 0 (A) or 1 (B): its own address, or with peer the other end's. */
static socklen_t pair_sa(const struct msg_bench *mb, enum proto p, int side,
			 bool peer, struct sockaddr_storage *ss)
{
	int who = peer ? !side : side;
	uint16_t port = (uint16_t)(mb->port + (who ? 0 : 1));

	if (p == P_UDP || p == P_TCP)
		return inet_sa(ss, who ? BENCH_ADDR_B : BENCH_ADDR_A, port);
	return lamport_sa(ss, mb->family, peer ? (uint32_t)who + 1 : 0, port);
}

static int proto_socket(const struct msg_bench *mb, enum proto p, int side)
{
	static const int type[] = { SOCK_DGRAM, SOCK_STREAM, SOCK_DGRAM, SOCK_RDM };
	int domain = p == P_UDP || p == P_TCP ? AF_INET : mb->family;

	return netns_socket(side ? BENCH_NS_B : BENCH_NS_A, domain, type[p], 0);
}

static int bind_to(const struct msg_bench *mb, enum proto p, int fd, int side)
{
	struct sockaddr_storage ss;
	socklen_t len = pair_sa(mb, p, side, false, &ss);

	return bind(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
}

static int connect_to(const struct msg_bench *mb, enum proto p, int fd, int side)
{
	struct sockaddr_storage ss;
	socklen_t len = pair_sa(mb, p, side, true, &ss);

	return connect(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
}

/* B's end: bound, listening (TCP) or connected back to A (the echo). */
static int open_b(struct msg_bench *mb, struct msg_pair *mp)
{
	int err;

	mp->b = proto_socket(mb, mp->proto, 1);
	if (mp->b < 0)
		return mp->b;
	if (mp->proto == P_TCP)
		err = set_int(mp->b, SOL_SOCKET, SO_REUSEADDR, 1);
	else if (mp->kind == MSG_RATE)
		err = set_int(mp->b, SOL_SOCKET, SO_RCVBUF, MSG_RCVBUF);
	else
		err = 0;
	if (!err)
		err = set_timeo(mp->b, SO_RCVTIMEO, MSG_RX_TIMEO_MS);
	if (!err)
		err = bind_to(mb, mp->proto, mp->b, 1);
	if (!err && mp->proto == P_TCP)
		err = listen(mp->b, 1) ? -errno : 0;
	if (!err && mp->kind == MSG_RTT)
		err = connect_to(mb, mp->proto, mp->b, 1);
	return err;
}

/* A's end: bound (TCP: any port) and connected to B. */
static int open_a(struct msg_bench *mb, struct msg_pair *mp)
{
	int err = 0;

	mp->a = proto_socket(mb, mp->proto, 0);
	if (mp->a < 0)
		return mp->a;
	if (mp->proto != P_TCP)
		err = bind_to(mb, mp->proto, mp->a, 0);
	if (!err && mp->kind == MSG_RTT)
		err = set_timeo(mp->a, SO_RCVTIMEO, MSG_RTT_TIMEO_MS);
	if (!err)
		err = connect_to(mb, mp->proto, mp->a, 0);
	/*
	 * A blocked send must not hold the run past its end for long; set
	 * after connect, which it would cut short (a lost SYN).
	 */
	if (!err)
		err = set_timeo(mp->a, SO_SNDTIMEO, MSG_RX_TIMEO_MS);
	return err;
}

static int rcvbuf_of(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) ? -1 : v;
}

/* --- B's thread ---------------------------------------------------------- */

static int accept_a(struct msg_pair *mp)
{
	struct pollfd pfd = { .fd = mp->b, .events = POLLIN };
	int fd;

	while (!atomic_load(&mp->stop)) {
		if (poll(&pfd, 1, MSG_RX_TIMEO_MS) <= 0)
			continue;
		fd = accept4(mp->b, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(mp->b);
		mp->b = fd;
		return set_timeo(fd, SO_RCVTIMEO, MSG_RX_TIMEO_MS);
	}
	return -EINTR;
}

static void b_loop(struct msg_pair *mp, char *buf)
{
	uint64_t msgs = 0, bytes = 0;
	ssize_t n;

	while (!atomic_load_explicit(&mp->stop, memory_order_relaxed)) {
		n = recv(mp->b, buf, MSG_BUF, 0);
		if (n > 0) {
			atomic_store_explicit(&mp->rx_msgs, ++msgs, memory_order_relaxed);
			bytes += (uint64_t)n;
			atomic_store_explicit(&mp->rx_bytes, bytes, memory_order_relaxed);
			if (mp->kind == MSG_RTT)
				send(mp->b, buf, (size_t)n, 0);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		mp->rx_err = n ? errno : 0;
		return;
	}
}

/* Binds the calling thread to cpu (none when negative). */
static int pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* Counts what arrives; echoes it back for MSG_RTT. */
static void *b_main(void *arg)
{
	struct msg_pair *mp = arg;
	char *buf = malloc(MSG_BUF);
	int err = buf ? pin_self(mp->b_cpu) : -ENOMEM;

	if (!err && mp->proto == P_TCP)
		err = accept_a(mp);
	if (!err)
		b_loop(mp, buf);
	else
		mp->rx_err = -err;
	free(buf);
	return NULL;
}

/* --- A's side ------------------------------------------------------------ */

/* A failed send; false when the run is to end. */
static bool send_failed(struct msg_run *run, int err)
{
	if (err == EAGAIN || err == EINTR)
		return !msg_stop;	/* back-pressure (SO_SNDTIMEO), not an error */
	run->tx_errors++;
	run->last_error = err;
	/* A dead or unreachable peer fails at once: do not spin on it. */
	if (err == EHOSTDOWN || err == EHOSTUNREACH || err == ECONNREFUSED ||
	    err == ETIMEDOUT || err == ENOBUFS)
		usleep(1000);
	return !msg_stop;
}

/* Sends size-byte messages for D seconds; B's counts are read at the end. */
static void blast(const struct msg_bench *mb, struct msg_pair *mp,
		  struct msg_run *run)
{
	uint64_t t0, deadline, rx_msgs0, rx_bytes0;
	char buf[LAMPORT_MSG_MAX] = { 0 };
	uint64_t i;
	ssize_t n;

	rx_msgs0 = atomic_load(&mp->rx_msgs);
	rx_bytes0 = atomic_load(&mp->rx_bytes);
	t0 = now_ns();
	deadline = t0 + mb->o->duration_ns;
	for (i = 0; !msg_stop; i++) {
		if (!(i & 15) && now_ns() >= deadline)
			break;
		n = send(mp->a, buf, mp->size, 0);
		if (n < 0 && !send_failed(run, errno))
			break;
		if (n == (ssize_t)mp->size)
			run->tx_msgs++;
		if (n > 0)
			run->tx_bytes += (uint64_t)n;
	}
	run->elapsed_ns = now_ns() - t0;
	run->rx_msgs = atomic_load(&mp->rx_msgs) - rx_msgs0;
	run->rx_bytes = atomic_load(&mp->rx_bytes) - rx_bytes0;
}

/* Waits for the answer carrying seq; false when none came in time. */
static bool await_echo(struct msg_pair *mp, uint32_t seq, char *buf)
{
	uint32_t got;
	ssize_t n;

	for (;;) {
		n = recv(mp->a, buf, mp->size, 0);
		if (n < 0 && errno == EINTR && !msg_stop)
			continue;
		if (n < (ssize_t)sizeof(got))
			return false;
		memcpy(&got, buf, sizeof(got));
		if (got == seq)
			return true;	/* else a late answer to a lost one */
	}
}

static void ping_pong(const struct msg_bench *mb, struct msg_pair *mp,
		      struct msg_side *side, struct msg_run *run)
{
	char out[LAMPORT_MSG_MAX] = { 0 }, in[LAMPORT_MSG_MAX];
	uint32_t seq, total = MSG_RTT_WARMUP + mb->o->rtt;
	uint64_t t0 = now_ns(), t;

	for (seq = 1; seq <= total && !msg_stop; seq++) {
		memcpy(out, &seq, sizeof(seq));
		t = now_ns();
		if (send(mp->a, out, mp->size, 0) != (ssize_t)mp->size) {
			send_failed(run, errno);
			continue;
		}
		run->tx_msgs++;
		if (!await_echo(mp, seq, in)) {
			side->rtt_lost++;
			continue;
		}
		run->rx_msgs++;
		if (seq > MSG_RTT_WARMUP)
			samples_add(&side->rtt, now_ns() - t);
	}
	run->elapsed_ns = now_ns() - t0;
}

/* --- the RDM sender's flow ------------------------------------------------ */

struct flow_probe {
	uint16_t port;		/* A's */
	struct msg_run *run;
};

static int flow_cb(const struct nlmsghdr *nlh, void *data)
{
	struct flow_probe *p = data;
	struct sock_info si;
	size_t i;

	if (sock_decode(nlh, &si) != MNL_CB_OK)
		return MNL_CB_ERROR;
	for (i = 0; si.type == SOCK_RDM && si.port == p->port &&
		    i < si.flow_count; i++) {
		if (si.flows[i].dir != LAMPORT_FLOW_TX)
			continue;
		memcpy(p->run->flow, si.flows[i].stat, sizeof(p->run->flow));
		p->run->has_flow = true;
	}
	sock_free(&si);
	return MNL_CB_OK;
}

static int dump_flows(void *arg)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh;
	struct lnl nl;
	int err = lnl_open(&nl);

	if (err)
		return err;
	nlh = lnl_msg(&nl, buf, LAMPORT_CMD_SOCK_GET, NLM_F_DUMP);
	err = lnl_talk(&nl, nlh, flow_cb, arg);
	lnl_close(&nl);
	return err;
}

/* Keeps what the sender's flow counted (retransmits, cwnd, ...) in run. */
static void rdm_flow_stats(const struct msg_bench *mb, struct msg_run *run)
{
	struct flow_probe p = { (uint16_t)(mb->port + 1), run };
	int err = netns_run(BENCH_NS_A, dump_flows, &p);

	if (err)
		fprintf(stderr, "bench: warning: no RDM flow statistics: %s\n",
			strerror(-err));
}

/* --- one run ------------------------------------------------------------- */

static void pair_close(struct msg_pair *mp)
{
	atomic_store(&mp->stop, true);
	if (mp->a >= 0 && mp->proto == P_TCP)
		shutdown(mp->a, SHUT_WR);
	if (mp->started)
		pthread_join(mp->thread, NULL);
	if (mp->a >= 0)
		close(mp->a);
	if (mp->b >= 0)
		close(mp->b);
}

static enum proto run_proto(enum msg_kind kind, int side)
{
	if (kind == MSG_TPUT)
		return side == MSG_BASE ? P_TCP : P_RDM;
	return side == MSG_BASE ? P_UDP : P_DGRAM;
}

static int run_side(struct msg_bench *mb, struct msg_meas *m, int s)
{
	struct msg_pair mp = {
		.kind = m->kind, .size = m->size, .a = -1, .b = -1,
		.b_cpu = mb->b_cpu,
	};
	struct msg_side *side = &m->side[s];
	struct msg_run *run = &side->run[side->nrun];
	int err;

	mp.proto = run_proto(m->kind, s);
	mb->port = (uint16_t)(mb->port + 2);
	err = open_b(mb, &mp);
	if (!err)
		err = open_a(mb, &mp);
	if (!err) {
		err = -pthread_create(&mp.thread, NULL, b_main, &mp);
		mp.started = !err;
	}
	if (err) {
		fprintf(stderr, "Error: bench: %s %s sockets: %s\n", m->name,
			proto_name[mp.proto], strerror(-err));
		pair_close(&mp);
		return err;
	}
	memset(run, 0, sizeof(*run));
	side->rcvbuf = rcvbuf_of(mp.b);
	if (m->kind == MSG_RTT)
		ping_pong(mb, &mp, side, run);
	else
		blast(mb, &mp, run);
	if (mp.proto == P_RDM)
		rdm_flow_stats(mb, run);
	side->nrun++;
	pair_close(&mp);
	if (mp.rx_err && mp.rx_err != EINTR)
		fprintf(stderr, "bench: %s %s: the receiver stopped: %s\n", m->name,
			proto_name[mp.proto], strerror(mp.rx_err));
	return msg_stop ? -EINTR : 0;
}

static int set_loss(struct msg_bench *mb, uint32_t pct)
{
	int err;

	if (!pct)
		return netem_del(&mb->na) ?: netem_del(&mb->nb);
	err = netem_set(&mb->na, true, 0, 0, pct * 10000);
	return err ?: netem_set(&mb->nb, true, 0, 0, pct * 10000);
}

/* Base and AF_LAMPORT alternately, opts->reps runs each. */
static int run_meas(struct msg_bench *mb, struct msg_meas *m)
{
	unsigned int k;
	int s, err;

	fprintf(stderr, "bench: %s\n", m->name);
	err = set_loss(mb, m->loss_pct);
	for (k = 0; !err && k < mb->o->reps; k++)
		for (s = 0; !err && s < MSG_SIDES; s++)
			err = run_side(mb, m, s);
	return err ?: set_loss(mb, 0);
}

static void plan(struct msg_results *r)
{
	static const struct { const char *name; enum msg_kind kind;
			      uint32_t size, loss; } p[] = {
		{ "dgram-64", MSG_RATE, 64, 0 },
		{ "dgram-1024", MSG_RATE, 1024, 0 },
		{ "rtt-64", MSG_RTT, 64, 0 },
		{ "rtt-1024", MSG_RTT, 1024, 0 },
		{ "rdm-clean", MSG_TPUT, 1024, 0 },
		{ "rdm-loss1", MSG_TPUT, 1024, 1 },
		{ "rdm-loss5", MSG_TPUT, 1024, 5 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(p); i++) {
		struct msg_meas *m = &r->m[r->nm++];

		snprintf(m->name, sizeof(m->name), "%s", p[i].name);
		m->kind = p[i].kind;
		m->size = p[i].size;
		m->loss_pct = p[i].loss;
	}
}

static unsigned int r_cpus(const struct msg_bench *mb)
{
	return mb->r->sys.cpus;
}

static int msg_setup(struct msg_bench *mb)
{
	int err;

	mb->family = lamport_af_family();
	if (mb->family < 0) {
		fprintf(stderr, "Error: bench: %s\n", lamport_af_strerror(mb->family));
		return mb->family;
	}
	if (topo_create())
		return -1;
	err = netem_open(&mb->na, BENCH_NS_A, BENCH_DEV_A);
	if (!err)
		err = netem_open(&mb->nb, BENCH_NS_B, BENCH_DEV_B);
	if (err) {
		fprintf(stderr, "Error: bench: rtnetlink: %s\n", strerror(-err));
		return err;
	}
	err = nodes_up();
	if (err || mb->o->pin == MSG_PIN_NONE)
		return err;
	mb->b_cpu = mb->o->pin == MSG_PIN_SPLIT && r_cpus(mb) > 1 ? 1 : 0;
	err = pin_self(0);
	if (err)
		fprintf(stderr, "Error: bench: cannot pin to CPU 0: %s\n", strerror(-err));
	return err;
}

int bench_msg_run(const struct msg_opts *o, struct msg_results *r)
{
	struct msg_bench mb = { .o = o, .r = r, .port = MSG_PORT_BASE, .b_cpu = -1 };
	unsigned int i;
	int err;

	memset(r, 0, sizeof(*r));
	r->opts = o;
	sys_info_read(&r->sys);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	err = msg_setup(&mb);
	if (!err)
		plan(r);	/* from here on there is something to report */
	for (i = 0; !err && i < r->nm; i++)
		err = run_meas(&mb, &r->m[i]);
	netem_close(&mb.na);
	netem_close(&mb.nb);
	topo_destroy();
	if (err == -EINTR)
		fprintf(stderr, "bench: interrupted\n");
	else if (err < -1)
		fprintf(stderr, "Error: bench: %s\n", strerror(-err));
	return err ? -1 : 0;
}

void msg_results_free(struct msg_results *r)
{
	unsigned int i;
	int s;

	for (i = 0; i < r->nm; i++)
		for (s = 0; s < MSG_SIDES; s++)
			samples_free(&r->m[i].side[s].rtt);
}
