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
	struct raft_latency answered;	/* every op with a result */
	struct raft_latency writes;	/* put, del and cas with result ok */
	struct raft_client_stats client;	/* all clients' together */
};

/* Every op 0, then "put=40,get=40,cas=15,del=5" style: 0, or -EINVAL. */
int raft_workload_parse_mix(const char *text, unsigned int mix[RAFT_OP_COUNT],
			    const char **why);

/* put=40,get=40,cas=15,del=5, 10 keys, 4 clients, 10 s; no servers. */
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
