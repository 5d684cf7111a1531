// SPDX-License-Identifier: GPL-2.0
/*
 * Linearizability checker for a key-value store of registers with
 * compare-and-swap, and of locks that guard keys by fencing tokens.
 *
 * Keys are independent objects, and a history is linearizable iff each
 * key's part of it is (P-compositionality), so keys are checked one by one;
 * a lock key and the key its fenced puts write are one object, a lock.
 *
 * One model serves both: a register (the key's value, or the guarded
 * key's) and a lock (the holder and the highest token issued), which a
 * plain key never touches.  The holder may lose the lock at any instant,
 * when its lease expires: a transition of its own, with no op.  It is
 * folded into the ops that need it (acquire ok, an unknown acquire that
 * took effect, a write fenced although its token holds, or one that found
 * the lock free), and happens nowhere else.  That loses nothing: a state
 * with a holder can do whatever the same state with the lock free can,
 * reaching the same state or one that again differs only by a holder, so
 * an expiry is never needed before it is due.  The model is deterministic
 * then, and the search below is the same for locks and registers.
 *
 * Per key: Wing & Gong's search with Lowe's memoization.  Call and return
 * events sit in a time-ordered doubly linked list.  An op whose call comes
 * before the first return left in the list may be linearized next: its
 * events are unlinked ("lifted") and the search goes on from the head.
 * Reaching a return means its op found no place: the last choice is undone
 * and the next candidate after it is tried.  A configuration is the set of
 * linearized ops and the object's state; what is left to do depends on
 * nothing else, so each configuration is explored once.
 *
 * Ops that may or may not have taken effect (unknown results; in the
 * narrowing below, ops answered after the horizon) are optional: they have
 * no return event, nothing waits for them, and the search is over once
 * every forced op is placed.  Placing an optional op that leaves the state
 * as it was is never needed, so it is not tried.  Optional ops are tried
 * after forced ones: a configuration is then also skipped when its forced
 * set and state were met with a subset of its optional ops placed, which
 * left every choice it has.  Without this, each unknown write that a later
 * write hides would double the configurations.
 *
 * Two prunings keep the search near the length of the history for what
 * real systems produce.  An op that writes nothing and fits the current
 * state is placed at once, with no alternative tried: any way on could
 * place it there too (place_read()).  And a placement is a dead end as
 * soon as some unplaced op needs a state that is not the current one and
 * that no unplaced op can write any more (retally()): with distinct
 * values, this is how a wrong order of two writes shows, right away
 * rather than when the first read of the lost value returns.
 *
 * Locks add two more.  Acquires that returned a token take effect in
 * token order: placing one that leaves a forced one with a lower token
 * behind is a dead end at once (outruns()), and a scope where one was
 * answered before a lower one started, or two returned the same token,
 * has no linearization (acqs_setup()).  And unknown acquires all do the
 * same, so of those started and not yet placed only the first is tried
 * (twin_waits(); unknown dels alike).
 *
 * The linearized forced ops form a bitset in start order.  Every one of
 * them started before the first unplaced forced op (p) returned, so past
 * p only a short run of bits can be set: the memo key holds p and that
 * run, not the whole bitset.
 *
 * A key that is not linearizable is then narrowed down to a window that
 * proves it (see narrow()).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "lincheck.h"

#define ABSENT		0		/* register state: no value */
#define FOREIGN		UINT32_MAX	/* a value no op in sight names */
#define NEVER		UINT64_MAX	/* when an op with no answer ended */
#define NONE		UINT32_MAX
#define MEMO_KEEP	(1u << 16)	/* memo slots kept between searches */

/* A lock's holder: FREE, a token's rank + 1 (TOKEN_MAX at most), or: */
#define FREE		0
#define STRANGER	(UINT32_MAX - 1)	/* no acquire returned it */
#define UNISSUED	(UINT32_MAX - 2)	/* an op's token: never holds */
#define TOKEN_MAX	(UINT32_MAX - 3)
#define INITS_MAX	(1u << 20)	/* a lock's states at a cut, at most */

/* How lincheck_add() has seen a key used; a lock key has no other use. */
enum {
	KEY_PLAIN = 1,		/* get, put, del, cas */
	KEY_LOCK = 2,		/* acquire, release, an fput's fence */
	KEY_GUARDED = 4,	/* fput */
};

struct lc_keyrole {
	uint8_t role;
	uint32_t partner;	/* the lock or guarded key's id + 1; 0: none */
};

struct lc_op {
	uint64_t start, end;	/* end is NEVER if the result is unknown */
	uint64_t token, holder;	/* as in lincheck_op */
	uint32_t client, key;	/* key: string id */
	uint32_t value;		/* put, cas, fput: state written; get: read */
	uint32_t expect;	/* cas: state required */
	uint32_t fence;		/* fput: the lock key's string id */
	uint32_t group;		/* by lincheck_run(): the key or its lock */
	uint32_t tok;		/* by lincheck_run(): token's rank + 1 */
	uint32_t seen;		/* by lincheck_run(): holder's, or NONE */
	uint8_t type, result;
	bool has_holder;
	unsigned int line;
};

/* Keys and values, each string stored once; a value's state is id + 1. */
struct lc_strtab {
	char **str;
	size_t len, cap;
	uint32_t *index;	/* open addressing: id + 1, 0 if free */
	size_t index_cap;
};

struct lincheck {
	struct lc_strtab strs;
	struct lc_op *ops;
	size_t n, cap;
	uint64_t budget;
	struct lc_keyrole *roles;	/* per string id */
	size_t roles_cap;
	/* By lincheck_run(): the states of values, and the tokens issued. */
	size_t nvals, ntok;
};

/*
 * What one object holds.  A plain key's holder and max stay 0.  holder is
 * a token's rank only when it is also max's: tokens only grow.
 */
struct lc_state {
	uint32_t value;		/* ABSENT, a string id + 1, or FOREIGN */
	uint32_t holder;	/* FREE, a token's rank + 1, or STRANGER */
	uint32_t max;		/* the highest token issued's rank + 1, or 0 */
};

/*
 * Optional ops that do the same wherever they take effect: once started,
 * any of them may stand for the others.
 */
enum { TWIN_NONE, TWIN_ACQUIRE, TWIN_DEL, TWIN_DEL_OK, TWIN_KINDS };

/* What a search looks at: one key's ops, maybe cut on both sides. */
struct lc_scope {
	const uint32_t *ops;	/* start order */
	size_t n;
	uint64_t horizon;	/* later answers: optional, later starts: out */
	bool cut;
	uint64_t cut_at;	/* answered by then: out; started: optional */
};

enum lc_role { ROLE_OUT, ROLE_FORCED, ROLE_OPTIONAL };

struct lc_event {
	uint64_t time;
	uint32_t slot;
	bool ret, forced;
};

struct lc_memo_slot {
	uint64_t hash;
	uint32_t key, len;	/* arena words; len 0: a free slot */
	uint32_t sets;		/* newest optional set met, 0 if none */
};

/* Arena word 0 is unused, so that offset 0 can mean none. */
struct lc_memo {
	struct lc_memo_slot *tab;
	size_t cap, used;
	uint64_t *arena;
	size_t arena_len, arena_cap;
};

struct lc_acq {
	uint32_t tok;
	uint32_t op;
};

struct lc_frame {
	uint32_t slot;
	struct lc_state state;	/* before the op */
	uint32_t p, hi;		/* of the forced set, before the op */
	uint32_t blocker;	/* optional op: the return it had to beat */
	bool greedy;		/* the only move worth trying (place_read()) */
};

/*
 * Slots are the ops of a scope that are not out; events 1..m, in two
 * circular lists: forced calls and returns from head 0, optional calls
 * from head opt_head.
 */
struct lc_search {
	size_t cap;		/* slots the arrays hold */
	size_t nslots, nforced, nopt;
	uint32_t *slot_op, *slot_bit, *slot_call, *slot_ret;
	uint32_t *slot_twin;	/* optional: the last one before it alike */
	uint32_t last_alike[TWIN_KINDS];
	struct lc_event *events;
	uint32_t *next, *prev, *ev_slot;
	uint64_t *ev_time;
	uint32_t opt_head;
	uint64_t *forced, *optional, *key;
	size_t forced_words, opt_words;
	uint32_t p, hi;		/* first unset bit, one past the last set */
	struct lc_frame *stack;
	size_t depth;
	struct lc_memo memo;
	uint64_t steps, budget;
	size_t deepest;		/* ops placed at the deepest dead end */
	uint32_t deepest_op;
	uint32_t *refs, *vals;	/* for narrowing down a window */
	struct lc_state *holds, *inits;
	size_t inits_cap;
	bool *seen;
	/*
	 * Per need (a value's state, or a holder: need_of_holder()): unplaced
	 * forced ops needing it, unplaced ops that may make it hold.
	 */
	uint32_t *demand, *writers;
	size_t doomed;		/* needs no unplaced op can meet any more */
	/*
	 * The forced acquires that returned a token, by token: they take
	 * effect in that order, the first acq_next of them so far.
	 */
	struct lc_acq *acqs;
	size_t nacq, acq_next;
	bool acq_stuck;		/* two share a token, or one was answered
				   before a lower one started */
};

static const char *const type_names[] = {
	[LINCHECK_GET] = "get",
	[LINCHECK_PUT] = "put",
	[LINCHECK_DEL] = "del",
	[LINCHECK_CAS] = "cas",
	[LINCHECK_ACQUIRE] = "acquire",
	[LINCHECK_FPUT] = "fput",
	[LINCHECK_RELEASE] = "release",
};

#define TYPES	(LINCHECK_RELEASE + 1)

static const char *const result_names[] = {
	[LINCHECK_OK] = "ok",
	[LINCHECK_NOT_FOUND] = "not-found",
	[LINCHECK_CAS_FAILED] = "cas-failed",
	[LINCHECK_UNKNOWN] = "unknown",
	[LINCHECK_HELD] = "held",
	[LINCHECK_FENCED] = "fenced",
	[LINCHECK_NO_LEASE] = "no-lease",
};

#define RESULTS	(LINCHECK_NO_LEASE + 1)

static const unsigned int results_allowed[] = {
	[LINCHECK_GET] = 1u << LINCHECK_OK | 1u << LINCHECK_NOT_FOUND |
			 1u << LINCHECK_UNKNOWN,
	[LINCHECK_PUT] = 1u << LINCHECK_OK | 1u << LINCHECK_UNKNOWN,
	[LINCHECK_DEL] = 1u << LINCHECK_OK | 1u << LINCHECK_NOT_FOUND |
			 1u << LINCHECK_UNKNOWN,
	[LINCHECK_CAS] = 1u << LINCHECK_OK | 1u << LINCHECK_CAS_FAILED |
			 1u << LINCHECK_UNKNOWN,
	[LINCHECK_ACQUIRE] = 1u << LINCHECK_OK | 1u << LINCHECK_HELD |
			     1u << LINCHECK_NO_LEASE | 1u << LINCHECK_UNKNOWN,
	[LINCHECK_FPUT] = 1u << LINCHECK_OK | 1u << LINCHECK_FENCED |
			  1u << LINCHECK_UNKNOWN,
	[LINCHECK_RELEASE] = 1u << LINCHECK_OK | 1u << LINCHECK_FENCED |
			     1u << LINCHECK_UNKNOWN,
};

__attribute__((format(printf, 3, 4)))
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static uint64_t hash_bytes(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t hash_words(const uint64_t *w, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;

	while (n--) {
		h = (h ^ *w++) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	return h;
}

static bool test_bit64(const uint64_t *w, size_t bit)
{
	return w[bit / 64] >> (bit % 64) & 1;
}

static void set_bit64(uint64_t *w, size_t bit)
{
	w[bit / 64] |= 1ULL << (bit % 64);
}

static void clear_bit64(uint64_t *w, size_t bit)
{
	w[bit / 64] &= ~(1ULL << (bit % 64));
}

/* ---- strings ---- */

static int strtab_rehash(struct lc_strtab *t)
{
	size_t cap = t->index_cap ? t->index_cap * 2 : 256;
	uint32_t *index = calloc(cap, sizeof(*index));
	size_t i, h;

	if (!index)
		return -ENOMEM;
	for (i = 0; i < t->len; i++) {
		h = hash_bytes(t->str[i]) & (cap - 1);
		while (index[h])
			h = (h + 1) & (cap - 1);
		index[h] = i + 1;
	}
	free(t->index);
	t->index = index;
	t->index_cap = cap;
	return 0;
}

static int strtab_append(struct lc_strtab *t, const char *s)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	char **str;

	if (t->len == t->cap) {
		str = realloc(t->str, cap * sizeof(*str));
		if (!str)
			return -ENOMEM;
		t->str = str;
		t->cap = cap;
	}
	t->str[t->len] = strdup(s);
	return t->str[t->len] ? 0 : -ENOMEM;
}

/* Ids stay below FOREIGN - 1, so that a state (id + 1) is never FOREIGN. */
static int strtab_intern(struct lc_strtab *t, const char *s, uint32_t *id)
{
	size_t h;

	if ((t->len + 1) * 2 > t->index_cap && strtab_rehash(t))
		return -ENOMEM;
	h = hash_bytes(s) & (t->index_cap - 1);
	for (; t->index[h]; h = (h + 1) & (t->index_cap - 1)) {
		if (!strcmp(t->str[t->index[h] - 1], s)) {
			*id = t->index[h] - 1;
			return 0;
		}
	}
	if (t->len >= FOREIGN - 2 || strtab_append(t, s))
		return -ENOMEM;
	t->index[h] = t->len + 1;
	*id = t->len++;
	return 0;
}

static void strtab_free(struct lc_strtab *t)
{
	size_t i;

	for (i = 0; i < t->len; i++)
		free(t->str[i]);
	free(t->str);
	free(t->index);
}

static const char *state_str(const struct lincheck *lc, uint32_t state)
{
	return state == ABSENT ? NULL : lc->strs.str[state - 1];
}

/* ---- the history ---- */

struct lincheck *lincheck_new(void)
{
	struct lincheck *lc = calloc(1, sizeof(*lc));

	if (lc)
		lc->budget = LINCHECK_DEFAULT_BUDGET;
	return lc;
}

void lincheck_free(struct lincheck *lc)
{
	if (!lc)
		return;
	strtab_free(&lc->strs);
	free(lc->ops);
	free(lc->roles);
	free(lc);
}

void lincheck_set_budget(struct lincheck *lc, uint64_t steps)
{
	lc->budget = steps;
}

size_t lincheck_count(const struct lincheck *lc)
{
	return lc->n;
}

/* What acquire, fput and release need besides what every op does. */
static bool lock_op_valid(const struct lincheck_op *op, char *err,
			  size_t errlen)
{
	const char *name = type_names[op->type];

	if (op->type < LINCHECK_ACQUIRE)
		return true;
	if (!op->token && (op->type != LINCHECK_ACQUIRE ||
			   op->result == LINCHECK_OK)) {
		say(err, errlen, "%s returning %s without a token", name,
		    result_names[op->result]);
		return false;
	}
	if (op->type == LINCHECK_FPUT && !op->fence) {
		say(err, errlen, "fput without a fence");
		return false;
	}
	if (op->type == LINCHECK_FPUT && !strcmp(op->fence, op->key)) {
		say(err, errlen, "fput fenced by its own key");
		return false;
	}
	if (op->result == LINCHECK_HELD && op->has_holder && !op->holder) {
		say(err, errlen, "acquire returning held by holder 0 (none)");
		return false;
	}
	return true;
}

static bool op_valid(const struct lincheck_op *op, char *err, size_t errlen)
{
	if ((unsigned int)op->type >= TYPES) {
		say(err, errlen, "bad op type %d", (int)op->type);
		return false;
	}
	if ((unsigned int)op->result >= RESULTS) {
		say(err, errlen, "bad result %d", (int)op->result);
		return false;
	}
	if (!(results_allowed[op->type] & 1u << op->result)) {
		say(err, errlen, "%s cannot return %s", type_names[op->type],
		    result_names[op->result]);
		return false;
	}
	if (!op->key) {
		say(err, errlen, "%s without a key", type_names[op->type]);
		return false;
	}
	if ((op->type == LINCHECK_PUT || op->type == LINCHECK_CAS ||
	     op->type == LINCHECK_FPUT ||
	     (op->type == LINCHECK_GET && op->result == LINCHECK_OK)) &&
	    !op->value) {
		say(err, errlen, "%s returning %s without a value",
		    type_names[op->type], result_names[op->result]);
		return false;
	}
	if (op->type == LINCHECK_GET && op->result == LINCHECK_NOT_FOUND &&
	    op->value) {
		say(err, errlen, "get returning not-found with a value");
		return false;
	}
	if (op->result != LINCHECK_UNKNOWN && op->end < op->start) {
		say(err, errlen, "ends (%" PRIu64 ") before it starts (%"
		    PRIu64 ")", op->end, op->start);
		return false;
	}
	return lock_op_valid(op, err, errlen);
}

static int intern_state(struct lincheck *lc, const char *s, uint32_t *state)
{
	uint32_t id;

	*state = ABSENT;
	if (!s)
		return 0;
	if (strtab_intern(&lc->strs, s, &id))
		return -ENOMEM;
	*state = id + 1;
	return 0;
}

static int op_import(struct lincheck *lc, const struct lincheck_op *in,
		     struct lc_op *op)
{
	bool reads = in->type == LINCHECK_GET && in->result == LINCHECK_OK;
	bool writes = in->type == LINCHECK_PUT || in->type == LINCHECK_CAS ||
		      in->type == LINCHECK_FPUT;
	bool observes = in->result == LINCHECK_HELD ||
			in->result == LINCHECK_FENCED;

	*op = (struct lc_op){
		.start = in->start,
		.end = in->result == LINCHECK_UNKNOWN ? NEVER : in->end,
		.token = in->type >= LINCHECK_ACQUIRE ? in->token : 0,
		.holder = observes && in->has_holder ? in->holder : 0,
		.client = in->client,
		.fence = NONE,
		.type = in->type,
		.result = in->result,
		.has_holder = observes && in->has_holder,
		.line = in->line,
	};
	if (strtab_intern(&lc->strs, in->key, &op->key))
		return -ENOMEM;
	if (in->type == LINCHECK_FPUT &&
	    strtab_intern(&lc->strs, in->fence, &op->fence))
		return -ENOMEM;
	if (intern_state(lc, reads || writes ? in->value : NULL, &op->value))
		return -ENOMEM;
	if (in->type == LINCHECK_CAS &&
	    intern_state(lc, in->expect, &op->expect))
		return -ENOMEM;
	return 0;
}

/* Room for the role of every string id there is. */
static int roles_grow(struct lincheck *lc)
{
	size_t cap = lc->roles_cap ? lc->roles_cap : 256;
	struct lc_keyrole *roles;

	if (lc->strs.len <= lc->roles_cap)
		return 0;
	while (cap < lc->strs.len)
		cap *= 2;
	roles = realloc(lc->roles, cap * sizeof(*roles));
	if (!roles)
		return -ENOMEM;
	memset(roles + lc->roles_cap, 0,
	       (cap - lc->roles_cap) * sizeof(*roles));
	lc->roles = roles;
	lc->roles_cap = cap;
	return 0;
}

static const char *str_of(const struct lincheck *lc, uint32_t id)
{
	return lc->strs.str[id];
}

/* Does op keep lock keys apart from the others, a lock to one key? */
static bool roles_fit(const struct lincheck *lc, const struct lc_op *op,
		      char *err, size_t errlen)
{
	const struct lc_keyrole *k = &lc->roles[op->key], *f;
	const char *name = type_names[op->type], *key = str_of(lc, op->key);

	if (op->type == LINCHECK_ACQUIRE || op->type == LINCHECK_RELEASE) {
		if (!(k->role & (KEY_PLAIN | KEY_GUARDED)))
			return true;
		say(err, errlen, "%s of \"%s\", a key that other ops read or write",
		    name, key);
		return false;
	}
	if (k->role & KEY_LOCK) {
		say(err, errlen, "%s of \"%s\", a lock key (acquire, release and fences only)",
		    name, key);
		return false;
	}
	if (op->type != LINCHECK_FPUT)
		return true;
	f = &lc->roles[op->fence];
	if (f->role & (KEY_PLAIN | KEY_GUARDED)) {
		say(err, errlen, "fput fenced by \"%s\", a key that other ops read or write",
		    str_of(lc, op->fence));
		return false;
	}
	if (k->partner && k->partner != op->fence + 1) {
		say(err, errlen, "fput of \"%s\" fenced by \"%s\": other fputs of it are fenced by \"%s\"",
		    key, str_of(lc, op->fence), str_of(lc, k->partner - 1));
		return false;
	}
	if (f->partner && f->partner != op->key + 1) {
		say(err, errlen, "fput of \"%s\" fenced by \"%s\": that lock guards \"%s\"",
		    key, str_of(lc, op->fence), str_of(lc, f->partner - 1));
		return false;
	}
	return true;
}

static void roles_set(struct lincheck *lc, const struct lc_op *op)
{
	struct lc_keyrole *k = &lc->roles[op->key];

	switch (op->type) {
	case LINCHECK_ACQUIRE:
	case LINCHECK_RELEASE:
		k->role |= KEY_LOCK;
		break;
	case LINCHECK_FPUT:
		k->role |= KEY_GUARDED;
		k->partner = op->fence + 1;
		lc->roles[op->fence].role |= KEY_LOCK;
		lc->roles[op->fence].partner = op->key + 1;
		break;
	default:
		k->role |= KEY_PLAIN;
	}
}

int lincheck_add(struct lincheck *lc, const struct lincheck_op *op,
		 char *err, size_t errlen)
{
	struct lc_op *ops;
	size_t cap;

	if (!op_valid(op, err, errlen))
		return -EINVAL;
	if (lc->n == lc->cap) {
		cap = lc->cap ? lc->cap * 2 : 1024;
		ops = cap < NONE ? realloc(lc->ops, cap * sizeof(*ops)) : NULL;
		if (!ops)
			goto nomem;
		lc->ops = ops;
		lc->cap = cap;
	}
	if (op_import(lc, op, &lc->ops[lc->n]) || roles_grow(lc))
		goto nomem;
	if (!roles_fit(lc, &lc->ops[lc->n], err, errlen))
		return -EINVAL;
	roles_set(lc, &lc->ops[lc->n]);
	lc->n++;
	return 0;
nomem:
	say(err, errlen, "out of memory");
	return -ENOMEM;
}

void lincheck_get(const struct lincheck *lc, size_t i, struct lincheck_op *out)
{
	const struct lc_op *op = &lc->ops[i];

	*out = (struct lincheck_op){
		.client = op->client,
		.type = op->type,
		.result = op->result,
		.key = lc->strs.str[op->key],
		.value = state_str(lc, op->value),
		.expect = op->type == LINCHECK_CAS ?
			  state_str(lc, op->expect) : NULL,
		.fence = op->type == LINCHECK_FPUT ? str_of(lc, op->fence) :
			 NULL,
		.token = op->token,
		.holder = op->holder,
		.has_holder = op->has_holder,
		.start = op->start,
		.end = op->end == NEVER ? 0 : op->end,
		.line = op->line,
	};
}

/* ---- the model: a register, and a lock ---- */

static bool same_state(const struct lc_state *a, const struct lc_state *b)
{
	return a->value == b->value && a->holder == b->holder &&
	       a->max == b->max;
}

static bool is_lock_op(const struct lc_op *op)
{
	return op->type >= LINCHECK_ACQUIRE;
}

/* An acquire that returned a token. */
static bool issues(const struct lc_op *op)
{
	return op->type == LINCHECK_ACQUIRE && op->result == LINCHECK_OK;
}

/* The holder's lease may have expired first: acquire takes a free lock. */
static bool acquire_step(const struct lc_op *op, const struct lc_state *st,
			 struct lc_state *next)
{
	switch (op->result) {
	case LINCHECK_OK:
		if (op->tok <= st->max)
			return false;
		next->holder = next->max = op->tok;
		return true;
	case LINCHECK_HELD:
		return st->holder != FREE &&
		       (op->seen == NONE || op->seen == st->holder);
	case LINCHECK_UNKNOWN:
		/* Taken effect: for a token nobody learnt. */
		next->holder = STRANGER;
		return true;
	default:
		return true;
	}
}

/*
 * fput and release, fenced by their token.  Refused, the token does not
 * hold: if it does, its lease expires first; if the lock is said free, it
 * becomes so.
 */
static bool fenced_step(const struct lc_op *op, const struct lc_state *st,
			struct lc_state *next)
{
	bool holds = st->holder == op->tok;

	if (op->result == LINCHECK_FENCED) {
		if (op->seen == NONE || op->seen == FREE) {
			if (holds || op->seen == FREE)
				next->holder = FREE;
			return true;
		}
		return !holds && op->seen == st->holder;
	}
	if (!holds)
		return op->result == LINCHECK_UNKNOWN;
	if (op->type == LINCHECK_FPUT)
		next->value = op->value;
	else
		next->holder = FREE;
	return true;
}

/* Sets *next to the state after op; false if op cannot return its result. */
static bool model_step(const struct lc_op *op, const struct lc_state *st,
		       struct lc_state *next)
{
	bool unknown = op->result == LINCHECK_UNKNOWN;
	bool match;

	*next = *st;
	switch (op->type) {
	case LINCHECK_GET:
		return st->value == op->value;
	case LINCHECK_PUT:
		next->value = op->value;
		return true;
	case LINCHECK_DEL:
		next->value = ABSENT;
		return unknown ||
		       (st->value != ABSENT) == (op->result == LINCHECK_OK);
	case LINCHECK_CAS:
		match = st->value == op->expect;
		if (match && op->result != LINCHECK_CAS_FAILED)
			next->value = op->value;
		return unknown || match == (op->result == LINCHECK_OK);
	case LINCHECK_ACQUIRE:
		return acquire_step(op, st, next);
	default:
		return fenced_step(op, st, next);
	}
}

/* Writes a value (or may have): the key may hold it from then on. */
static bool is_writer(const struct lc_op *op)
{
	switch (op->type) {
	case LINCHECK_PUT:
		return true;
	case LINCHECK_CAS:
		return op->result != LINCHECK_CAS_FAILED;
	case LINCHECK_FPUT:
		return op->result != LINCHECK_FENCED && op->tok != UNISSUED;
	default:
		return false;
	}
}

/*
 * Changes no state where it fits, or only frees the lock (which a holder's
 * expiry may do any time): placing it where it fits is never wrong.
 */
static bool passive(const struct lc_op *op)
{
	switch (op->type) {
	case LINCHECK_GET:
		return true;
	case LINCHECK_PUT:
		return false;
	case LINCHECK_DEL:
		return op->result == LINCHECK_NOT_FOUND;
	case LINCHECK_CAS:
		return op->result == LINCHECK_CAS_FAILED;
	case LINCHECK_ACQUIRE:
		return op->result == LINCHECK_HELD ||
		       op->result == LINCHECK_NO_LEASE;
	default:
		return op->result == LINCHECK_FENCED;
	}
}

/*
 * Optional, never worth placing: it changes no state, or only frees the
 * lock (a release), which any op that needs it free does on its own.
 */
static bool inert(const struct lc_op *op)
{
	if (op->type == LINCHECK_RELEASE)
		return true;
	if (op->type == LINCHECK_FPUT && op->tok == UNISSUED)
		return true;
	return passive(op);
}

/* A need for the holder: an index into demand and writers, or NONE. */
static uint32_t need_of_holder(const struct lincheck *lc, uint32_t holder)
{
	if (holder == FREE)
		return NONE;
	if (holder == STRANGER)
		return lc->nvals + lc->ntok + 1;
	if (holder == UNISSUED)
		return lc->nvals + lc->ntok + 2;
	return lc->nvals + holder;
}

/* demand and writers have this many entries. */
static size_t needs_count(const struct lincheck *lc)
{
	return lc->nvals + lc->ntok + 3;
}

/* Is need (a value's state or need_of_holder()) met in st? */
static bool need_met(const struct lincheck *lc, uint32_t need,
		     const struct lc_state *st)
{
	if (need < lc->nvals)
		return need == st->value;
	return need == need_of_holder(lc, st->holder);
}

/* What op needs to find to return its result, or NONE. */
static uint32_t op_need(const struct lincheck *lc, const struct lc_op *op)
{
	switch (op->type) {
	case LINCHECK_GET:
		return op->value;
	case LINCHECK_PUT:
		return NONE;
	case LINCHECK_DEL:
		return op->result == LINCHECK_NOT_FOUND ? ABSENT : NONE;
	case LINCHECK_CAS:
		return op->result == LINCHECK_OK ? op->expect : NONE;
	case LINCHECK_ACQUIRE:
		if (op->result != LINCHECK_HELD || op->seen == NONE)
			return NONE;
		return need_of_holder(lc, op->seen);
	default:
		if (op->result == LINCHECK_OK)
			return need_of_holder(lc, op->tok);
		if (op->result != LINCHECK_FENCED || op->seen == NONE)
			return NONE;
		return need_of_holder(lc, op->seen);
	}
}

/* What op may make hold (a need, as op_need()'s), or NONE. */
static uint32_t op_write(const struct lincheck *lc, const struct lc_op *op)
{
	switch (op->type) {
	case LINCHECK_DEL:
		return op->result == LINCHECK_NOT_FOUND ? NONE : ABSENT;
	case LINCHECK_ACQUIRE:
		if (op->result == LINCHECK_OK)
			return need_of_holder(lc, op->tok);
		if (op->result == LINCHECK_UNKNOWN)
			return need_of_holder(lc, STRANGER);
		return NONE;
	default:
		return is_writer(op) ? op->value : NONE;
	}
}

/*
 * Forced: surely took effect within the scope.  Optional: may have.  Out:
 * cannot matter, which includes optional ops that are inert.
 */
static enum lc_role op_role(const struct lc_op *op, const struct lc_scope *sc)
{
	bool unknown = op->result == LINCHECK_UNKNOWN;
	bool early = sc->cut && op->start <= sc->cut_at;

	if (op->start > sc->horizon)
		return ROLE_OUT;
	if (sc->cut && !unknown && op->end <= sc->cut_at)
		return ROLE_OUT;
	if (!unknown && op->end <= sc->horizon && !early)
		return ROLE_FORCED;
	return inert(op) ? ROLE_OUT : ROLE_OPTIONAL;
}

/* ---- sorting ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static size_t unique_u64(uint64_t *v, size_t n)
{
	size_t i, out = 0;

	for (i = 0; i < n; i++) {
		if (!out || v[i] != v[out - 1])
			v[out++] = v[i];
	}
	return out;
}

static size_t unique_u32(uint32_t *v, size_t n)
{
	size_t i, out = 0;

	for (i = 0; i < n; i++) {
		if (!out || v[i] != v[out - 1])
			v[out++] = v[i];
	}
	return out;
}

/* ---- the memo ---- */

static void memo_free(struct lc_memo *m)
{
	free(m->tab);
	free(m->arena);
}

static void memo_clear(struct lc_memo *m)
{
	if (m->cap > MEMO_KEEP) {
		free(m->tab);
		m->tab = NULL;
		m->cap = 0;
	} else if (m->tab) {
		memset(m->tab, 0, m->cap * sizeof(*m->tab));
	}
	m->used = 0;
	m->arena_len = 1;
}

static struct lc_memo_slot *memo_find(struct lc_memo *m, uint64_t hash,
				      const uint64_t *key, size_t len)
{
	size_t i = hash & (m->cap - 1);
	struct lc_memo_slot *slot;

	for (;; i = (i + 1) & (m->cap - 1)) {
		slot = &m->tab[i];
		if (!slot->len)
			return slot;
		if (slot->hash == hash && slot->len == len &&
		    !memcmp(m->arena + slot->key, key, len * sizeof(*key)))
			return slot;
	}
}

static int memo_grow(struct lc_memo *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i, j;
	struct lc_memo_slot *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		if (!m->tab[i].len)
			continue;
		j = m->tab[i].hash & (cap - 1);
		while (tab[j].len)
			j = (j + 1) & (cap - 1);
		tab[j] = m->tab[i];
	}
	free(m->tab);
	m->tab = tab;
	m->cap = cap;
	return 0;
}

/* Room for n more words; their offset in *at. */
static int arena_reserve(struct lc_memo *m, size_t n, uint32_t *at)
{
	size_t cap = m->arena_cap ? m->arena_cap : 4096;
	uint64_t *arena;

	if (m->arena_len + n > UINT32_MAX)
		return -ENOMEM;
	while (cap < m->arena_len + n)
		cap *= 2;
	if (cap != m->arena_cap) {
		arena = realloc(m->arena, cap * sizeof(*arena));
		if (!arena)
			return -ENOMEM;
		m->arena = arena;
		m->arena_cap = cap;
	}
	*at = m->arena_len;
	m->arena_len += n;
	return 0;
}

static bool is_subset(const uint64_t *a, const uint64_t *b, size_t words)
{
	size_t i;

	for (i = 0; i < words; i++) {
		if (a[i] & ~b[i])
			return false;
	}
	return true;
}

static bool memo_subsumed(const struct lc_memo *m, uint32_t set,
			  const uint64_t *opt, size_t words)
{
	for (; set; set = m->arena[set]) {
		if (is_subset(m->arena + set + 1, opt, words))
			return true;
	}
	return false;
}

static int memo_add_set(struct lc_memo *m, struct lc_memo_slot *slot,
			const uint64_t *opt, size_t words)
{
	uint32_t at;

	if (arena_reserve(m, words + 1, &at))
		return -ENOMEM;
	m->arena[at] = slot->sets;
	memcpy(m->arena + at + 1, opt, words * sizeof(*opt));
	slot->sets = at;
	return 1;
}

/*
 * Records a configuration: key (state and forced set) and the optional
 * set.  Returns 0 if it was met before with a subset of those optional
 * ops placed, 1 if it is new, or -ENOMEM.
 */
static int memo_add(struct lc_memo *m, const uint64_t *key, size_t len,
		    const uint64_t *opt, size_t words)
{
	uint64_t hash = hash_words(key, len);
	struct lc_memo_slot *slot;
	uint32_t at;

	if ((m->used + 1) * 2 > m->cap && memo_grow(m))
		return -ENOMEM;
	slot = memo_find(m, hash, key, len);
	if (slot->len) {
		if (!words || memo_subsumed(m, slot->sets, opt, words))
			return 0;
		return memo_add_set(m, slot, opt, words);
	}
	if (arena_reserve(m, len, &at))
		return -ENOMEM;
	memcpy(m->arena + at, key, len * sizeof(*key));
	*slot = (struct lc_memo_slot){ .hash = hash, .key = at, .len = len };
	m->used++;
	return words ? memo_add_set(m, slot, opt, words) : 1;
}

/* ---- the search ---- */

static void search_free(struct lc_search *s)
{
	free(s->slot_op);
	free(s->slot_bit);
	free(s->slot_call);
	free(s->slot_ret);
	free(s->slot_twin);
	free(s->events);
	free(s->next);
	free(s->prev);
	free(s->ev_slot);
	free(s->ev_time);
	free(s->forced);
	free(s->optional);
	free(s->key);
	free(s->stack);
	free(s->refs);
	free(s->vals);
	free(s->holds);
	free(s->inits);
	free(s->seen);
	free(s->demand);
	free(s->writers);
	free(s->acqs);
	memo_free(&s->memo);
}

/* Room for scopes of up to n ops, and for nneeds needs. */
static int search_init(struct lc_search *s, size_t n, size_t nneeds)
{
	size_t words = n / 64 + 1;

	memset(s, 0, sizeof(*s));
	s->cap = n;
	s->slot_op = calloc(n + 1, sizeof(*s->slot_op));
	s->slot_bit = calloc(n + 1, sizeof(*s->slot_bit));
	s->slot_call = calloc(n + 1, sizeof(*s->slot_call));
	s->slot_ret = calloc(n + 1, sizeof(*s->slot_ret));
	s->slot_twin = calloc(n + 1, sizeof(*s->slot_twin));
	s->events = calloc(2 * n + 1, sizeof(*s->events));
	s->next = calloc(2 * n + 2, sizeof(*s->next));
	s->prev = calloc(2 * n + 2, sizeof(*s->prev));
	s->ev_slot = calloc(2 * n + 2, sizeof(*s->ev_slot));
	s->ev_time = calloc(2 * n + 2, sizeof(*s->ev_time));
	s->forced = calloc(words, sizeof(*s->forced));
	s->optional = calloc(words, sizeof(*s->optional));
	s->key = calloc(words + 2, sizeof(*s->key));
	s->stack = calloc(n + 1, sizeof(*s->stack));
	s->refs = calloc(2 * n + 1, sizeof(*s->refs));
	s->vals = calloc(2 * n + 2, sizeof(*s->vals));
	s->holds = calloc(n + 2, sizeof(*s->holds));
	s->seen = calloc(2 * n + 1, sizeof(*s->seen));
	s->demand = calloc(nneeds, sizeof(*s->demand));
	s->writers = calloc(nneeds, sizeof(*s->writers));
	s->acqs = calloc(n + 1, sizeof(*s->acqs));
	if (!s->acqs || !s->slot_twin ||
	    !s->slot_op || !s->slot_bit || !s->slot_call || !s->slot_ret ||
	    !s->events || !s->next || !s->prev || !s->ev_slot ||
	    !s->ev_time || !s->forced || !s->optional || !s->key ||
	    !s->stack || !s->refs || !s->vals || !s->holds || !s->seen ||
	    !s->demand || !s->writers) {
		search_free(s);
		return -ENOMEM;
	}
	return 0;
}

/* Calls before returns at the same instant: such ops overlap. */
static int event_cmp(const void *a, const void *b)
{
	const struct lc_event *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->ret != y->ret)
		return x->ret ? 1 : -1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static void link_event(struct lc_search *s, uint32_t e,
		       const struct lc_event *ev)
{
	uint32_t head = ev->forced ? 0 : s->opt_head;

	s->prev[e] = s->prev[head];
	s->next[e] = head;
	s->next[s->prev[head]] = e;
	s->prev[head] = e;
	s->ev_slot[e] = ev->slot;
	s->ev_time[e] = ev->time;
	if (ev->ret)
		s->slot_ret[ev->slot] = e;
	else
		s->slot_call[ev->slot] = e;
}

/* Counts what op needs (if forced) and may write, or zeroes the counts. */
static void tally(const struct lincheck *lc, struct lc_search *s,
		  const struct lc_op *op, bool forced, bool zero)
{
	uint32_t need = forced ? op_need(lc, op) : NONE;
	uint32_t write = op_write(lc, op);

	if (need != NONE)
		s->demand[need] = zero ? 0 : s->demand[need] + 1;
	if (write != NONE)
		s->writers[write] = zero ? 0 : s->writers[write] + 1;
}

static unsigned int twin_kind(const struct lc_op *op)
{
	if (op->type == LINCHECK_ACQUIRE && op->result == LINCHECK_UNKNOWN)
		return TWIN_ACQUIRE;
	if (op->type == LINCHECK_DEL && op->result == LINCHECK_UNKNOWN)
		return TWIN_DEL;
	if (op->type == LINCHECK_DEL && op->result == LINCHECK_OK)
		return TWIN_DEL_OK;
	return TWIN_NONE;
}

/* Slots come in start order. */
static size_t add_slot(struct lincheck *lc, struct lc_search *s,
		       uint32_t op, bool forced, size_t m)
{
	uint32_t slot = s->nslots++;
	unsigned int kind = forced ? TWIN_NONE : twin_kind(&lc->ops[op]);

	tally(lc, s, &lc->ops[op], forced, false);
	s->slot_op[slot] = op;
	s->slot_ret[slot] = 0;
	s->slot_twin[slot] = s->last_alike[kind];
	if (kind != TWIN_NONE)
		s->last_alike[kind] = slot;
	s->slot_bit[slot] = forced ? s->nforced++ : s->nopt++;
	s->events[m++] = (struct lc_event){
		.time = lc->ops[op].start, .slot = slot, .forced = forced,
	};
	if (forced)
		s->events[m++] = (struct lc_event){
			.time = lc->ops[op].end, .slot = slot,
			.ret = true, .forced = true,
		};
	return m;
}

static int acq_cmp(const void *a, const void *b)
{
	const struct lc_acq *x = a, *y = b;

	if (x->tok != y->tok)
		return x->tok < y->tok ? -1 : 1;
	return x->op < y->op ? -1 : x->op > y->op;
}

/*
 * The forced acquires that returned a token, by token; and whether two
 * returned the same, or one was answered before one with a lower token
 * started, which no order can mend: the search would only find out at
 * the return of the first, after trying every way there.
 */
static void acqs_setup(const struct lincheck *lc, struct lc_search *s)
{
	uint64_t first_end = NEVER;
	size_t i;

	s->nacq = s->acq_next = 0;
	for (i = 0; i < s->nslots; i++) {
		if (s->slot_ret[i] && issues(&lc->ops[s->slot_op[i]]))
			s->acqs[s->nacq++] = (struct lc_acq){
				.tok = lc->ops[s->slot_op[i]].tok,
				.op = s->slot_op[i],
			};
	}
	qsort(s->acqs, s->nacq, sizeof(*s->acqs), acq_cmp);
	s->acq_stuck = false;
	for (i = s->nacq; i--;) {
		if (lc->ops[s->acqs[i].op].start > first_end ||
		    (i && s->acqs[i - 1].tok == s->acqs[i].tok))
			s->acq_stuck = true;
		if (lc->ops[s->acqs[i].op].end < first_end)
			first_end = lc->ops[s->acqs[i].op].end;
	}
}

static void search_setup(struct lincheck *lc, struct lc_search *s,
			 const struct lc_scope *sc)
{
	size_t m = 0, i;
	enum lc_role role;

	for (i = 0; i < s->nslots; i++)
		tally(lc, s, &lc->ops[s->slot_op[i]], true, true);
	s->nslots = s->nforced = s->nopt = 0;
	for (i = 0; i < TWIN_KINDS; i++)
		s->last_alike[i] = NONE;
	for (i = 0; i < sc->n; i++) {
		role = op_role(&lc->ops[sc->ops[i]], sc);
		if (role != ROLE_OUT)
			m = add_slot(lc, s, sc->ops[i], role == ROLE_FORCED, m);
	}
	qsort(s->events, m, sizeof(*s->events), event_cmp);
	s->opt_head = m + 1;
	s->next[0] = s->prev[0] = 0;
	s->next[m + 1] = s->prev[m + 1] = m + 1;
	for (i = 0; i < m; i++)
		link_event(s, i + 1, &s->events[i]);
	s->forced_words = s->nforced / 64 + 1;
	s->opt_words = (s->nopt + 63) / 64;
	memset(s->forced, 0, s->forced_words * sizeof(*s->forced));
	memset(s->optional, 0, s->opt_words * sizeof(*s->optional));
	s->p = s->hi = 0;
	s->depth = 0;
	memo_clear(&s->memo);
	acqs_setup(lc, s);
}

/*
 * Would op, an acquire returning a token, leave some forced acquire that
 * has yet to take effect with a token no higher than max?  Then that one
 * can never take effect.
 */
static bool outruns(const struct lc_search *s, const struct lc_op *op,
		    bool forced)
{
	size_t next = s->acq_next;

	if (forced && s->acqs[next++].tok != op->tok)
		return true;
	return next < s->nacq && s->acqs[next].tok <= op->tok;
}

static void ev_unlink(struct lc_search *s, uint32_t e)
{
	s->next[s->prev[e]] = s->next[e];
	s->prev[s->next[e]] = s->prev[e];
}

/* Undoes ev_unlink(), in the reverse order of the unlinks. */
static void ev_relink(struct lc_search *s, uint32_t e)
{
	s->next[s->prev[e]] = e;
	s->prev[s->next[e]] = e;
}

static void lift(struct lc_search *s, uint32_t slot)
{
	ev_unlink(s, s->slot_call[slot]);
	if (s->slot_ret[slot])
		ev_unlink(s, s->slot_ret[slot]);
}

static void unlift(struct lc_search *s, uint32_t slot)
{
	if (s->slot_ret[slot])
		ev_relink(s, s->slot_ret[slot]);
	ev_relink(s, s->slot_call[slot]);
}

static bool is_return(const struct lc_search *s, uint32_t e)
{
	return s->slot_ret[s->ev_slot[e]] == e;
}

static void mark(struct lc_search *s, uint32_t slot)
{
	uint32_t bit = s->slot_bit[slot];

	if (!s->slot_ret[slot]) {
		set_bit64(s->optional, bit);
		return;
	}
	set_bit64(s->forced, bit);
	if (s->hi < bit + 1)
		s->hi = bit + 1;
	while (s->p < s->nforced && test_bit64(s->forced, s->p))
		s->p++;
	if (s->hi < s->p)
		s->hi = s->p;
}

static void unmark(struct lc_search *s, const struct lc_frame *f)
{
	if (s->slot_ret[f->slot])
		clear_bit64(s->forced, s->slot_bit[f->slot]);
	else
		clear_bit64(s->optional, s->slot_bit[f->slot]);
	s->p = f->p;
	s->hi = f->hi;
}

/*
 * The whole state, then the forced set: bits below p are all set, so p
 * and the words of [p, hi) are the set.
 */
static size_t memo_key(struct lc_search *s, const struct lc_state *st)
{
	size_t first = s->p / 64, n = 0;

	if (s->hi > s->p)
		n = (s->hi - 1) / 64 - first + 1;
	s->key[0] = (uint64_t)s->p << 32 | st->value;
	s->key[1] = (uint64_t)st->holder << 32 | st->max;
	memcpy(s->key + 2, s->forced + first, n * sizeof(*s->key));
	return n + 2;
}

static size_t doom_of(const struct lincheck *lc, const struct lc_search *s,
		      uint32_t need, const struct lc_state *st)
{
	if (need == NONE || need_met(lc, need, st) || s->writers[need])
		return 0;
	return s->demand[need];
}

/*
 * Keeps doomed (forced ops waiting for a need that is not met and that no
 * unplaced op can meet) up to date as op is placed (dir 1) or taken back
 * (dir -1), the state going from before to after.  Only the needs op
 * touches, and those the two states meet, can change their share.
 */
static void retally(const struct lincheck *lc, struct lc_search *s,
		    const struct lc_op *op, bool forced,
		    const struct lc_state *before,
		    const struct lc_state *after, int dir)
{
	uint32_t need = forced ? op_need(lc, op) : NONE;
	uint32_t write = op_write(lc, op);
	uint32_t v[6] = {
		need, write, before->value, after->value,
		need_of_holder(lc, before->holder),
		need_of_holder(lc, after->holder),
	};
	size_t i, j, n = 0;

	for (i = 0; i < 6; i++) {
		for (j = 0; j < n && v[j] != v[i]; j++)
			;
		if (j == n)
			v[n++] = v[i];
	}
	for (i = 0; i < n; i++)
		s->doomed -= doom_of(lc, s, v[i], before);
	if (need != NONE)
		s->demand[need] -= dir;
	if (write != NONE)
		s->writers[write] -= dir;
	for (i = 0; i < n; i++)
		s->doomed += doom_of(lc, s, v[i], after);
}

static size_t doomed_from(const struct lincheck *lc,
			  const struct lc_search *s, const struct lc_state *st)
{
	size_t i, n = 0;
	uint32_t need;

	for (i = 0; i < s->nslots; i++) {
		if (!s->slot_ret[i])
			continue;
		need = op_need(lc, &lc->ops[s->slot_op[i]]);
		n += need != NONE && !need_met(lc, need, st) &&
		     !s->writers[need];
	}
	return n;
}

/* Places the op of call event ev if it may go next: 1 if placed. */
static int try_place(struct lincheck *lc, struct lc_search *s, uint32_t ev,
		     struct lc_state *state, uint32_t blocker, bool greedy)
{
	uint32_t slot = s->ev_slot[ev];
	const struct lc_op *op = &lc->ops[s->slot_op[slot]];
	struct lc_frame *f = &s->stack[s->depth];
	struct lc_state next;
	int r = 0;

	if (!model_step(op, state, &next))
		return 0;
	if (blocker && same_state(&next, state))
		return 0;
	if (issues(op) && outruns(s, op, !blocker))
		return 0;
	*f = (struct lc_frame){
		.slot = slot, .state = *state,
		.p = s->p, .hi = s->hi, .blocker = blocker, .greedy = greedy,
	};
	mark(s, slot);
	retally(lc, s, op, !blocker, state, &next, 1);
	if (!s->doomed)
		r = memo_add(&s->memo, s->key, memo_key(s, &next),
			     s->optional, s->opt_words);
	if (r <= 0) {
		retally(lc, s, op, !blocker, &next, state, -1);
		unmark(s, f);
		return r;
	}
	s->steps++;
	s->depth++;
	*state = next;
	lift(s, slot);
	s->acq_next += !blocker && issues(op);
	return 1;
}

/* Undoes the last placement; returns where to look next. */
static uint32_t backtrack(struct lincheck *lc, struct lc_search *s,
			  struct lc_state *state, size_t *left,
			  uint32_t *blocker)
{
	const struct lc_frame *f = &s->stack[--s->depth];

	unlift(s, f->slot);
	unmark(s, f);
	retally(lc, s, &lc->ops[s->slot_op[f->slot]], !f->blocker, state,
		&f->state, -1);
	s->acq_next -= !f->blocker && issues(&lc->ops[s->slot_op[f->slot]]);
	*state = f->state;
	*blocker = f->blocker;
	if (!f->blocker)
		(*left)++;
	return s->next[s->slot_call[f->slot]];
}

/*
 * An optional op alike and started before it, not yet placed: it was
 * tried here, and placing this one instead leads nowhere else.
 */
static bool twin_waits(const struct lc_search *s, uint32_t slot)
{
	uint32_t twin = s->slot_twin[slot];

	return twin != NONE && !test_bit64(s->optional, s->slot_bit[twin]);
}

static void note_dead_end(struct lc_search *s, uint32_t blocker)
{
	s->steps++;
	if (s->deepest_op != NONE && s->depth <= s->deepest)
		return;
	s->deepest = s->depth;
	s->deepest_op = s->slot_op[s->ev_slot[blocker]];
}

enum { READ_NONE, READ_PLACED, READ_DEAD };

/*
 * Places a candidate that is passive() and leaves the state as it is, if
 * any.  No other order need be tried: a way on that places it later may
 * as well place it now, as it changes no state now and nothing unplaced
 * returned before its call; later, it would change nothing either, or
 * only free the lock, and a state with a holder does whatever the same
 * with the lock free does.  So if the memo has met the outcome, this
 * configuration is a dead end as well.
 */
static int place_read(struct lincheck *lc, struct lc_search *s,
		      struct lc_state *state)
{
	const struct lc_op *op;
	struct lc_state next;
	uint32_t ev;
	int r;

	for (ev = s->next[0]; !is_return(s, ev); ev = s->next[ev]) {
		op = &lc->ops[s->slot_op[s->ev_slot[ev]]];
		if (!passive(op) || !model_step(op, state, &next) ||
		    !same_state(&next, state))
			continue;
		r = try_place(lc, s, ev, state, 0, true);
		return r < 0 ? r : r ? READ_PLACED : READ_DEAD;
	}
	return READ_NONE;
}

/* Backs out of a dead end and of the greedy moves that led to it. */
static bool retreat(struct lincheck *lc, struct lc_search *s,
		    struct lc_state *state, size_t *left, uint32_t *ev,
		    uint32_t *blocker)
{
	bool greedy;

	do {
		if (!s->depth)
			return false;
		greedy = s->stack[s->depth - 1].greedy;
		*ev = backtrack(lc, s, state, left, blocker);
	} while (greedy);
	return true;
}

/*
 * Depth-first from state: 1 if every forced op finds a place, 0 if not,
 * -E2BIG past the budget, -ENOMEM.  In each new configuration a read that
 * fits goes first, alone; else forced candidates are tried, then, once the
 * first return in the list (the blocker) is reached, the optional calls
 * made before it.  A placement that dooms an op is a dead end at once, not
 * when that op's return comes up many placements later.
 */
static int search_from(struct lincheck *lc, struct lc_search *s,
		       struct lc_state state)
{
	uint32_t ev = 0, blocker = 0;
	size_t left = s->nforced;
	bool fresh = true;
	int r;

	s->doomed = doomed_from(lc, s, &state);
	if (s->doomed || s->acq_stuck ||
	    (s->nacq && s->acqs[0].tok <= state.max))
		return 0;
	while (left) {
		if (s->steps > s->budget)
			return -E2BIG;
		if (fresh) {
			r = place_read(lc, s, &state);
			if (r < 0)
				return r;
			if (r == READ_PLACED) {
				left--;
				continue;
			}
			fresh = false;
			blocker = 0;
			ev = s->next[0];
			if (r == READ_DEAD &&
			    !retreat(lc, s, &state, &left, &ev, &blocker))
				return 0;
			continue;
		}
		if (!blocker && is_return(s, ev)) {
			blocker = ev;
			ev = s->next[s->opt_head];
			continue;
		}
		if (blocker && (ev == s->opt_head ||
				s->ev_time[ev] > s->ev_time[blocker])) {
			note_dead_end(s, blocker);
			if (!retreat(lc, s, &state, &left, &ev, &blocker))
				return 0;
			continue;
		}
		if (blocker && twin_waits(s, s->ev_slot[ev])) {
			ev = s->next[ev];
			continue;
		}
		r = try_place(lc, s, ev, &state, blocker, false);
		if (r < 0)
			return r;
		if (!r) {
			ev = s->next[ev];
			continue;
		}
		if (!blocker)
			left--;
		fresh = true;
	}
	return 1;
}

/*
 * Is the scope linearizable from one of the initial states?  The memo is
 * kept across them: a configuration met before is a dead end whatever
 * state the search began in.
 */
static int search(struct lincheck *lc, struct lc_search *s,
		  const struct lc_scope *sc, const struct lc_state *inits,
		  size_t n)
{
	size_t i;
	int r;

	search_setup(lc, s, sc);
	s->deepest = 0;
	s->deepest_op = NONE;
	for (i = 0; i < n; i++) {
		r = search_from(lc, s, inits[i]);
		if (r)
			return r;
	}
	return 0;
}

/* ---- tokens and objects ---- */

/* One object's ops: a key's, or a lock's and its guarded key's. */
struct lc_key {
	uint32_t id;		/* the key, or the lock key */
	const uint32_t *ops;	/* start order, without unknown gets */
	size_t n;
};

/* The object an op belongs to: its key, or the lock guarding it. */
static uint32_t group_of(const struct lincheck *lc, const struct lc_op *op)
{
	const struct lc_keyrole *k = &lc->roles[op->key];

	return k->role & KEY_GUARDED ? k->partner - 1 : op->key;
}

/* token's rank + 1 among the issued ones, or NONE. */
static uint32_t rank_of(const uint64_t *issued, size_t n, uint64_t token)
{
	const uint64_t *at = bsearch(&token, issued, n, sizeof(*issued),
				     cmp_u64);

	return at ? (uint32_t)(at - issued) + 1 : NONE;
}

static void rank_op(struct lc_op *op, const uint64_t *issued, size_t n)
{
	uint32_t r;

	op->tok = UNISSUED;
	op->seen = NONE;
	if (!is_lock_op(op))
		return;
	r = rank_of(issued, n, op->token);
	if (r != NONE && (op->type != LINCHECK_ACQUIRE ||
			  op->result == LINCHECK_OK))
		op->tok = r;
	if (!op->has_holder)
		return;
	r = rank_of(issued, n, op->holder);
	op->seen = !op->holder ? FREE : r != NONE ? r : STRANGER;
}

/*
 * Gives each op its object and its tokens' ranks among those acquires
 * returned: an op's token none returned never holds, and a holder none
 * returned is a stranger.  0 or -ENOMEM.
 */
static int prepare(struct lincheck *lc)
{
	uint64_t *issued = malloc((lc->n + 1) * sizeof(*issued));
	struct lc_op *op;
	size_t i, n = 0;

	if (!issued)
		return -ENOMEM;
	for (i = 0; i < lc->n; i++) {
		op = &lc->ops[i];
		if (op->type == LINCHECK_ACQUIRE && op->result == LINCHECK_OK)
			issued[n++] = op->token;
	}
	qsort(issued, n, sizeof(*issued), cmp_u64);
	n = unique_u64(issued, n);
	lc->nvals = lc->strs.len + 1;
	lc->ntok = n;
	for (i = 0; i < lc->n; i++) {
		op = &lc->ops[i];
		op->group = group_of(lc, op);
		rank_op(op, issued, n);
	}
	free(issued);
	return n > TOKEN_MAX ? -ENOMEM : 0;
}

/* What a report names: a key, or a lock and the key it guards. */
static void name_object(const struct lincheck *lc, uint32_t id,
			struct lincheck_report *rep)
{
	const struct lc_keyrole *k = &lc->roles[id];

	rep->key = str_of(lc, id);
	rep->lock = k->role & KEY_LOCK;
	rep->guarded = rep->lock && k->partner ?
		       str_of(lc, k->partner - 1) : NULL;
}

/* ---- why a lock's window has no linearization, in a sentence ---- */

/*
 * Guesses from the ops of the lock, each a reason that holds whatever the
 * order: an op answered before another started took effect before it.
 */
struct lc_why {
	const struct lincheck *lc;
	const struct lc_key *k;
	char *buf;
	size_t len;
};

/* What shows a token no longer holds (or does not yet). */
enum lc_lost {
	LOST_NOT,
	LOST_UNISSUED,		/* no acquire returned it */
	LOST_NOT_YET,		/* its acquire started later */
	LOST_LATER_TOKEN,	/* an acquire returned a higher one */
	LOST_RELEASED,
	LOST_FENCED,		/* a write fenced by it was refused */
	LOST_OTHER,		/* an op found another holder, or none */
};

static const struct lc_op *why_op(const struct lc_why *w, size_t i)
{
	return &w->lc->ops[w->k->ops[i]];
}

static bool answered_before(const struct lc_op *op, uint64_t t)
{
	return op->result != LINCHECK_UNKNOWN && op->end < t;
}

/* "line N", or "op N" (its index) for an op added without a line. */
static const char *where(const struct lc_why *w, const struct lc_op *op,
			 char *buf, size_t len)
{
	if (op->line)
		snprintf(buf, len, "line %u", op->line);
	else
		snprintf(buf, len, "op %zu", (size_t)(op - w->lc->ops));
	return buf;
}

static const struct lc_op *acquire_of(const struct lc_why *w, uint32_t tok)
{
	const struct lc_op *op;
	size_t i;

	for (i = 0; i < w->k->n; i++) {
		op = why_op(w, i);
		if (op->type == LINCHECK_ACQUIRE &&
		    op->result == LINCHECK_OK && op->tok == tok)
			return op;
	}
	return NULL;
}

static bool unknown_acquires(const struct lc_why *w)
{
	size_t i;

	for (i = 0; i < w->k->n; i++) {
		if (why_op(w, i)->type == LINCHECK_ACQUIRE &&
		    why_op(w, i)->result == LINCHECK_UNKNOWN)
			return true;
	}
	return false;
}

/* How op, answered before from, shows that tok no longer holds. */
static enum lc_lost lost_by(const struct lc_op *op, uint32_t tok,
			    const struct lc_op *acq)
{
	bool after_acq = op->start > acq->end;

	switch (op->type) {
	case LINCHECK_ACQUIRE:
		if (op->result == LINCHECK_OK && op->tok > tok &&
		    op->tok != UNISSUED)
			return LOST_LATER_TOKEN;
		if (op->result == LINCHECK_HELD && op->seen != NONE &&
		    op->seen != tok && after_acq)
			return LOST_OTHER;
		return LOST_NOT;
	case LINCHECK_FPUT:
	case LINCHECK_RELEASE:
		if (op->tok == tok && op->result == LINCHECK_OK)
			return op->type == LINCHECK_RELEASE ? LOST_RELEASED :
			       LOST_NOT;
		if (op->result != LINCHECK_FENCED || !after_acq)
			return LOST_NOT;
		if (op->tok == tok)
			return LOST_FENCED;
		return op->seen != NONE && op->seen != tok ? LOST_OTHER :
		       LOST_NOT;
	default:
		return LOST_NOT;
	}
}

/*
 * Why tok cannot hold at any instant of [from, to]: the reason, and in
 * *by the op that shows it (none for LOST_UNISSUED).
 */
static enum lc_lost token_lost(const struct lc_why *w, uint32_t tok,
			       uint64_t from, uint64_t to,
			       const struct lc_op *self,
			       const struct lc_op **by)
{
	const struct lc_op *acq = acquire_of(w, tok), *op;
	enum lc_lost best = LOST_NOT, l;
	size_t i;

	*by = NULL;
	if (tok == UNISSUED || !acq)
		return LOST_UNISSUED;
	if (acq->start > to) {
		*by = acq;
		return LOST_NOT_YET;
	}
	for (i = 0; i < w->k->n; i++) {
		op = why_op(w, i);
		if (op == self || !answered_before(op, from))
			continue;
		l = lost_by(op, tok, acq);
		if (l != LOST_NOT && (best == LOST_NOT || l < best)) {
			best = l;
			*by = op;
		}
	}
	return best;
}

/* Appends to the sentence. */
__attribute__((format(printf, 2, 3)))
static void add(struct lc_why *w, const char *fmt, ...)
{
	size_t used = strlen(w->buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->buf + used, w->len - used, fmt, ap);
	va_end(ap);
}

/* "a release", "an fput". */
static const char *a_op(const struct lc_op *op)
{
	return op->type == LINCHECK_RELEASE ? "a release" :
	       op->type == LINCHECK_FPUT ? "an fput" : "an acquire";
}

/* " after ...": what token (raw) lost to, shown by op by. */
static void add_lost(struct lc_why *w, enum lc_lost lost, uint64_t token,
		     const struct lc_op *by)
{
	char at[32];

	where(w, by, at, sizeof(at));
	switch (lost) {
	case LOST_NOT_YET:
		add(w, " before the acquire of token %" PRIu64 " (%s) started",
		    token, at);
		break;
	case LOST_LATER_TOKEN:
		add(w, " after acquire returned token %" PRIu64 " (%s)",
		    by->token, at);
		break;
	case LOST_RELEASED:
		add(w, " after the release of token %" PRIu64 " (%s)", token,
		    at);
		break;
	case LOST_FENCED:
		add(w, " after %s fenced by token %" PRIu64
		    " was refused (%s)", a_op(by), token, at);
		break;
	default:
		if (by->seen == FREE)
			add(w, " after %s found the lock free (%s)", a_op(by),
			    at);
		else
			add(w, " after %s found the lock held by token %"
			    PRIu64 " (%s)", a_op(by), by->holder, at);
	}
}

/* fput or release ok: its token held then. */
static void why_holds(struct lc_why *w, const struct lc_op *c)
{
	const struct lc_op *by;
	enum lc_lost lost;

	add(w, "%s of token %" PRIu64 " succeeded", type_names[c->type],
	    c->token);
	lost = token_lost(w, c->tok, c->start, c->end, c, &by);
	if (lost == LOST_UNISSUED)
		add(w, ", but no acquire returned token %" PRIu64, c->token);
	else if (lost != LOST_NOT)
		add_lost(w, lost, c->token, by);
	else
		add(w, " where no order of the ops below has token %" PRIu64
		    " hold the lock", c->token);
}

static void why_acquired(struct lc_why *w, const struct lc_op *c)
{
	const struct lc_op *op;
	char at[32];
	size_t i;

	add(w, "acquire returned token %" PRIu64, c->token);
	for (i = 0; i < w->k->n; i++) {
		op = why_op(w, i);
		if (op == c || op->type != LINCHECK_ACQUIRE ||
		    op->result != LINCHECK_OK)
			continue;
		where(w, op, at, sizeof(at));
		if (answered_before(op, c->start) && op->token == c->token) {
			add(w, ", as an earlier acquire did (%s)", at);
			return;
		}
		if (answered_before(op, c->start) && op->token > c->token) {
			add(w, " after acquire returned token %" PRIu64
			    " (%s): tokens only grow", op->token, at);
			return;
		}
		if (op->start > c->end && op->token < c->token) {
			add(w, ", and a later acquire (%s) the lower token %"
			    PRIu64 ": tokens only grow", at, op->token);
			return;
		}
	}
	add(w, " where no order of the ops below has tokens grow");
}

/* What a held or fenced op said of the holder: holder, its raw token. */
static void why_holder(struct lc_why *w, const struct lc_op *c,
		       uint64_t holder)
{
	const struct lc_op *by;
	enum lc_lost lost;

	if (c->seen == c->tok) {
		add(w, ", yet token %" PRIu64 " is its own", holder);
		return;
	}
	if (c->seen == STRANGER && !unknown_acquires(w)) {
		add(w, ", which no acquire returned");
		return;
	}
	lost = c->seen == STRANGER ? LOST_NOT :
	       token_lost(w, c->seen, c->start, c->end, c, &by);
	if (lost != LOST_NOT && lost != LOST_UNISSUED)
		add_lost(w, lost, holder, by);
	else
		add(w, " where no order of the ops below has token %" PRIu64
		    " hold it", holder);
}

/* held, with no holder named: nothing can have taken the lock. */
static void why_held(struct lc_why *w, const struct lc_op *c)
{
	const struct lc_op *op, *rel = NULL;
	char at[32];
	size_t i;

	for (i = 0; i < w->k->n; i++) {
		op = why_op(w, i);
		if (op->type == LINCHECK_RELEASE &&
		    op->result == LINCHECK_OK &&
		    answered_before(op, c->start) &&
		    (!rel || op->end > rel->end))
			rel = op;
	}
	for (i = 0; i < w->k->n; i++) {
		op = why_op(w, i);
		if (op == c || op->type != LINCHECK_ACQUIRE ||
		    op->start >= c->end ||
		    (op->result != LINCHECK_OK &&
		     op->result != LINCHECK_UNKNOWN))
			continue;
		if (!rel || !answered_before(op, rel->start)) {
			add(w, " where no order of the ops below has a holder");
			return;
		}
	}
	if (!rel) {
		add(w, ", but no acquire took it before");
		return;
	}
	add(w, " after the release of token %" PRIu64
	    " (%s), with no acquire since", rel->token,
	    where(w, rel, at, sizeof(at)));
}

static const char *value_str(const struct lincheck *lc, uint32_t v)
{
	return v == ABSENT ? "" : lc->strs.str[v - 1];
}

/* A write of the get's value that may have taken effect before it. */
static const struct lc_op *why_writer(struct lc_why *w,
				      const struct lc_op *c, size_t *n,
				      const struct lc_op **carrier)
{
	const struct lc_op *op, *found = NULL;
	size_t i;

	*n = 0;
	*carrier = NULL;
	for (i = 0; i < w->k->n; i++) {
		op = why_op(w, i);
		if (op->value != c->value || op == c ||
		    op->type == LINCHECK_GET)
			continue;
		if (!is_writer(op)) {
			if (op->type == LINCHECK_FPUT)
				*carrier = op;
			continue;
		}
		if (!found || op->start < found->start)
			found = op;
		*n += op->start < c->end;
	}
	return found;
}

/* A forced write of something else after every write of c's value. */
static const struct lc_op *why_overwrite(struct lc_why *w,
					 const struct lc_op *c)
{
	const struct lc_op *op;
	uint64_t last = 0;
	size_t i;

	for (i = 0; i < w->k->n; i++) {
		op = why_op(w, i);
		if (op->type != LINCHECK_GET && op->value == c->value &&
		    is_writer(op))
			last = op->end > last ? op->end : last;
	}
	for (i = 0; i < w->k->n; i++) {
		op = why_op(w, i);
		if ((is_writer(op) || op->type == LINCHECK_DEL) &&
		    op->value != c->value && op->start > last &&
		    answered_before(op, c->start) &&
		    (op->type != LINCHECK_FPUT || op->result == LINCHECK_OK))
			return op;
	}
	return NULL;
}

static void why_read(struct lc_why *w, const struct lc_op *c)
{
	const struct lc_op *wr, *carrier, *by;
	const char *v = value_str(w->lc, c->value);
	char at[32], at2[32];
	enum lc_lost lost;
	size_t n;

	wr = why_writer(w, c, &n, &carrier);
	if (c->value == ABSENT) {
		add(w, "get found the key absent");
	} else if (!wr && carrier) {
		add(w, "get returned \"%s\", which only a refused fput carried (%s)",
		    v, where(w, carrier, at, sizeof(at)));
		return;
	} else if (!wr) {
		add(w, "get returned \"%s\", which no op wrote", v);
		return;
	} else if (!n) {
		add(w, "get returned \"%s\" before its write (%s) started", v,
		    where(w, wr, at, sizeof(at)));
		return;
	} else {
		add(w, "get returned \"%s\"", v);
	}
	if (n == 1 && wr->type == LINCHECK_FPUT) {
		lost = token_lost(w, wr->tok, wr->start, wr->end, wr, &by);
		if (lost != LOST_NOT && lost != LOST_NOT_YET) {
			add(w, ", written by an fput of token %" PRIu64 " (%s)",
			    wr->token, where(w, wr, at, sizeof(at)));
			if (lost == LOST_UNISSUED)
				add(w, ", a token no acquire returned");
			else
				add_lost(w, lost, wr->token, by);
			return;
		}
	}
	by = why_overwrite(w, c);
	if (by && by->type == LINCHECK_DEL)
		add(w, " after a del (%s)", where(w, by, at, sizeof(at)));
	else if (by)
		add(w, "%s%s%s after \"%s\" was written (%s)",
		    wr ? " (written at " : "",
		    wr ? where(w, wr, at2, sizeof(at2)) : "", wr ? ")" : "",
		    value_str(w->lc, by->value),
		    where(w, by, at, sizeof(at)));
	else
		add(w, " where no order of the ops below leaves it there");
}

/* A sentence on why the window fails, into rep->why ("" if no guess). */
static void explain(const struct lincheck *lc, const struct lc_key *k,
		    struct lincheck_report *rep)
{
	const struct lc_op *c = &lc->ops[rep->culprit];
	struct lc_why w = { lc, k, rep->why, sizeof(rep->why) };
	const char *name = type_names[c->type];

	rep->why[0] = '\0';
	switch (c->type) {
	case LINCHECK_GET:
		why_read(&w, c);
		break;
	case LINCHECK_ACQUIRE:
		if (c->result == LINCHECK_OK) {
			why_acquired(&w, c);
			break;
		}
		add(&w, "acquire found the lock held");
		if (c->seen == NONE) {
			why_held(&w, c);
			break;
		}
		add(&w, " by token %" PRIu64, c->holder);
		why_holder(&w, c, c->holder);
		break;
	case LINCHECK_FPUT:
	case LINCHECK_RELEASE:
		if (c->result == LINCHECK_OK) {
			why_holds(&w, c);
			break;
		}
		add(&w, "%s of token %" PRIu64 " was refused, naming holder %"
		    PRIu64, name, c->token, c->holder);
		why_holder(&w, c, c->holder);
		break;
	default:
		add(&w, "%s fits no order of the ops below", name);
	}
}

/* ---- narrowing a key that is not linearizable down to a window ---- */

/*
 * H(t) is the key's ops that started by t, those answered by t forced,
 * the others optional.  A linearization of the whole history, cut after
 * the last op answered by t, is one of H(t) (what precedes an op answered
 * by t started by t), so if H(t) has none, the history has none, and the
 * same goes for any t' > t.  The horizon is the first t, among the
 * instants ops were answered, where H(t) has none; the culprit is an op
 * answered then.
 *
 * Then from the left: W(c) is H(horizon) without the ops answered by c,
 * the ops started by c optional, from any state a write started by c may
 * have left (or absent).  Again a linearization of H(horizon) cut before
 * the first op after the last one answered by c is one of W(c), and W(c)
 * only gets easier as c grows; the window is W(c) for the last c where it
 * has none.  Both are binary searches, the horizon's starting from the
 * deepest dead end of the full search, the cut's from the right, where
 * windows are small and cheap to check.
 */

struct lc_narrow {
	uint64_t *ends;		/* distinct ends of ops with an answer */
	size_t nends;
	long horizon;		/* index in ends */
	long cut;		/* index in ends, -1 if none */
	bool exact;
};

static size_t distinct_ends(const struct lincheck *lc, const struct lc_key *k,
			    uint64_t *ends)
{
	size_t i, n = 0;

	for (i = 0; i < k->n; i++) {
		if (lc->ops[k->ops[i]].result != LINCHECK_UNKNOWN)
			ends[n++] = lc->ops[k->ops[i]].end;
	}
	qsort(ends, n, sizeof(*ends), cmp_u64);
	return unique_u64(ends, n);
}

static const struct lc_state initial = { ABSENT, FREE, 0 };

static int horizon_check(struct lincheck *lc, struct lc_search *s,
			 const struct lc_key *k, uint64_t horizon)
{
	struct lc_scope sc = { .ops = k->ops, .n = k->n, .horizon = horizon };

	return search(lc, s, &sc, &initial, 1);
}

static long ends_index(const struct lc_narrow *nw, uint64_t t)
{
	uint64_t *at = bsearch(&t, nw->ends, nw->nends, sizeof(t), cmp_u64);

	return at ? at - nw->ends : -1;
}

/*
 * Where to look next for the boundary between lo (has a linearization) and
 * hi (has none): the guess, then away from it by 1, 2, 4... until the
 * boundary is passed, then halving.  A horizon that has no linearization
 * costs a full search to confirm; one that has is usually found at once.
 */
static long next_probe(long lo, long hi, long guess, long *step)
{
	long mid;

	if (guess > lo && guess < hi)
		return guess;
	if (guess < 0)
		return lo + (hi - lo) / 2;
	mid = guess >= hi ? hi - *step : lo + *step;
	*step *= 2;
	return mid > lo && mid < hi ? mid : lo + (hi - lo) / 2;
}

static int find_horizon(struct lincheck *lc, struct lc_search *s,
			const struct lc_key *k, struct lc_narrow *nw,
			uint32_t deepest)
{
	long lo = -1, hi = nw->nends - 1, mid, guess = -1, step = 1;
	int r;

	/* The deepest dead end of the full search is a likely horizon. */
	if (deepest != NONE)
		guess = ends_index(nw, lc->ops[deepest].end);
	while (hi - lo > 1) {
		mid = next_probe(lo, hi, guess, &step);
		r = horizon_check(lc, s, k, nw->ends[mid]);
		if (r == -E2BIG) {
			nw->exact = false;
			break;
		}
		if (r < 0)
			return r;
		/* Past the boundary: halve from now on. */
		if (guess >= 0 && guess != mid &&
		    (r ? guess >= hi : guess <= lo))
			guess = -1;
		if (r)
			lo = mid;
		else
			hi = mid;
	}
	nw->horizon = hi;
	return 0;
}

/* The states named by the scope's ops, sorted, into s->refs. */
static size_t scope_refs(struct lincheck *lc, struct lc_search *s,
			 const struct lc_scope *sc)
{
	const struct lc_op *op;
	size_t i, n = 0;

	for (i = 0; i < sc->n; i++) {
		op = &lc->ops[sc->ops[i]];
		if (op_role(op, sc) == ROLE_OUT)
			continue;
		if (op->value != ABSENT)
			s->refs[n++] = op->value;
		if (op->type == LINCHECK_CAS && op->expect != ABSENT)
			s->refs[n++] = op->expect;
	}
	qsort(s->refs, n, sizeof(*s->refs), cmp_u32);
	return unique_u32(s->refs, n);
}

/*
 * Where the key may stand at the cut: absent, or what a write started by
 * then wrote.  Values the scope never names all behave alike: FOREIGN
 * stands for them.  Into s->vals.
 */
static size_t cut_values(struct lincheck *lc, struct lc_search *s,
			 const struct lc_scope *sc)
{
	size_t nrefs = scope_refs(lc, s, sc), i, n = 0;
	const struct lc_op *op;
	uint32_t *at;
	bool foreign = false;

	memset(s->seen, 0, nrefs * sizeof(*s->seen));
	for (i = 0; i < sc->n; i++) {
		op = &lc->ops[sc->ops[i]];
		if (op->start > sc->cut_at)
			break;
		if (!is_writer(op))
			continue;
		at = bsearch(&op->value, s->refs, nrefs, sizeof(*at), cmp_u32);
		if (at)
			s->seen[at - s->refs] = true;
		else
			foreign = true;
	}
	s->vals[n++] = ABSENT;
	for (i = 0; i < nrefs; i++) {
		if (s->seen[i])
			s->vals[n++] = s->refs[i];
	}
	if (foreign)
		s->vals[n++] = FOREIGN;
	return n;
}

/* The tokens the scope's ops hold up or name as holders, into s->refs. */
static size_t scope_tokens(struct lincheck *lc, struct lc_search *s,
			   const struct lc_scope *sc)
{
	const struct lc_op *op;
	size_t i, n = 0;

	for (i = 0; i < sc->n; i++) {
		op = &lc->ops[sc->ops[i]];
		if (op_role(op, sc) == ROLE_OUT)
			continue;
		if ((op->type == LINCHECK_FPUT ||
		     op->type == LINCHECK_RELEASE) && op->tok != UNISSUED)
			s->refs[n++] = op->tok;
		if (op->seen != NONE && op->seen != FREE &&
		    op->seen != STRANGER)
			s->refs[n++] = op->seen;
	}
	qsort(s->refs, n, sizeof(*s->refs), cmp_u32);
	return unique_u32(s->refs, n);
}

/*
 * Where the lock may stand at the cut: free, or held by a token an acquire
 * started by then returned, max the same; and held by a stranger when an
 * acquire started by then.  That is more than it may have been: max is
 * low when the lock is free, a token no op of the scope names is taken
 * for a stranger's; each of those can do what the real one could.  Into
 * s->holds.
 */
static size_t cut_holders(struct lincheck *lc, struct lc_search *s,
			  const struct lc_scope *sc)
{
	size_t ntoks = scope_tokens(lc, s, sc), i, n = 0;
	const struct lc_op *op;
	bool stranger = false;

	s->holds[n++] = (struct lc_state){ .holder = FREE };
	for (i = 0; i < sc->n; i++) {
		op = &lc->ops[sc->ops[i]];
		if (op->start > sc->cut_at)
			break;
		if (op->type != LINCHECK_ACQUIRE ||
		    (op->result != LINCHECK_OK &&
		     op->result != LINCHECK_UNKNOWN))
			continue;
		stranger = true;
		if (op->result == LINCHECK_OK &&
		    bsearch(&op->tok, s->refs, ntoks, sizeof(*s->refs),
			    cmp_u32))
			s->holds[n++] = (struct lc_state){
				.holder = op->tok, .max = op->tok,
			};
	}
	if (stranger)
		s->holds[n++] = (struct lc_state){ .holder = STRANGER };
	return n;
}

/*
 * Every pair of a value and a lock's state, into s->inits; -E2BIG when
 * there are too many pairs to try.  A lock's pairs cost a step each.
 */
static int cut_inits(struct lincheck *lc, struct lc_search *s,
		     const struct lc_scope *sc, size_t *n)
{
	size_t nvals = cut_values(lc, s, sc), nholds, i, j;
	struct lc_state *inits;

	nholds = cut_holders(lc, s, sc);
	if (nholds > 1 && nvals * nholds > INITS_MAX)
		return -E2BIG;
	if (nholds > 1)
		s->steps += nvals * nholds;
	if (nvals * nholds > s->inits_cap) {
		inits = realloc(s->inits, nvals * nholds * sizeof(*inits));
		if (!inits)
			return -ENOMEM;
		s->inits = inits;
		s->inits_cap = nvals * nholds;
	}
	*n = 0;
	for (i = 0; i < nholds; i++) {
		for (j = 0; j < nvals; j++) {
			s->inits[*n] = s->holds[i];
			s->inits[(*n)++].value = s->vals[j];
		}
	}
	return 0;
}

static void window_scope(const struct lc_key *k, const struct lc_narrow *nw,
			 long cut, struct lc_scope *sc)
{
	*sc = (struct lc_scope){
		.ops = k->ops, .n = k->n,
		.horizon = nw->ends[nw->horizon],
		.cut = cut >= 0,
		.cut_at = cut >= 0 ? nw->ends[cut] : 0,
	};
}

static int cut_check(struct lincheck *lc, struct lc_search *s,
		     const struct lc_key *k, const struct lc_narrow *nw,
		     long cut)
{
	struct lc_scope sc;
	size_t n;
	int r;

	window_scope(k, nw, cut, &sc);
	r = cut_inits(lc, s, &sc, &n);
	return r ? r : search(lc, s, &sc, s->inits, n);
}

/* Cutting at the horizon itself leaves nothing forced: known fine. */
static int find_cut(struct lincheck *lc, struct lc_search *s,
		    const struct lc_key *k, struct lc_narrow *nw)
{
	long lo = -1, hi = nw->horizon, step = 1, mid;
	bool gallop = true;
	int r;

	while (hi - lo > 1) {
		if (gallop) {
			mid = hi - step > lo ? hi - step : lo + 1;
			step *= 2;
		} else {
			mid = lo + (hi - lo) / 2;
		}
		r = cut_check(lc, s, k, nw, mid);
		if (r == -E2BIG) {
			nw->exact = false;
			break;
		}
		if (r < 0)
			return r;
		if (r) {
			hi = mid;
		} else {
			lo = mid;
			gallop = false;
		}
	}
	nw->cut = lo;
	return 0;
}

/* The culprit: the forced op answered last, at the horizon. */
static int report_window(struct lincheck *lc, const struct lc_key *k,
			 const struct lc_narrow *nw,
			 struct lincheck_report *rep)
{
	const struct lc_op *op, *culprit = NULL;
	struct lincheck_window_op *w;
	struct lc_scope sc;
	enum lc_role role;
	size_t i;

	window_scope(k, nw, nw->cut, &sc);
	rep->window = calloc(k->n + 1, sizeof(*rep->window));
	if (!rep->window)
		return -ENOMEM;
	for (i = 0; i < k->n; i++) {
		op = &lc->ops[k->ops[i]];
		role = op_role(op, &sc);
		if (role == ROLE_OUT)
			continue;
		w = &rep->window[rep->window_len++];
		w->op = k->ops[i];
		w->optional = role == ROLE_OPTIONAL;
		if (!w->optional && (!culprit || op->end > culprit->end)) {
			culprit = op;
			rep->culprit = k->ops[i];
		}
	}
	name_object(lc, k->id, rep);
	rep->from_start = !sc.cut;
	rep->cut = sc.cut_at;
	rep->minimal = nw->exact;
	if (rep->lock)
		explain(lc, k, rep);
	return 0;
}

static int narrow(struct lincheck *lc, struct lc_search *s,
		  const struct lc_key *k, struct lincheck_report *rep)
{
	struct lc_narrow nw = { .exact = true, .cut = -1 };
	uint32_t deepest = s->deepest_op;
	int r;

	nw.ends = malloc((k->n + 1) * sizeof(*nw.ends));
	if (!nw.ends)
		return -ENOMEM;
	nw.nends = distinct_ends(lc, k, nw.ends);
	s->budget = s->steps + lc->budget;
	if (s->budget < s->steps)
		s->budget = UINT64_MAX;
	r = find_horizon(lc, s, k, &nw, deepest);
	if (!r && nw.exact)
		r = find_cut(lc, s, k, &nw);
	if (!r)
		r = report_window(lc, k, &nw, rep);
	free(nw.ends);
	return r;
}

static int check_key(struct lincheck *lc, struct lc_search *s,
		     const struct lc_key *k, struct lincheck_report *rep)
{
	struct lc_scope all = { .ops = k->ops, .n = k->n, .horizon = NEVER };
	int r;

	s->budget = s->steps + lc->budget;
	if (s->budget < s->steps)
		s->budget = UINT64_MAX;
	r = search(lc, s, &all, &initial, 1);
	if (r == 1)
		return LINCHECK_LINEARIZABLE;
	if (r == -E2BIG)
		return LINCHECK_TOO_HARD;
	if (r < 0)
		return r;
	r = narrow(lc, s, k, rep);
	return r < 0 ? r : LINCHECK_NOT_LINEARIZABLE;
}

/* ---- all keys ---- */

struct lc_sort {
	uint32_t key, idx;
	uint64_t start, end;
};

static int sort_cmp(const void *a, const void *b)
{
	const struct lc_sort *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* How many keys the ops name, or -ENOMEM. */
static long count_keys(const struct lincheck *lc)
{
	bool *named = calloc(lc->strs.len + 1, sizeof(*named));
	long n = 0;
	size_t i;

	if (!named)
		return -ENOMEM;
	for (i = 0; i < lc->n; i++) {
		n += !named[lc->ops[i].key];
		named[lc->ops[i].key] = true;
	}
	free(named);
	return n;
}

/*
 * The ops by object (a key, or a lock with the key it guards), then
 * start; *maxn: the most any object has.
 */
static struct lc_sort *sort_by_key(const struct lincheck *lc, size_t *maxn)
{
	struct lc_sort *v = calloc(lc->n + 1, sizeof(*v));
	size_t i, run = 0;

	if (!v)
		return NULL;
	for (i = 0; i < lc->n; i++)
		v[i] = (struct lc_sort){
			.key = lc->ops[i].group, .idx = i,
			.start = lc->ops[i].start, .end = lc->ops[i].end,
		};
	qsort(v, lc->n, sizeof(*v), sort_cmp);
	*maxn = 0;
	for (i = 0; i < lc->n; i++) {
		if (!i || v[i].key != v[i - 1].key)
			run = 0;
		if (++run > *maxn)
			*maxn = run;
	}
	return v;
}

/* Fills view with the ops of the key at v[*i], moving *i past them. */
static void next_key(const struct lincheck *lc, const struct lc_sort *v,
		     size_t *i, uint32_t *view, struct lc_key *k)
{
	const struct lc_op *op;

	k->id = v[*i].key;
	k->ops = view;
	k->n = 0;
	for (; *i < lc->n && v[*i].key == k->id; ++*i) {
		op = &lc->ops[v[*i].idx];
		if (op->type == LINCHECK_GET && op->result == LINCHECK_UNKNOWN)
			continue;
		if (op->result == LINCHECK_NO_LEASE)
			continue;
		view[k->n++] = v[*i].idx;
	}
}

static int check_keys(struct lincheck *lc, const struct lc_sort *v,
		      size_t maxn, struct lincheck_report *rep)
{
	uint32_t *view = calloc(maxn + 1, sizeof(*view));
	uint32_t too_hard = NONE;
	struct lc_search s;
	struct lc_key k;
	size_t i = 0;
	int r = 0;

	if (!view || search_init(&s, maxn, needs_count(lc))) {
		free(view);
		return -ENOMEM;
	}
	while (i < lc->n) {
		next_key(lc, v, &i, view, &k);
		r = check_key(lc, &s, &k, rep);
		if (r < 0 || r == LINCHECK_NOT_LINEARIZABLE)
			break;
		if (r == LINCHECK_TOO_HARD && too_hard == NONE)
			too_hard = k.id;
		r = 0;
	}
	if (!r && too_hard != NONE) {
		r = LINCHECK_TOO_HARD;
		name_object(lc, too_hard, rep);
	}
	rep->steps = s.steps;
	search_free(&s);
	free(view);
	return r;
}

int lincheck_run(struct lincheck *lc, struct lincheck_report *rep)
{
	struct lc_sort *v;
	size_t i, maxn;
	long keys;
	int r;

	memset(rep, 0, sizeof(*rep));
	rep->ops = lc->n;
	for (i = 0; i < lc->n; i++)
		rep->unknown += lc->ops[i].result == LINCHECK_UNKNOWN;
	keys = count_keys(lc);
	if (keys < 0 || prepare(lc))
		return -ENOMEM;
	rep->keys = keys;
	v = sort_by_key(lc, &maxn);
	if (!v)
		return -ENOMEM;
	r = check_keys(lc, v, maxn, rep);
	free(v);
	if (r < 0) {
		lincheck_report_free(rep);
		return r;
	}
	rep->verdict = r;
	return r;
}

void lincheck_report_free(struct lincheck_report *rep)
{
	free(rep->window);
	rep->window = NULL;
	rep->window_len = 0;
}

/* ---- output ---- */

/* Quoted, with the escapes JSON needs. */
static void put_str(FILE *out, const char *s)
{
	unsigned char c;

	fputc('"', out);
	for (; *s; s++) {
		c = *s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void print_holder(FILE *out, const struct lc_op *op)
{
	if (!op->has_holder)
		return;
	if (op->holder)
		fprintf(out, " (holder %" PRIu64 ")", op->holder);
	else
		fputs(" (lock free)", out);
}

static void print_args(FILE *out, const struct lincheck *lc,
		       const struct lc_op *op)
{
	if (op->type == LINCHECK_PUT || op->type == LINCHECK_FPUT) {
		fputc(' ', out);
		put_str(out, state_str(lc, op->value));
	} else if (op->type == LINCHECK_CAS) {
		fputc(' ', out);
		if (op->expect == ABSENT)
			fputs("absent", out);
		else
			put_str(out, state_str(lc, op->expect));
		fputs(" => ", out);
		put_str(out, state_str(lc, op->value));
	}
	if (op->type == LINCHECK_FPUT || op->type == LINCHECK_RELEASE)
		fprintf(out, " token %" PRIu64, op->token);
	fputs(" -> ", out);
	if (op->type == LINCHECK_GET && op->result == LINCHECK_OK)
		put_str(out, state_str(lc, op->value));
	else if (op->type == LINCHECK_ACQUIRE && op->result == LINCHECK_OK)
		fprintf(out, "token %" PRIu64, op->token);
	else
		fputs(result_names[op->result], out);
	print_holder(out, op);
}

static void print_time(FILE *out, uint64_t t, uint64_t t0)
{
	char buf[24];

	if (t == NEVER)
		snprintf(buf, sizeof(buf), "-");
	else
		snprintf(buf, sizeof(buf), "+%" PRIu64, t - t0);
	fprintf(out, " %12s", buf);
}

static void print_window_op(FILE *out, const struct lincheck *lc,
			    const struct lincheck_report *rep,
			    const struct lincheck_window_op *w, uint64_t t0)
{
	const struct lc_op *op = &lc->ops[w->op];

	fputc(w->op == rep->culprit ? '*' : w->optional ? '?' : ' ', out);
	print_time(out, op->start, t0);
	print_time(out, op->end, t0);
	fprintf(out, " %7" PRIu32, op->client);
	if (op->line)
		fprintf(out, " %6u  ", op->line);
	else
		fprintf(out, " %6s  ", "-");
	fputs(type_names[op->type], out);
	print_args(out, lc, op);
	fputc('\n', out);
}

/*
 * An optional op that started before every forced one and writes nothing
 * those look for: ops that may take effect any time pile up there (every
 * timeout since the start of the history), so the text leaves them out.
 * Not an acquire: what it does to the lock matters to more than a need.
 */
static bool is_bystander(const struct lincheck *lc,
			 const struct lincheck_report *rep, size_t i,
			 uint64_t first)
{
	const struct lc_op *op = &lc->ops[rep->window[i].op];
	uint32_t write = op_write(lc, op);
	size_t j;

	if (!rep->window[i].optional || op->start >= first ||
	    op->type == LINCHECK_ACQUIRE)
		return false;
	for (j = 0; j < rep->window_len; j++) {
		if (!rep->window[j].optional &&
		    op_need(lc, &lc->ops[rep->window[j].op]) == write)
			return false;
	}
	return true;
}

static uint64_t first_forced_start(const struct lincheck *lc,
				   const struct lincheck_report *rep)
{
	uint64_t first = NEVER;
	size_t i;

	for (i = 0; i < rep->window_len; i++) {
		if (!rep->window[i].optional &&
		    lc->ops[rep->window[i].op].start < first)
			first = lc->ops[rep->window[i].op].start;
	}
	return first;
}

static void print_window_head(FILE *out, const struct lincheck *lc,
			      const struct lincheck_report *rep, size_t shown,
			      uint64_t t0)
{
	const struct lc_op *culprit = &lc->ops[rep->culprit];

	fprintf(out, "no valid place for client %" PRIu32 "'s ",
		culprit->client);
	fputs(type_names[culprit->type], out);
	print_args(out, lc, culprit);
	if (culprit->line)
		fprintf(out, " (line %u)", culprit->line);
	if (shown == 1)
		fputs(":\nthe op below has no linearization from ", out);
	else
		fprintf(out, ":\nthe %zu ops below have no linearization from ",
			shown);
	if (rep->from_start && rep->lock)
		fputs("the initial state (lock free, key absent)\n", out);
	else if (rep->from_start)
		fputs("the initial state (absent)\n", out);
	else
		fprintf(out, "any state the %s may have held at t0%c%" PRIu64
			"\n", rep->lock ? "lock and key" : "key",
			rep->cut >= t0 ? '+' : '-',
			rep->cut >= t0 ? rep->cut - t0 : t0 - rep->cut);
	if (!rep->minimal)
		fputs("(the search budget ran out before the window was the smallest)\n",
		      out);
	fprintf(out, "times in ns from t0 = %" PRIu64
		"; * no valid place, ? may take effect later or never\n", t0);
	fprintf(out, " %12s %12s %7s %6s  op\n", "start", "end", "client",
		"line");
}

static void print_window(FILE *out, const struct lincheck *lc,
			 const struct lincheck_report *rep)
{
	uint64_t first = first_forced_start(lc, rep), t0 = NEVER;
	size_t i, hidden = 0;

	for (i = 0; i < rep->window_len; i++) {
		if (is_bystander(lc, rep, i, first))
			hidden++;
		else if (t0 == NEVER)
			t0 = lc->ops[rep->window[i].op].start;
	}
	print_window_head(out, lc, rep, rep->window_len - hidden, t0);
	for (i = 0; i < rep->window_len; i++) {
		if (!is_bystander(lc, rep, i, first))
			print_window_op(out, lc, rep, &rep->window[i], t0);
	}
	if (hidden)
		fprintf(out, "nor with %zu more ops that started earlier and may take effect\n"
			"any time, none writing what an op above reads or expects\n",
			hidden);
}

/* key "k", or lock "lock/l0" guarding "g0". */
static void print_object(FILE *out, const struct lincheck_report *rep)
{
	fputs(rep->lock ? "lock " : "key ", out);
	put_str(out, rep->key);
	if (rep->guarded) {
		fputs(" guarding ", out);
		put_str(out, rep->guarded);
	}
}

void lincheck_print(FILE *out, const struct lincheck *lc,
		    const struct lincheck_report *rep)
{
	switch (rep->verdict) {
	case LINCHECK_LINEARIZABLE:
		fprintf(out, "linearizable: %zu ops on %zu keys (%zu unknown)\n",
			rep->ops, rep->keys, rep->unknown);
		return;
	case LINCHECK_TOO_HARD:
		fputs("too hard: ", out);
		print_object(out, rep);
		fprintf(out, " needs more than %" PRIu64
			" search steps (%zu ops on %zu keys, %zu unknown)\n",
			lc->budget, rep->ops, rep->keys, rep->unknown);
		return;
	default:
		fputs("not linearizable: ", out);
		print_object(out, rep);
		fprintf(out, " (%zu ops on %zu keys, %zu unknown)\n",
			rep->ops, rep->keys, rep->unknown);
		if (rep->why[0])
			fprintf(out, "why: %s\n", rep->why);
		print_window(out, lc, rep);
	}
}

static void json_op_args(FILE *out, const struct lincheck *lc,
			 const struct lc_op *op)
{
	if (op->type == LINCHECK_CAS && op->expect == ABSENT) {
		fputs(",\"expect_absent\":true", out);
	} else if (op->type == LINCHECK_CAS) {
		fputs(",\"expect\":", out);
		put_str(out, state_str(lc, op->expect));
	}
	if (op->type == LINCHECK_FPUT) {
		fputs(",\"fence\":", out);
		put_str(out, lc->strs.str[op->fence]);
	}
	if (op->value != ABSENT) {
		fputs(",\"value\":", out);
		put_str(out, state_str(lc, op->value));
	} else if (op->type == LINCHECK_GET &&
		   op->result == LINCHECK_NOT_FOUND) {
		fputs(",\"found\":false", out);
	}
	if (op->token)
		fprintf(out, ",\"token\":%" PRIu64, op->token);
	if (op->has_holder)
		fprintf(out, ",\"holder\":%" PRIu64, op->holder);
}

static void json_window_op(FILE *out, const struct lincheck *lc,
			   const struct lincheck_window_op *w, uint64_t t0)
{
	const struct lc_op *op = &lc->ops[w->op];

	fprintf(out, "{\"index\":%zu,\"line\":%u,\"client\":%" PRIu32
		",\"op\":\"%s\"", w->op, op->line, op->client,
		type_names[op->type]);
	json_op_args(out, lc, op);
	fprintf(out, ",\"result\":\"%s\",\"start\":%" PRIu64 ",\"end\":",
		result_names[op->result], op->start - t0);
	if (op->end == NEVER)
		fputs("null", out);
	else
		fprintf(out, "%" PRIu64, op->end - t0);
	fprintf(out, ",\"optional\":%s}", w->optional ? "true" : "false");
}

static void json_window(FILE *out, const struct lincheck *lc,
			const struct lincheck_report *rep)
{
	uint64_t t0 = lc->ops[rep->window[0].op].start;
	size_t i;

	fprintf(out, ",\"culprit\":%zu,\"minimal\":%s,\"from_start\":%s,",
		rep->culprit, rep->minimal ? "true" : "false",
		rep->from_start ? "true" : "false");
	if (!rep->from_start)
		fprintf(out, "\"cut\":%" PRIu64 ",", rep->cut);
	fprintf(out, "\"t0\":%" PRIu64 ",\"window\":[", t0);
	for (i = 0; i < rep->window_len; i++) {
		if (i)
			fputc(',', out);
		json_window_op(out, lc, &rep->window[i], t0);
	}
	fputc(']', out);
}

void lincheck_print_json(FILE *out, const struct lincheck *lc,
			 const struct lincheck_report *rep)
{
	static const char *const verdicts[] = {
		[LINCHECK_LINEARIZABLE] = "linearizable",
		[LINCHECK_NOT_LINEARIZABLE] = "not-linearizable",
		[LINCHECK_TOO_HARD] = "too-hard",
	};

	fprintf(out, "{\"verdict\":\"%s\",\"ops\":%zu,\"keys\":%zu,"
		"\"unknown\":%zu,\"steps\":%" PRIu64 ",\"budget\":%" PRIu64,
		verdicts[rep->verdict], rep->ops, rep->keys, rep->unknown,
		rep->steps, lc->budget);
	if (rep->key) {
		fputs(",\"key\":", out);
		put_str(out, rep->key);
	}
	if (rep->lock)
		fputs(",\"lock\":true", out);
	if (rep->guarded) {
		fputs(",\"guarded\":", out);
		put_str(out, rep->guarded);
	}
	if (rep->verdict == LINCHECK_NOT_LINEARIZABLE && rep->why[0]) {
		fputs(",\"why\":", out);
		put_str(out, rep->why);
	}
	if (rep->verdict == LINCHECK_NOT_LINEARIZABLE && rep->window_len)
		json_window(out, lc, rep);
	fputs("}\n", out);
}

/* ---- the JSON Lines parser ---- */

struct lc_json {
	const char *p, *end, *line_start;
	unsigned int line;
	char *err;
	size_t errlen;
};

enum lc_jkind { J_NONE, J_STR, J_UINT, J_BOOL, J_NULL, J_OTHER };

struct lc_jval {
	enum lc_jkind kind;
	uint64_t u;
	bool b;
	char *s;
};

enum lc_field {
	F_CLIENT, F_OP, F_KEY, F_VALUE, F_EXPECT, F_EXPECT_ABSENT, F_FOUND,
	F_START, F_END, F_RESULT, F_FENCE, F_TOKEN, F_HOLDER, F_COUNT
};

static const struct {
	const char *name;
	enum lc_jkind kind;
} lc_fields[F_COUNT] = {
	[F_CLIENT] = { "client", J_UINT },
	[F_OP] = { "op", J_STR },
	[F_KEY] = { "key", J_STR },
	[F_VALUE] = { "value", J_STR },
	[F_EXPECT] = { "expect", J_STR },
	[F_EXPECT_ABSENT] = { "expect_absent", J_BOOL },
	[F_FOUND] = { "found", J_BOOL },
	[F_START] = { "start", J_UINT },
	[F_END] = { "end", J_UINT },
	[F_RESULT] = { "result", J_STR },
	[F_FENCE] = { "fence", J_STR },
	[F_TOKEN] = { "token", J_UINT },
	[F_HOLDER] = { "holder", J_UINT },
};

#define JSON_MAX_NESTING	16

__attribute__((format(printf, 2, 3)))
static int syntax_error(struct lc_json *j, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(j->err, j->errlen, "line %u, column %zu: %s", j->line,
	    (size_t)(j->p - j->line_start) + 1, msg);
	return -EINVAL;
}

__attribute__((format(printf, 2, 3)))
static int field_error(struct lc_json *j, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(j->err, j->errlen, "line %u: %s", j->line, msg);
	return -EINVAL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void skip_ws(struct lc_json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t'))
		j->p++;
}

static bool peek(const struct lc_json *j, char c)
{
	return j->p < j->end && *j->p == c;
}

static int expect_char(struct lc_json *j, char c, const char *what)
{
	if (!peek(j, c))
		return syntax_error(j, "expected %s", what);
	j->p++;
	return 0;
}

/* Only \" and \\ are escapes in this format. */
static int parse_string(struct lc_json *j, char **out)
{
	char *s, *d;

	if (!peek(j, '"'))
		return syntax_error(j, "expected a string");
	j->p++;
	s = d = malloc(j->end - j->p + 1);
	if (!s)
		return syntax_error(j, "out of memory");
	for (; j->p < j->end && *j->p != '"'; j->p++) {
		if ((unsigned char)*j->p < 0x20)
			goto bad_char;
		if (*j->p == '\\' && ++j->p < j->end && *j->p != '"' &&
		    *j->p != '\\')
			goto bad_escape;
		if (j->p == j->end)
			break;
		*d++ = *j->p;
	}
	if (j->p == j->end) {
		free(s);
		return syntax_error(j, "unterminated string");
	}
	j->p++;
	*d = '\0';
	*out = s;
	return 0;
bad_char:
	free(s);
	return syntax_error(j, "control character in a string");
bad_escape:
	free(s);
	return syntax_error(j, "unsupported escape (only \\\" and \\\\)");
}

static bool skip_digits(struct lc_json *j)
{
	const char *from = j->p;

	while (j->p < j->end && is_digit(*j->p))
		j->p++;
	return j->p > from;
}

/* A plain integer that fits is J_UINT; any other number J_OTHER. */
static int parse_number(struct lc_json *j, struct lc_jval *v)
{
	const char *from = j->p;
	bool negative = peek(j, '-');

	if (negative)
		j->p++;
	if (!skip_digits(j))
		return syntax_error(j, "expected digits");
	v->kind = negative ? J_OTHER : J_UINT;
	for (v->u = 0; from < j->p && v->kind == J_UINT; from++) {
		if (v->u > (UINT64_MAX - (*from - '0')) / 10)
			v->kind = J_OTHER;
		v->u = v->u * 10 + (*from - '0');
	}
	if (peek(j, '.')) {
		v->kind = J_OTHER;
		j->p++;
		if (!skip_digits(j))
			return syntax_error(j, "expected digits");
	}
	if (peek(j, 'e') || peek(j, 'E')) {
		v->kind = J_OTHER;
		j->p++;
		if (peek(j, '+') || peek(j, '-'))
			j->p++;
		if (!skip_digits(j))
			return syntax_error(j, "expected digits");
	}
	return 0;
}

static bool parse_word(struct lc_json *j, const char *word)
{
	size_t len = strlen(word);

	if ((size_t)(j->end - j->p) < len || memcmp(j->p, word, len))
		return false;
	j->p += len;
	return true;
}

static int parse_value(struct lc_json *j, struct lc_jval *v, int depth);

/* An array or object in a field nobody reads: checked, then dropped. */
static int skip_nested(struct lc_json *j, int depth)
{
	bool object = peek(j, '{');
	char close = object ? '}' : ']';
	struct lc_jval v;
	char *name;
	int r;

	if (depth >= JSON_MAX_NESTING)
		return syntax_error(j, "nested too deep");
	j->p++;
	skip_ws(j);
	if (peek(j, close)) {
		j->p++;
		return 0;
	}
	for (;;) {
		skip_ws(j);
		if (object) {
			r = parse_string(j, &name);
			if (r)
				return r;
			free(name);
			skip_ws(j);
			r = expect_char(j, ':', "':'");
			if (r)
				return r;
			skip_ws(j);
		}
		v = (struct lc_jval){ 0 };
		r = parse_value(j, &v, depth + 1);
		free(v.s);
		if (r)
			return r;
		skip_ws(j);
		if (!peek(j, ','))
			return expect_char(j, close, object ? "',' or '}'" :
					   "',' or ']'");
		j->p++;
	}
}

static int parse_value(struct lc_json *j, struct lc_jval *v, int depth)
{
	if (peek(j, '"')) {
		v->kind = J_STR;
		return parse_string(j, &v->s);
	}
	if (peek(j, '{') || peek(j, '[')) {
		v->kind = J_OTHER;
		return skip_nested(j, depth);
	}
	if (peek(j, '-') || (j->p < j->end && is_digit(*j->p)))
		return parse_number(j, v);
	v->kind = J_BOOL;
	if (parse_word(j, "true"))
		v->b = true;
	else if (parse_word(j, "false"))
		v->b = false;
	else if (parse_word(j, "null"))
		v->kind = J_NULL;
	else
		return syntax_error(j, "expected a value");
	return 0;
}

static const char *kind_name(enum lc_jkind kind)
{
	switch (kind) {
	case J_STR:
		return "a string";
	case J_UINT:
		return "a non-negative integer";
	default:
		return "true or false";
	}
}

/* Takes v->s. */
static int set_field(struct lc_json *j, struct lc_jval *fields,
		     const char *name, struct lc_jval *v)
{
	int i;

	for (i = 0; i < F_COUNT && strcmp(lc_fields[i].name, name); i++)
		;
	if (i == F_COUNT) {
		free(v->s);
		return 0;
	}
	if (fields[i].kind != J_NONE || v->kind != lc_fields[i].kind) {
		free(v->s);
		if (fields[i].kind != J_NONE)
			return field_error(j, "\"%s\" twice", name);
		return field_error(j, "\"%s\" must be %s", name,
				   kind_name(lc_fields[i].kind));
	}
	fields[i] = *v;
	return 0;
}

static int parse_member(struct lc_json *j, struct lc_jval *fields)
{
	struct lc_jval v = { 0 };
	char *name;
	int r;

	skip_ws(j);
	r = parse_string(j, &name);
	if (r)
		return r;
	skip_ws(j);
	r = expect_char(j, ':', "':'");
	skip_ws(j);
	if (!r)
		r = parse_value(j, &v, 0);
	if (!r)
		r = set_field(j, fields, name, &v);
	else
		free(v.s);
	free(name);
	return r;
}

static int parse_object(struct lc_json *j, struct lc_jval *fields)
{
	int r = expect_char(j, '{', "'{'");

	skip_ws(j);
	if (!r && peek(j, '}')) {
		j->p++;
	} else {
		while (!r) {
			r = parse_member(j, fields);
			skip_ws(j);
			if (r || !peek(j, ','))
				break;
			j->p++;
		}
		if (!r)
			r = expect_char(j, '}', "',' or '}'");
	}
	skip_ws(j);
	if (!r && j->p != j->end)
		r = syntax_error(j, "text after the object");
	return r;
}

static int lookup(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!strcmp(names[i], s))
			return i;
	}
	return -1;
}

static int check_required(struct lc_json *j, const struct lc_jval *f)
{
	static const enum lc_field required[] = {
		F_CLIENT, F_OP, F_KEY, F_START, F_RESULT,
	};
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (f[required[i]].kind == J_NONE)
			return field_error(j, "no \"%s\"",
					   lc_fields[required[i]].name);
	}
	if (f[F_CLIENT].u > UINT32_MAX)
		return field_error(j, "\"client\" above %" PRIu32, UINT32_MAX);
	return 0;
}

/* "found":false is another way to say not-found. */
static int get_to_op(struct lc_json *j, const struct lc_jval *f,
		     struct lincheck_op *op)
{
	bool found = f[F_FOUND].kind == J_NONE || f[F_FOUND].b;

	if (found && op->result == LINCHECK_OK && !op->value)
		return field_error(j, "get returning ok needs \"value\" or \"found\":false");
	if (!found && op->value)
		return field_error(j, "get with both \"found\":false and a \"value\"");
	if (f[F_FOUND].kind != J_NONE && found &&
	    op->result == LINCHECK_NOT_FOUND)
		return field_error(j, "get with both \"found\":true and not-found");
	if (!found && op->result == LINCHECK_OK)
		op->result = LINCHECK_NOT_FOUND;
	return 0;
}

static int cas_to_op(struct lc_json *j, const struct lc_jval *f,
		     struct lincheck_op *op)
{
	bool absent = f[F_EXPECT_ABSENT].kind != J_NONE && f[F_EXPECT_ABSENT].b;

	if (absent && op->expect)
		return field_error(j, "cas with both \"expect\" and \"expect_absent\":true");
	if (!absent && !op->expect)
		return field_error(j, "cas needs \"expect\" or \"expect_absent\":true");
	return 0;
}

static int fields_to_op(struct lc_json *j, const struct lc_jval *f,
			struct lincheck_op *op)
{
	int type, result, r = check_required(j, f);

	if (r)
		return r;
	type = lookup(type_names, TYPES, f[F_OP].s);
	if (type < 0)
		return field_error(j, "unknown op \"%s\"", f[F_OP].s);
	result = lookup(result_names, RESULTS, f[F_RESULT].s);
	if (result < 0)
		return field_error(j, "unknown result \"%s\"", f[F_RESULT].s);
	if (result != LINCHECK_UNKNOWN && f[F_END].kind == J_NONE)
		return field_error(j, "no \"end\" (only an unknown result may have none)");
	*op = (struct lincheck_op){
		.client = f[F_CLIENT].u,
		.type = type,
		.result = result,
		.key = f[F_KEY].s,
		.value = type == LINCHECK_DEL || type == LINCHECK_ACQUIRE ||
			 type == LINCHECK_RELEASE ? NULL : f[F_VALUE].s,
		.expect = type == LINCHECK_CAS ? f[F_EXPECT].s : NULL,
		.fence = type == LINCHECK_FPUT ? f[F_FENCE].s : NULL,
		.token = f[F_TOKEN].u,
		.holder = f[F_HOLDER].u,
		.has_holder = f[F_HOLDER].kind != J_NONE,
		.start = f[F_START].u,
		.end = f[F_END].u,
		.line = j->line,
	};
	if (type == LINCHECK_GET)
		return get_to_op(j, f, op);
	if (type == LINCHECK_CAS)
		return cas_to_op(j, f, op);
	return 0;
}

static int load_line(struct lincheck *lc, struct lc_json *j)
{
	struct lc_jval fields[F_COUNT] = { { 0 } };
	struct lincheck_op op;
	char why[160];
	int i, r;

	r = parse_object(j, fields);
	if (!r)
		r = fields_to_op(j, fields, &op);
	if (!r) {
		r = lincheck_add(lc, &op, why, sizeof(why));
		if (r)
			field_error(j, "%s", why);
	}
	for (i = 0; i < F_COUNT; i++)
		free(fields[i].s);
	return r;
}

int lincheck_load(struct lincheck *lc, FILE *in, char *err, size_t errlen)
{
	struct lc_json j = { .err = err, .errlen = errlen };
	size_t cap = 0;
	char *buf = NULL;
	ssize_t len;
	int r = 0;

	while (!r && (len = getline(&buf, &cap, in)) >= 0) {
		j.line++;
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			len--;
		j.p = j.line_start = buf;
		j.end = buf + len;
		skip_ws(&j);
		if (j.p != j.end)
			r = load_line(lc, &j);
	}
	if (!r && ferror(in)) {
		say(err, errlen, "line %u: read error", j.line + 1);
		r = -EIO;
	}
	free(buf);
	return r;
}
