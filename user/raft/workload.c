// SPDX-License-Identifier: GPL-2.0
/*
 * The key-value workload (workload.h): one thread per client, each with
 * what it believes every key holds, for its compare-and-swaps; or, with
 * locks, taking them, writing the keys they guard and releasing them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workload.h"

#define TICK_NS			10000000ULL
#define PROGRESS_NS		100000000ULL
#define KEY_SIZE		24
#define MSEC_NS			1000000ULL
#define LOCK_GET_PCT		25	/* of the rounds: a get, no lock */
#define LOCK_READ_PCT		25	/* after a put held: a get of its key */
#define LOCK_RETRY_MS		20	/* at most, after no lock */

struct samples {
	uint64_t *v;
	size_t n;
	size_t cap;
};

struct shared {
	const struct raft_workload_opts *o;
	unsigned int mix_total;
	atomic_bool stop;
	atomic_uint_fast64_t claimed;	/* ops started, for o->ops */
	atomic_uint_fast64_t done;
	atomic_uint running;
};

struct worker {
	pthread_t thread;
	struct shared *sh;
	struct raft_client *c;
	unsigned int client;		/* 1-based, as in the history */
	uint64_t rng;
	uint64_t n;
	char **known;			/* per key; NULL: thought absent */
	uint16_t *known_len;
	struct raft_op_counts by_op[RAFT_OP_COUNT];
	struct raft_lock_counts locks;
	uint64_t errors;
	struct samples answered;
	struct samples writes;
	uint64_t finished_ns;
	int err;
};

/* The ops of a run with locks, after those of the mix. */
enum { OP_ACQUIRE = RAFT_OP_COUNT, OP_FPUT, OP_RELEASE, OP_KINDS };

/* One operation as the history shows it. */
struct op {
	unsigned int type;		/* enum raft_op, or one of the above */
	unsigned int key_index;
	char key[KEY_SIZE];
	char value[KV_VALUE_MAX];
	uint16_t vallen;
	bool has_value;
	bool expect_absent;
	char expect[KV_VALUE_MAX];
	uint16_t expectlen;
	char fence[KEY_SIZE];		/* fput: the lock key */
	uint64_t token;			/* acquire ok; fput, release */
	uint64_t holder;		/* held, fenced: the lock's revision */
	uint64_t lease;			/* acquire */
	bool has_holder;
	bool paused;			/* fput: after a pause past the ttl */
	uint64_t start;
	uint64_t end;
	const char *result;
};

static const char *const op_names[OP_KINDS] = {
	[RAFT_OP_GET] = "get",
	[RAFT_OP_PUT] = "put",
	[RAFT_OP_DEL] = "del",
	[RAFT_OP_CAS] = "cas",
	[OP_ACQUIRE] = "acquire",
	[OP_FPUT] = "fput",
	[OP_RELEASE] = "release",
};

const char *raft_op_name(unsigned int op)
{
	return op < RAFT_OP_COUNT ? op_names[op] : "?";
}

void raft_workload_defaults(struct raft_workload_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->clients = 4;
	o->duration_ns = 10000000000ULL;
	o->keys = 10;
	o->mix[RAFT_OP_PUT] = 40;
	o->mix[RAFT_OP_GET] = 40;
	o->mix[RAFT_OP_CAS] = 15;
	o->mix[RAFT_OP_DEL] = 5;
	o->lock_ttl_ms = RAFT_WORKLOAD_LOCK_TTL_MS;
	o->pause_pct = RAFT_WORKLOAD_PAUSE_PCT;
}

static int parse_weight(const char *item, size_t len, unsigned int mix[],
			const char **why)
{
	const char *eq = memchr(item, '=', len);
	unsigned int op, w = 0;

	for (op = 0; op < RAFT_OP_COUNT; op++)
		if (eq && (size_t)(eq - item) == strlen(op_names[op]) &&
		    !strncmp(item, op_names[op], (size_t)(eq - item)))
			break;
	if (op == RAFT_OP_COUNT) {
		*why = "mix is OP=WEIGHT,... with OP get, put, del or cas";
		return -EINVAL;
	}
	if (eq + 1 == item + len) {
		*why = "a weight is missing";
		return -EINVAL;
	}
	for (const char *p = eq + 1; p < item + len; p++) {
		if (*p < '0' || *p > '9' || w > 1000000) {
			*why = "a weight is not a number up to 1000000";
			return -EINVAL;
		}
		w = w * 10 + (unsigned int)(*p - '0');
	}
	if (w > 1000000) {
		*why = "a weight is not a number up to 1000000";
		return -EINVAL;
	}
	mix[op] = w;
	return 0;
}

int raft_workload_parse_mix(const char *text, unsigned int mix[RAFT_OP_COUNT],
			    const char **why)
{
	unsigned int total = 0;
	size_t len;

	memset(mix, 0, RAFT_OP_COUNT * sizeof(mix[0]));
	for (const char *p = text;; p += len + 1) {
		len = strcspn(p, ",");
		if (parse_weight(p, len, mix, why))
			return -EINVAL;
		if (!p[len])
			break;
	}
	for (unsigned int op = 0; op < RAFT_OP_COUNT; op++)
		total += mix[op];
	if (!total) {
		*why = "every weight is 0";
		return -EINVAL;
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ULL),
		.tv_nsec = (long)(ns % 1000000000ULL),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* splitmix64: any seed, even 0, gives a good sequence. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = (*state += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static int samples_add(struct samples *s, uint64_t v)
{
	uint64_t *grown;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		grown = realloc(s->v, s->cap * sizeof(*s->v));
		if (!grown)
			return -ENOMEM;
		s->v = grown;
	}
	s->v[s->n++] = v;
	return 0;
}

static unsigned int pick_op(struct worker *w)
{
	const unsigned int *mix = w->sh->o->mix;
	uint64_t r = next_random(&w->rng) % w->sh->mix_total;
	unsigned int op;

	for (op = 0; op < RAFT_OP_COUNT - 1; op++) {
		if (r < mix[op])
			break;
		r -= mix[op];
	}
	return op;
}

/* "c<client>-<n>" for the op, n counting the client's ops, padded. */
static void fill_value(struct worker *w, struct op *op)
{
	int len;

	len = snprintf(op->value, sizeof(op->value), "c%u-%llu", w->client,
		       (unsigned long long)w->n);
	while ((unsigned int)len < w->sh->o->value_size)
		op->value[len++] = '.';
	op->vallen = (uint16_t)len;
}

static void make_op(struct worker *w, struct op *op)
{
	const struct raft_workload_opts *o = w->sh->o;

	memset(op, 0, sizeof(*op));
	op->type = pick_op(w);
	op->key_index = (unsigned int)(next_random(&w->rng) % o->keys);
	snprintf(op->key, sizeof(op->key), "k%u", op->key_index);
	w->n++;
	if (op->type != RAFT_OP_PUT && op->type != RAFT_OP_CAS)
		return;
	fill_value(w, op);
	op->has_value = true;
	op->expect_absent = !w->known[op->key_index];
	op->expectlen = w->known_len[op->key_index];
	if (!op->expect_absent)
		memcpy(op->expect, w->known[op->key_index], op->expectlen);
}

static int send_op(struct worker *w, struct op *op, struct kv_result *res)
{
	size_t keylen = strlen(op->key);

	switch (op->type) {
	case RAFT_OP_GET:
		return raft_client_get(w->c, op->key, keylen, res);
	case RAFT_OP_PUT:
		return raft_client_put(w->c, op->key, keylen, op->value,
				       op->vallen, res);
	case RAFT_OP_DEL:
		return raft_client_del(w->c, op->key, keylen, res);
	default:
		return raft_client_cas(w->c, op->key, keylen,
				       op->expect_absent ? NULL : op->expect,
				       op->expectlen, op->value, op->vallen,
				       res);
	}
}

static int believe(struct worker *w, unsigned int key, const void *value,
		   uint16_t len)
{
	char *copy = NULL;

	if (value) {
		copy = malloc(len ? len : 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, value, len);
	}
	free(w->known[key]);
	w->known[key] = copy;
	w->known_len[key] = len;
	return 0;
}

/* The result's name for the history, or NULL when it is none of op's. */
static const char *result_of(const struct op *op, const struct kv_result *res)
{
	if (res->status == KV_OK)
		return "ok";
	if (res->status == KV_NOT_FOUND &&
	    (op->type == RAFT_OP_GET || op->type == RAFT_OP_DEL))
		return "not-found";
	if (res->status == KV_CAS_FAILED && op->type == RAFT_OP_CAS)
		return "cas-failed";
	return NULL;
}

/* What the client believes the key holds after the op. */
static int learn(struct worker *w, struct op *op, const struct kv_result *res,
		 bool answered)
{
	unsigned int key = op->key_index;

	if (op->type == RAFT_OP_DEL)
		return believe(w, key, NULL, 0);
	if (op->type == RAFT_OP_PUT || (op->type == RAFT_OP_CAS &&
					(!answered || res->status == KV_OK)))
		return believe(w, key, op->value, op->vallen);
	if (!answered)
		return 0;
	if (op->type == RAFT_OP_GET && res->status == KV_OK) {
		memcpy(op->value, res->value, res->vallen);
		op->vallen = res->vallen;
		op->has_value = true;
	}
	return believe(w, key, res->has_value ? res->value : NULL,
		       res->has_value ? res->vallen : 0);
}

static void count(struct worker *w, const struct op *op)
{
	struct raft_op_counts *c = &w->by_op[op->type];

	c->ops++;
	if (!strcmp(op->result, "ok"))
		c->ok++;
	else if (!strcmp(op->result, "not-found"))
		c->not_found++;
	else if (!strcmp(op->result, "cas-failed"))
		c->cas_failed++;
	else
		c->unknown++;
}

static void put_string(FILE *f, const char *key, const char *s, size_t len)
{
	fprintf(f, ",\"%s\":\"", key);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void record(struct worker *w, const struct op *op)
{
	FILE *f = w->sh->o->history;

	if (!f)
		return;
	flockfile(f);
	fprintf(f, "{\"client\":%u,\"op\":\"%s\",\"key\":\"%s\"", w->client,
		op_names[op->type], op->key);
	if (op->type == OP_FPUT)
		fprintf(f, ",\"fence\":\"%s\"", op->fence);
	if (op->lease)
		fprintf(f, ",\"lease\":%llu", (unsigned long long)op->lease);
	if (op->token)
		fprintf(f, ",\"token\":%llu", (unsigned long long)op->token);
	if (op->type == RAFT_OP_CAS && op->expect_absent)
		fputs(",\"expect_absent\":true", f);
	else if (op->type == RAFT_OP_CAS)
		put_string(f, "expect", op->expect, op->expectlen);
	if (op->has_value &&
	    (op->type != RAFT_OP_GET || !strcmp(op->result, "ok")))
		put_string(f, "value", op->value, op->vallen);
	if (op->paused)
		fputs(",\"paused\":true", f);
	if (op->has_holder)
		fprintf(f, ",\"holder\":%llu", (unsigned long long)op->holder);
	fprintf(f, ",\"start\":%llu,\"end\":%llu,\"result\":\"%s\"}\n",
		(unsigned long long)op->start, (unsigned long long)op->end,
		op->result);
	funlockfile(f);
}

/* Its latency among the answered, and the writes if one that was ok. */
static int add_samples(struct worker *w, const struct op *op)
{
	bool answered = strcmp(op->result, "unknown");
	int ret = 0;

	if (answered)
		ret = samples_add(&w->answered, op->end - op->start);
	if (!ret && answered && op->type != RAFT_OP_GET &&
	    !strcmp(op->result, "ok"))
		ret = samples_add(&w->writes, op->end - op->start);
	return ret;
}

static int run_op(struct worker *w, struct op *op)
{
	struct kv_result res;
	bool answered;
	int ret;

	op->start = now_ns();
	ret = send_op(w, op, &res);
	op->end = now_ns();
	op->result = ret ? NULL : result_of(op, &res);
	answered = op->result != NULL;
	if (!answered) {
		op->result = "unknown";
		if (ret != -ETIMEDOUT)
			w->errors++;
	}
	ret = learn(w, op, &res, answered);
	record(w, op);
	count(w, op);
	return ret ?: add_samples(w, op);
}

static bool claim(struct shared *sh)
{
	if (atomic_load(&sh->stop))
		return false;
	return !sh->o->ops || atomic_fetch_add(&sh->claimed, 1) < sh->o->ops;
}

/* ---- locks ---- */

/* A lock a client is after, or holds. */
struct hold {
	char key[KEY_SIZE];		/* "lock/l<i>" */
	char guarded[KEY_SIZE];		/* "g<i>" */
	uint64_t lease;
	uint32_t ttl_ms;		/* the lease's, as granted */
	uint64_t refreshed;		/* when it was granted or kept alive */
	uint64_t token;
	bool lost;			/* a keepalive found the lease gone */
};

/* A claim taken for an op that did not happen. */
static void unclaim(struct shared *sh)
{
	if (sh->o->ops)
		atomic_fetch_sub(&sh->claimed, 1);
}

static uint64_t random_below(struct worker *w, uint64_t n)
{
	return next_random(&w->rng) % n;
}

static void lock_op(struct worker *w, struct op *op, unsigned int type,
		    const char *key)
{
	memset(op, 0, sizeof(*op));
	op->type = type;
	snprintf(op->key, sizeof(op->key), "%s", key);
	w->n++;
}

static int send_lock_op(struct worker *w, const struct op *op,
			const struct hold *h, struct kv_result *res)
{
	struct raft_client_write_opts wo = {
		.fence_key = h->key, .fence_keylen = strlen(h->key),
		.fence_token = h->token,
	};
	size_t keylen = strlen(op->key);

	switch (op->type) {
	case RAFT_OP_GET:
		return raft_client_get(w->c, op->key, keylen, res);
	case OP_ACQUIRE:
		wo = (struct raft_client_write_opts){ .lease = h->lease };
		return raft_client_cas_ex(w->c, op->key, keylen, NULL, 0,
					  op->value, op->vallen, &wo, res);
	case OP_FPUT:
		return raft_client_put_ex(w->c, op->key, keylen, op->value,
					  op->vallen, &wo, res);
	default:
		return raft_client_del_ex(w->c, op->key, keylen, &wo, res);
	}
}

/*
 * The result's name for the history, with what it tells of the lock, or
 * NULL when it is none of op's.  A failed cas and a fenced write come with
 * the lock key's revision: the holder's token, 0 if free.
 */
static const char *lock_result(struct op *op, const struct kv_result *res)
{
	switch (op->type) {
	case RAFT_OP_GET:
		if (res->status == KV_NOT_FOUND)
			return "not-found";
		if (res->status != KV_OK)
			return NULL;
		memcpy(op->value, res->value, res->vallen);
		op->vallen = res->vallen;
		op->has_value = true;
		return "ok";
	case OP_ACQUIRE:
		if (res->status == KV_OK && res->revision) {
			op->token = res->revision;
			return "ok";
		}
		if (res->status == KV_CAS_FAILED) {
			op->holder = res->revision;
			op->has_holder = res->revision != 0;
			return "held";
		}
		return res->status == KV_NO_LEASE ? "no-lease" : NULL;
	default:
		if (res->status == KV_OK)
			return "ok";
		if (res->status != KV_FENCED)
			return NULL;
		op->holder = res->revision;
		op->has_holder = true;
		return "fenced";
	}
}

static void count_lock(struct worker *w, const struct op *op)
{
	struct raft_lock_counts *l = &w->locks;
	bool ok = !strcmp(op->result, "ok");
	bool refused = !strcmp(op->result, "held") ||
		       !strcmp(op->result, "fenced");

	if (op->type == RAFT_OP_GET) {
		count(w, op);
		return;
	}
	l->unknown += !strcmp(op->result, "unknown");
	if (op->type == OP_ACQUIRE) {
		l->acquires++;
		l->acquired += ok;
		l->held += refused;
		l->no_lease += !strcmp(op->result, "no-lease");
	} else if (op->type == OP_FPUT) {
		l->fputs++;
		l->fput_ok += ok;
		l->fenced += refused;
	} else {
		l->releases++;
		l->released += ok;
		l->release_fenced += refused;
	}
}

static int run_lock_op(struct worker *w, struct op *op, const struct hold *h)
{
	struct kv_result res;
	int ret;

	op->start = now_ns();
	ret = send_lock_op(w, op, h, &res);
	op->end = now_ns();
	op->result = ret ? NULL : lock_result(op, &res);
	if (!op->result) {
		op->result = "unknown";
		if (ret != -ETIMEDOUT)
			w->errors++;
	}
	record(w, op);
	count_lock(w, op);
	atomic_fetch_add(&w->sh->done, 1);
	return add_samples(w, op);
}

static int lock_get(struct worker *w, const struct hold *h)
{
	struct op op;

	lock_op(w, &op, RAFT_OP_GET, h->guarded);
	return run_lock_op(w, &op, h);
}

/* A lease for the acquire: 0, or -1 when none was granted. */
static int grant(struct worker *w, struct hold *h)
{
	uint32_t ttl = w->sh->o->lock_ttl_ms;
	uint64_t t = now_ns();
	struct kv_result res;

	if (raft_client_lease_grant(w->c, ttl, &res) || res.status != KV_OK) {
		w->locks.grants_failed++;
		return -1;
	}
	h->lease = res.lease;
	h->ttl_ms = res.ttl_ms ?: ttl;
	h->refreshed = t;
	return 0;
}

/* Best effort: a lease left behind expires anyway. */
static void revoke(struct worker *w, const struct hold *h)
{
	struct kv_result res;

	raft_client_lease_revoke(w->c, h->lease, &res);
}

/* A keepalive, once a third of the ttl has passed since the last. */
static void keep_alive(struct worker *w, struct hold *h)
{
	uint64_t t = now_ns();
	struct kv_result res;

	if (h->lost || t - h->refreshed < h->ttl_ms * MSEC_NS / 3)
		return;
	w->locks.keepalives++;
	if (raft_client_lease_keepalive(w->c, h->lease, &res))
		return;
	if (res.status == KV_OK) {
		h->refreshed = t;
	} else if (res.status == KV_NO_LEASE) {
		h->lost = true;
		w->locks.leases_lost++;
	}
}

/*
 * Held: 1 to 3 fenced puts of the guarded key, as the limits allow, each
 * after a while of work (up to a tenth of the ttl) and a keepalive if due,
 * or, before one of them at pause_pct percent of the holds, after a sleep
 * of twice the ttl with no keepalive; each put perhaps followed by a get.
 */
static int hold_lock(struct worker *w, struct hold *h)
{
	unsigned int puts = 1 + (unsigned int)random_below(w, 3), i;
	unsigned int pause_at = puts;
	struct op op;
	int err = 0;

	if (random_below(w, 100) < w->sh->o->pause_pct)
		pause_at = (unsigned int)random_below(w, puts);
	for (i = 0; !err && i < puts && claim(w->sh); i++) {
		if (i == pause_at) {
			w->locks.pauses++;
			sleep_ns(2 * h->ttl_ms * MSEC_NS);
		} else {
			sleep_ns(random_below(w, h->ttl_ms / 10 + 1) * MSEC_NS);
			keep_alive(w, h);
		}
		lock_op(w, &op, OP_FPUT, h->guarded);
		fill_value(w, &op);
		op.has_value = true;
		snprintf(op.fence, sizeof(op.fence), "%s", h->key);
		op.token = h->token;
		op.paused = i == pause_at;
		err = run_lock_op(w, &op, h);
		if (!err && random_below(w, 100) < LOCK_READ_PCT &&
		    claim(w->sh))
			err = lock_get(w, h);
	}
	return err;
}

/*
 * The fenced del of the lock key, then the lease's revoke: counted, but
 * past the limits too.
 */
static int release(struct worker *w, const struct hold *h)
{
	struct op op;
	int err;

	claim(w->sh);
	lock_op(w, &op, OP_RELEASE, h->key);
	op.token = h->token;
	err = run_lock_op(w, &op, h);
	revoke(w, h);
	return err;
}

/*
 * One round of a client, its first op claimed: a get of a guarded key, or
 * an acquire of a lock, and if it is taken, the hold and the release.
 */
static int lock_round(struct worker *w)
{
	struct hold h = { 0 };
	unsigned int lock;
	struct op op;
	int err;

	lock = (unsigned int)random_below(w, w->sh->o->locks);
	snprintf(h.key, sizeof(h.key), "lock/l%u", lock);
	snprintf(h.guarded, sizeof(h.guarded), "g%u", lock);
	if (random_below(w, 100) < LOCK_GET_PCT)
		return lock_get(w, &h);
	if (grant(w, &h)) {
		unclaim(w->sh);
		sleep_ns(random_below(w, LOCK_RETRY_MS + 1) * MSEC_NS);
		return 0;
	}
	lock_op(w, &op, OP_ACQUIRE, h.key);
	fill_value(w, &op);
	op.lease = h.lease;
	err = run_lock_op(w, &op, &h);
	if (!err && !strcmp(op.result, "ok")) {
		h.token = op.token;
		err = hold_lock(w, &h);
		return release(w, &h) ?: err;
	}
	/* Unknown, the cas may have taken the lock: the revoke frees it. */
	if (strcmp(op.result, "no-lease"))
		revoke(w, &h);
	sleep_ns(random_below(w, LOCK_RETRY_MS + 1) * MSEC_NS);
	return err;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct op op;

	while (!w->err && claim(w->sh)) {
		if (w->sh->o->locks) {
			w->err = lock_round(w);
			continue;
		}
		make_op(w, &op);
		w->err = run_op(w, &op);
		atomic_fetch_add(&w->sh->done, 1);
	}
	w->finished_ns = now_ns();
	atomic_fetch_sub(&w->sh->running, 1);
	return NULL;
}

static bool opts_valid(const struct raft_workload_opts *o)
{
	unsigned int total = 0;

	for (unsigned int op = 0; op < RAFT_OP_COUNT; op++) {
		if (o->mix[op] > 1000000)
			return false;
		total += o->mix[op];
	}
	if (o->locks && (o->locks > RAFT_WORKLOAD_MAX_LOCKS ||
			 !o->lock_ttl_ms ||
			 o->lock_ttl_ms > RAFT_WORKLOAD_MAX_LOCK_TTL_MS ||
			 o->pause_pct > 100))
		return false;
	return o->servers && total && o->clients &&
	       o->clients <= RAFT_WORKLOAD_MAX_CLIENTS && o->keys &&
	       o->keys <= RAFT_WORKLOAD_MAX_KEYS &&
	       o->value_size <= RAFT_WORKLOAD_MAX_VALUE &&
	       (o->duration_ns || o->ops);
}

static void worker_free(struct worker *w, unsigned int keys)
{
	raft_client_free(w->c);
	if (w->known)
		for (unsigned int k = 0; k < keys; k++)
			free(w->known[k]);
	free(w->known);
	free(w->known_len);
	free(w->answered.v);
	free(w->writes.v);
}

static int worker_init(struct worker *w, struct shared *sh, unsigned int i)
{
	const struct raft_workload_opts *o = sh->o;
	struct raft_client_opts copts = {
		.attempt_ms = o->attempt_ms, .deadline_ms = o->deadline_ms,
	};

	w->sh = sh;
	w->client = i + 1;
	w->rng = o->seed ^ ((uint64_t)w->client << 40);
	w->known = calloc(o->keys, sizeof(*w->known));
	w->known_len = calloc(o->keys, sizeof(*w->known_len));
	if (!w->known || !w->known_len)
		return -ENOMEM;
	return raft_client_new(&w->c, o->servers, &copts);
}

/* Until the workers are done: the clock for a duration, and progress. */
static void supervise(struct shared *sh, uint64_t start)
{
	const struct raft_workload_opts *o = sh->o;
	uint64_t next_progress = start + PROGRESS_NS, now;

	while (atomic_load(&sh->running)) {
		sleep_ns(TICK_NS);
		now = now_ns();
		if (o->duration_ns && now - start >= o->duration_ns)
			atomic_store(&sh->stop, true);
		if (o->progress && now >= next_progress) {
			o->progress(atomic_load(&sh->done), o->progress_arg);
			next_progress += PROGRESS_NS;
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rank(const uint64_t *v, size_t n, unsigned int pct)
{
	size_t r = (n * pct + 99) / 100;

	return v[r ? r - 1 : 0];
}

static struct samples *samples_of(struct worker *w, bool writes)
{
	return writes ? &w->writes : &w->answered;
}

/* The percentiles of every worker's samples of one kind, or -ENOMEM. */
static int latency(struct worker *ws, unsigned int n, bool writes,
		   struct raft_latency *lat)
{
	size_t total = 0, at = 0;
	struct samples *s;
	uint64_t *all;

	for (unsigned int i = 0; i < n; i++)
		total += samples_of(&ws[i], writes)->n;
	memset(lat, 0, sizeof(*lat));
	if (!total)
		return 0;
	all = malloc(total * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		s = samples_of(&ws[i], writes);
		memcpy(all + at, s->v, s->n * sizeof(*all));
		at += s->n;
	}
	qsort(all, total, sizeof(*all), cmp_u64);
	lat->count = total;
	lat->p50_ns = rank(all, total, 50);
	lat->p99_ns = rank(all, total, 99);
	lat->max_ns = all[total - 1];
	free(all);
	return 0;
}

static void add_stats(struct raft_client_stats *sum,
		      const struct raft_client *c)
{
	struct raft_client_stats st;

	raft_client_get_stats(c, &st);
	sum->calls += st.calls;
	sum->attempts += st.attempts;
	sum->timeouts += st.timeouts;
	sum->redirects += st.redirects;
	sum->refusals += st.refusals;
	sum->strays += st.strays;
	sum->send_errors += st.send_errors;
}

static void add_locks(struct raft_lock_counts *sum,
		      const struct raft_lock_counts *l)
{
	sum->acquires += l->acquires;
	sum->acquired += l->acquired;
	sum->held += l->held;
	sum->no_lease += l->no_lease;
	sum->fputs += l->fputs;
	sum->fput_ok += l->fput_ok;
	sum->fenced += l->fenced;
	sum->releases += l->releases;
	sum->released += l->released;
	sum->release_fenced += l->release_fenced;
	sum->unknown += l->unknown;
	sum->grants_failed += l->grants_failed;
	sum->keepalives += l->keepalives;
	sum->leases_lost += l->leases_lost;
	sum->pauses += l->pauses;
}

static int collect(struct worker *ws, unsigned int n, uint64_t start,
		   struct raft_workload_result *r)
{
	int err = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct worker *w = &ws[i];

		add_locks(&r->locks, &w->locks);
		r->ops += w->locks.acquires + w->locks.fputs +
			  w->locks.releases;
		r->unknown += w->locks.unknown;

		for (unsigned int op = 0; op < RAFT_OP_COUNT; op++) {
			struct raft_op_counts *c = &r->by_op[op];

			c->ops += w->by_op[op].ops;
			c->ok += w->by_op[op].ok;
			c->not_found += w->by_op[op].not_found;
			c->cas_failed += w->by_op[op].cas_failed;
			c->unknown += w->by_op[op].unknown;
			r->ops += w->by_op[op].ops;
			r->unknown += w->by_op[op].unknown;
		}
		r->errors += w->errors;
		if (w->finished_ns - start > r->elapsed_ns)
			r->elapsed_ns = w->finished_ns - start;
		add_stats(&r->client, w->c);
		err = err ?: w->err;
	}
	if (r->elapsed_ns)
		r->ops_per_sec = (double)r->ops * 1e9 / (double)r->elapsed_ns;
	return err ?: latency(ws, n, false, &r->answered) ?:
		      latency(ws, n, true, &r->writes);
}

static int start_workers(struct worker *ws, struct shared *sh)
{
	unsigned int n = sh->o->clients;
	int err;

	atomic_store(&sh->running, n);
	for (unsigned int i = 0; i < n; i++) {
		err = -pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]);
		if (!err)
			continue;
		/* The ones started stop at once; the others never ran. */
		atomic_store(&sh->stop, true);
		atomic_fetch_sub(&sh->running, n - i);
		for (unsigned int j = 0; j < i; j++)
			pthread_join(ws[j].thread, NULL);
		return err;
	}
	return 0;
}

int raft_workload_run(const struct raft_workload_opts *o,
		      struct raft_workload_result *r)
{
	struct shared sh = { .o = o };
	struct worker *ws;
	uint64_t start;
	int err = 0;

	memset(r, 0, sizeof(*r));
	if (!opts_valid(o))
		return -EINVAL;
	for (unsigned int op = 0; op < RAFT_OP_COUNT; op++)
		sh.mix_total += o->mix[op];
	ws = calloc(o->clients, sizeof(*ws));
	if (!ws)
		return -ENOMEM;
	for (unsigned int i = 0; i < o->clients && !err; i++)
		err = worker_init(&ws[i], &sh, i);
	start = now_ns();
	if (!err)
		err = start_workers(ws, &sh);
	if (!err) {
		supervise(&sh, start);
		for (unsigned int i = 0; i < o->clients; i++)
			pthread_join(ws[i].thread, NULL);
		err = collect(ws, o->clients, start, r);
	}
	if (!err && o->history && (fflush(o->history) || ferror(o->history)))
		err = -EIO;
	for (unsigned int i = 0; i < o->clients; i++)
		worker_free(&ws[i], o->keys);
	free(ws);
	return err;
}
