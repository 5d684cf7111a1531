/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TIME_WAIT population of one network namespace, for lamport trace
 * timewait: the live sockets from NETLINK_SOCK_DIAG, the kernel counters
 * from /proc, and the ephemeral port range they compete for.
 *
 * Everything applies to the netns of the calling thread at call time, so a
 * caller may setns() first.  Nothing here prints.
 */
#ifndef LAMPORT_USER_TRACE_TW_H
#define LAMPORT_USER_TRACE_TW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

/* family is the socket's as the kernel reports it, even for IPv4-mapped. */
struct tw_entry {
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t saddr[16], daddr[16];	/* IPv4 in the first 4 bytes */
	uint16_t sport, dport;		/* host byte order */
	uint32_t remaining_ms;		/* idiag_expires: left in TIME_WAIT */
};

/*
 * Zero = no filtering.  An IPv4 address also matches the IPv4-mapped
 * addresses (::ffff:a.b.c.d) of dual-stack AF_INET6 sockets.
 */
struct tw_filter {
	int family;		/* 0, AF_INET or AF_INET6 (socket's) */
	uint16_t port;		/* matches sport or dport, 0 = any */
	bool have_addr;
	uint8_t addr_family;	/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* matches saddr or daddr */
};

struct tw_snapshot {
	struct tw_entry *entries;	/* malloc'd, count entries */
	size_t count;
};

/*
 * Dumps the TIME_WAIT sockets of the current netns (AF_INET and AF_INET6,
 * TCP state TIME_WAIT only: timewait sockets still in their FIN_WAIT2
 * substate are left out) matching f, which may be NULL.  Returns 0 or
 * -errno: -EINVAL for a bad filter, -EINTR if the kernel flagged the dump
 * inconsistent.  On failure snap is empty.
 */
int tw_snapshot_take(const struct tw_filter *f, struct tw_snapshot *snap);
void tw_snapshot_free(struct tw_snapshot *snap);

/* Does e pass f?  The same test tw_snapshot_take() applies. */
bool tw_filter_match(const struct tw_filter *f, const struct tw_entry *e);

/*
 * Groups: per local port (family, sport) and per remote endpoint (family,
 * daddr, dport), with count, min and max remaining_ms.  IPv4-mapped
 * addresses group with IPv4 (family AF_INET): they share its 4-tuples.
 * Results are sorted by count descending, then key (family, addr, port)
 * ascending, in a malloc'd array for free(); NULL and 0 for an empty
 * snapshot.  Return 0 or -ENOMEM.
 */
struct tw_group {
	uint8_t family;
	uint8_t addr[16];	/* remote groups: daddr; port groups: zero */
	uint16_t port;		/* local port, or remote port */
	uint32_t count;
	uint32_t min_remaining_ms, max_remaining_ms;
};
int tw_group_by_local_port(const struct tw_snapshot *s, struct tw_group **out,
			   size_t *n);
int tw_group_by_remote(const struct tw_snapshot *s, struct tw_group **out,
		       size_t *n);

/* Kernel counters of the current netns. */
struct tw_counters {
	/*
	 * TcpExt TW and TWKilled count sockets entering timewait, when its
	 * timer is first armed, not when they leave it: TW for a lifetime
	 * over 4 s, TWKilled for a shorter one (e.g. a small tcp_fin_timeout).
	 */
	uint64_t tw;		/* TcpExt TW */
	uint64_t tw_killed;	/* TcpExt TWKilled */
	uint64_t tw_recycled;	/* TcpExt TWRecycled */
	uint64_t tw_overflow;	/* TcpExt TCPTimeWaitOverflow */
	/*
	 * "tw" of the TCP line of /proc/net/sockstat: every timewait socket
	 * of the netns, IPv4 and IPv6 alike (they share one death row), in
	 * the FIN_WAIT2 substate too.
	 */
	uint64_t sockstat_tw;
};

/*
 * Reads /proc/net/netstat (the TcpExt header/value line pair, columns found
 * by name) and /proc/net/sockstat.  Returns 0 or -errno; a missing line or
 * column is -ENOENT.
 */
int tw_counters_read(struct tw_counters *c);

/* The parsers of tw_counters_read(), on any stream (tests). */
int tw_netstat_parse(FILE *f, struct tw_counters *c);
int tw_sockstat_parse(FILE *f, uint64_t *tw);

/*
 * The ephemeral port range of the current netns
 * (/proc/sys/net/ipv4/ip_local_port_range); size = hi - lo + 1.
 */
int tw_port_range(uint32_t *lo, uint32_t *hi);

/*
 * A destination whose TIME_WAIT count reaches this share of the ephemeral
 * range gets a warning (port exhaustion): returns true when
 * count >= fraction * (hi - lo + 1).  share (may be NULL) gets
 * count / range size either way; it exceeds 1 when several local addresses
 * reach the same destination.  A range with hi < lo is never near.
 */
bool tw_exhaustion_near(uint32_t count, uint32_t lo, uint32_t hi,
			double fraction, double *share);

#endif /* LAMPORT_USER_TRACE_TW_H */
