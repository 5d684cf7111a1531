/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linearizability checker for histories of a key-value store whose keys
 * are registers with compare-and-swap: get, put, del and cas, each seen by
 * a client between sending it (start) and reading the answer (end); and
 * whose locks (kv.h: a key created by cas-absent with a lease attached,
 * its revision the holder's fencing token) guard keys written by fenced
 * puts.
 *
 *	struct lincheck *lc = lincheck_new();
 *	struct lincheck_report rep;
 *
 *	lincheck_add(lc, &(struct lincheck_op){ .type = LINCHECK_PUT, ... },
 *		     err, sizeof(err));
 *	...
 *	if (lincheck_run(lc, &rep) == LINCHECK_NOT_LINEARIZABLE)
 *		lincheck_print(stdout, lc, &rep);
 *	lincheck_report_free(&rep);
 *	lincheck_free(lc);
 *
 * A key is absent until put; a history is linearizable if every op can be
 * given one instant inside [start, end] such that the ops, taken in that
 * order on one register per key, return what the clients saw.  An op with
 * an unknown result (the client timed out) may take effect at any instant
 * after its start, or never.
 *
 * Locks.  A lock key (one that acquire and release name, or an fput's
 * fence) and the key its fputs write are one object, the lock: the holder
 * (a token, or free), the value of the guarded key, and the highest token
 * issued.  acquire ok(T) needs T above every token issued before and
 * makes T the holder; held needs a holder (the one named, if named);
 * fput ok(T) and release ok(T) need T to hold, and release frees the lock;
 * fenced needs T not to hold (and the holder named to hold, if named).
 * The holder may lose the lock at any instant (its lease expires on the
 * leader's clock, which no client sees).  An acquire with an unknown
 * result may have taken the lock for a token nobody learnt.  The guarded
 * key is a register as above to the other ops.  A lock guards one key,
 * and a key is guarded by one lock; a lock key takes acquire and release
 * only.
 */
#ifndef LAMPORT_RAFT_LINCHECK_H
#define LAMPORT_RAFT_LINCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum lincheck_type {
	LINCHECK_GET,
	LINCHECK_PUT,
	LINCHECK_DEL,
	LINCHECK_CAS,
	LINCHECK_ACQUIRE,	/* cas-absent of a lock key, a lease attached */
	LINCHECK_FPUT,		/* put fenced by a lock key and a token */
	LINCHECK_RELEASE,	/* del of a lock key fenced by itself */
};

enum lincheck_result {
	LINCHECK_OK,
	LINCHECK_NOT_FOUND,	/* get or del of an absent key */
	LINCHECK_CAS_FAILED,
	LINCHECK_UNKNOWN,	/* no answer: happened after start, or never */
	LINCHECK_HELD,		/* acquire: the lock key exists */
	LINCHECK_FENCED,	/* fput, release: the token does not hold */
	LINCHECK_NO_LEASE,	/* acquire: the lease was gone; no effect */
};

/*
 * One operation as its client saw it; lincheck_add() copies the strings.
 *
 *	get	value: what it read (result ok), NULL if not-found
 *	put	value: what it wrote
 *	del	-
 *	cas	value: what it wrote; expect: what it required, NULL for
 *		"the key is absent"
 *	acquire	key: the lock key; token: the one issued (result ok);
 *		holder: the token holding the lock (held, if known)
 *	fput	key: the guarded key; fence: the lock key; value: what it
 *		wrote; token: its fencing token; holder: the token holding
 *		the lock, 0 if it was free (fenced, if known)
 *	release	key: the lock key; token, holder: as for fput
 *
 * holder is known when has_holder is set (the store answers a failed
 * cas and a fenced write with the lock key's revision).
 */
struct lincheck_op {
	uint32_t client;
	enum lincheck_type type;
	enum lincheck_result result;
	const char *key;
	const char *value;
	const char *expect;
	const char *fence;
	uint64_t token;
	uint64_t holder;
	bool has_holder;
	uint64_t start;		/* ns, just before sending */
	uint64_t end;		/* ns, just after the answer; unknown: unused */
	unsigned int line;	/* in the history file; 0 if none */
};

/* Also the exit status of lamport-lincheck (2 is bad input). */
enum lincheck_verdict {
	LINCHECK_LINEARIZABLE = 0,
	LINCHECK_NOT_LINEARIZABLE = 1,
	LINCHECK_TOO_HARD = 3,
};

struct lincheck_window_op {
	size_t op;		/* in the history, in lincheck_add() order */
	bool optional;		/* may take effect after the window, or never */
};

/*
 * Not linearizable: the window is a part of one key's history that has no
 * linearization on its own, so no extension of it has one either.  It ends
 * when the culprit returns: the earliest return no order of the ops before
 * it can reach.  It starts at the cut: ops answered by then are left out,
 * ops started by then are optional, and the key may hold anything a write
 * started by then wrote (or be absent).  from_start: no cut, the key starts
 * absent.  minimal is false when the search budget ran out while narrowing
 * the window down.  For a lock, key is the lock key and guarded the key
 * it guards (NULL if none), and why a sentence on what went wrong.
 */
struct lincheck_report {
	enum lincheck_verdict verdict;
	size_t ops;			/* in the history */
	size_t keys;
	size_t unknown;			/* ops with result unknown */
	uint64_t steps;			/* search steps, all keys */
	const char *key;		/* the bad or too hard one; lc's */
	bool lock;			/* key is a lock key */
	const char *guarded;		/* the key it guards, or NULL */
	char why[256];			/* a lock's window: "" if no guess */
	size_t culprit;			/* history index */
	struct lincheck_window_op *window;	/* start order; malloc'd */
	size_t window_len;
	uint64_t cut;			/* unless from_start */
	bool from_start;
	bool minimal;
};

#define LINCHECK_DEFAULT_BUDGET	4000000

struct lincheck *lincheck_new(void);
void lincheck_free(struct lincheck *lc);

/*
 * Search steps allowed per key or lock (and again for narrowing down a
 * window) before lincheck_run() gives up with LINCHECK_TOO_HARD.
 */
void lincheck_set_budget(struct lincheck *lc, uint64_t steps);

/*
 * Returns 0, -EINVAL (why in err, if not NULL: a bad op, or one that
 * breaks the rules of locks above) or -ENOMEM.
 */
int lincheck_add(struct lincheck *lc, const struct lincheck_op *op,
		 char *err, size_t errlen);

/*
 * Adds the ops of a JSON Lines history, one object a line:
 *
 *	{"client":7,"op":"cas","key":"k3","expect":"v1","value":"v2",
 *	 "start":1234567,"end":1240000,"result":"cas-failed"}
 *	{"client":2,"op":"acquire","key":"lock/l0","token":812,"lease":809,
 *	 "start":1234600,"end":1238000,"result":"ok"}
 *	{"client":2,"op":"fput","key":"g0","fence":"lock/l0","token":812,
 *	 "value":"c2-5","start":1238100,"end":1239000,"result":"fenced",
 *	 "holder":0}
 *	{"client":2,"op":"release","key":"lock/l0","token":812,
 *	 "start":1239100,"end":1240000,"result":"ok"}
 *
 * acquire returns ok, held, no-lease or unknown, fput and release ok,
 * fenced or unknown; "holder" is optional, other fields ("lease") are
 * ignored.
 *
 * Returns 0, -EINVAL ("line N: why" in err), -EIO or -ENOMEM.
 */
int lincheck_load(struct lincheck *lc, FILE *in, char *err, size_t errlen);

size_t lincheck_count(const struct lincheck *lc);
/* The strings point into lc. */
void lincheck_get(const struct lincheck *lc, size_t i, struct lincheck_op *op);

/* Returns the verdict (also in rep) or -ENOMEM. */
int lincheck_run(struct lincheck *lc, struct lincheck_report *rep);
void lincheck_report_free(struct lincheck_report *rep);

/* The verdict in words, with the window if not linearizable. */
void lincheck_print(FILE *out, const struct lincheck *lc,
		    const struct lincheck_report *rep);
/* The same as one JSON object and a newline. */
void lincheck_print_json(FILE *out, const struct lincheck *lc,
			 const struct lincheck_report *rep);

#endif /* LAMPORT_RAFT_LINCHECK_H */
