// SPDX-License-Identifier: GPL-2.0
/*
 * lamport bench fd: node A watches node B with three detectors at once, on
 * the same veth link at the same interval and multiplier: lamport.ko, the
 * userspace twin (the module's detection core in a timerfd/epoll daemon) and
 * FRR's bfdd. Each cycle cuts B's egress with netem loss 100 % at t0, waits
 * for all three "down" verdicts, heals the link, waits for all three to
 * trust B again, and pauses a random 0..I.
 *
 * Verdict times: lamport.ko and the twin stamp their decisions with
 * CLOCK_MONOTONIC themselves; bfdd's are stamped when its control-socket
 * notification arrives. The bench runs SCHED_FIFO 90 (children are reset to
 * SCHED_OTHER) so that its own stamps stay prompt under load.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/lamport.h>

#include "bench.h"

#define BENCH_WORK	"/tmp/lamport-bench-fd"
#define BFDD		"/usr/lib/frr/bfdd"
#define BFD_NOTIFY	4
#define BFD_NOTIFY_PEER_STATE	1ULL

enum verdict { V_UP, V_SUSPECT, V_DOWN, V_OTHER };

struct det_state {
	int fd;
	bool up;		/* its last verdict trusts B */
	bool down;		/* it gave its verdict for the current fault */
	size_t len;
	char buf[16384];
};

struct bench {
	const struct bench_opts *o;
	struct bench_results *r;
	struct cond_result *cr;
	uint32_t interval_us;
	struct lnl kern;
	bool kern_open;
	pid_t twin[2], bfdd[2], hog;
	struct netem netem_a, netem_b;
	struct det_state det[DET_COUNT];
	bool fault;
	bool accounting;	/* verdicts count towards accuracy */
	uint64_t t0;
	uint32_t cycle;
	char self[PATH_MAX];
	char twin_bin[PATH_MAX];
};

static volatile sig_atomic_t bench_stop;

static void on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

/* --- verdicts --------------------------------------------------------- */

static void record_down(struct bench *b, int d, uint64_t at, uint64_t seen,
			int64_t overshoot)
{
	struct det_result *dr = &b->cr->det[d];
	struct sample_info *si;

	b->det[d].down = true;
	if (samples_add(&dr->td, at - b->t0))
		return;
	if (dr->ninfo == dr->info_cap) {
		size_t cap = dr->info_cap ? 2 * dr->info_cap : 64;
		struct sample_info *ni = realloc(dr->info, cap * sizeof(*ni));

		if (!ni)
			return;
		dr->info = ni;
		dr->info_cap = cap;
	}
	si = &dr->info[dr->ninfo++];
	si->cycle = b->cycle;
	si->td_ns = at - b->t0;
	si->seen_ns = seen - b->t0;
	si->overshoot_ns = overshoot;
}

/*
 * One verdict of detector d, decided at "at" and seen by the bench at
 * "seen"; overshoot is past its own deadline (last heartbeat + detection
 * time) when it knows that, else past t0 + M x I.
 */
static void verdict(struct bench *b, int d, enum verdict v, uint64_t at,
		    uint64_t seen, int64_t overshoot)
{
	struct det_state *ds = &b->det[d];
	struct qos *q = &b->cr->det[d].qos;

	switch (v) {
	case V_UP:
		ds->up = true;
		if (b->accounting && !b->fault)
			qos_trust(q, at);
		break;
	case V_SUSPECT:
		if (b->accounting && !b->fault)
			qos_suspect(q);
		break;
	case V_DOWN:
		ds->up = false;
		if (b->fault && !ds->down && at >= b->t0)
			record_down(b, d, at, seen, overshoot);
		else if (b->accounting && !b->fault)
			qos_down(q, at);
		break;
	default:
		break;
	}
}

static enum verdict state_verdict(unsigned int state)
{
	switch (state) {
	case LAMPORT_PEER_ALIVE:
		return V_UP;
	case LAMPORT_PEER_SUSPECT:
		return V_SUSPECT;
	case LAMPORT_PEER_DEAD:
		return V_DOWN;
	default:
		return V_OTHER;
	}
}

static int64_t own_overshoot(uint64_t at, uint64_t last_rx, uint64_t detect)
{
	return last_rx ? (int64_t)(at - last_rx) - (int64_t)detect : 0;
}

static void read_kernel(struct bench *b)
{
	char buf[32768];
	struct nlmsghdr *nlh;
	struct event_info ev;
	uint64_t seen;
	ssize_t len;
	int rest;

	len = recv(b->det[DET_KERNEL].fd, buf, sizeof(buf), MSG_DONTWAIT);
	seen = now_ns();
	if (len < 0) {
		if (errno == ENOBUFS)
			fprintf(stderr, "bench: lamport.ko events were lost (overrun)\n");
		return;
	}
	rest = (int)len;
	for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, rest);
	     nlh = mnl_nlmsg_next(nlh, &rest)) {
		if (nlh->nlmsg_type != b->kern.family ||
		    event_decode(nlh, &ev) != MNL_CB_OK || ev.peer != 2)
			continue;
		verdict(b, DET_KERNEL, state_verdict(ev.new_state), ev.time_ns,
			seen, own_overshoot(ev.time_ns, ev.last_rx_ns,
					    ev.detect_ns));
	}
}

static enum verdict twin_verdict(const char *s)
{
	if (!strcmp(s, "alive"))
		return V_UP;
	if (!strcmp(s, "suspect"))
		return V_SUSPECT;
	if (!strcmp(s, "dead"))
		return V_DOWN;
	return V_OTHER;
}

/* "event PEER OLD NEW REASON TIME_NS LAST_RX_NS DETECT_NS" lines. */
static void twin_line(struct bench *b, const char *line, uint64_t seen)
{
	unsigned long long at, last_rx, detect;
	char old[16], new[16], reason[16];
	unsigned int peer;

	if (sscanf(line, "event %u %15s %15s %15s %llu %llu %llu", &peer, old,
		   new, reason, &at, &last_rx, &detect) != 7 || peer != 2)
		return;
	verdict(b, DET_TWIN, twin_verdict(new), at, seen,
		own_overshoot(at, last_rx, detect));
}

/* Hands each complete line (or frame) of ds->buf to fn, keeps the rest. */
static size_t take_lines(struct bench *b, struct det_state *ds, uint64_t seen)
{
	char *start = ds->buf, *nl;

	while ((nl = memchr(start, '\n', ds->len - (size_t)(start - ds->buf)))) {
		*nl = '\0';
		twin_line(b, start, seen);
		start = nl + 1;
	}
	return (size_t)(start - ds->buf);
}

static int read_into(struct det_state *ds)
{
	ssize_t n;

	if (ds->len == sizeof(ds->buf))
		ds->len = 0;	/* a runaway line: drop it */
	n = read(ds->fd, ds->buf + ds->len, sizeof(ds->buf) - ds->len);
	if (n <= 0)
		return n ? -errno : -EPIPE;
	ds->len += (size_t)n;
	return 0;
}

static void consume(struct det_state *ds, size_t used)
{
	memmove(ds->buf, ds->buf + used, ds->len - used);
	ds->len -= used;
}

static int read_twin(struct bench *b)
{
	struct det_state *ds = &b->det[DET_TWIN];
	uint64_t seen;
	int err = read_into(ds);

	if (err)
		return err;
	seen = now_ns();
	consume(ds, take_lines(b, ds, seen));
	return 0;
}

/* The value of "key":"value" in a flat JSON object; "" when absent. */
static void json_field(const char *json, const char *key, char *out,
		       size_t size)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(json, pat);
	if (!p)
		return;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p++ != '"')
		return;
	while (*p && *p != '"' && n + 1 < size)
		out[n++] = *p++;
	out[n] = '\0';
}

static void bfdd_message(struct bench *b, const char *json, uint64_t seen)
{
	char op[32], state[32], peer[64];

	json_field(json, "op", op, sizeof(op));
	json_field(json, "state", state, sizeof(state));
	json_field(json, "peer-address", peer, sizeof(peer));
	if (strcmp(op, "status") || strcmp(peer, BENCH_ADDR_B))
		return;
	if (!strcmp(state, "up"))
		verdict(b, DET_BFDD, V_UP, seen, seen, 0);
	else if (!strcmp(state, "down"))
		verdict(b, DET_BFDD, V_DOWN, seen, seen,
			(int64_t)(seen - b->t0) -
			(int64_t)(b->o->mult * (uint64_t)b->interval_us * 1000));
}

/* Frames: u32 length (network order, header excluded), u16 id, u8 type, u8 version. */
static int read_bfdd(struct bench *b)
{
	struct det_state *ds = &b->det[DET_BFDD];
	size_t used = 0;
	uint64_t seen;
	int err = read_into(ds);

	if (err)
		return err;
	seen = now_ns();
	while (ds->len - used >= 8) {
		uint32_t len;
		char json[4096];

		memcpy(&len, ds->buf + used, 4);
		len = ntohl(len);
		if (len > sizeof(ds->buf) - 8)
			return -EPROTO;
		if (ds->len - used < 8 + len)
			break;
		snprintf(json, sizeof(json), "%.*s", (int)len, ds->buf + used + 8);
		bfdd_message(b, json, seen);
		used += 8 + len;
	}
	consume(ds, used);
	return 0;
}

/* Handles whatever arrives until deadline (absolute ns). */
static int pump(struct bench *b, uint64_t deadline)
{
	struct pollfd pfd[DET_COUNT];
	int d, n, err;

	for (;;) {
		uint64_t now = now_ns();
		int timeout;

		if (bench_stop)
			return -EINTR;
		if (now >= deadline)
			return 0;
		timeout = (int)((deadline - now + 999999) / 1000000);
		for (d = 0; d < DET_COUNT; d++)
			pfd[d] = (struct pollfd){ .fd = b->det[d].fd, .events = POLLIN };
		n = poll(pfd, DET_COUNT, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		if (pfd[DET_KERNEL].revents)
			read_kernel(b);
		if (pfd[DET_TWIN].revents && (err = read_twin(b))) {
			fprintf(stderr, "Error: bench: the twin stopped talking\n");
			return err;
		}
		if (pfd[DET_BFDD].revents && (err = read_bfdd(b))) {
			fprintf(stderr, "Error: bench: bfdd's control socket failed\n");
			return err;
		}
		return 0;
	}
}

static bool all_down(const struct bench *b)
{
	int d;

	for (d = 0; d < DET_COUNT; d++)
		if (!b->det[d].down)
			return false;
	return true;
}

static bool all_up(const struct bench *b)
{
	int d;

	for (d = 0; d < DET_COUNT; d++)
		if (!b->det[d].up)
			return false;
	return true;
}

/* Pumps until pred holds or deadline; 1 if it held, 0 if not, -errno. */
static int wait_for(struct bench *b, bool (*pred)(const struct bench *),
		    uint64_t deadline)
{
	int err;

	while (!pred(b)) {
		if (now_ns() >= deadline)
			return 0;
		err = pump(b, deadline);
		if (err)
			return err;
	}
	return 1;
}

static int wait_until(struct bench *b, uint64_t deadline)
{
	int err;

	while (now_ns() < deadline)
		if ((err = pump(b, deadline)))
			return err;
	return 0;
}

/* --- detectors --------------------------------------------------------- */

static uint64_t detect_ns(const struct bench *b)
{
	return (uint64_t)b->o->mult * b->interval_us * 1000;
}

static int kernel_peer(struct bench *b, bool add)
{
	static const struct { const char *ns, *node, *peer, *addr; } side[2] = {
		{ BENCH_NS_A, "1", "2", BENCH_ADDR_B },
		{ BENCH_NS_B, "2", "1", BENCH_ADDR_A },
	};
	int i;

	/* A new peer starts unknown: wait for its first verdict again. */
	b->det[DET_KERNEL].up = false;
	for (i = 0; i < 2; i++) {
		run_quiet("ip netns exec %s %s peer del %s", side[i].ns,
			  b->self, side[i].peer);
		if (!add)
			continue;
		if (run_quiet("ip netns exec %s %s node set id %s", side[i].ns,
			      b->self, side[i].node) ||
		    run_quiet("ip netns exec %s %s peer add %s %s interval %uus mult %u",
			      side[i].ns, b->self, side[i].peer, side[i].addr,
			      b->interval_us, b->o->mult)) {
			fprintf(stderr, "Error: bench: cannot configure lamport.ko in %s\n",
				side[i].ns);
			return -1;
		}
	}
	return 0;
}

static int open_kernel_events(void *arg)
{
	struct bench *b = arg;
	int err = lnl_open(&b->kern);

	if (err)
		return err;
	err = lnl_join_group(&b->kern, "events");
	if (err)
		lnl_close(&b->kern);
	return err;
}

static int start_twins(struct bench *b)
{
	char interval[32], mult[16], peer_a[64], peer_b[64];
	char *argv_a[] = { "ip", "netns", "exec", BENCH_NS_A, b->twin_bin,
			   "id", "1", "peer", "2", peer_b, "interval", interval,
			   "mult", mult, NULL };
	char *argv_b[] = { "ip", "netns", "exec", BENCH_NS_B, b->twin_bin,
			   "id", "2", "peer", "1", peer_a, "interval", interval,
			   "mult", mult, NULL };
	int pipefd[2];

	snprintf(interval, sizeof(interval), "%uus", b->interval_us);
	snprintf(mult, sizeof(mult), "%u", b->o->mult);
	snprintf(peer_a, sizeof(peer_a), "%s:%u", BENCH_ADDR_A, BENCH_TWIN_PORT);
	snprintf(peer_b, sizeof(peer_b), "%s:%u", BENCH_ADDR_B, BENCH_TWIN_PORT);
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	b->twin[0] = spawn(argv_a, pipefd[1], BENCH_WORK "/twin-a.log");
	close(pipefd[1]);
	b->det[DET_TWIN].fd = pipefd[0];
	b->det[DET_TWIN].len = 0;
	b->twin[1] = spawn(argv_b, -1, BENCH_WORK "/twin-b.log");
	return b->twin[0] > 0 && b->twin[1] > 0 ? 0 : -ECHILD;
}

static int write_bfdd_conf(const struct bench *b, const char *ns,
			   const char *self, const char *peer)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), BENCH_WORK "/%s.conf", ns);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "log timestamp precision 6\n"
		"log file " BENCH_WORK "/log/bfdd-%s.log debugging\n"
		"debug bfd peer\n"
		"bfd\n"
		" peer %s local-address %s\n"
		"  transmit-interval %u\n"
		"  receive-interval %u\n"
		"  detect-multiplier %u\n"
		"  no shutdown\n"
		" exit\n"
		"exit\n", ns, peer, self, b->interval_us / 1000,
		b->interval_us / 1000, b->o->mult);
	return fclose(f) ? -errno : 0;
}

static int connect_bfdd(struct bench *b)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	unsigned char req[16] = { 0 };
	uint64_t mask = BFD_NOTIFY_PEER_STATE, deadline;
	uint32_t len = htonl(8);
	uint16_t id = htons(1);
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path),
		 "/var/run/frr/%s/bfdd.sock", BENCH_NS_A);
	deadline = now_ns() + 10 * NSEC_PER_SEC;
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
			break;
		close(fd);
		if (now_ns() > deadline) {
			fprintf(stderr, "Error: bench: bfdd's control socket %s never appeared\n",
				sun.sun_path);
			return -ETIMEDOUT;
		}
		usleep(20000);
	}
	memcpy(req, &len, 4);
	memcpy(req + 4, &id, 2);
	req[6] = BFD_NOTIFY;
	req[7] = 1;
	memcpy(req + 8, &mask, 8);
	if (write(fd, req, sizeof(req)) != (ssize_t)sizeof(req)) {
		close(fd);
		return -EIO;
	}
	b->det[DET_BFDD].fd = fd;
	b->det[DET_BFDD].len = 0;
	return 0;
}

static int start_bfdd(struct bench *b)
{
	static const char *const ns[2] = { BENCH_NS_A, BENCH_NS_B };
	struct passwd *frr = getpwnam("frr");
	char conf[2][256], dir[128];
	int i, err;

	if (!frr) {
		fprintf(stderr, "Error: bench: no user \"frr\" (is FRR installed?)\n");
		return -ENOENT;
	}
	if (access(BFDD, X_OK)) {
		fprintf(stderr, "Error: bench: %s is missing (package frr)\n", BFDD);
		return -ENOENT;
	}
	mkdir(BENCH_WORK "/log", 0755);
	if (chown(BENCH_WORK "/log", frr->pw_uid, frr->pw_gid))
		return -errno;
	for (i = 0; i < 2; i++) {
		char *argv[] = { "ip", "netns", "exec", (char *)ns[i], BFDD,
				 "-N", (char *)ns[i], "-f", conf[i], "-P", "0",
				 NULL };

		snprintf(dir, sizeof(dir), "/var/run/frr/%s", ns[i]);
		mkdir("/var/run/frr", 0755);
		mkdir(dir, 0755);
		if (chown("/var/run/frr", frr->pw_uid, frr->pw_gid) ||
		    chown(dir, frr->pw_uid, frr->pw_gid))
			return -errno;
		err = write_bfdd_conf(b, ns[i], i ? BENCH_ADDR_B : BENCH_ADDR_A,
				      i ? BENCH_ADDR_A : BENCH_ADDR_B);
		if (err)
			return err;
		snprintf(conf[i], sizeof(conf[i]), BENCH_WORK "/%s.conf", ns[i]);
		b->bfdd[i] = spawn(argv, -1, BENCH_WORK "/bfdd.out");
		if (b->bfdd[i] <= 0)
			return -ECHILD;
	}
	return connect_bfdd(b);
}

static void stop_detectors(struct bench *b)
{
	int i, d;

	for (i = 0; i < 2; i++) {
		reap(b->twin[i]);
		reap(b->bfdd[i]);
		b->twin[i] = b->bfdd[i] = 0;
	}
	for (d = DET_TWIN; d < DET_COUNT; d++) {
		if (b->det[d].fd >= 0)
			close(b->det[d].fd);
		b->det[d].fd = -1;
		b->det[d].up = false;
	}
	kernel_peer(b, false);
	b->det[DET_KERNEL].up = false;
}

static int start_detectors(struct bench *b)
{
	int err;

	err = kernel_peer(b, true);
	if (!err)
		err = start_twins(b);
	if (!err)
		err = start_bfdd(b);
	return err;
}

/* --- load and faults ---------------------------------------------------- */

static int start_load(struct bench *b, enum load_kind load)
{
	char *cpu[] = { "stress-ng", "--cpu", "2", "-q", NULL };
	char *fifo[] = { "stress-ng", "--cpu", "2", "--sched", "fifo",
			 "--sched-prio", "50", "-q", NULL };
	char *mem[] = { "stress-ng", "--vm", "2", "--vm-bytes", "60%", "-q",
			NULL };
	char *const *argv = load == LOAD_CPU ? cpu :
			    load == LOAD_CPU_FIFO ? fifo : mem;

	b->hog = 0;
	if (load == LOAD_NONE)
		return 0;
	b->hog = spawn(argv, -1, BENCH_WORK "/stress-ng.log");
	if (b->hog <= 0)
		return -ECHILD;
	/* Let the hogs get going before anything is measured. */
	return wait_until(b, now_ns() + 2 * NSEC_PER_SEC);
}

static uint32_t loss_ppm(const struct condition *c)
{
	return c->loss_pct * 10000;
}

static int link_normal(struct bench *b, bool create)
{
	const struct condition *c = &b->cr->cond;
	uint32_t delay = c->loss_pct ? 1000 : 0, jitter = c->loss_pct ? 500 : 0;
	int err;

	err = netem_set(&b->netem_b, create, delay, jitter, loss_ppm(c));
	if (err || !create)
		return err;
	if (c->loss_pct)
		return netem_set(&b->netem_a, true, delay, jitter, loss_ppm(c));
	return netem_del(&b->netem_a);
}

static void open_windows(struct bench *b, uint64_t now)
{
	int d;

	for (d = 0; d < DET_COUNT; d++)
		if (b->det[d].up)
			qos_trust(&b->cr->det[d].qos, now);
}

static void close_windows(struct bench *b, uint64_t now)
{
	int d;

	for (d = 0; d < DET_COUNT; d++)
		qos_close(&b->cr->det[d].qos, now);
}

static void progress(const struct bench *b)
{
	static const char bar[] = "##############################";
	uint32_t k = b->cr->cycles, n = b->o->cycles;
	unsigned int w = n ? (unsigned int)(30ULL * k / n) : 30;

	if (isatty(STDERR_FILENO)) {
		fprintf(stderr, "\r%-12s [%-30.*s] %u/%u cycles", b->cr->cond.name,
			(int)w, bar, k, n);
		if (k == n)
			fputc('\n', stderr);
	} else if (k == n || (n >= 10 && k % (n / 10) == 0)) {
		fprintf(stderr, "%s: %u/%u cycles\n", b->cr->cond.name, k, n);
	}
}

static int run_cycle(struct bench *b)
{
	const struct condition *c = &b->cr->cond;
	uint64_t t0, t1, deadline, span;
	int d, err;

	b->cycle++;
	for (d = 0; d < DET_COUNT; d++)
		b->det[d].down = false;
	t0 = now_ns();
	err = netem_set(&b->netem_b, false, c->loss_pct ? 1000 : 0,
			c->loss_pct ? 500 : 0, 1000000);
	t1 = now_ns();
	if (err)
		return err;
	b->fault = true;
	b->t0 = t0;
	close_windows(b, t0);
	samples_add(&b->cr->call, t1 - t0);

	span = detect_ns(b);
	deadline = t0 + (span * 10 > span + 2 * NSEC_PER_SEC ?
			 span * 10 : span + 2 * NSEC_PER_SEC);
	err = wait_for(b, all_down, deadline);
	if (err < 0)
		return err;
	for (d = 0; d < DET_COUNT; d++)
		if (!b->det[d].down)
			b->cr->det[d].missed++;

	err = link_normal(b, false);
	if (err)
		return err;
	b->fault = false;
	open_windows(b, now_ns());
	err = wait_for(b, all_up, now_ns() + 30 * NSEC_PER_SEC);
	if (err < 0)
		return err;
	if (!err)
		b->cr->stuck++;
	b->cr->cycles++;
	progress(b);
	return wait_until(b, now_ns() + (uint64_t)(drand48() *
						  b->interval_us * 1000));
}

/* CPU time of each detector alone, against a window with none running. */
static int measure_cost(struct bench *b)
{
	struct cpu_cost *cost = &b->r->cost;
	uint64_t idle0, idle1, t0, t1;
	int d, i, err;

	for (d = 0; d <= DET_COUNT; d++) {
		kernel_peer(b, d == DET_KERNEL);
		for (i = 0; i < 2; i++) {
			kill(b->twin[i], d == DET_TWIN ? SIGCONT : SIGSTOP);
			kill(b->bfdd[i], d == DET_BFDD ? SIGCONT : SIGSTOP);
		}
		/* Settle (bfdd needs its slow start), then measure. */
		err = wait_until(b, now_ns() + 3 * NSEC_PER_SEC);
		t0 = now_ns();
		if (!err)
			err = cpu_idle_ns(&idle0);
		if (!err)
			err = wait_until(b, t0 + b->o->cost_ns);
		t1 = now_ns();
		if (!err)
			err = cpu_idle_ns(&idle1);
		if (err)
			return err;
		cost->busy_ns[d] = (t1 - t0) * b->r->cpus > idle1 - idle0 ?
				   (t1 - t0) * b->r->cpus - (idle1 - idle0) : 0;
	}
	for (i = 0; i < 2; i++) {
		kill(b->twin[i], SIGCONT);
		kill(b->bfdd[i], SIGCONT);
	}
	/* Resumed daemons first time out the peer, then trust it again. */
	err = kernel_peer(b, true);
	if (!err)
		err = wait_until(b, now_ns() + 3 * NSEC_PER_SEC);
	cost->window_ns = b->o->cost_ns;
	cost->heartbeats = 2.0 * (double)b->o->cost_ns /
			   (double)mean_interval_ns(b->interval_us);
	cost->measured = true;
	b->r->cost_interval_us = b->interval_us;
	return err;
}

/*
 * The VM's own timer precision, apart from any detector: how late absolute
 * 10 ms sleeps of this SCHED_FIFO process wake up, nothing else loading it.
 */
static int timer_probe(struct bench *b)
{
	struct timespec next;
	uint64_t due;
	uint32_t i;

	due = now_ns() + 10 * NSEC_PER_MSEC;
	for (i = 0; i < b->o->probe && !bench_stop; i++) {
		next.tv_sec = (time_t)(due / NSEC_PER_SEC);
		next.tv_nsec = (long)(due % NSEC_PER_SEC);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		samples_add(&b->r->probe, now_ns() - due);
		due += 10 * NSEC_PER_MSEC;
	}
	return bench_stop ? -EINTR : 0;
}

static int wait_all_up(struct bench *b, const char *when)
{
	int err = wait_for(b, all_up, now_ns() + 30 * NSEC_PER_SEC);
	int d;

	if (err > 0)
		return 0;
	if (!err) {
		fprintf(stderr, "Error: bench: %s, not every detector trusts B after 30 s:",
			when);
		for (d = 0; d < DET_COUNT; d++)
			if (!b->det[d].up)
				fprintf(stderr, " %s", det_name[d]);
		fputc('\n', stderr);
		return -ETIMEDOUT;
	}
	return err;
}

static int run_condition(struct bench *b, struct cond_result *cr)
{
	uint64_t soak;
	uint32_t k;
	int err;

	b->cr = cr;
	err = link_normal(b, true);
	if (!err)
		err = start_load(b, cr->cond.load);
	if (!err)
		err = wait_all_up(b, cr->cond.name);
	if (err)
		goto out;

	soak = cr->cond.loss_pct ? b->o->loss_soak_ns : b->o->soak_ns;
	b->accounting = true;
	open_windows(b, now_ns());
	err = wait_until(b, now_ns() + soak);
	cr->soak_ns = soak;
	for (k = 0; !err && k < b->o->cycles; k++)
		err = run_cycle(b);
	close_windows(b, now_ns());
	b->accounting = false;
	if (!err && cr->cond.load == LOAD_NONE && !cr->cond.loss_pct &&
	    b->o->cost_ns && !b->r->cost.measured) {
		err = measure_cost(b);
		if (!err)
			err = wait_all_up(b, "after the CPU cost phase");
	}
	if (!err && cr->cond.load == LOAD_NONE && !cr->cond.loss_pct &&
	    !b->r->probe.n)
		err = timer_probe(b);
out:
	reap(b->hog);
	b->hog = 0;
	return err;
}

static int find_twin(struct bench *b)
{
	ssize_t n = readlink("/proc/self/exe", b->self, sizeof(b->self) - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	b->self[n] = '\0';
	snprintf(b->twin_bin, sizeof(b->twin_bin), "%s", b->self);
	slash = strrchr(b->twin_bin, '/');
	snprintf(slash + 1, sizeof(b->twin_bin) - (size_t)(slash + 1 - b->twin_bin),
		 "lamport-twin");
	if (access(b->twin_bin, X_OK)) {
		fprintf(stderr, "Error: bench: %s is missing\n", b->twin_bin);
		return -ENOENT;
	}
	return 0;
}

static void machine_info(struct bench_results *r)
{
	struct sys_info s;

	sys_info_read(&s);
	snprintf(r->kernel, sizeof(r->kernel), "%s", s.kernel);
	snprintf(r->machine, sizeof(r->machine), "%s", s.machine);
	r->cpus = s.cpus;
}

static int bench_setup(struct bench *b)
{
	struct sched_param sp = { .sched_priority = 90 };
	int err;

	if (find_twin(b))
		return -1;
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		fprintf(stderr, "bench: warning: cannot run SCHED_FIFO: %s\n",
			strerror(errno));
	run_quiet("rm -rf " BENCH_WORK);
	if (mkdir(BENCH_WORK, 0755))
		return -errno;
	if (topo_create())
		return -1;
	err = netns_run(BENCH_NS_A, open_kernel_events, b);
	if (err) {
		fprintf(stderr, "Error: bench: cannot listen to lamport.ko's events: %s\n",
			strerror(-err));
		return err;
	}
	b->kern_open = true;
	b->det[DET_KERNEL].fd = mnl_socket_get_fd(b->kern.sock);
	err = netem_open(&b->netem_a, BENCH_NS_A, BENCH_DEV_A);
	if (!err)
		err = netem_open(&b->netem_b, BENCH_NS_B, BENCH_DEV_B);
	if (err)
		fprintf(stderr, "Error: bench: rtnetlink: %s\n", strerror(-err));
	return err;
}

static void bench_teardown(struct bench *b)
{
	stop_detectors(b);
	reap(b->hog);
	netem_close(&b->netem_a);
	netem_close(&b->netem_b);
	if (b->kern_open)
		lnl_close(&b->kern);
	topo_destroy();
	reap_all_children();
}

int bench_fd_run(const struct bench_opts *o, struct bench_results *r)
{
	struct bench b = { .o = o, .r = r };
	uint32_t interval = 0;
	unsigned int i;
	int d, err;

	for (d = 0; d < DET_COUNT; d++)
		b.det[d].fd = -1;
	memset(r, 0, sizeof(*r));
	r->opts = o;
	machine_info(r);
	srand48(o->seed);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	err = bench_setup(&b);
	for (i = 0; !err && i < o->ncond; i++) {
		const struct condition *c = &o->cond[i];

		if (c->interval_us != interval) {
			if (interval)
				stop_detectors(&b);
			interval = b.interval_us = c->interval_us;
			err = start_detectors(&b);
			if (err)
				break;
		}
		r->cr[r->ncr].cond = *c;
		err = run_condition(&b, &r->cr[r->ncr++]);
	}
	bench_teardown(&b);
	if (err == -EINTR)
		fprintf(stderr, "bench: interrupted\n");
	else if (err > 0 || err < -1)
		fprintf(stderr, "Error: bench: %s\n", strerror(err < 0 ? -err : err));
	return err ? -1 : 0;
}

void bench_results_free(struct bench_results *r)
{
	unsigned int i;
	int d;

	for (i = 0; i < r->ncr; i++) {
		for (d = 0; d < DET_COUNT; d++) {
			samples_free(&r->cr[i].det[d].td);
			free(r->cr[i].det[d].info);
		}
		samples_free(&r->cr[i].call);
	}
	samples_free(&r->probe);
}
