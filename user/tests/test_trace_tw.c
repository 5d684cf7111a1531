// SPDX-License-Identifier: GPL-2.0
/*
 * trace_tw.c against real TIME_WAIT sockets: in a network namespace of its
 * own, 7 IPv4 and 3 IPv6 connections closed first by their client, then the
 * snapshot, filters, groups, counters and port range of that netns; and the
 * parsers and the grouping on made-up input.  Needs root (CLONE_NEWNET).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "trace_tw.h"

#define N_V4		7
#define N_V6		3
#define TW_LEN_MS	60000	/* TCP_TIMEWAIT_LEN */

static const uint8_t lo4[16] = { 127, 0, 0, 1 };
static const uint8_t lo6[16] = { [15] = 1 };

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

static socklen_t loopback_addr(int family, uint16_t port,
			       struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = in6addr_loopback;
	return sizeof(*sin6);
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A listener on the loopback address of family; port 0 picks one. */
static int listen_on(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback_addr(family, port, &ss);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connects to the listener; returns the client, the server end in *srv. */
static int connect_to(int family, uint16_t port, int listener, int *srv)
{
	struct timeval tmo = { .tv_sec = 2 };
	struct sockaddr_storage ss;
	socklen_t len = loopback_addr(family, port, &ss);
	int cli = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (cli < 0)
		return -1;
	setsockopt(cli, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	if (connect(cli, (struct sockaddr *)&ss, len) < 0) {
		close(cli);
		return -1;
	}
	*srv = accept(listener, NULL, NULL);
	if (*srv < 0) {
		close(cli);
		return -1;
	}
	setsockopt(*srv, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	return cli;
}

/*
 * One exchange, then the client closes first: it is the side that ends in
 * TIME_WAIT.  Every byte is read before close(), which would otherwise
 * send a RST and skip TIME_WAIT altogether.
 */
static bool make_time_wait(int family, uint16_t port, int listener)
{
	char c = 'x';
	int srv, cli = connect_to(family, port, listener, &srv);
	bool ok;

	if (cli < 0)
		return false;
	ok = write(cli, &c, 1) == 1 && read(srv, &c, 1) == 1 &&
	     write(srv, &c, 1) == 1 && read(cli, &c, 1) == 1;
	close(cli);
	/* EOF: the client's FIN is in, so our FIN finds it in FIN_WAIT2. */
	ok = ok && read(srv, &c, 1) == 0;
	close(srv);
	return ok;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long count_matching(const struct tw_filter *f)
{
	struct tw_snapshot s;
	long n;
	int err = tw_snapshot_take(f, &s);

	if (err)
		return err;
	n = s.count;
	tw_snapshot_free(&s);
	return n;
}

/* The last sockets may still be on their way from FIN_WAIT2. */
static long wait_for_time_wait(uint16_t port, long want)
{
	struct tw_filter f = { .port = port };
	long n = 0;
	int i;

	for (i = 0; i < 200; i++) {
		n = count_matching(&f);
		if (n == want)
			break;
		sleep_ms(10);
	}
	return n;
}

static size_t count_family(const struct tw_snapshot *s, uint8_t family)
{
	size_t i, n = 0;

	for (i = 0; i < s->count; i++)
		n += s->entries[i].family == family;
	return n;
}

static bool entry_sane(const struct tw_entry *e, uint16_t port)
{
	const uint8_t *lo = e->family == AF_INET ? lo4 : lo6;

	return e->dport == port && e->sport && e->remaining_ms > 0 &&
	       e->remaining_ms <= TW_LEN_MS && !memcmp(e->saddr, lo, 16) &&
	       !memcmp(e->daddr, lo, 16);
}

static void test_empty_netns(void)
{
	struct tw_counters c;
	struct tw_snapshot s;
	int err;

	err = tw_snapshot_take(NULL, &s);
	tap_ok(!err && s.count == 0 && !s.entries,
	       "a new netns has no TIME_WAIT socket (err %d)", err);
	tw_snapshot_free(&s);
	err = tw_counters_read(&c);
	tap_ok(!err && c.sockstat_tw == 0 && c.tw == 0,
	       "and counts none (err %d, sockstat tw %llu)", err,
	       (unsigned long long)c.sockstat_tw);
}

static void test_snapshot(const struct tw_snapshot *s, uint16_t port)
{
	size_t i, sane = 0;

	tap_ok(s->count == N_V4 + N_V6, "the snapshot has %d entries: %zu",
	       N_V4 + N_V6, s->count);
	tap_ok(count_family(s, AF_INET) == N_V4, "%d of them AF_INET", N_V4);
	tap_ok(count_family(s, AF_INET6) == N_V6, "%d of them AF_INET6", N_V6);
	for (i = 0; i < s->count; i++)
		sane += entry_sane(&s->entries[i], port);
	tap_ok(sane == s->count,
	       "all from loopback to loopback port %u, 0 < remaining <= %d ms",
	       port, TW_LEN_MS);
}

static void test_filters(const struct tw_snapshot *s, uint16_t port,
			 uint16_t quiet_port)
{
	struct tw_filter f4 = { .family = AF_INET };
	struct tw_filter f6 = { .family = AF_INET6 };
	struct tw_filter fport = { .port = port };
	struct tw_filter fsport = { .port = s->entries[0].sport };
	struct tw_filter fquiet = { .port = quiet_port };
	struct tw_filter faddr4 = { .have_addr = true,
				    .addr_family = AF_INET };
	struct tw_filter faddr6 = { .have_addr = true,
				    .addr_family = AF_INET6 };
	struct tw_filter fboth = { .family = AF_INET6, .port = port };
	struct tw_filter fbad = { .family = 99 };
	struct tw_snapshot bad;

	memcpy(faddr4.addr, lo4, 16);
	memcpy(faddr6.addr, lo6, 16);
	tap_ok(count_matching(&f4) == N_V4, "family AF_INET: %d", N_V4);
	tap_ok(count_matching(&f6) == N_V6, "family AF_INET6: %d", N_V6);
	tap_ok(count_matching(&fport) == N_V4 + N_V6,
	       "port %u (dport): all %d", port, N_V4 + N_V6);
	tap_ok(count_matching(&fsport) == 1, "one client's port (sport): 1");
	tap_ok(count_matching(&fboth) == N_V6, "AF_INET6 and port %u: %d",
	       port, N_V6);
	tap_ok(count_matching(&faddr4) == N_V4, "address 127.0.0.1: %d", N_V4);
	tap_ok(count_matching(&faddr6) == N_V6, "address ::1: %d", N_V6);
	tap_ok(count_matching(&fquiet) == 0,
	       "a listener with an open connection but no TIME_WAIT: 0");
	tap_ok(tw_snapshot_take(&fbad, &bad) == -EINVAL && !bad.count,
	       "an unknown family is -EINVAL");
}

static bool group_is(const struct tw_group *g, uint8_t family,
		     const uint8_t *addr, uint16_t port, uint32_t count)
{
	return g->family == family && !memcmp(g->addr, addr, 16) &&
	       g->port == port && g->count == count &&
	       g->min_remaining_ms > 0 &&
	       g->min_remaining_ms <= g->max_remaining_ms &&
	       g->max_remaining_ms <= TW_LEN_MS;
}

/* Port groups of one socket each: no address, by family then port. */
static bool group_follows(const struct tw_group *prev, const struct tw_group *g)
{
	static const uint8_t zero[16];

	if (g->count != 1 || memcmp(g->addr, zero, sizeof(zero)))
		return false;
	return g->family > prev->family ||
	       (g->family == prev->family && g->port > prev->port);
}

static void test_groups(const struct tw_snapshot *s, uint16_t port)
{
	struct tw_group *g;
	size_t n, i, ordered = 1;
	int err;

	err = tw_group_by_remote(s, &g, &n);
	tap_ok(!err && n == 2, "two remote endpoints: %zu", n);
	tap_ok(n == 2 && group_is(&g[0], AF_INET, lo4, port, N_V4) &&
	       group_is(&g[1], AF_INET6, lo6, port, N_V6),
	       "127.0.0.1:%u with %d, then [::1]:%u with %d", port, N_V4,
	       port, N_V6);
	free(g);

	err = tw_group_by_local_port(s, &g, &n);
	tap_ok(!err && n == N_V4 + N_V6, "%d local ports: %zu", N_V4 + N_V6,
	       n);
	for (i = 1; i < n; i++)
		ordered += group_follows(&g[i - 1], &g[i]);
	tap_ok(n && g[0].count == 1 && ordered == n,
	       "each once, without address, by family then port");
	free(g);
}

static struct tw_entry made_up(uint8_t family, const char *saddr,
			       uint16_t sport, const char *daddr,
			       uint16_t dport, uint32_t ms)
{
	struct tw_entry e = { .family = family, .sport = sport,
			      .dport = dport, .remaining_ms = ms };

	inet_pton(family, saddr, e.saddr);
	inet_pton(family, daddr, e.daddr);
	return e;
}

/* Ranking and IPv4-mapped addresses, which the live netns does not show. */
static void test_groups_made_up(void)
{
	struct tw_entry e[] = {
		made_up(AF_INET, "10.0.0.9", 1000, "10.0.0.2", 80, 500),
		made_up(AF_INET6, "::ffff:10.0.0.9", 1001, "::ffff:10.0.0.1",
			80, 700),
		made_up(AF_INET, "10.0.0.9", 1002, "10.0.0.1", 80, 100),
		made_up(AF_INET6, "2001:db8::9", 1000, "2001:db8::1", 443, 900),
		made_up(AF_INET, "10.0.0.9", 1003, "10.0.0.1", 80, 300),
	};
	struct tw_snapshot s = { .entries = e, .count = 5 };
	struct tw_filter f = { .have_addr = true, .addr_family = AF_INET };
	struct tw_group *g;
	uint8_t a[16] = { 0 };
	size_t n;
	int err;

	inet_pton(AF_INET, "10.0.0.1", f.addr);
	tap_ok(tw_filter_match(&f, &e[1]) && tw_filter_match(&f, &e[2]) &&
	       !tw_filter_match(&f, &e[0]),
	       "10.0.0.1 matches ::ffff:10.0.0.1 too");

	err = tw_group_by_remote(&s, &g, &n);
	memcpy(a, f.addr, 4);
	tap_ok(!err && n == 3 && g[0].count == 3 && g[0].family == AF_INET &&
	       !memcmp(g[0].addr, a, 16) && g[0].min_remaining_ms == 100 &&
	       g[0].max_remaining_ms == 700,
	       "the mapped address groups with 10.0.0.1:80: 3, 100..700 ms");
	tap_ok(n == 3 && g[1].family == AF_INET && g[1].addr[3] == 2 &&
	       g[2].family == AF_INET6 && g[2].port == 443,
	       "ties by family, then address");
	free(g);

	err = tw_group_by_local_port(&s, &g, &n);
	tap_ok(!err && n == 5 && g[0].family == AF_INET && g[0].port == 1000 &&
	       g[4].family == AF_INET6 && g[4].port == 1000,
	       "port 1000 of each family is a group of its own");
	free(g);

	s.count = 0;
	err = tw_group_by_remote(&s, &g, &n);
	tap_ok(!err && !g && !n, "an empty snapshot has no groups");
}

static void test_counters(void)
{
	struct tw_counters a, b;
	int err_a, err_b;

	err_a = tw_counters_read(&a);
	tap_ok(!err_a, "tw_counters_read: %d", err_a);
	/*
	 * One death row per netns serves IPv4 and IPv6: sockstat's tw counts
	 * the AF_INET6 sockets too, although sockstat6 has no tw of its own.
	 */
	tap_ok(a.sockstat_tw == N_V4 + N_V6,
	       "sockstat tw counts both families: %llu",
	       (unsigned long long)a.sockstat_tw);
	/* TW counts sockets entering timewait, not leaving it. */
	tap_ok(a.tw == N_V4 + N_V6 && a.tw_killed == 0 && a.tw_overflow == 0,
	       "TW counts the %d that entered timewait: %llu", N_V4 + N_V6,
	       (unsigned long long)a.tw);
	err_b = tw_counters_read(&b);
	tap_ok(!err_b && b.tw >= a.tw && b.tw_killed >= a.tw_killed &&
	       b.tw_recycled >= a.tw_recycled &&
	       b.tw_overflow >= a.tw_overflow,
	       "a second read does not go back");
}

struct thread_view {
	int err;
	size_t count;
	struct tw_counters c;
};

static void *thread_in_new_netns(void *arg)
{
	struct thread_view *v = arg;
	struct tw_snapshot s;

	v->err = unshare(CLONE_NEWNET) < 0 ? -errno : 0;
	if (!v->err)
		v->err = tw_snapshot_take(NULL, &s);
	if (!v->err) {
		v->count = s.count;
		tw_snapshot_free(&s);
		v->err = tw_counters_read(&v->c);
	}
	return NULL;
}

/* /proc/net would show the main thread's netns to the thread. */
static void test_thread_netns(void)
{
	struct thread_view v = { .err = -1 };
	pthread_t t;

	if (pthread_create(&t, NULL, thread_in_new_netns, &v) == 0)
		pthread_join(t, NULL);
	tap_ok(!v.err && v.count == 0 && v.c.sockstat_tw == 0 && v.c.tw == 0,
	       "a thread in a netns of its own sees its own, empty one: %d",
	       v.err);
}

static int write_port_range(const char *range)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(range, f) == EOF)
		err = -EIO;
	if (fclose(f) == EOF && !err)
		err = -errno;
	return err;
}

static void test_port_range(void)
{
	uint32_t lo = 0, hi = 0;
	double share;
	bool near;
	int err;

	err = tw_port_range(&lo, &hi);
	tap_ok(!err && lo == 32768 && hi == 60999,
	       "the netns default range: %u..%u", lo, hi);
	err = write_port_range("40000 40999\n");
	tap_ok(!err, "a smaller range written: %d", err);
	err = tw_port_range(&lo, &hi);
	tap_ok(!err && lo == 40000 && hi == 40999, "and read back: %u..%u",
	       lo, hi);

	near = tw_exhaustion_near(900, lo, hi, 0.8, &share);
	tap_ok(near && share == 0.9, "900 of 1000 at 0.8: near, share %.3f",
	       share);
	near = tw_exhaustion_near(800, lo, hi, 0.8, &share);
	tap_ok(near && share == 0.8, "800 of 1000 at 0.8: near, share %.3f",
	       share);
	near = tw_exhaustion_near(10, lo, hi, 0.8, &share);
	tap_ok(!near && share == 0.01, "10 of 1000: not near, share %.3f",
	       share);
	tap_ok(!tw_exhaustion_near(10, 5, 4, 0.8, NULL),
	       "an empty range is never near");
}

static int parse_text(const char *text, struct tw_counters *c, bool sockstat)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int err;

	if (!f)
		return -errno;
	memset(c, 0, sizeof(*c));
	err = sockstat ? tw_sockstat_parse(f, &c->sockstat_tw) :
			 tw_netstat_parse(f, c);
	fclose(f);
	return err;
}

static void test_parsers(void)
{
	static const char shuffled[] =
		"IpExt: TW Foo\nIpExt: 9 9\n"
		"TcpExt: TCPTimeWaitOverflow Other TWKilled TW TWRecycled\n"
		"TcpExt: 4 7 2 1 3\n"
		"MPTcpExt: TW\nMPTcpExt: 8\n";
	static const char missing[] =
		"TcpExt: TW TWKilled TWRecycled\nTcpExt: 1 2 3\n";
	static const char sockstat[] =
		"sockets: used 5\nTCP: inuse 3 orphan 0 tw 5 alloc 6 mem 1\n"
		"UDP: inuse 0 mem 0\n";
	struct tw_counters c;
	int err;

	err = parse_text(shuffled, &c, false);
	tap_ok(!err && c.tw == 1 && c.tw_killed == 2 && c.tw_recycled == 3 &&
	       c.tw_overflow == 4, "TcpExt columns are found by name");
	tap_ok(parse_text(missing, &c, false) == -ENOENT,
	       "a missing column is -ENOENT");
	tap_ok(parse_text("TcpExt: TW\nTcpExt: x\n", &c, false) == -EINVAL,
	       "a value that is no number is -EINVAL");
	err = parse_text(sockstat, &c, true);
	tap_ok(!err && c.sockstat_tw == 5, "sockstat: tw 5");
	tap_ok(parse_text("TCP: inuse 3\n", &c, true) == -ENOENT,
	       "sockstat without tw is -ENOENT");
}

/* Makes the TIME_WAIT sockets; returns the listeners' common port or 0. */
static uint16_t make_population(int *fd4, int *fd6)
{
	uint16_t port;
	int i;
	bool ok = true;

	*fd4 = listen_on(AF_INET, 0);
	port = *fd4 < 0 ? 0 : local_port(*fd4);
	*fd6 = port ? listen_on(AF_INET6, port) : -1;
	if (!tap_ok(*fd4 >= 0 && *fd6 >= 0,
		    "listeners on 127.0.0.1:%u and [::1]:%u", port, port))
		return 0;
	for (i = 0; i < N_V4; i++)
		ok = ok && make_time_wait(AF_INET, port, *fd4);
	for (i = 0; i < N_V6; i++)
		ok = ok && make_time_wait(AF_INET6, port, *fd6);
	tap_ok(ok, "%d + %d connections closed by their clients", N_V4, N_V6);
	tap_ok(wait_for_time_wait(port, N_V4 + N_V6) == N_V4 + N_V6,
	       "and all in TIME_WAIT");
	return port;
}

static void test_live(void)
{
	int fd4, fd6, quiet, cli, srv = -1;
	struct tw_snapshot s;
	uint16_t port, quiet_port;
	int err;

	test_empty_netns();
	port = make_population(&fd4, &fd6);
	quiet = listen_on(AF_INET, 0);
	quiet_port = quiet < 0 ? 0 : local_port(quiet);
	cli = quiet < 0 ? -1 : connect_to(AF_INET, quiet_port, quiet, &srv);
	tap_ok(port && cli >= 0, "a quiet listener on port %u, connected",
	       quiet_port);

	err = tw_snapshot_take(NULL, &s);
	tap_ok(!err, "tw_snapshot_take: %d", err);
	if (!err && s.count) {
		test_snapshot(&s, port);
		test_filters(&s, port, quiet_port);
		test_groups(&s, port);
	}
	tw_snapshot_free(&s);
	test_counters();
	test_thread_netns();

	close(cli);
	close(srv);
	close(quiet);
	close(fd4);
	close(fd6);
}

int main(void)
{
	int err;

	printf("TAP version 13\n");
	/* A missing privilege fails the test: it never skips. */
	if (unshare(CLONE_NEWNET) < 0) {
		printf("not ok 1 - unshare(CLONE_NEWNET) (run as root): %s\n1..1\n",
		       strerror(errno));
		return 1;
	}
	err = lo_up();
	if (!tap_ok(!err, "lo is up in a netns of our own: %d", err))
		return tap_done();

	test_live();
	test_port_range();
	test_groups_made_up();
	test_parsers();
	return tap_done();
}
