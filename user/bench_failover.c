// SPDX-License-Identifier: GPL-2.0
/*
 * lamport bench failover: how long a 3-node Raft cluster over AF_LAMPORT
 * takes to accept writes again after its leader crashed, with the failure
 * detector's hints (lamport raft serve's default) and with the election
 * timeout alone (--no-hints), in one run on one set of namespaces.
 *
 * The nodes lbf1..lbf3 and the client namespace lbfc hang off a bridge in
 * lbfsw (198.18.11.0/24).  Each namespace is lamport node 1..3, watching
 * the two others every 10 ms with multiplier 3; Raft node N is lamport
 * node N, over AF_LAMPORT.
 *
 * A crash is the leader's process killed (SIGKILL) and, at the same
 * instant, its node cut off the network (its link set down): what the
 * others see of a machine that stopped.  A process killed alone
 * ("fault process") leaves its kernel heartbeating: the detector then has
 * nothing to report and the hints cannot help.
 *
 * The failover time runs from the kill to the first write a new leader
 * acknowledged: one put, resent every 5 ms to both survivors (and at once
 * to the leader a survivor names), its first WIRE_DONE ends the clock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/rtnetlink.h>

#include "args.h"
#include "bench.h"
#include "json.h"
#include "raft/client.h"
#include "raft/hint.h"
#include "raft/kv.h"
#include "raft/wire.h"

#define BF_NODES	3
#define BF_NS		"lbf"
#define BF_NET		"198.18.11."
#define BF_PORT		7500	/* AF_LAMPORT port; clients on UDP BF_PORT + 1 */
#define BF_INTERVAL_MS	10
#define BF_MULT		3
#define BF_KILLS_MAX	1000
#define BF_RESEND_NS	(5 * NSEC_PER_MSEC)
#define BF_REDIRECT_NS	NSEC_PER_MSEC
#define BF_PHASE_NS	(50 * NSEC_PER_MSEC)
#define BF_TARGET_NS	(100 * NSEC_PER_MSEC)
#define BF_DIR		"/tmp/lamport-bench-failover"
#define BF_HELP		"lamport bench help"

enum bf_mode { BF_HINTS, BF_TIMEOUT, BF_MODES };

static const char *const bf_mode_key[BF_MODES] = { "hints", "timeout" };
static const char *const bf_mode_name[BF_MODES] = {
	"hints", "election timeout only",
};

struct bf_opts {
	uint32_t kills;
	unsigned int tick_ms;
	unsigned int election_ticks;
	bool cut;		/* fault node: the link goes too */
	const char *dir;	/* results and the nodes' logs */
	const char *data;	/* where the temporary data directory goes */
	bool json, pretty;
};

struct bf_sample {
	uint32_t kill;		/* 1.. */
	uint32_t killed;	/* the leader that was killed */
	uint32_t leader;	/* the node that took the write; 0: none */
	uint64_t failover_ns;
	bool detected;		/* a survivor reported the killed node dead */
	uint64_t detect_ns;	/* ... this long after the kill */
};

struct bf_result {
	struct bf_sample *s;
	uint32_t n;		/* kills done */
	uint32_t failed;	/* of which no write was taken in time */
	struct samples failover;
	struct samples detect;
};

struct bf_results {
	char kernel[128];
	struct bf_result mode[BF_MODES];
};

struct bf {
	const struct bf_opts *o;
	struct bf_results *res;
	enum bf_mode mode;
	char data[PATH_MAX];
	pid_t pid[BF_NODES + 1];
	bool log_fresh[BF_NODES + 1];
	int ns_fd[BF_NODES + 1];
	struct netem link[BF_NODES + 1];	/* for its rtnetlink socket */
	struct raft_hints *hints[BF_NODES + 1];
	struct raft_client *ctl;
	int udp;
	struct sockaddr_in addr[BF_NODES + 1];	/* clients' UDP address */
	char name[BF_NODES + 1][RAFT_ADDR_MAX];	/* ... as text */
	uint64_t next_req;
	uint64_t rng;
};

/* One failover: the put resent until a new leader takes it. */
struct hammer {
	struct bf *b;
	uint32_t victim;
	uint64_t t0;
	uint64_t first_req;
	uint64_t last_tx[BF_NODES + 1];
	uint8_t cmd[256];
	size_t cmdlen;
	uint32_t leader;
	uint64_t ack_ns;
	bool detected;
	uint64_t detect_ns;
};

static volatile sig_atomic_t bf_stop;

static void bf_signal(int sig)
{
	(void)sig;
	bf_stop = 1;
}

static uint64_t bf_random(struct bf *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

/* Sleeps ns, or less when interrupted: -EINTR once stopped. */
static int bf_sleep(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	if (!bf_stop)
		nanosleep(&ts, NULL);
	return bf_stop ? -EINTR : 0;
}

/* The election timeout's upper end: random in [n, 2n) ticks. */
static uint64_t election_max_ns(const struct bf_opts *o)
{
	return 2ULL * o->election_ticks * o->tick_ms * NSEC_PER_MSEC;
}

/* --- the testbed ---------------------------------------------------------- */

__attribute__((format(printf, 1, 2)))
static int step(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (!run_quiet("%s", cmd))
		return 0;
	fprintf(stderr, "Error: bench failover: \"%s\" failed\n", cmd);
	return -1;
}

static void topo_down(void)
{
	bench_star_down(BF_NS, BF_NODES);
}

/* lamport node set id N, and lamport peer add for the two others. */
static int detector_up(void)
{
	for (int i = 1; i <= BF_NODES; i++) {
		if (step("ip netns exec " BF_NS "%d /proc/%d/exe node set id %d",
			 i, (int)getpid(), i))
			return -1;
		for (int j = 1; j <= BF_NODES; j++)
			if (i != j &&
			    step("ip netns exec " BF_NS "%d /proc/%d/exe peer add %d " BF_NET "%d interval %dms mult %d",
				 i, (int)getpid(), j, j, BF_INTERVAL_MS, BF_MULT))
				return -1;
	}
	return 0;
}

static int topo_up(void)
{
	if (bench_star_up(BF_NS, BF_NET, BF_NODES)) {
		fprintf(stderr, "Error: bench failover: cannot make the namespaces " BF_NS "*\n");
		return -1;
	}
	return detector_up();
}

static int open_hints(void *arg)
{
	struct raft_hints **h = arg;
	char err[160];
	int ret = raft_hints_open(h, err, sizeof(err));

	if (ret)
		fprintf(stderr, "Error: bench failover: the detector's events: %s\n",
			err);
	return ret;
}

static int open_ctl(void *arg)
{
	struct bf *b = arg;
	struct raft_client_opts opts = { .attempt_ms = 100, .deadline_ms = 1000 };
	char servers[3 * RAFT_ADDR_MAX + 4] = "";

	for (int i = 1; i <= BF_NODES; i++)
		snprintf(servers + strlen(servers), sizeof(servers) - strlen(servers),
			 "%s%s", i > 1 ? "," : "", b->name[i]);
	return raft_client_new(&b->ctl, servers, &opts);
}

/* Namespaces, the detector, and what the bench needs in them. */
static int bed_up(struct bf *b)
{
	char path[64], ns[16], dev[8];
	int err;

	if (topo_up())
		return -1;
	for (int i = 1; i <= BF_NODES; i++) {
		struct sockaddr_in *a = &b->addr[i];

		a->sin_family = AF_INET;
		a->sin_port = htons(BF_PORT + 1);
		snprintf(path, sizeof(path), BF_NET "%d", i);
		inet_pton(AF_INET, path, &a->sin_addr);
		snprintf(b->name[i], sizeof(b->name[i]), BF_NET "%d:%d", i,
			 BF_PORT + 1);

		snprintf(path, sizeof(path), "/run/netns/" BF_NS "%d", i);
		b->ns_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (b->ns_fd[i] < 0) {
			fprintf(stderr, "Error: bench failover: %s: %s\n", path,
				strerror(errno));
			return -1;
		}
		snprintf(ns, sizeof(ns), BF_NS "%d", i);
		if (netns_run(ns, open_hints, &b->hints[i]))
			return -1;
		snprintf(dev, sizeof(dev), "v%d", i);
		err = netem_open(&b->link[i], ns, dev);
		if (err) {
			fprintf(stderr, "Error: bench failover: rtnetlink in %s: %s\n",
				ns, strerror(-err));
			return -1;
		}
	}
	b->udp = netns_socket(BF_NS "c", AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (b->udp < 0) {
		fprintf(stderr, "Error: bench failover: a UDP socket in " BF_NS "c: %s\n",
			strerror(-b->udp));
		return -1;
	}
	err = netns_run(BF_NS "c", open_ctl, b);
	if (err) {
		fprintf(stderr, "Error: bench failover: the Raft client: %s\n",
			strerror(-err));
		return -1;
	}
	return 0;
}

static void bed_down(struct bf *b)
{
	for (int i = 1; i <= BF_NODES; i++) {
		raft_hints_close(b->hints[i]);
		b->hints[i] = NULL;
		netem_close(&b->link[i]);
		if (b->ns_fd[i] >= 0)
			close(b->ns_fd[i]);
		b->ns_fd[i] = -1;
	}
	if (b->udp >= 0)
		close(b->udp);
	b->udp = -1;
	raft_client_free(b->ctl);
	b->ctl = NULL;
	topo_down();
}

/*
 * The node's link (its end of the veth pair) up or down, at once: down,
 * its heartbeats and everything else it sends are dropped, and nothing
 * reaches it.  0 or -errno.
 */
static int link_set(struct netem *n, bool up)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	const struct nlmsgerr *nlerr;
	struct ifinfomsg *ifi;
	ssize_t len;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++n->seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = n->ifindex;
	ifi->ifi_flags = up ? IFF_UP : 0;
	ifi->ifi_change = IFF_UP;
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		len = mnl_socket_recvfrom(n->nl, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		nlh = (struct nlmsghdr *)buf;
		if (!mnl_nlmsg_ok(nlh, (int)len))
			return -EPROTO;
	} while (nlh->nlmsg_seq != n->seq);
	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*nlerr))
		return -EPROTO;
	nlerr = mnl_nlmsg_get_payload(nlh);
	return nlerr->error;
}

/* --- the nodes -------------------------------------------------------------- */

static void log_path(const struct bf *b, uint32_t id, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s-node%u.log", b->o->dir, bf_mode_key[b->mode],
		 id);
}

/*
 * A line in every node's log, stamped like theirs (--log-time), so that a
 * slow failover can be read against the kill.
 */
static void __attribute__((format(printf, 2, 3)))
mark_logs(const struct bf *b, const char *fmt, ...)
{
	char path[PATH_MAX + 32], line[160];
	struct timespec ts;
	va_list ap;
	int len;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	len = snprintf(line, sizeof(line), "--- bench failover at %lld.%06ld: ",
		       (long long)ts.tv_sec, ts.tv_nsec / 1000);
	va_start(ap, fmt);
	vsnprintf(line + len, sizeof(line) - (size_t)len, fmt, ap);
	va_end(ap);
	for (uint32_t id = 1; id <= BF_NODES; id++) {
		int fd;

		log_path(b, id, path, sizeof(path));
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd >= 0) {
			dprintf(fd, "%s\n", line);
			close(fd);
		}
	}
}

/*
 * The child: in the node's namespace, its own process group, its output
 * to the log, nothing else of the bench open; killed with the bench.
 */
static void node_exec(int ns_fd, int log_fd, pid_t bench, char *const argv[])
{
	int fd;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != bench)
		_exit(1);
	signal(SIGPIPE, SIG_DFL);
	if (setns(ns_fd, CLONE_NEWNET)) {
		dprintf(log_fd, "bench failover: setns: %s\n", strerror(errno));
		_exit(126);
	}
	dup2(log_fd, STDOUT_FILENO);
	dup2(log_fd, STDERR_FILENO);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, STDIN_FILENO);
	for (fd = STDERR_FILENO + 1; fd < 1024; fd++)
		close(fd);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "bench failover: cannot run lamport raft serve: %s\n",
		strerror(errno));
	_exit(127);
}

/*
 * lamport raft serve --id ID --peers 1=198.18.11.1:7500,... --data DIR
 *	--transport lamport --tick MS --election TICKS [--no-hints]
 */
static int start_node(struct bf *b, uint32_t id)
{
	char sid[12], peers[128], data[PATH_MAX + 16], tick[12], election[12];
	char log[PATH_MAX + 32];
	char *argv[] = {
		"lamport", "raft", "serve", "--id", sid, "--peers", peers,
		"--data", data, "--transport", "lamport", "--tick", tick,
		"--election", election, "--log-time",
		b->mode == BF_TIMEOUT ? "--no-hints" : NULL, NULL,
	};
	pid_t bench = getpid(), pid;
	int fd;

	snprintf(sid, sizeof(sid), "%u", id);
	snprintf(peers, sizeof(peers), "1=" BF_NET "1:%d,2=" BF_NET "2:%d,3=" BF_NET "3:%d",
		 BF_PORT, BF_PORT, BF_PORT);
	snprintf(data, sizeof(data), "%s/d%u", b->data, id);
	snprintf(tick, sizeof(tick), "%u", b->o->tick_ms);
	snprintf(election, sizeof(election), "%u", b->o->election_ticks);
	log_path(b, id, log, sizeof(log));
	/* O_APPEND either way: the bench's marks go in between. */
	fd = open(log, O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND |
		  (b->log_fresh[id] ? O_TRUNC : 0), 0644);
	if (fd < 0) {
		fprintf(stderr, "Error: bench failover: %s: %s\n", log, strerror(errno));
		return -1;
	}
	b->log_fresh[id] = false;
	dprintf(fd, "--- bench failover: starting node %u (%s)\n", id,
		bf_mode_name[b->mode]);
	pid = fork();
	if (!pid)
		node_exec(b->ns_fd[id], fd, bench, argv);
	close(fd);
	if (pid < 0) {
		fprintf(stderr, "Error: bench failover: fork: %s\n", strerror(errno));
		return -1;
	}
	setpgid(pid, pid);
	b->pid[id] = pid;
	return 0;
}

/* The last lines of the node's log, to stderr. */
static void show_log(const struct bf *b, uint32_t id)
{
	char path[PATH_MAX + 32], buf[2048];
	size_t len;
	long size;
	FILE *f;

	log_path(b, id, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0,
	      SEEK_SET);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	fprintf(stderr, "  %s, its end:\n", path);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "  | %s\n", line);
}

/* -1 after saying so when a node that should run has exited. */
static int nodes_running(struct bf *b)
{
	int st;

	for (uint32_t id = 1; id <= BF_NODES; id++) {
		if (b->pid[id] <= 0 || waitpid(b->pid[id], &st, WNOHANG) != b->pid[id])
			continue;
		b->pid[id] = 0;
		if (WIFEXITED(st))
			fprintf(stderr, "Error: bench failover: node %u exited with status %d\n",
				id, WEXITSTATUS(st));
		else
			fprintf(stderr, "Error: bench failover: node %u was killed by signal %d\n",
				id, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		show_log(b, id);
		return -1;
	}
	return 0;
}

static void stop_nodes(struct bf *b)
{
	for (uint32_t id = 1; id <= BF_NODES; id++) {
		reap(b->pid[id]);
		b->pid[id] = 0;
	}
}

/* The node whose client address is name; 0 for none. */
static uint32_t node_named(const struct bf *b, const char *name)
{
	for (uint32_t id = 1; name && id <= BF_NODES; id++)
		if (!strcmp(b->name[id], name))
			return id;
	return 0;
}

/* How long the cluster may take to come back, at most: then it is broken. */
static uint64_t patience_ns(const struct bf_opts *o)
{
	uint64_t ns = 10 * election_max_ns(o);

	return ns > 10 * NSEC_PER_SEC ? ns : 10 * NSEC_PER_SEC;
}

/*
 * Every node runs, one leads, and the others follow it and have applied
 * all it had committed: the leader's id, or -1 after saying why not.
 */
static int wait_caught_up(struct bf *b)
{
	uint64_t until = now_ns() + 2 * patience_ns(b->o);
	struct wire_status st[BF_NODES + 1];
	const char *why = "no node answered";

	while (!bf_stop) {
		uint32_t leader = 0;
		bool ok = true;

		if (nodes_running(b))
			return -1;
		for (uint32_t id = 1; id <= BF_NODES && ok; id++) {
			if (raft_client_status(b->ctl, b->name[id], &st[id])) {
				why = "a node does not answer its status";
				ok = false;
			} else if (st[id].raft.role == RAFT_LEADER) {
				leader = id;
			}
		}
		if (ok && !leader) {
			why = "no leader";
			ok = false;
		}
		for (uint32_t id = 1; id <= BF_NODES && ok; id++) {
			if (id == leader)
				continue;
			if (st[id].raft.leader != leader ||
			    st[id].applied < st[leader].raft.commit) {
				why = "a follower lags behind";
				ok = false;
			}
		}
		if (ok)
			return (int)leader;
		if (now_ns() >= until) {
			fprintf(stderr, "Error: bench failover: the cluster did not settle in %u s: %s (logs in %s)\n",
				(unsigned int)(2 * patience_ns(b->o) / NSEC_PER_SEC), why, b->o->dir);
			return -1;
		}
		bf_sleep(20 * NSEC_PER_MSEC);
	}
	return -1;
}

/*
 * A write acknowledged through the client library, then the node that
 * took it confirming that it leads: its id, or -1 after saying why not.
 */
static int find_leader(struct bf *b)
{
	uint64_t until = now_ns() + patience_ns(b->o);
	static const char key[] = "bench-failover-probe";
	struct wire_status st;
	struct kv_result res;

	while (!bf_stop) {
		uint32_t id = 0;

		if (nodes_running(b))
			return -1;
		if (!raft_client_put(b->ctl, key, sizeof(key) - 1, "1", 1, &res))
			id = node_named(b, raft_client_leader(b->ctl));
		if (id && !raft_client_status(b->ctl, b->name[id], &st) &&
		    st.raft.role == RAFT_LEADER)
			return (int)id;
		if (now_ns() >= until) {
			fprintf(stderr, "Error: bench failover: no leader took a write in %u s (logs in %s)\n",
				(unsigned int)(patience_ns(b->o) / NSEC_PER_SEC), b->o->dir);
			return -1;
		}
		bf_sleep(10 * NSEC_PER_MSEC);
	}
	return -1;
}

/* --- one failover ------------------------------------------------------------ */

static void ignore_hint(void *arg, uint32_t peer, uint8_t old_state,
			uint8_t new_state)
{
	(void)arg, (void)peer, (void)old_state, (void)new_state;
}

static void on_hint(void *arg, uint32_t peer, uint8_t old_state,
		    uint8_t new_state)
{
	struct hammer *h = arg;

	(void)old_state;
	if (peer == h->victim && new_state == LAMPORT_PEER_DEAD && !h->detected) {
		h->detected = true;
		h->detect_ns = now_ns() - h->t0;
	}
}

/* The events of every node; an overrun only means some were lost. */
static void drain_hints(struct bf *b, raft_hint_fn *fn, void *arg)
{
	for (uint32_t id = 1; id <= BF_NODES; id++) {
		int ret = raft_hints_read(b->hints[id], fn, arg);

		if (ret < 0 && ret != -ENOBUFS)
			fprintf(stderr, "Warning: bench failover: the events of node %u: %s\n",
				id, strerror(-ret));
	}
}

static void hammer_send(struct hammer *h, uint32_t id)
{
	struct bf *b = h->b;
	struct wire_request rq = {
		.kind = WIRE_REQ_KV, .id = b->next_req++,
		.body = h->cmd, .len = h->cmdlen,
	};
	uint8_t buf[WIRE_DGRAM_MAX];
	int len = wire_request_encode(&rq, buf, sizeof(buf));

	h->last_tx[id] = now_ns();
	if (len > 0)
		sendto(b->udp, buf, (size_t)len, 0,
		       (const struct sockaddr *)&b->addr[id], sizeof(b->addr[id]));
}

/* The node at from, among the survivors; 0 for anyone else. */
static uint32_t survivor_at(const struct hammer *h,
			    const struct sockaddr_in *from)
{
	for (uint32_t id = 1; id <= BF_NODES; id++) {
		const struct sockaddr_in *a = &h->b->addr[id];

		if (id != h->victim && a->sin_addr.s_addr == from->sin_addr.s_addr &&
		    a->sin_port == from->sin_port)
			return id;
	}
	return 0;
}

/*
 * The answers waiting: 1 once a node took the write.  A survivor naming
 * the other one as leader sends the put there at once; one naming the
 * killed node (it has not noticed yet) is ignored: a client would time
 * out there, which is the client's delay, not the cluster's.
 */
static int hammer_receive(struct hammer *h)
{
	uint8_t buf[WIRE_DGRAM_MAX + 1];
	struct sockaddr_in from;
	struct wire_reply rep;

	for (;;) {
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(h->b->udp, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &len);
		uint32_t id;

		if (n < 0)
			return 0;
		id = survivor_at(h, &from);
		if (!id || (size_t)n > WIRE_DGRAM_MAX ||
		    wire_reply_decode(&rep, buf, (size_t)n) ||
		    rep.kind != WIRE_REQ_KV ||
		    rep.id - h->first_req >= h->b->next_req - h->first_req)
			continue;
		if (rep.code == WIRE_DONE) {
			h->ack_ns = now_ns() - h->t0;
			h->leader = id;
			return 1;
		}
		if (rep.code == WIRE_NOT_LEADER && rep.leader != id &&
		    rep.leader >= 1 && rep.leader <= BF_NODES &&
		    rep.leader != h->victim &&
		    now_ns() - h->last_tx[rep.leader] >= BF_REDIRECT_NS)
			hammer_send(h, rep.leader);
	}
}

/* Puts until a survivor takes one: 0, -ETIMEDOUT or -EINTR. */
static int hammer(struct hammer *h, uint64_t limit_ns)
{
	struct bf *b = h->b;
	struct pollfd pfd[1 + BF_NODES];
	uint64_t next = h->t0, until = h->t0 + limit_ns;
	unsigned int n = 0;

	pfd[n++] = (struct pollfd){ .fd = b->udp, .events = POLLIN };
	for (uint32_t id = 1; id <= BF_NODES; id++)
		pfd[n++] = (struct pollfd){
			.fd = raft_hints_fd(b->hints[id]), .events = POLLIN,
		};
	while (!bf_stop) {
		uint64_t now = now_ns(), wake;
		struct timespec ts;

		if (now >= until)
			return -ETIMEDOUT;
		if (now >= next) {
			for (uint32_t id = 1; id <= BF_NODES; id++)
				if (id != h->victim)
					hammer_send(h, id);
			next = now + BF_RESEND_NS;
		}
		wake = next < until ? next : until;
		ts.tv_sec = (time_t)((wake - now) / NSEC_PER_SEC);
		ts.tv_nsec = (long)((wake - now) % NSEC_PER_SEC);
		if (ppoll(pfd, n, &ts, NULL) < 0 && errno != EINTR)
			return -errno;
		drain_hints(b, on_hint, h);
		if (hammer_receive(h))
			return 0;
	}
	return -EINTR;
}

/*
 * Kills the leader (and cuts its node off) at t0 and times the first
 * write a survivor takes; then brings the node back.  0, or -1 when the
 * bench cannot go on.
 */
static int failover(struct bf *b, uint32_t round, uint32_t victim,
		    struct bf_sample *s)
{
	static const char key[] = "bench-failover";
	struct hammer h = { .b = b, .victim = victim };
	char value[32];
	struct kv_cmd cmd = {
		.op = KV_PUT, .key = (const uint8_t *)key,
		.keylen = sizeof(key) - 1, .value = (const uint8_t *)value,
	};
	int len, err;

	snprintf(value, sizeof(value), "%s-%u", bf_mode_key[b->mode], round);
	cmd.vallen = (uint16_t)strlen(value);
	len = kv_encode(&cmd, h.cmd, sizeof(h.cmd));
	if (len < 0) {
		fprintf(stderr, "Error: bench failover: kv_encode: %s\n", strerror(-len));
		return -1;
	}
	h.cmdlen = (size_t)len;
	if (b->pid[victim] <= 0)
		return -1;
	/* Late answers of the last round, and the events until now. */
	while (recv(b->udp, value, sizeof(value), MSG_DONTWAIT) >= 0)
		;
	drain_hints(b, ignore_hint, NULL);

	h.first_req = b->next_req;
	h.t0 = now_ns();
	if (b->o->cut) {
		err = link_set(&b->link[victim], false);
		if (err) {
			fprintf(stderr, "Error: bench failover: cutting node %u off (link down): %s\n",
				victim, strerror(-err));
			return -1;
		}
	}
	kill(b->pid[victim], SIGKILL);
	mark_logs(b, "kill %u: node %u killed%s", round, victim,
		  b->o->cut ? ", its link set down just before" : "");
	err = hammer(&h, patience_ns(b->o));
	waitpid(b->pid[victim], NULL, 0);
	b->pid[victim] = 0;
	if (err == -EINTR)
		return -1;	/* not a sample */
	drain_hints(b, on_hint, &h);

	if (!err)
		mark_logs(b, "kill %u: node %u took a write, %.1f ms after the kill",
			  round, h.leader, h.ack_ns / 1e6);
	s->kill = round;
	s->killed = victim;
	s->leader = h.leader;
	s->failover_ns = h.ack_ns;
	s->detected = h.detected;
	s->detect_ns = h.detect_ns;
	if (err)
		fprintf(stderr, "  %s %u: no survivor took a write in %u s\n",
			bf_mode_key[b->mode], round,
			(unsigned int)(patience_ns(b->o) / NSEC_PER_SEC));

	if (b->o->cut && (err = link_set(&b->link[victim], true))) {
		fprintf(stderr, "Error: bench failover: reconnecting node %u (link up): %s\n",
			victim, strerror(-err));
		return -1;
	}
	return start_node(b, victim);
}

/* --- the runs ---------------------------------------------------------------- */

static int record(struct bf_result *r, const struct bf_sample *s)
{
	r->s[r->n++] = *s;
	if (!s->leader) {
		r->failed++;
		return 0;
	}
	if (s->detected && samples_add(&r->detect, s->detect_ns))
		return -ENOMEM;
	return samples_add(&r->failover, s->failover_ns);
}

static void progress(const struct bf *b, const struct bf_sample *s)
{
	fprintf(stderr, "  %-7s %3u/%u: killed leader %u, ", bf_mode_key[b->mode],
		s->kill, b->o->kills, s->killed);
	if (s->leader)
		fprintf(stderr, "node %u took a write after %7.1f ms", s->leader,
			(double)s->failover_ns / 1e6);
	else
		fprintf(stderr, "no write taken");
	if (s->detected)
		fprintf(stderr, " (reported dead after %.1f ms)\n",
			(double)s->detect_ns / 1e6);
	else
		fprintf(stderr, " (never reported dead)\n");
}

/* A fresh cluster, the kills, the cluster stopped: 0, or -1 after saying why. */
static int run_mode(struct bf *b, enum bf_mode mode)
{
	struct bf_result *r = &b->res->mode[mode];
	int err = 0;

	b->mode = mode;
	fprintf(stderr, "lamport bench failover: %s: 3 nodes, lamport raft serve --transport lamport --tick %u --election %u%s\n",
		bf_mode_name[mode], b->o->tick_ms, b->o->election_ticks,
		mode == BF_TIMEOUT ? " --no-hints" : "");
	run_quiet("rm -rf '%s'/d1 '%s'/d2 '%s'/d3", b->data, b->data, b->data);
	for (uint32_t id = 1; id <= BF_NODES && !err; id++) {
		b->log_fresh[id] = true;
		err = start_node(b, id);
	}
	for (uint32_t k = 1; !err && k <= b->o->kills; k++) {
		struct bf_sample s = { 0 };
		int leader;

		if (wait_caught_up(b) < 0) {
			err = -1;
			break;
		}
		leader = find_leader(b);
		/* The kill falls anywhere in the leader's heartbeat period. */
		if (leader < 0 || bf_sleep(bf_random(b) % BF_PHASE_NS)) {
			err = -1;
			break;
		}
		err = failover(b, k, (uint32_t)leader, &s);
		if (s.kill) {
			if (record(r, &s)) {
				fprintf(stderr, "Error: bench failover: out of memory\n");
				err = -1;
			}
			progress(b, &s);
		}
	}
	stop_nodes(b);
	return bf_stop ? -EINTR : err;
}

static int bench(struct bf *b)
{
	char tmpl[PATH_MAX];
	int err = 0;

	if (snprintf(tmpl, sizeof(tmpl), "%s/lamport-bench-failover.XXXXXX",
		     b->o->data) >= (int)sizeof(tmpl) || !mkdtemp(tmpl)) {
		fprintf(stderr, "Error: bench failover: a directory in %s: %s\n",
			b->o->data, strerror(errno));
		return -1;
	}
	snprintf(b->data, sizeof(b->data), "%s", tmpl);
	if (bed_up(b)) {
		fprintf(stderr, "Error: bench failover: the network namespaces could not be set up\n");
		err = -1;
	}
	for (int m = 0; !err && m < BF_MODES; m++)
		err = run_mode(b, (enum bf_mode)m);
	stop_nodes(b);
	bed_down(b);
	run_quiet("rm -rf '%s'", b->data);
	return err;
}

/* --- the report -------------------------------------------------------------- */

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double median_ratio(const struct bf_results *res)
{
	const struct samples *h = &res->mode[BF_HINTS].failover;
	const struct samples *t = &res->mode[BF_TIMEOUT].failover;

	if (!h->n || !t->n || !samples_pct(h, 50))
		return NAN;
	return (double)samples_pct(t, 50) / (double)samples_pct(h, 50);
}

static unsigned int targets(const struct bf_results *res, struct bench_target *t)
{
	const struct samples *h = &res->mode[BF_HINTS].failover;

	snprintf(t->name, sizeof(t->name), "≤ 100 ms median with hints");
	if (h->n) {
		snprintf(t->detail, sizeof(t->detail), "%.1f ms", ms(samples_pct(h, 50)));
		t->met = samples_pct(h, 50) <= BF_TARGET_NS;
	} else {
		snprintf(t->detail, sizeof(t->detail), "no failover measured");
		t->met = false;
	}
	return 1;
}

static void print_table(FILE *f, const struct bf_opts *o,
			const struct bf_results *res)
{
	unsigned int lo = o->election_ticks * o->tick_ms;
	struct bench_target t;
	double ratio;

	fprintf(f, "lamport bench failover: kernel %s, 3 Raft nodes over AF_LAMPORT in netns, %u kills per mode\n",
		res->kernel, o->kills);
	fprintf(f, "crash: %s\n", o->cut ?
		"the leader's process SIGKILLed and its node cut off (its link set down)" :
		"the leader's process SIGKILLed, its node left up (the detector still hears it)");
	fprintf(f, "failure detector: every pair, interval %d ms, mult %d (dead ~%d ms after a crash), in both modes\n",
		BF_INTERVAL_MS, BF_MULT, BF_INTERVAL_MS * BF_MULT);
	fprintf(f, "raft: tick %u ms, election timeout %u..%u ms, pre-vote\n",
		o->tick_ms, lo, 2 * lo);
	fprintf(f, "failover: kill to the first write a new leader acknowledged; dead: kill to a survivor's \"dead\" event\n");
	fprintf(f, "  %-22s %5s %8s %8s %8s %8s %10s %6s\n", "mode", "n", "p50 ms",
		"p90 ms", "p99 ms", "max ms", "dead p50", "failed");
	for (int m = 0; m < BF_MODES; m++) {
		const struct bf_result *r = &res->mode[m];
		char dead[16] = "-";

		if (r->detect.n)
			snprintf(dead, sizeof(dead), "%.1f ms", ms(samples_pct(&r->detect, 50)));
		if (!r->failover.n) {
			fprintf(f, "  %-22s %5u %8s %8s %8s %8s %10s %6u\n",
				bf_mode_name[m], 0u, "-", "-", "-", "-", dead, r->failed);
			continue;
		}
		fprintf(f, "  %-22s %5zu %8.1f %8.1f %8.1f %8.1f %10s %6u\n",
			bf_mode_name[m], r->failover.n,
			ms(samples_pct(&r->failover, 50)),
			ms(samples_pct(&r->failover, 90)),
			ms(samples_pct(&r->failover, 99)),
			ms(samples_max(&r->failover)), dead, r->failed);
	}
	ratio = median_ratio(res);
	if (isnan(ratio))
		fprintf(f, "ratio of medians (election timeout only / hints): -\n");
	else
		fprintf(f, "ratio of medians (election timeout only / hints): %.2f\n", ratio);
	targets(res, &t);
	fprintf(f, "%s: %s (%s)\n", t.name, t.met ? "met" : "NOT MET", t.detail);
}

static void json_pcts(struct json *j, const struct samples *s, const char *prefix)
{
	static const struct { const char *name; double pct; } p[] = {
		{ "p50", 50 }, { "p90", 90 }, { "p99", 99 },
	};
	char key[32];

	for (size_t i = 0; i < ARRAY_SIZE(p); i++) {
		snprintf(key, sizeof(key), "%s%s_ns", prefix, p[i].name);
		json_key(j, key);
		if (s->n)
			json_u64(j, samples_pct(s, p[i].pct));
		else
			json_null(j);
	}
	snprintf(key, sizeof(key), "%smax_ns", prefix);
	json_key(j, key);
	if (s->n)
		json_u64(j, samples_max(s));
	else
		json_null(j);
}

static void print_json(FILE *f, const struct bf_opts *o,
		       const struct bf_results *res, bool pretty)
{
	struct bench_target t;
	unsigned int nt = targets(res, &t);
	struct json j;

	json_init(&j, f, pretty);
	json_obj_open(&j);
	json_kv_str(&j, "kernel", res->kernel);
	json_kv_str(&j, "transport", "AF_LAMPORT");
	json_kv_str(&j, "fault", o->cut ? "node" : "process");
	json_kv_u32(&j, "kills", o->kills);
	json_kv_u32(&j, "tick_ms", o->tick_ms);
	json_kv_u32(&j, "election_ticks", o->election_ticks);
	json_kv_u32(&j, "detector_interval_us", BF_INTERVAL_MS * 1000);
	json_kv_u32(&j, "detector_mult", BF_MULT);
	json_key(&j, "modes");
	json_arr_open(&j);
	for (int m = 0; m < BF_MODES; m++) {
		const struct bf_result *r = &res->mode[m];

		json_obj_open(&j);
		json_kv_str(&j, "mode", bf_mode_key[m]);
		json_kv_str(&j, "name", bf_mode_name[m]);
		json_kv_u32(&j, "n", (uint32_t)r->failover.n);
		json_kv_u32(&j, "failed", r->failed);
		json_pcts(&j, &r->failover, "");
		json_pcts(&j, &r->detect, "dead_");
		json_key(&j, "samples");
		json_arr_open(&j);
		for (uint32_t i = 0; i < r->n; i++) {
			const struct bf_sample *s = &r->s[i];

			json_obj_open(&j);
			json_kv_u32(&j, "kill", s->kill);
			json_kv_u32(&j, "killed", s->killed);
			json_key(&j, "leader");
			if (s->leader)
				json_u32(&j, s->leader);
			else
				json_null(&j);
			json_key(&j, "failover_ns");
			if (s->leader)
				json_u64(&j, s->failover_ns);
			else
				json_null(&j);
			json_key(&j, "dead_ns");
			if (s->detected)
				json_u64(&j, s->detect_ns);
			else
				json_null(&j);
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_kv_double(&j, "median_ratio", median_ratio(res));
	bench_targets_json(&j, &t, nt);
	json_obj_close(&j);
}

static int write_dat(const char *dir, enum bf_mode m, const struct bf_result *r)
{
	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/failover-%s.dat", dir, bf_mode_key[m]);
	f = fopen(path, "w");
	if (!f)
		return -1;
	for (size_t i = 0; i < r->failover.n; i++)
		fprintf(f, "%.3f\n", ms(r->failover.v[i]));
	return fclose(f) ? -1 : 0;
}

/* failover.gp, the CDF of both modes; failover.svg when gnuplot is there. */
static int write_plot(const struct bf_opts *o, const struct bf_results *res)
{
	char path[PATH_MAX + 32];
	const char *sep = "plot ";
	FILE *f;

	snprintf(path, sizeof(path), "%s/failover.gp", o->dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"set terminal svg size 800,480\n"
		"set output 'failover.svg'\n"
		"set title 'lamport raft: failover after a leader crash, 3 nodes over AF_LAMPORT, kernel %s'\n"
		"set xlabel 'kill to the first write acknowledged, ms'\n"
		"set ylabel 'fraction of kills'\n"
		"set yrange [0:1]\n"
		"set grid\n"
		"set key right bottom\n",
		res->kernel);
	for (int m = 0; m < BF_MODES; m++) {
		const struct samples *s = &res->mode[m].failover;

		if (!s->n)
			continue;
		fprintf(f, "%s'failover-%s.dat' using 1:(1.0/%zu) smooth cumulative with steps title '%s (p50 %.1f ms)'",
			sep, bf_mode_key[m], s->n, bf_mode_name[m],
			ms(samples_pct(s, 50)));
		sep = ", \\\n     ";
	}
	fputc('\n', f);
	if (fclose(f))
		return -1;
	if (!strcmp(sep, "plot "))
		return 0;	/* nothing to draw */
	if (run_quiet("command -v gnuplot")) {
		fprintf(stderr, "bench failover: gnuplot is not installed: %s written, failover.svg not drawn\n",
			path);
		return 0;
	}
	if (run_quiet("cd '%s' && gnuplot failover.gp", o->dir))
		fprintf(stderr, "bench failover: gnuplot failed on %s\n", path);
	return 0;
}

static int save(const struct bf_opts *o, const struct bf_results *res)
{
	char path[PATH_MAX + 32];
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/table.txt", o->dir);
	f = fopen(path, "w");
	if (f) {
		print_table(f, o, res);
		err |= fclose(f);
	} else {
		err = -1;
	}
	snprintf(path, sizeof(path), "%s/results.json", o->dir);
	f = fopen(path, "w");
	if (f) {
		print_json(f, o, res, true);	/* for people and line tools */
		err |= fclose(f);
	} else {
		err = -1;
	}
	for (int m = 0; m < BF_MODES; m++)
		err |= write_dat(o->dir, (enum bf_mode)m, &res->mode[m]);
	err |= write_plot(o, res);
	if (err)
		fprintf(stderr, "Error: bench failover: cannot write the results in %s\n",
			o->dir);
	return err ? -1 : 0;
}

/* --- the command ------------------------------------------------------------- */

static int parse(struct bf_opts *o, int argc, char **argv)
{
	bool kills = false, quick = false;

	o->kills = 20;
	o->tick_ms = 10;
	o->election_ticks = 30;
	o->cut = true;
	o->dir = BF_DIR;
	o->data = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	for (int i = 0; i < argc; i++) {
		const char *key = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t n;

		if (matches(key, "quick")) {
			quick = true;
			continue;
		}
		if (!val)
			return needarg(key);
		i++;
		if (matches(key, "kills")) {
			if (parse_u32(val, &n) || !n || n > BF_KILLS_MAX)
				return invarg("kills is 1..1000", val);
			o->kills = n;
			kills = true;
		} else if (matches(key, "dir")) {
			o->dir = val;
		} else if (matches(key, "data")) {
			o->data = val;
		} else if (matches(key, "tick")) {
			if (parse_u32(val, &n) || !n || n > 1000)
				return invarg("tick is 1..1000 ms", val);
			o->tick_ms = n;
		} else if (matches(key, "election")) {
			if (parse_u32(val, &n) || n < 3 || n > 1000)
				return invarg("election is 3..1000 ticks", val);
			o->election_ticks = n;
		} else if (matches(key, "fault")) {
			if (!strcmp(val, "node"))
				o->cut = true;
			else if (!strcmp(val, "process"))
				o->cut = false;
			else
				return invarg("fault is node or process", val);
		} else {
			return unknarg("argument", key, BF_HELP);
		}
	}
	if (quick && !kills)
		o->kills = 3;
	if (strlen(o->dir) > PATH_MAX - 64 || strlen(o->data) > PATH_MAX - 64)
		return invarg("path too long", strlen(o->dir) > PATH_MAX - 64 ? o->dir : o->data);
	return 0;
}

/* lamport.ko answers, in this namespace: 0, or -1 after saying why not. */
static int module_loaded(void)
{
	struct raft_hints *h;
	char err[160];
	int ret = raft_hints_open(&h, err, sizeof(err));

	if (ret == -ENOENT) {
		fprintf(stderr, "Error: bench failover: lamport.ko is not loaded (no \"%s\" generic netlink family); it runs where the module is, e.g. make bench-failover\n",
			LAMPORT_GENL_NAME);
		return -1;
	}
	if (ret) {
		fprintf(stderr, "Error: bench failover: %s\n", err);
		return -1;
	}
	raft_hints_close(h);
	return 0;
}

static void free_results(struct bf_results *res)
{
	for (int m = 0; m < BF_MODES; m++) {
		free(res->mode[m].s);
		samples_free(&res->mode[m].failover);
		samples_free(&res->mode[m].detect);
	}
}

int bench_failover_main(bool json, bool pretty, int argc, char **argv)
{
	static struct bf_results res;
	struct bf_opts o = { 0 };
	struct sigaction sa = { .sa_handler = bf_signal };
	struct bf b = { .o = &o, .res = &res, .udp = -1 };
	struct utsname u;
	int err;

	if (parse(&o, argc, argv))
		return -1;
	o.json = json;
	o.pretty = pretty;
	if (geteuid()) {
		fprintf(stderr, "Error: bench failover needs root (network namespaces)\n");
		return -1;
	}
	if (module_loaded())
		return -1;
	if (run_quiet("mkdir -p '%s'", o.dir)) {
		fprintf(stderr, "Error: bench failover: cannot create %s\n", o.dir);
		return -1;
	}
	memset(&res, 0, sizeof(res));
	for (int m = 0; m < BF_MODES; m++) {
		res.mode[m].s = calloc(o.kills, sizeof(*res.mode[m].s));
		if (!res.mode[m].s) {
			free_results(&res);
			fprintf(stderr, "Error: bench failover: out of memory\n");
			return -1;
		}
	}
	uname(&u);
	snprintf(res.kernel, sizeof(res.kernel), "%s", u.release);
	for (int i = 0; i <= BF_NODES; i++)
		b.ns_fd[i] = -1;
	b.rng = now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
	b.next_req = bf_random(&b) >> 1;

	bf_stop = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "lamport bench failover: kernel %s, %u kills per mode, results in %s\n",
		res.kernel, o.kills, o.dir);
	err = bench(&b);
	if (bf_stop)
		fprintf(stderr, "bench failover: interrupted\n");
	if (res.mode[BF_HINTS].n || res.mode[BF_TIMEOUT].n) {
		if (o.json)
			print_json(stdout, &o, &res, o.pretty);
		else
			print_table(stdout, &o, &res);
		if (save(&o, &res))
			err = -1;
	}
	free_results(&res);
	return err ? -1 : 0;
}
