/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The leader's clock over the store's leases.  The store (kv.c) holds each
 * lease's TTL and refresh index, replicated; only the leader times them:
 * a lease runs out TTL after the leader saw it granted or kept alive, and
 * the leader then proposes its expiry (KV_LEASE_EXPIRE, conditional on the
 * refresh index, so a keepalive applied in between wins).  A new leader
 * starts every lease's clock afresh: a lease may outlive its TTL across a
 * failover, never end early.
 */
#ifndef LAMPORT_RAFT_LEASES_H
#define LAMPORT_RAFT_LEASES_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"

struct lease_timer {
	uint64_t id;
	uint64_t deadline_ms;		/* CLOCK_MONOTONIC */
	uint64_t expiring;		/* refresh index of a proposed expiry */
};

struct lease_timers {
	struct lease_timer *t;
	size_t n, cap;
};

/* Every lease of kv runs from now (a new leader); -ENOMEM. */
int lease_timers_reset(struct lease_timers *lt, const struct kv *kv,
		       uint64_t now_ms);

/* Lease id was granted or kept alive, now: it runs ttl_ms from now. */
int lease_timers_refresh(struct lease_timers *lt, uint64_t id, uint32_t ttl_ms,
			 uint64_t now_ms);

/*
 * Calls expire(arg, id, refresh index) once for each lease of kv past its
 * deadline (again only after a keepalive, or if expire() returned an
 * error), and forgets leases kv no longer holds.  Returns the number of
 * expiries asked.
 */
size_t lease_timers_due(struct lease_timers *lt, const struct kv *kv,
			uint64_t now_ms,
			int (*expire)(void *arg, uint64_t id, uint64_t refresh),
			void *arg);

void lease_timers_free(struct lease_timers *lt);

#endif /* LAMPORT_RAFT_LEASES_H */
