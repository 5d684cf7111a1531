/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linearizability checker for histories of a key-value store whose keys
 * are registers with compare-and-swap: get, put, del and cas, each seen by
 * a client between sending it (start) and reading the answer (end).
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
};

enum lincheck_result {
	LINCHECK_OK,
	LINCHECK_NOT_FOUND,	/* get or del of an absent key */
	LINCHECK_CAS_FAILED,
	LINCHECK_UNKNOWN,	/* no answer: happened after start, or never */
};

/*
 * One operation as its client saw it; lincheck_add() copies the strings.
 *
 *	get	value: what it read (result ok), NULL if not-found
 *	put	value: what it wrote
 *	del	-
 *	cas	value: what it wrote; expect: what it required, NULL for
 *		"the key is absent"
 */
struct lincheck_op {
	uint32_t client;
	enum lincheck_type type;
	enum lincheck_result result;
	const char *key;
	const char *value;
	const char *expect;
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
 * the window down.
 */
struct lincheck_report {
	enum lincheck_verdict verdict;
	size_t ops;			/* in the history */
	size_t keys;
	size_t unknown;			/* ops with result unknown */
	uint64_t steps;			/* search steps, all keys */
	const char *key;		/* the bad or too hard one; lc's */
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
 * Search steps allowed per key (and again for narrowing down a window)
 * before lincheck_run() gives up with LINCHECK_TOO_HARD.
 */
void lincheck_set_budget(struct lincheck *lc, uint64_t steps);

/* Returns 0, -EINVAL (why in err, if not NULL) or -ENOMEM. */
int lincheck_add(struct lincheck *lc, const struct lincheck_op *op,
		 char *err, size_t errlen);

/*
 * Adds the ops of a JSON Lines history, one object a line:
 *
 *	{"client":7,"op":"cas","key":"k3","expect":"v1","value":"v2",
 *	 "start":1234567,"end":1240000,"result":"cas-failed"}
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
