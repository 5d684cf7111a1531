// SPDX-License-Identifier: GPL-2.0
/*
 * lamport-twin: the module's failure detector as an ordinary process, so
 * that benchmarks can set the two side by side under the same load. It
 * speaks the module's wire format and decides with the module's own core
 * (kmod/core); epoll, timerfds and one UDP socket stand in for the
 * hrtimers and the kernel socket of kmod/heartbeat.c.
 *
 * Lines on stdout:
 *	ready PORT
 *	event PEER OLD NEW REASON TIME_NS LAST_RX_NS DETECT_NS
 * and on SIGTERM or SIGINT, before exiting 0:
 *	stats PEER tx N rx N lost N dup N drops N	(one per peer)
 *	drops total N short N magic N version N length N type N receiver N
 *	      sender N addr N				(one line, the whole node)
 * A peer's "drops" counts the dropped datagrams whose header named it as
 * the sender; the "drops" line counts every dropped datagram by cause.
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <linux/lamport.h>

#include "args.h"
#include "detect.h"
#include "fmt.h"
#include "seq.h"
#include "wire.h"

#define PROG		"lamport-twin"
#define TWIN_PORT	1979	/* beside the module's 1978 */
#define NSEC_PER_SEC	1000000000ULL
#define RX_BURST	64	/* datagrams per wakeup, so timers are not starved */

/* Why datagrams are dropped: the wire format's errors, then later checks. */
enum drop_cause {
	DROP_RECEIVER = LP_WIRE_BAD_TYPE + 1, DROP_SENDER, DROP_ADDR, DROP_COUNT,
};

static const char *const drop_names[DROP_COUNT] = {
	[LP_WIRE_SHORT] = "short", [LP_WIRE_BAD_MAGIC] = "magic",
	[LP_WIRE_BAD_VERSION] = "version", [LP_WIRE_BAD_LENGTH] = "length",
	[LP_WIRE_BAD_TYPE] = "type", [DROP_RECEIVER] = "receiver",
	[DROP_SENDER] = "sender", [DROP_ADDR] = "addr",
};

struct twin_peer {
	u32 id;
	struct lp_addr ip;
	u16 port;
	struct sockaddr_storage addr;	/* ip and port, in the socket's family */
	socklen_t addrlen;
	int tx_fd, detect_fd;
	u16 tx_epoch;
	u32 tx_seq;
	struct lp_seq seq;
	u32 echo_seq;
	u64 echo_tx_ns, echo_rx_ns;
	struct lp_detect detect;
	u64 tx, rx, dup, drops;
};

struct twin {
	u32 id;
	u16 port;
	struct lp_addr bind;
	u32 interval_us;
	u32 mult;
	int mode;
	u32 threshold_milli;
	struct twin_peer *peers;	/* sorted by id */
	unsigned int npeers;
	int family, sock, epfd, sigfd;
	u64 drops[DROP_COUNT];
	u64 rng;
};

enum ev_kind { EV_SOCK, EV_SIGNAL, EV_TX, EV_DETECT };

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static void die(const char *what)
{
	fail("%s: %s", what, strerror(errno));
	exit(1);
}

static int bad(const char *key, const char *val, const char *why)
{
	return fail("bad %s \"%s\": %s", key, val, why);
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
}

/* xorshift64*: plenty for jitter, and no system call per heartbeat. */
static u32 rand16(struct twin *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return (u32)((t->rng * 0x2545f4914f6cdd1dULL) >> 48);
}

/* ns 0 disarms the timer, relative or absolute alike. */
static void timer_set(int fd, u64 ns, int flags)
{
	struct itimerspec its = {
		.it_value.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.it_value.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	if (timerfd_settime(fd, flags, &its, NULL))
		die("timerfd_settime");
}

/* True if the timer expired: a rearm may have cancelled a pending expiry. */
static bool timer_expired(int fd)
{
	uint64_t ticks;

	return read(fd, &ticks, sizeof(ticks)) == sizeof(ticks);
}

/* --- command line ------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " id ID [ port PORT ] [ bind ADDR ]\n"
		"                    peer ID ADDR[:PORT] [ peer ID ADDR[:PORT] ]...\n"
		"                    [ interval DURATION ] [ mult MULT ]\n"
		"                    [ mode { fixed | phi } ] [ threshold PHI ]\n"
		"where  ID := 1..4294967295, PORT := 1..65535 (default %u)\n"
		"       DURATION := 1ms..60s, like 10ms or 250us (default 10ms)\n"
		"       MULT := 2..255 (default 3), PHI := 1..100 (default 8)\n",
		TWIN_PORT);
}

enum opt { OPT_ID, OPT_PORT, OPT_BIND, OPT_PEER, OPT_INTERVAL, OPT_MULT,
	   OPT_MODE, OPT_THRESHOLD, OPT_COUNT };

/* In prefix-matching order. */
static const char *const opt_names[OPT_COUNT] = {
	"id", "port", "bind", "peer", "interval", "mult", "mode", "threshold",
};

static int parse_id(const char *key, const char *s, u32 *id)
{
	int err = parse_u32(s, id);

	if (err == -ERANGE)
		return bad(key, s, "out of range");
	if (err)
		return bad(key, s, "not a number");
	if (!*id)
		return bad(key, s, "must be non-zero");
	return 0;
}

/* The numeric options, limited as the module limits them. */
static const struct limit {
	const char *what, *range;
	u32 min, max;
} limits[OPT_COUNT] = {
	[OPT_PORT] = { "a number", "1..65535", 1, 65535 },
	[OPT_INTERVAL] = { "a duration like 10ms", "1ms..60s",
			   LAMPORT_INTERVAL_MIN_US, LAMPORT_INTERVAL_MAX_US },
	[OPT_MULT] = { "a number", "2..255", LAMPORT_MULT_MIN, LAMPORT_MULT_MAX },
	[OPT_THRESHOLD] = { "a number", "1..100", LAMPORT_THRESHOLD_MIN,
			    LAMPORT_THRESHOLD_MAX },
};

/* Explains a parser's err, or val beyond the limits; 0 if all is well. */
static int check_limit(enum opt opt, const char *s, int err, u32 val)
{
	const struct limit *l = &limits[opt];
	char why[64];

	if (err == -EDOM)
		snprintf(why, sizeof(why), "too precise");
	else if (err && err != -ERANGE)
		snprintf(why, sizeof(why), "not %s", l->what);
	else if (err || val < l->min || val > l->max)
		snprintf(why, sizeof(why), "out of range, %s", l->range);
	else
		return 0;
	return bad(opt_names[opt], s, why);
}

static int parse_peer(struct twin *t, char **argv)
{
	struct twin_peer *p = &t->peers[t->npeers];
	const char *why;

	if (t->npeers == LAMPORT_PEERS_MAX)
		return fail("too many peers (%u)", LAMPORT_PEERS_MAX);
	p->port = TWIN_PORT;
	if (parse_id("peer id", argv[0], &p->id))
		return -1;
	if (parse_endpoint(argv[1], &p->ip, &p->port, &why))
		return bad("peer", argv[1], why);
	t->npeers++;
	return 0;
}

static int parse_opt(struct twin *t, enum opt opt, char **argv)
{
	const char *s = argv[0];
	u32 val = 0;
	int err;

	switch (opt) {
	case OPT_ID:
		return parse_id("id", s, &t->id);
	case OPT_PORT:
		err = parse_port(s, &t->port);
		return check_limit(opt, s, err, t->port);
	case OPT_BIND:
		return parse_addr(s, &t->bind) ?
		       bad("bind", s, "not an IPv4 or IPv6 address") : 0;
	case OPT_PEER:
		return parse_peer(t, argv);
	case OPT_INTERVAL:
		err = parse_duration_us(s, &t->interval_us);
		return check_limit(opt, s, err, t->interval_us);
	case OPT_MULT:
		err = parse_u32(s, &val);
		t->mult = val;
		return check_limit(opt, s, err, val);
	case OPT_MODE:
		t->mode = parse_name(&mode_names, s);
		return t->mode < 0 ? bad("mode", s, "not fixed or phi") : 0;
	case OPT_THRESHOLD:
		err = parse_milli(s, &t->threshold_milli);
		return check_limit(opt, s, err, t->threshold_milli);
	case OPT_COUNT:
		break;
	}
	return -1;
}

static int peer_cmp(const void *a, const void *b)
{
	u32 x = ((const struct twin_peer *)a)->id;
	u32 y = ((const struct twin_peer *)b)->id;

	return x < y ? -1 : x > y;
}

/* What no single argument shows: duplicates, and families that cannot mix. */
static int check_peers(struct twin *t)
{
	char buf[FMT_ADDR_SIZE];
	unsigned int i;

	qsort(t->peers, t->npeers, sizeof(*t->peers), peer_cmp);
	for (i = 0; i < t->npeers; i++) {
		struct twin_peer *p = &t->peers[i];

		if (p->id == t->id)
			return fail("bad peer id \"%u\": same as id", p->id);
		if (i && p->id == p[-1].id)
			return fail("bad peer id \"%u\": given twice", p->id);
		if (t->bind.len && p->ip.len != t->bind.len)
			return fail("bad peer \"%s\": not of the family of bind",
				    fmt_addr(&p->ip, buf, sizeof(buf)));
	}
	return 0;
}

static int parse_args(struct twin *t, int argc, char **argv)
{
	bool seen[OPT_COUNT] = { false };
	int opt, n;

	/* Each peer takes three words. */
	t->peers = calloc((size_t)argc / 3 + 1, sizeof(*t->peers));
	if (!t->peers)
		return fail("out of memory");
	while (argc > 0) {
		for (opt = 0; opt < OPT_COUNT; opt++)
			if (matches(argv[0], opt_names[opt]))
				break;
		if (opt == OPT_COUNT)
			return fail("unknown argument \"%s\", try \"" PROG " help\"",
				    argv[0]);
		n = opt == OPT_PEER ? 2 : 1;
		if (argc <= n)
			return fail("argument \"%s\" needs %s", opt_names[opt],
				    n == 2 ? "ID and ADDR[:PORT]" : "a value");
		if (seen[opt] && opt != OPT_PEER)
			return fail("argument \"%s\" is given twice", opt_names[opt]);
		seen[opt] = true;
		if (parse_opt(t, opt, argv + 1))
			return -1;
		argc -= n + 1;
		argv += n + 1;
	}
	if (!seen[OPT_ID])
		return fail("argument \"id\" is required");
	if (!t->npeers)
		return fail("argument \"peer\" is required");
	return check_peers(t);
}

/* --- the socket -------------------------------------------------------- */

/* ip:port as the socket's family has it; IPv4 becomes ::ffff:a.b.c.d. */
static socklen_t to_sockaddr(int family, const struct lp_addr *ip, u16 port,
			     struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, ip->bytes, ip->len);
		return sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	if (ip->len == 4) {
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], ip->bytes, 4);
	} else {
		memcpy(&s6->sin6_addr, ip->bytes, ip->len);
	}
	return sizeof(*s6);
}

static bool sockaddr_equal(const struct sockaddr_storage *a,
			   const struct sockaddr_storage *b)
{
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
}

static void sock_open(struct twin *t)
{
	const int type = SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
	struct sockaddr_storage ss;
	socklen_t len;
	int off = 0;

	t->family = t->bind.len == 4 ? AF_INET : AF_INET6;
	t->sock = socket(t->family, type, 0);
	if (t->sock < 0)
		die("socket");
	if (t->family == AF_INET6 && !t->bind.len &&
	    setsockopt(t->sock, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)))
		die("setsockopt IPV6_V6ONLY");
	len = to_sockaddr(t->family, &t->bind, t->port, &ss);
	if (bind(t->sock, (struct sockaddr *)&ss, len))
		die("bind");
}

/* --- heartbeats and the detector ---------------------------------------- */

static void transition(struct twin_peer *p, u8 state, u8 reason, u64 now)
{
	struct lp_detect *d = &p->detect;
	char b1[FMT_NAME_SIZE], b2[FMT_NAME_SIZE], b3[FMT_NAME_SIZE];

	printf("event %u %s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", p->id,
	       fmt_name(&state_names, d->state, b1, sizeof(b1)),
	       fmt_name(&state_names, state, b2, sizeof(b2)),
	       fmt_name(&reason_names, reason, b3, sizeof(b3)),
	       now, d->last_rx_ns, lp_detect_in_force_ns(d));
	d->state = state;
}

static void detect_arm(struct twin_peer *p)
{
	timer_set(p->detect_fd, lp_detect_next_deadline(&p->detect),
		  TFD_TIMER_ABSTIME);
}

static void detect_fire(struct twin_peer *p)
{
	struct lp_detect *d = &p->detect;
	u64 now = now_ns();
	u8 state, reason;

	state = lp_detect_verdict(d, now, &reason);
	if (state != d->state && state != LP_UNKNOWN)
		transition(p, state, reason, now);
	detect_arm(p);
}

static void heartbeat_send(struct twin *t, struct twin_peer *p)
{
	u8 msg[LP_WIRE_HEARTBEAT_LEN];
	struct lp_hdr hdr = {
		.type = LP_MSG_HEARTBEAT,
		.length = LP_WIRE_HEARTBEAT_LEN,
		.sender = t->id,
		.receiver = p->id,
	};
	struct lp_heartbeat hb = {
		.epoch = p->tx_epoch,
		.seq = ++p->tx_seq,
		.interval_us = t->interval_us,
		.mult = (u8)t->mult,
		.tx_ns = now_ns(),
	};

	if (p->echo_seq) {
		hb.echo_seq = p->echo_seq;
		hb.echo_tx_ns = p->echo_tx_ns;
		hb.echo_hold_ns = hb.tx_ns - p->echo_rx_ns;
	}
	p->tx++;
	timer_set(p->tx_fd, lp_tx_interval_ns(t->interval_us, rand16(t)), 0);
	lp_hdr_put(msg, &hdr);
	lp_heartbeat_put(msg + LP_WIRE_HDR_LEN, &hb);
	/* A failed send is a lost heartbeat, which is what is measured. */
	(void)sendto(t->sock, msg, sizeof(msg), 0, (struct sockaddr *)&p->addr,
		     p->addrlen);
}

/* Sequence bookkeeping; false for a duplicate, which tells nothing new. */
static bool track_seq(struct twin_peer *p, const struct lp_heartbeat *hb)
{
	if (lp_seq_track(&p->seq, hb->epoch, hb->seq) != LP_SEQ_DUP)
		return true;
	p->dup++;
	return false;
}

static void heartbeat_apply(struct twin_peer *p, const struct lp_heartbeat *hb)
{
	u32 interval = hb->interval_us;
	u8 mult = hb->mult < LAMPORT_MULT_MIN ? LAMPORT_MULT_MIN : hb->mult;
	u64 now = now_ns();

	if (interval < LAMPORT_INTERVAL_MIN_US)
		interval = LAMPORT_INTERVAL_MIN_US;
	if (interval > LAMPORT_INTERVAL_MAX_US)
		interval = LAMPORT_INTERVAL_MAX_US;
	p->rx++;
	if (!track_seq(p, hb))
		return;
	p->echo_seq = hb->seq;
	p->echo_tx_ns = hb->tx_ns;
	p->echo_rx_ns = now;

	lp_detect_heartbeat(&p->detect, now, interval, mult);
	if (p->detect.state != LP_ALIVE)
		transition(p, LP_ALIVE, LP_R_HEARTBEAT, now);
	detect_arm(p);
}

static struct twin_peer *peer_find(struct twin *t, u32 id)
{
	struct twin_peer key = { .id = id };

	return bsearch(&key, t->peers, t->npeers, sizeof(key), peer_cmp);
}

static void drop(struct twin *t, struct twin_peer *p, int cause)
{
	t->drops[cause]++;
	if (p)
		p->drops++;
}

/* Nothing in a datagram is trusted before every check has passed. */
static void receive(struct twin *t, const u8 *msg, u32 len,
		    const struct sockaddr_storage *from)
{
	struct twin_peer *p;
	struct lp_heartbeat hb;
	enum lp_wire_error err;
	struct lp_hdr hdr;

	err = lp_hdr_get(msg, len, &hdr);
	if (err != LP_WIRE_OK) {
		drop(t, NULL, err);
		return;
	}
	p = peer_find(t, hdr.sender);
	if (!lp_heartbeat_get(msg + LP_WIRE_HDR_LEN, len - LP_WIRE_HDR_LEN, &hb))
		drop(t, p, LP_WIRE_BAD_LENGTH);
	else if (hdr.receiver != t->id)
		drop(t, p, DROP_RECEIVER);
	else if (!p)
		drop(t, NULL, DROP_SENDER);
	else if (!sockaddr_equal(&p->addr, from))
		drop(t, p, DROP_ADDR);
	else
		heartbeat_apply(p, &hb);
}

static void sock_readable(struct twin *t)
{
	struct sockaddr_storage from;
	u8 msg[LP_WIRE_MAX_LEN];
	socklen_t fromlen;
	ssize_t n;
	int i;

	for (i = 0; i < RX_BURST; i++) {
		fromlen = sizeof(from);
		/* MSG_TRUNC: the real length, so that long datagrams fail. */
		n = recvfrom(t->sock, msg, sizeof(msg), MSG_TRUNC,
			     (struct sockaddr *)&from, &fromlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		receive(t, msg, (u32)n, &from);
	}
}

/* --- setup and the event loop ---------------------------------------- */

static void print_stats(const struct twin *t)
{
	unsigned int i;
	u64 total = 0;

	for (i = 0; i < t->npeers; i++) {
		const struct twin_peer *p = &t->peers[i];

		printf("stats %u tx %" PRIu64 " rx %" PRIu64 " lost %" PRIu64
		       " dup %" PRIu64 " drops %" PRIu64 "\n",
		       p->id, p->tx, p->rx, p->seq.lost, p->dup, p->drops);
	}
	for (i = LP_WIRE_SHORT; i < DROP_COUNT; i++)
		total += t->drops[i];
	printf("drops total %" PRIu64, total);
	for (i = LP_WIRE_SHORT; i < DROP_COUNT; i++)
		printf(" %s %" PRIu64, drop_names[i], t->drops[i]);
	putchar('\n');
}

static void watch(struct twin *t, int fd, enum ev_kind kind, unsigned int i)
{
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u64 = (u64)i << 2 | kind,
	};

	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev))
		die("epoll_ctl");
}

static int timer_new(struct twin *t, enum ev_kind kind, unsigned int i)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		die("timerfd_create");
	watch(t, fd, kind, i);
	return fd;
}

static void setup(struct twin *t)
{
	sigset_t sigs;
	unsigned int i;
	u64 first;

	if (getrandom(&t->rng, sizeof(t->rng), 0) != sizeof(t->rng) || !t->rng)
		t->rng = now_ns() ^ ((u64)getpid() << 32) ^ 1;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL))
		die("sigprocmask");
	t->sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->sigfd < 0 || t->epfd < 0)
		die("signalfd/epoll_create1");
	sock_open(t);
	watch(t, t->sock, EV_SOCK, 0);
	watch(t, t->sigfd, EV_SIGNAL, 0);

	for (i = 0; i < t->npeers; i++) {
		struct twin_peer *p = &t->peers[i];

		p->addrlen = to_sockaddr(t->family, &p->ip, p->port, &p->addr);
		lp_detect_init(&p->detect, (u8)t->mode, t->interval_us,
			       t->threshold_milli);
		p->tx_fd = timer_new(t, EV_TX, i);
		p->detect_fd = timer_new(t, EV_DETECT, i);
		p->tx_epoch = rand16(t) ?: 1;
		/* The first heartbeat leaves at a random point of the interval. */
		first = lp_tx_first_ns(t->interval_us, rand16(t));
		timer_set(p->tx_fd, first ? first : 1, 0);
	}
	printf("ready %u\n", t->port);
}

/* Returns true when it is time to exit. */
static bool dispatch(struct twin *t, u64 data)
{
	struct twin_peer *p = &t->peers[data >> 2];
	struct signalfd_siginfo si;

	switch ((enum ev_kind)(data & 3)) {
	case EV_SOCK:
		sock_readable(t);
		break;
	case EV_SIGNAL:
		return read(t->sigfd, &si, sizeof(si)) == sizeof(si);
	case EV_TX:
		if (timer_expired(p->tx_fd))
			heartbeat_send(t, p);
		break;
	case EV_DETECT:
		if (timer_expired(p->detect_fd))
			detect_fire(p);
		break;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct twin t = {
		.port = TWIN_PORT,
		.interval_us = LAMPORT_INTERVAL_DEFAULT_US,
		.mult = LAMPORT_MULT_DEFAULT,
		.mode = LP_FIXED,
		.threshold_milli = LAMPORT_THRESHOLD_DEFAULT,
	};
	struct epoll_event evs[64];
	int i, n;

	if (argc == 2 && matches(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (parse_args(&t, argc - 1, argv + 1))
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup(&t);
	for (;;) {
		n = epoll_wait(t.epfd, evs, 64, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			if (dispatch(&t, evs[i].data.u64)) {
				print_stats(&t);
				return 0;
			}
		}
	}
}
