/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A key-value workload against a Raft cluster: threads, each with a
 * raft_client of its own, run random operations on keys "k0".."k{keys-1}"
 * until a duration or a number of operations is reached, recording each
 * operation as one JSON line for a linearizability checker (lincheck.h):
 *
 *	{"client":7,"op":"cas","key":"k3","expect":"c2-11","value":"c7-40",
 *	 "start":1234567,"end":1240000,"result":"cas-failed"}
 *
 * client is the thread's number (1..clients); start and end are
 * CLOCK_MONOTONIC nanoseconds just before sending and just after the
 * answer.  put and cas carry the value written, "c<client>-<n>" padded with
 * dots to value_size bytes (unique to the operation); cas carries the value
 * its client last read or wrote for the key as "expect", or
 * "expect_absent":true when it believes the key missing; a get that found
 * the key carries the value read.  result is "ok", "not-found" (get, del),
 * "cas-failed" or "unknown": no answer before the deadline (end is when
 * the client gave up), or an answer that was no result.
 *
 * The keys are assumed absent when the workload starts: a checker sees any
 * value left by an earlier run as one nobody wrote.
 *
 * With locks, the clients contend instead for locks "lock/l0".."lock/l{N-1}"
 * (lease_cmd.c), each guarding a key "g0".."g{N-1}".  A client either gets
 * a guarded key, or takes a lock: a lease of lock_ttl_ms, then a cas of
 * the lock key that finds it absent, the lease attached; its revision is
 * the token.  Held, it does 1 to 3 puts of the guarded key fenced by the
 * lock key and token, each perhaps followed by a get of it, keeping the
 * lease alive (a keepalive once a third of the ttl has passed) but before
 * one put, at pause_pct percent of the holds: there it sleeps twice the
 * ttl, and the lease expires.  Then the release: a del of the lock key
 * fenced by itself and the token, and the lease's revoke (also after an
 * acquire that failed or got no answer).  Ops start while the limits
 * allow; a lock taken is released whatever they say.  Leases are not in
 * the history; the rest is:
 *
 *	{"client":2,"op":"acquire","key":"lock/l0","lease":809,"token":812,
 *	 "start":1234600,"end":1238000,"result":"ok"}
 *	{"client":2,"op":"fput","key":"g0","fence":"lock/l0","token":812,
 *	 "value":"c2-5","paused":true,"holder":0,"start":1238100,
 *	 "end":1239000,"result":"fenced"}
 *	{"client":2,"op":"release","key":"lock/l0","token":812,
 *	 "start":1239100,"end":1240000,"result":"ok"}
 *
 * acquire: "ok" with the token, "held" with the token holding the lock as
 * "holder", "no-lease" (the lease expired before the cas), or "unknown";
 * fput and release: "ok", "fenced" with "holder" the lock key's revision
 * (0: there was none), or "unknown"; "paused" marks the put after a pause.
 * The locks are assumed free when the workload starts.
 */
#ifndef LAMPORT_RAFT_WORKLOAD_H
#define LAMPORT_RAFT_WORKLOAD_H

#include <stdint.h>
#include <stdio.h>

#include "client.h"

enum raft_op {
	RAFT_OP_GET,
	RAFT_OP_PUT,
	RAFT_OP_DEL,
	RAFT_OP_CAS,
	RAFT_OP_COUNT
};

#define RAFT_WORKLOAD_MAX_CLIENTS	1024
#define RAFT_WORKLOAD_MAX_KEYS		1000000
/* A cas carries two values and the key in one KV_CMD_MAX command. */
#define RAFT_WORKLOAD_MAX_VALUE		600
#define RAFT_WORKLOAD_MAX_LOCKS		1000
#define RAFT_WORKLOAD_LOCK_TTL_MS	500
#define RAFT_WORKLOAD_MAX_LOCK_TTL_MS	60000
#define RAFT_WORKLOAD_PAUSE_PCT		20

struct raft_workload_opts {
	const char *servers;		/* raft_client_new()'s list */
	unsigned int clients;		/* threads, each a client */
	uint64_t duration_ns;		/* 0: no time limit */
	uint64_t ops;			/* by all clients; 0: no limit */
	unsigned int keys;		/* 1..RAFT_WORKLOAD_MAX_KEYS */
	unsigned int mix[RAFT_OP_COUNT];	/* weights, not all 0 */
	unsigned int value_size;	/* 0..RAFT_WORKLOAD_MAX_VALUE */
	uint64_t seed;			/* the random choices */
	unsigned int attempt_ms;	/* the clients' options; 0: default */
	unsigned int deadline_ms;
	/* 0: keys and mix; else the locks, for lock_ttl_ms (1..MAX) each */
	unsigned int locks;
	unsigned int lock_ttl_ms;
	unsigned int pause_pct;		/* 0..100 */
	FILE *history;			/* NULL: none */
	/* Every 100 ms or so, in the thread of raft_workload_run(). */
	void (*progress)(uint64_t ops, void *arg);
	void *progress_arg;
};

struct raft_op_counts {
	uint64_t ops;
	uint64_t ok;
	uint64_t not_found;
	uint64_t cas_failed;
	uint64_t unknown;
};

/* The ops of a run with locks (their gets are by_op's), and its leases. */
struct raft_lock_counts {
	uint64_t acquires, acquired, held, no_lease;
	uint64_t fputs, fput_ok, fenced;
	uint64_t releases, released, release_fenced;
	uint64_t unknown;		/* of those above */
	uint64_t grants_failed;		/* no lease: the round was skipped */
	uint64_t keepalives, leases_lost;	/* lost: found gone by one */
	uint64_t pauses;
};

/* Nearest-rank percentiles; all 0 when count is. */
struct raft_latency {
	uint64_t count;
	uint64_t p50_ns;
	uint64_t p99_ns;
	uint64_t max_ns;
};

struct raft_workload_result {
	uint64_t ops;
	uint64_t unknown;
	uint64_t errors;		/* unknown, yet answered */
	uint64_t elapsed_ns;		/* until the last answer */
	double ops_per_sec;
	struct raft_op_counts by_op[RAFT_OP_COUNT];
	struct raft_lock_counts locks;
	struct raft_latency answered;	/* every op with a result */
	/* put, del, cas, and acquire, fput and release, with result ok */
	struct raft_latency writes;
	struct raft_client_stats client;	/* all clients' together */
};

/* Every op 0, then "put=40,get=40,cas=15,del=5" style: 0, or -EINVAL. */
int raft_workload_parse_mix(const char *text, unsigned int mix[RAFT_OP_COUNT],
			    const char **why);

/*
 * put=40,get=40,cas=15,del=5, 10 keys, 4 clients, 10 s, no locks (a ttl
 * of 500 ms and pauses at 20% of holds if some); no servers.
 */
void raft_workload_defaults(struct raft_workload_opts *o);

/* "get", "put", "del", "cas". */
const char *raft_op_name(unsigned int op);

/*
 * Runs the workload: 0 with r filled in, -EINVAL for options out of range,
 * -ENOMEM, an error of raft_client_new() or pthread_create() (nothing run
 * then), or -EIO when writing the history failed (r filled in).
 */
int raft_workload_run(const struct raft_workload_opts *o,
		      struct raft_workload_result *r);

#endif /* LAMPORT_RAFT_WORKLOAD_H */
