// SPDX-License-Identifier: GPL-2.0
/*
 * The replicated key-value store: keys in a chained hash table that
 * doubles as it fills, client sessions in another, kept in a list by the
 * index of their last write so that the oldest is evicted first.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

#define KV_VERSION		1
#define KV_TABLE_MIN		16	/* buckets of a new table */

#define SEED_KEY		0x6b65792d68617368ULL
#define SEED_SESSION		0x73657373696f6e73ULL
#define SEED_DIGEST		0x6469676573742d31ULL

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct kv_link {
	struct kv_link *next;
	uint64_t hash;
};

struct kv_table {
	struct kv_link **buckets;
	size_t mask;		/* buckets - 1, buckets a power of two */
	size_t count;
};

struct kv_item {
	struct kv_link link;
	uint64_t revision;
	uint8_t *value;		/* NULL when vallen is 0 */
	uint16_t vallen;
	uint16_t keylen;
	uint8_t key[];
};

/* A client's last write and its result, as kv_apply() gave it. */
struct kv_session {
	struct kv_link link;
	struct kv_session *older, *newer;
	uint64_t client, seq;
	uint8_t status;
	bool has_value;
	uint16_t vallen;
	uint64_t revision, index;
	uint8_t *value;		/* NULL when vallen is 0 */
};

struct kv {
	struct kv_table items;
	struct kv_table sessions;
	struct kv_session *oldest, *newest;
	unsigned int max_sessions;
	uint64_t applied;
};

static const uint8_t no_bytes[1];

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* memcpy() and memcmp() want valid pointers even for 0 bytes. */
static void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n)
		memcpy(dst, src, n);
}

static bool bytes_equal(const uint8_t *a, size_t alen, const uint8_t *b,
			size_t blen)
{
	return alen == blen && (!alen || !memcmp(a, b, alen));
}

/* A replica that cannot apply a command must stop, not diverge. */
static void *must_alloc(size_t size)
{
	void *p = malloc(size);

	if (!p)
		abort();
	return p;
}

static uint8_t *dup_bytes(const uint8_t *src, size_t n)
{
	uint8_t *p;

	if (!n)
		return NULL;
	p = must_alloc(n);
	memcpy(p, src, n);
	return p;
}

/* A bijective 64-bit finalizer (splitmix64's). */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/*
 * Each step is a bijection of the state, so inputs of one length never
 * collide before the bucket mask; the length goes in first for the others.
 */
static uint64_t hash_bytes(uint64_t seed, const uint8_t *p, size_t n)
{
	uint64_t h = mix64(seed ^ n);
	uint64_t tail = 0;
	size_t i;

	for (; n >= 8; p += 8, n -= 8)
		h = mix64(h ^ get_u64(p));
	for (i = 0; i < n; i++)
		tail |= (uint64_t)p[i] << (8 * i);
	return mix64(h ^ tail);
}

static bool table_init(struct kv_table *t)
{
	t->buckets = calloc(KV_TABLE_MIN, sizeof(*t->buckets));
	t->mask = KV_TABLE_MIN - 1;
	t->count = 0;
	return t->buckets;
}

/* Without memory the chains just get longer: results stay the same. */
static void table_grow(struct kv_table *t)
{
	size_t size = (t->mask + 1) * 2;
	struct kv_link **buckets = calloc(size, sizeof(*buckets));
	struct kv_link *l, *next;
	size_t i;

	if (!buckets)
		return;
	for (i = 0; i <= t->mask; i++) {
		for (l = t->buckets[i]; l; l = next) {
			next = l->next;
			l->next = buckets[l->hash & (size - 1)];
			buckets[l->hash & (size - 1)] = l;
		}
	}
	free(t->buckets);
	t->buckets = buckets;
	t->mask = size - 1;
}

static void table_add(struct kv_table *t, struct kv_link *l)
{
	struct kv_link **head = &t->buckets[l->hash & t->mask];

	l->next = *head;
	*head = l;
	if (++t->count > t->mask + 1)
		table_grow(t);
}

static void table_del(struct kv_table *t, struct kv_link *l)
{
	struct kv_link **pp = &t->buckets[l->hash & t->mask];

	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
	t->count--;
}

static uint64_t key_hash(const uint8_t *key, uint16_t keylen)
{
	return hash_bytes(SEED_KEY, key, keylen);
}

static struct kv_item *item_find(const struct kv *kv, const uint8_t *key,
				 uint16_t keylen, uint64_t hash)
{
	struct kv_link *l = kv->items.buckets[hash & kv->items.mask];
	struct kv_item *it;

	for (; l; l = l->next) {
		it = container_of(l, struct kv_item, link);
		if (l->hash == hash && bytes_equal(it->key, it->keylen, key,
						   keylen))
			return it;
	}
	return NULL;
}

static struct kv_item *item_add(struct kv *kv, const uint8_t *key,
				uint16_t keylen, uint64_t hash)
{
	struct kv_item *it = must_alloc(sizeof(*it) + keylen);

	it->link.hash = hash;
	it->revision = 0;
	it->value = NULL;
	it->vallen = 0;
	it->keylen = keylen;
	memcpy(it->key, key, keylen);
	table_add(&kv->items, &it->link);
	return it;
}

static void item_set(struct kv_item *it, const uint8_t *value,
		     uint16_t vallen, uint64_t revision)
{
	uint8_t *copy = dup_bytes(value, vallen);

	free(it->value);
	it->value = copy;
	it->vallen = vallen;
	it->revision = revision;
}

static void item_free(struct kv_item *it)
{
	free(it->value);
	free(it);
}

static uint64_t session_hash(uint64_t client)
{
	return mix64(SEED_SESSION ^ client);
}

static struct kv_session *session_find(const struct kv *kv, uint64_t client)
{
	uint64_t hash = session_hash(client);
	struct kv_link *l = kv->sessions.buckets[hash & kv->sessions.mask];
	struct kv_session *s;

	for (; l; l = l->next) {
		s = container_of(l, struct kv_session, link);
		if (s->client == client)
			return s;
	}
	return NULL;
}

static void lru_unlink(struct kv *kv, struct kv_session *s)
{
	if (s->older)
		s->older->newer = s->newer;
	else
		kv->oldest = s->newer;
	if (s->newer)
		s->newer->older = s->older;
	else
		kv->newest = s->older;
}

/* Indexes only grow, so appending keeps the list sorted by last write. */
static void lru_append(struct kv *kv, struct kv_session *s)
{
	s->older = kv->newest;
	s->newer = NULL;
	if (kv->newest)
		kv->newest->newer = s;
	else
		kv->oldest = s;
	kv->newest = s;
}

static void session_free(struct kv_session *s)
{
	free(s->value);
	free(s);
}

static void session_evict(struct kv *kv, struct kv_session *s)
{
	lru_unlink(kv, s);
	table_del(&kv->sessions, &s->link);
	session_free(s);
}

static struct kv_session *session_add(struct kv *kv, uint64_t client)
{
	struct kv_session *s;

	if (kv->sessions.count >= kv->max_sessions)
		session_evict(kv, kv->oldest);
	s = must_alloc(sizeof(*s));
	s->client = client;
	s->value = NULL;
	s->link.hash = session_hash(client);
	table_add(&kv->sessions, &s->link);
	return s;
}

static void session_store(struct kv_session *s, uint64_t seq,
			  const struct kv_result *res)
{
	uint8_t *copy = dup_bytes(res->value, res->vallen);

	free(s->value);
	s->value = copy;
	s->vallen = res->vallen;
	s->has_value = res->has_value;
	s->seq = seq;
	s->status = res->status;
	s->revision = res->revision;
	s->index = res->index;
}

static void session_load(const struct kv_session *s, struct kv_result *res)
{
	res->status = s->status;
	res->revision = s->revision;
	res->index = s->index;
	res->has_value = s->has_value;
	res->vallen = s->vallen;
	copy_bytes(res->value, s->value, s->vallen);
}

static void session_record(struct kv *kv, struct kv_session *s,
			   uint64_t client, uint64_t seq,
			   const struct kv_result *res)
{
	if (s)
		lru_unlink(kv, s);
	else
		s = session_add(kv, client);
	session_store(s, seq, res);
	lru_append(kv, s);
}

struct kv *kv_new(unsigned int max_sessions)
{
	struct kv *kv = calloc(1, sizeof(*kv));

	if (!kv)
		return NULL;
	kv->max_sessions = max_sessions ? max_sessions : KV_SESSIONS_DEFAULT;
	if (!table_init(&kv->items) || !table_init(&kv->sessions)) {
		free(kv->items.buckets);
		free(kv->sessions.buckets);
		free(kv);
		return NULL;
	}
	return kv;
}

void kv_free(struct kv *kv)
{
	struct kv_link *l, *next;
	struct kv_session *s, *newer;
	size_t i;

	if (!kv)
		return;
	for (i = 0; i <= kv->items.mask; i++) {
		for (l = kv->items.buckets[i]; l; l = next) {
			next = l->next;
			item_free(container_of(l, struct kv_item, link));
		}
	}
	for (s = kv->oldest; s; s = newer) {
		newer = s->newer;
		session_free(s);
	}
	free(kv->items.buckets);
	free(kv->sessions.buckets);
	free(kv);
}

/* The fields an op takes and their ranges, for encode and decode alike. */
static bool cmd_valid(const struct kv_cmd *cmd)
{
	bool cas = cmd->op == KV_CAS;

	if (cmd->op < KV_GET || cmd->op > KV_CAS)
		return false;
	if (!cmd->keylen || cmd->keylen > KV_KEY_MAX)
		return false;
	if (cmd->vallen > KV_VALUE_MAX || cmd->expectlen > KV_VALUE_MAX)
		return false;
	if (cmd->vallen && (cmd->op == KV_GET || cmd->op == KV_DEL))
		return false;
	if ((cmd->expectlen || cmd->expect_absent) && !cas)
		return false;
	return !(cmd->expect_absent && cmd->expectlen);
}

static size_t cmd_size(const struct kv_cmd *cmd)
{
	return KV_CMD_HDR + (size_t)cmd->keylen + cmd->vallen + cmd->expectlen;
}

int kv_encode(const struct kv_cmd *cmd, uint8_t *buf, size_t size)
{
	size_t len = cmd_size(cmd);
	uint8_t *p;

	if (!cmd_valid(cmd) || !cmd->key || (cmd->vallen && !cmd->value) ||
	    (cmd->expectlen && !cmd->expect))
		return -EINVAL;
	if (len > KV_CMD_MAX || len > size)
		return -EMSGSIZE;
	buf[0] = (uint8_t)(KV_VERSION << 4 | cmd->op);
	buf[1] = cmd->expect_absent ? KV_CMD_EXPECT_ABSENT : 0;
	put_u64(buf + 2, cmd->client);
	put_u64(buf + 10, cmd->seq);
	put_u16(buf + 18, cmd->keylen);
	put_u16(buf + 20, cmd->vallen);
	put_u16(buf + 22, cmd->expectlen);
	p = buf + KV_CMD_HDR;
	memcpy(p, cmd->key, cmd->keylen);
	p += cmd->keylen;
	copy_bytes(p, cmd->value, cmd->vallen);
	p += cmd->vallen;
	copy_bytes(p, cmd->expect, cmd->expectlen);
	return (int)len;
}

int kv_decode(struct kv_cmd *cmd, const uint8_t *buf, size_t len)
{
	size_t size;

	if (len < KV_CMD_HDR)
		return -EMSGSIZE;
	if (buf[0] >> 4 != KV_VERSION || buf[1] & ~KV_CMD_EXPECT_ABSENT)
		return -EINVAL;
	cmd->op = buf[0] & 0x0f;
	cmd->expect_absent = buf[1] & KV_CMD_EXPECT_ABSENT;
	cmd->client = get_u64(buf + 2);
	cmd->seq = get_u64(buf + 10);
	cmd->keylen = get_u16(buf + 18);
	cmd->vallen = get_u16(buf + 20);
	cmd->expectlen = get_u16(buf + 22);
	size = cmd_size(cmd);
	if (len < size)
		return -EMSGSIZE;
	if (len > size || size > KV_CMD_MAX || !cmd_valid(cmd))
		return -EINVAL;
	cmd->key = buf + KV_CMD_HDR;
	cmd->value = cmd->key + cmd->keylen;
	cmd->expect = cmd->value + cmd->vallen;
	return 0;
}

static void result_reset(struct kv_result *res, uint8_t status,
			 uint64_t index)
{
	res->status = status;
	res->revision = 0;
	res->index = index;
	res->has_value = false;
	res->vallen = 0;
}

static void result_item(struct kv_result *res, const struct kv_item *it)
{
	res->revision = it->revision;
	res->has_value = true;
	res->vallen = it->vallen;
	copy_bytes(res->value, it->value, it->vallen);
}

static void apply_put(struct kv *kv, const struct kv_cmd *cmd,
		      uint64_t index, struct kv_item *it, uint64_t hash,
		      struct kv_result *res)
{
	if (!it)
		it = item_add(kv, cmd->key, cmd->keylen, hash);
	item_set(it, cmd->value, cmd->vallen, index);
	res->status = KV_OK;
	res->revision = index;
}

static void apply_del(struct kv *kv, struct kv_item *it,
		      uint64_t index, struct kv_result *res)
{
	if (!it) {
		res->status = KV_NOT_FOUND;
		return;
	}
	table_del(&kv->items, &it->link);
	item_free(it);
	res->status = KV_OK;
	res->revision = index;
}

static bool cas_matches(const struct kv_cmd *cmd, const struct kv_item *it)
{
	if (cmd->expect_absent)
		return !it;
	return it && bytes_equal(it->value, it->vallen, cmd->expect,
				 cmd->expectlen);
}

static void apply_write(struct kv *kv, const struct kv_cmd *cmd,
			uint64_t index, struct kv_result *res)
{
	uint64_t hash = key_hash(cmd->key, cmd->keylen);
	struct kv_item *it = item_find(kv, cmd->key, cmd->keylen, hash);

	switch (cmd->op) {
	case KV_PUT:
		apply_put(kv, cmd, index, it, hash, res);
		break;
	case KV_DEL:
		apply_del(kv, it, index, res);
		break;
	case KV_CAS:
		if (cas_matches(cmd, it)) {
			apply_put(kv, cmd, index, it, hash, res);
			break;
		}
		res->status = KV_CAS_FAILED;
		if (it)
			result_item(res, it);
		break;
	}
}

void kv_apply(struct kv *kv, uint64_t index, const uint8_t *buf, size_t len,
	      struct kv_result *res)
{
	struct kv_session *s = NULL;
	struct kv_result scratch;
	struct kv_cmd cmd;

	if (!res)
		res = &scratch;
	result_reset(res, KV_BAD, index);
	if (index <= kv->applied)
		return;
	kv->applied = index;
	/* Reads go through ReadIndex: one in the log is a client's mistake. */
	if (kv_decode(&cmd, buf, len) || cmd.op == KV_GET)
		return;
	if (cmd.client)
		s = session_find(kv, cmd.client);
	if (s && cmd.seq < s->seq) {
		res->status = KV_STALE;
		return;
	}
	if (s && cmd.seq == s->seq) {
		session_load(s, res);
		return;
	}
	apply_write(kv, &cmd, index, res);
	if (cmd.client)
		session_record(kv, s, cmd.client, cmd.seq, res);
}

void kv_skip(struct kv *kv, uint64_t index)
{
	if (index > kv->applied)
		kv->applied = index;
}

void kv_get(const struct kv *kv, const uint8_t *key, uint16_t keylen,
	    struct kv_result *res)
{
	const struct kv_item *it;

	result_reset(res, KV_BAD, kv->applied);
	if (!key || !keylen || keylen > KV_KEY_MAX)
		return;
	it = item_find(kv, key, keylen, key_hash(key, keylen));
	if (!it) {
		res->status = KV_NOT_FOUND;
		return;
	}
	res->status = KV_OK;
	result_item(res, it);
}

uint64_t kv_applied(const struct kv *kv)
{
	return kv->applied;
}

size_t kv_count(const struct kv *kv)
{
	return kv->items.count;
}

size_t kv_sessions(const struct kv *kv)
{
	return kv->sessions.count;
}

/* link.hash already covers the key and its length. */
static uint64_t item_digest(const struct kv_item *it)
{
	uint64_t h = hash_bytes(it->link.hash, it->value, it->vallen);

	return mix64(h ^ it->revision);
}

static uint64_t session_digest(const struct kv_session *s)
{
	uint64_t h = mix64(SEED_SESSION ^ s->client);

	h = mix64(h ^ s->seq);
	h = mix64(h ^ s->status ^ (uint64_t)s->has_value << 8);
	h = mix64(h ^ s->revision);
	h = mix64(h ^ s->index);
	return hash_bytes(h, s->value, s->vallen);
}

/* Sums of per-entry hashes: the same whatever order the tables hold. */
uint64_t kv_digest(const struct kv *kv)
{
	const struct kv_session *s;
	uint64_t items = 0, sessions = 0, d;
	struct kv_link *l;
	size_t i;

	for (i = 0; i <= kv->items.mask; i++)
		for (l = kv->items.buckets[i]; l; l = l->next)
			items += item_digest(container_of(l, struct kv_item,
							  link));
	for (s = kv->oldest; s; s = s->newer)
		sessions += session_digest(s);
	d = mix64(SEED_DIGEST ^ kv->applied);
	d = mix64(d ^ kv->items.count);
	d = mix64(d ^ items);
	d = mix64(d ^ kv->sessions.count);
	return mix64(d ^ sessions);
}

int kv_foreach(const struct kv *kv, kv_foreach_fn fn, void *arg)
{
	const struct kv_item *it;
	struct kv_pair pair;
	struct kv_link *l;
	size_t i;
	int err;

	for (i = 0; i <= kv->items.mask; i++) {
		for (l = kv->items.buckets[i]; l; l = l->next) {
			it = container_of(l, struct kv_item, link);
			pair.key = it->key;
			pair.keylen = it->keylen;
			pair.value = it->value ? it->value : no_bytes;
			pair.vallen = it->vallen;
			pair.revision = it->revision;
			err = fn(&pair, arg);
			if (err)
				return err;
		}
	}
	return 0;
}

const char *kv_status_name(uint8_t status)
{
	static const char *const names[KV_STATUS_COUNT] = {
		[KV_OK] = "ok",
		[KV_NOT_FOUND] = "not-found",
		[KV_CAS_FAILED] = "cas-failed",
		[KV_STALE] = "stale",
		[KV_BAD] = "bad",
	};

	return status < KV_STATUS_COUNT ? names[status] : "unknown";
}

int kv_result_encode(const struct kv_result *r, uint8_t *buf, size_t size)
{
	size_t len = KV_RESULT_HDR + (size_t)r->vallen;

	if (r->status >= KV_STATUS_COUNT || r->vallen > KV_VALUE_MAX ||
	    (r->vallen && !r->has_value))
		return -EINVAL;
	if (len > size)
		return -EMSGSIZE;
	buf[0] = (uint8_t)(KV_VERSION << 4 | r->status);
	buf[1] = r->has_value ? KV_RESULT_HAS_VALUE : 0;
	put_u64(buf + 2, r->revision);
	put_u64(buf + 10, r->index);
	put_u16(buf + 18, r->vallen);
	copy_bytes(buf + KV_RESULT_HDR, r->value, r->vallen);
	return (int)len;
}

int kv_result_decode(struct kv_result *r, const uint8_t *buf, size_t len)
{
	uint16_t vallen;

	if (len < KV_RESULT_HDR)
		return -EMSGSIZE;
	vallen = get_u16(buf + 18);
	if (buf[0] >> 4 != KV_VERSION || (buf[0] & 0x0f) >= KV_STATUS_COUNT ||
	    buf[1] & ~KV_RESULT_HAS_VALUE || vallen > KV_VALUE_MAX ||
	    (vallen && !(buf[1] & KV_RESULT_HAS_VALUE)))
		return -EINVAL;
	if (len < KV_RESULT_HDR + (size_t)vallen)
		return -EMSGSIZE;
	r->status = buf[0] & 0x0f;
	r->has_value = buf[1] & KV_RESULT_HAS_VALUE;
	r->revision = get_u64(buf + 2);
	r->index = get_u64(buf + 10);
	r->vallen = vallen;
	copy_bytes(r->value, buf + KV_RESULT_HDR, vallen);
	return KV_RESULT_HDR + vallen;
}
