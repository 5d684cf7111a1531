// SPDX-License-Identifier: GPL-2.0
/*
 * The replicated key-value store: keys in a chained hash table that
 * doubles as it fills, client sessions in another, kept in a list by the
 * index of their last write so that the oldest is evicted first, leases in
 * a third, each with a list of the keys attached to it.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

#define KV_VERSION		1
#define KV_VERSION2		2
#define KV_SNAP_VERSION		1
#define KV_TABLE_MIN		16	/* buckets of a new table */
/* The statuses version 1 results knew. */
#define KV_STATUS_V1		(KV_BAD + 1)

#define SEED_KEY		0x6b65792d68617368ULL
#define SEED_SESSION		0x73657373696f6e73ULL
#define SEED_DIGEST		0x6469676573742d31ULL
#define SEED_LEASE		0x6c65617365732d31ULL

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
	struct kv_lease *lease;		/* NULL: none */
	struct kv_item *lease_prev, *lease_next;
	uint64_t revision;
	uint8_t *value;		/* NULL when vallen is 0 */
	uint16_t vallen;
	uint16_t keylen;
	uint8_t key[];
};

struct kv_lease {
	struct kv_link link;
	uint64_t id, refresh_index;
	uint32_t ttl_ms;
	size_t n_keys;
	struct kv_item *keys;
};

/* A client's last write and its result, as kv_apply() gave it. */
struct kv_session {
	struct kv_link link;
	struct kv_session *older, *newer;
	uint64_t client, seq;
	uint8_t status;
	bool has_value;
	uint16_t vallen;
	uint64_t revision, index, lease;
	uint32_t ttl_ms;
	uint8_t *value;		/* NULL when vallen is 0 */
};

struct kv {
	struct kv_table items;
	struct kv_table sessions;
	struct kv_table leases;
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

static void put_u32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
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

/* false when out of memory; 0 bytes are NULL. */
static bool dup_into(uint8_t **out, const uint8_t *src, size_t n)
{
	uint8_t *p = NULL;

	if (n) {
		p = malloc(n);
		if (!p)
			return false;
		memcpy(p, src, n);
	}
	*out = p;
	return true;
}

/* A replica that cannot apply a command must stop, not diverge. */
static void *must(void *p)
{
	if (!p)
		abort();
	return p;
}

static uint8_t *dup_bytes(const uint8_t *src, size_t n)
{
	uint8_t *p;

	if (!dup_into(&p, src, n))
		abort();
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

/* Hands every link to fn, which may free it, then the buckets go. */
static void table_free(struct kv_table *t, void (*fn)(struct kv_link *l))
{
	struct kv_link *l, *next;
	size_t i;

	for (i = 0; i <= t->mask; i++) {
		for (l = t->buckets[i]; l; l = next) {
			next = l->next;
			fn(l);
		}
	}
	free(t->buckets);
}

/* The links of t, sorted by cmp; NULL when out of memory. */
static struct kv_link **table_sorted(const struct kv_table *t,
				     int (*cmp)(const void *, const void *))
{
	struct kv_link **v = malloc((t->count + 1) * sizeof(*v));
	struct kv_link *l;
	size_t i, n = 0;

	if (!v)
		return NULL;
	for (i = 0; i <= t->mask; i++)
		for (l = t->buckets[i]; l; l = l->next)
			v[n++] = l;
	qsort(v, n, sizeof(*v), cmp);
	return v;
}

static uint64_t key_hash(const uint8_t *key, uint16_t keylen)
{
	return hash_bytes(SEED_KEY, key, keylen);
}

/* Byte order, a prefix first; keys are never empty. */
static int key_cmp(const uint8_t *a, uint16_t alen, const uint8_t *b,
		   uint16_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return (alen > blen) - (alen < blen);
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

/* Valueless, leaseless and in no table; NULL when out of memory. */
static struct kv_item *item_new(const uint8_t *key, uint16_t keylen,
				uint64_t hash)
{
	struct kv_item *it = malloc(sizeof(*it) + keylen);

	if (!it)
		return NULL;
	it->link.hash = hash;
	it->lease = NULL;
	it->revision = 0;
	it->value = NULL;
	it->vallen = 0;
	it->keylen = keylen;
	copy_bytes(it->key, key, keylen);
	return it;
}

static struct kv_item *item_add(struct kv *kv, const uint8_t *key,
				uint16_t keylen, uint64_t hash)
{
	struct kv_item *it = must(item_new(key, keylen, hash));

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

static uint64_t item_lease(const struct kv_item *it)
{
	return it->lease ? it->lease->id : 0;
}

static void lease_link(struct kv_item *it, struct kv_lease *l)
{
	it->lease = l;
	if (!l)
		return;
	it->lease_prev = NULL;
	it->lease_next = l->keys;
	if (l->keys)
		l->keys->lease_prev = it;
	l->keys = it;
	l->n_keys++;
}

static void lease_unlink(struct kv_item *it)
{
	struct kv_lease *l = it->lease;

	if (!l)
		return;
	if (it->lease_prev)
		it->lease_prev->lease_next = it->lease_next;
	else
		l->keys = it->lease_next;
	if (it->lease_next)
		it->lease_next->lease_prev = it->lease_prev;
	l->n_keys--;
	it->lease = NULL;
}

static void item_attach(struct kv_item *it, struct kv_lease *l)
{
	if (it->lease == l)
		return;
	lease_unlink(it);
	lease_link(it, l);
}

static void item_remove(struct kv *kv, struct kv_item *it)
{
	lease_unlink(it);
	table_del(&kv->items, &it->link);
	item_free(it);
}

static uint64_t lease_hash(uint64_t id)
{
	return mix64(SEED_LEASE ^ id);
}

static struct kv_lease *lease_find(const struct kv *kv, uint64_t id)
{
	uint64_t hash = lease_hash(id);
	struct kv_link *l = kv->leases.buckets[hash & kv->leases.mask];
	struct kv_lease *ls;

	for (; l; l = l->next) {
		ls = container_of(l, struct kv_lease, link);
		if (ls->id == id)
			return ls;
	}
	return NULL;
}

/* NULL when out of memory. */
static struct kv_lease *lease_add(struct kv *kv, uint64_t id,
				  uint32_t ttl_ms, uint64_t refresh_index)
{
	struct kv_lease *l = malloc(sizeof(*l));

	if (!l)
		return NULL;
	l->link.hash = lease_hash(id);
	l->id = id;
	l->ttl_ms = ttl_ms;
	l->refresh_index = refresh_index;
	l->n_keys = 0;
	l->keys = NULL;
	table_add(&kv->leases, &l->link);
	return l;
}

/* The lease and every key attached to it. */
static void lease_remove(struct kv *kv, struct kv_lease *l)
{
	while (l->keys)
		item_remove(kv, l->keys);
	table_del(&kv->leases, &l->link);
	free(l);
}

static void lease_info(const struct kv_lease *l, struct kv_lease_info *out)
{
	out->id = l->id;
	out->ttl_ms = l->ttl_ms;
	out->refresh_index = l->refresh_index;
	out->n_keys = l->n_keys;
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

/* In no table or list yet; NULL when out of memory. */
static struct kv_session *session_new(uint64_t client)
{
	struct kv_session *s = malloc(sizeof(*s));

	if (!s)
		return NULL;
	s->client = client;
	s->value = NULL;
	s->link.hash = session_hash(client);
	return s;
}

static struct kv_session *session_add(struct kv *kv, uint64_t client)
{
	struct kv_session *s;

	if (kv->sessions.count >= kv->max_sessions)
		session_evict(kv, kv->oldest);
	s = must(session_new(client));
	table_add(&kv->sessions, &s->link);
	return s;
}

/* false, and s unchanged, when out of memory. */
static bool session_store(struct kv_session *s, uint64_t seq,
			  const struct kv_result *res)
{
	uint8_t *copy;

	if (!dup_into(&copy, res->value, res->vallen))
		return false;
	free(s->value);
	s->value = copy;
	s->vallen = res->vallen;
	s->has_value = res->has_value;
	s->seq = seq;
	s->status = res->status;
	s->revision = res->revision;
	s->index = res->index;
	s->lease = res->lease;
	s->ttl_ms = res->ttl_ms;
	return true;
}

static void session_load(const struct kv_session *s, struct kv_result *res)
{
	res->status = s->status;
	res->revision = s->revision;
	res->index = s->index;
	res->has_value = s->has_value;
	res->vallen = s->vallen;
	res->lease = s->lease;
	res->ttl_ms = s->ttl_ms;
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
	if (!session_store(s, seq, res))
		abort();
	lru_append(kv, s);
}

struct kv *kv_new(unsigned int max_sessions)
{
	struct kv *kv = calloc(1, sizeof(*kv));

	if (!kv)
		return NULL;
	kv->max_sessions = max_sessions ? max_sessions : KV_SESSIONS_DEFAULT;
	if (!table_init(&kv->items) || !table_init(&kv->sessions) ||
	    !table_init(&kv->leases)) {
		free(kv->items.buckets);
		free(kv->sessions.buckets);
		free(kv->leases.buckets);
		free(kv);
		return NULL;
	}
	return kv;
}

static void item_link_free(struct kv_link *l)
{
	item_free(container_of(l, struct kv_item, link));
}

static void lease_link_free(struct kv_link *l)
{
	free(container_of(l, struct kv_lease, link));
}

void kv_free(struct kv *kv)
{
	struct kv_session *s, *newer;

	if (!kv)
		return;
	table_free(&kv->items, item_link_free);
	table_free(&kv->leases, lease_link_free);
	for (s = kv->oldest; s; s = newer) {
		newer = s->newer;
		session_free(s);
	}
	free(kv->sessions.buckets);
	free(kv);
}

static bool lease_op(uint8_t op)
{
	return op >= KV_LEASE_GRANT && op <= KV_LEASE_EXPIRE;
}

/* Whether cmd takes a version 2 command, the only one it can be. */
static bool cmd_v2(const struct kv_cmd *cmd)
{
	return lease_op(cmd->op) || cmd->attach_lease || cmd->fenced;
}

static bool fence_valid(const struct kv_cmd *cmd)
{
	if (!cmd->fenced)
		return !cmd->fence_token && !cmd->fence_keylen;
	return cmd->op != KV_GET && cmd->fence_token && cmd->fence_keylen &&
	       cmd->fence_keylen <= KV_KEY_MAX;
}

static bool key_cmd_valid(const struct kv_cmd *cmd)
{
	bool cas = cmd->op == KV_CAS;
	bool puts = cmd->op == KV_PUT || cas;

	if (!cmd->keylen || cmd->keylen > KV_KEY_MAX)
		return false;
	if (cmd->vallen > KV_VALUE_MAX || cmd->expectlen > KV_VALUE_MAX)
		return false;
	if (cmd->vallen && !puts)
		return false;
	if ((cmd->expectlen || cmd->expect_absent) && !cas)
		return false;
	if (cmd->expect_absent && cmd->expectlen)
		return false;
	if (cmd->attach_lease ? !puts || !cmd->lease : cmd->lease != 0)
		return false;
	return fence_valid(cmd) && !cmd->refresh_index && !cmd->ttl_ms;
}

/* Lease ops take no key, value, expectation or fence. */
static bool lease_cmd_valid(const struct kv_cmd *cmd)
{
	if (cmd->keylen || cmd->vallen || cmd->expectlen ||
	    cmd->expect_absent || cmd->attach_lease || cmd->fenced ||
	    cmd->fence_token || cmd->fence_keylen)
		return false;
	if (cmd->op == KV_LEASE_GRANT)
		return !cmd->lease && !cmd->refresh_index && cmd->ttl_ms &&
		       cmd->ttl_ms <= KV_TTL_MAX;
	if (!cmd->lease || cmd->ttl_ms)
		return false;
	return (cmd->op == KV_LEASE_EXPIRE) == (cmd->refresh_index != 0);
}

/* The fields an op takes and their ranges, for encode and decode alike. */
static bool cmd_valid(const struct kv_cmd *cmd)
{
	if (cmd->op < KV_GET || cmd->op > KV_LEASE_EXPIRE)
		return false;
	return lease_op(cmd->op) ? lease_cmd_valid(cmd) : key_cmd_valid(cmd);
}

static size_t cmd_size(const struct kv_cmd *cmd, bool v2)
{
	return (v2 ? KV_CMD_HDR2 : KV_CMD_HDR) + (size_t)cmd->keylen +
	       cmd->vallen + cmd->expectlen + cmd->fence_keylen;
}

static uint8_t cmd_flags(const struct kv_cmd *cmd)
{
	return (cmd->expect_absent ? KV_CMD_EXPECT_ABSENT : 0) |
	       (cmd->attach_lease ? KV_CMD_LEASE : 0) |
	       (cmd->fenced ? KV_CMD_FENCED : 0);
}

int kv_encode(const struct kv_cmd *cmd, uint8_t *buf, size_t size)
{
	bool v2 = cmd_v2(cmd);
	size_t len = cmd_size(cmd, v2);
	uint8_t *p;

	if (!cmd_valid(cmd) || (cmd->keylen && !cmd->key) ||
	    (cmd->vallen && !cmd->value) || (cmd->expectlen && !cmd->expect) ||
	    (cmd->fence_keylen && !cmd->fence_key))
		return -EINVAL;
	if (len > KV_CMD_MAX || len > size)
		return -EMSGSIZE;
	buf[0] = (uint8_t)((v2 ? KV_VERSION2 : KV_VERSION) << 4 | cmd->op);
	buf[1] = cmd_flags(cmd);
	put_u64(buf + 2, cmd->client);
	put_u64(buf + 10, cmd->seq);
	put_u16(buf + 18, cmd->keylen);
	put_u16(buf + 20, cmd->vallen);
	put_u16(buf + 22, cmd->expectlen);
	p = buf + KV_CMD_HDR;
	if (v2) {
		put_u64(p, cmd->lease);
		put_u64(p + 8, cmd->fence_token);
		put_u64(p + 16, cmd->refresh_index);
		put_u32(p + 24, cmd->ttl_ms);
		put_u16(p + 28, cmd->fence_keylen);
		p = buf + KV_CMD_HDR2;
	}
	copy_bytes(p, cmd->key, cmd->keylen);
	p += cmd->keylen;
	copy_bytes(p, cmd->value, cmd->vallen);
	p += cmd->vallen;
	copy_bytes(p, cmd->expect, cmd->expectlen);
	p += cmd->expectlen;
	copy_bytes(p, cmd->fence_key, cmd->fence_keylen);
	return (int)len;
}

/* Version 2's fields after version 1's header, or none of them. */
static void decode_v2(struct kv_cmd *cmd, const uint8_t *p, bool v2)
{
	cmd->lease = v2 ? get_u64(p) : 0;
	cmd->fence_token = v2 ? get_u64(p + 8) : 0;
	cmd->refresh_index = v2 ? get_u64(p + 16) : 0;
	cmd->ttl_ms = v2 ? get_u32(p + 24) : 0;
	cmd->fence_keylen = v2 ? get_u16(p + 28) : 0;
}

int kv_decode(struct kv_cmd *cmd, const uint8_t *buf, size_t len)
{
	size_t hdr, size;
	uint8_t flags;
	bool v2;

	if (len < KV_CMD_HDR)
		return -EMSGSIZE;
	v2 = buf[0] >> 4 == KV_VERSION2;
	flags = v2 ? KV_CMD_EXPECT_ABSENT | KV_CMD_LEASE | KV_CMD_FENCED :
		     KV_CMD_EXPECT_ABSENT;
	if ((buf[0] >> 4 != KV_VERSION && !v2) || buf[1] & ~flags)
		return -EINVAL;
	hdr = v2 ? KV_CMD_HDR2 : KV_CMD_HDR;
	if (len < hdr)
		return -EMSGSIZE;
	cmd->op = buf[0] & 0x0f;
	cmd->expect_absent = buf[1] & KV_CMD_EXPECT_ABSENT;
	cmd->attach_lease = buf[1] & KV_CMD_LEASE;
	cmd->fenced = buf[1] & KV_CMD_FENCED;
	cmd->client = get_u64(buf + 2);
	cmd->seq = get_u64(buf + 10);
	cmd->keylen = get_u16(buf + 18);
	cmd->vallen = get_u16(buf + 20);
	cmd->expectlen = get_u16(buf + 22);
	decode_v2(cmd, buf + KV_CMD_HDR, v2);
	size = cmd_size(cmd, v2);
	if (len < size)
		return -EMSGSIZE;
	if (len > size || size > KV_CMD_MAX || !cmd_valid(cmd) ||
	    cmd_v2(cmd) != v2)
		return -EINVAL;
	cmd->key = buf + hdr;
	cmd->value = cmd->key + cmd->keylen;
	cmd->expect = cmd->value + cmd->vallen;
	cmd->fence_key = cmd->expect + cmd->expectlen;
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
	res->lease = 0;
	res->ttl_ms = 0;
}

static void result_item(struct kv_result *res, const struct kv_item *it)
{
	res->revision = it->revision;
	res->has_value = true;
	res->vallen = it->vallen;
	res->lease = item_lease(it);
	copy_bytes(res->value, it->value, it->vallen);
}

static void apply_put(struct kv *kv, const struct kv_cmd *cmd,
		      uint64_t index, struct kv_item *it, uint64_t hash,
		      struct kv_lease *lease, struct kv_result *res)
{
	if (!it)
		it = item_add(kv, cmd->key, cmd->keylen, hash);
	item_set(it, cmd->value, cmd->vallen, index);
	item_attach(it, lease);
	res->status = KV_OK;
	res->revision = index;
	res->lease = item_lease(it);
}

static void apply_del(struct kv *kv, struct kv_item *it,
		      uint64_t index, struct kv_result *res)
{
	if (!it) {
		res->status = KV_NOT_FOUND;
		return;
	}
	item_remove(kv, it);
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

static void apply_key_write(struct kv *kv, const struct kv_cmd *cmd,
			    uint64_t index, struct kv_result *res)
{
	uint64_t hash = key_hash(cmd->key, cmd->keylen);
	struct kv_item *it = item_find(kv, cmd->key, cmd->keylen, hash);
	struct kv_lease *lease = NULL;

	if (cmd->attach_lease) {
		lease = lease_find(kv, cmd->lease);
		if (!lease) {
			res->status = KV_NO_LEASE;
			res->lease = cmd->lease;
			return;
		}
	}
	switch (cmd->op) {
	case KV_PUT:
		apply_put(kv, cmd, index, it, hash, lease, res);
		break;
	case KV_DEL:
		apply_del(kv, it, index, res);
		break;
	case KV_CAS:
		if (cas_matches(cmd, it)) {
			apply_put(kv, cmd, index, it, hash, lease, res);
			break;
		}
		res->status = KV_CAS_FAILED;
		if (it)
			result_item(res, it);
		break;
	}
}

static void apply_grant(struct kv *kv, const struct kv_cmd *cmd,
			uint64_t index, struct kv_result *res)
{
	if (kv->leases.count >= KV_LEASES_MAX) {
		res->status = KV_BUSY;
		return;
	}
	must(lease_add(kv, index, cmd->ttl_ms, index));
	res->status = KV_OK;
	res->revision = index;
	res->lease = index;
	res->ttl_ms = cmd->ttl_ms;
}

static void apply_lease_op(struct kv *kv, const struct kv_cmd *cmd,
			   uint64_t index, struct kv_result *res)
{
	struct kv_lease *l;

	if (cmd->op == KV_LEASE_GRANT) {
		apply_grant(kv, cmd, index, res);
		return;
	}
	res->lease = cmd->lease;
	l = lease_find(kv, cmd->lease);
	if (!l) {
		res->status = KV_NO_LEASE;
		return;
	}
	res->ttl_ms = l->ttl_ms;
	/* A keepalive applied since the leader's timer was armed wins. */
	if (cmd->op == KV_LEASE_EXPIRE &&
	    l->refresh_index != cmd->refresh_index) {
		res->status = KV_LEASE_REFRESHED;
		res->revision = l->refresh_index;
		return;
	}
	res->status = KV_OK;
	res->revision = index;
	if (cmd->op == KV_LEASE_KEEPALIVE)
		l->refresh_index = index;
	else
		lease_remove(kv, l);
}

/* KV_FENCED, with the fence key's revision, unless it is the token. */
static bool fence_holds(const struct kv *kv, const struct kv_cmd *cmd,
			struct kv_result *res)
{
	const struct kv_item *f;

	if (!cmd->fenced)
		return true;
	f = item_find(kv, cmd->fence_key, cmd->fence_keylen,
		      key_hash(cmd->fence_key, cmd->fence_keylen));
	if (f && f->revision == cmd->fence_token)
		return true;
	res->status = KV_FENCED;
	res->revision = f ? f->revision : 0;
	return false;
}

static void apply_write(struct kv *kv, const struct kv_cmd *cmd,
			uint64_t index, struct kv_result *res)
{
	if (lease_op(cmd->op))
		apply_lease_op(kv, cmd, index, res);
	else if (fence_holds(kv, cmd, res))
		apply_key_write(kv, cmd, index, res);
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

size_t kv_leases(const struct kv *kv)
{
	return kv->leases.count;
}

int kv_lease_get(const struct kv *kv, uint64_t id, struct kv_lease_info *out)
{
	const struct kv_lease *l = lease_find(kv, id);

	if (!l)
		return -ENOENT;
	lease_info(l, out);
	return 0;
}

int kv_lease_foreach(const struct kv *kv, kv_lease_fn fn, void *arg)
{
	struct kv_lease_info info;
	struct kv_link *l;
	size_t i;
	int err;

	for (i = 0; i <= kv->leases.mask; i++) {
		for (l = kv->leases.buckets[i]; l; l = l->next) {
			lease_info(container_of(l, struct kv_lease, link),
				   &info);
			err = fn(&info, arg);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * link.hash already covers the key and its length.  Without a lease, and
 * in the sessions below without a lease or ttl, the digest is the one the
 * store gave before it had leases.
 */
static uint64_t item_digest(const struct kv_item *it)
{
	uint64_t h = hash_bytes(it->link.hash, it->value, it->vallen);

	h = mix64(h ^ it->revision);
	return it->lease ? mix64(h ^ lease_hash(it->lease->id)) : h;
}

static uint64_t session_digest(const struct kv_session *s)
{
	uint64_t h = mix64(SEED_SESSION ^ s->client);

	h = mix64(h ^ s->seq);
	h = mix64(h ^ s->status ^ (uint64_t)s->has_value << 8);
	h = mix64(h ^ s->revision);
	h = mix64(h ^ s->index);
	if (s->lease || s->ttl_ms) {
		h = mix64(h ^ s->lease);
		h = mix64(h ^ s->ttl_ms);
	}
	return hash_bytes(h, s->value, s->vallen);
}

static uint64_t lease_digest(const struct kv_lease *l)
{
	uint64_t h = mix64(l->link.hash ^ l->ttl_ms);

	return mix64(h ^ l->refresh_index);
}

/* Sums of per-entry hashes: the same whatever order the tables hold. */
uint64_t kv_digest(const struct kv *kv)
{
	const struct kv_session *s;
	uint64_t items = 0, sessions = 0, leases = 0, d;
	struct kv_link *l;
	size_t i;

	for (i = 0; i <= kv->items.mask; i++)
		for (l = kv->items.buckets[i]; l; l = l->next)
			items += item_digest(container_of(l, struct kv_item,
							  link));
	for (i = 0; i <= kv->leases.mask; i++)
		for (l = kv->leases.buckets[i]; l; l = l->next)
			leases += lease_digest(container_of(l, struct kv_lease,
							    link));
	for (s = kv->oldest; s; s = s->newer)
		sessions += session_digest(s);
	d = mix64(SEED_DIGEST ^ kv->applied);
	d = mix64(d ^ kv->items.count);
	d = mix64(d ^ items);
	d = mix64(d ^ kv->sessions.count);
	d = mix64(d ^ sessions);
	if (kv->leases.count) {
		d = mix64(d ^ kv->leases.count);
		d = mix64(d ^ leases);
	}
	return d;
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
			pair.lease = item_lease(it);
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
		[KV_NO_LEASE] = "no-lease",
		[KV_FENCED] = "fenced",
		[KV_LEASE_REFRESHED] = "lease-refreshed",
		[KV_BUSY] = "busy",
	};

	return status < KV_STATUS_COUNT ? names[status] : "unknown";
}

/* Version 1 as long as it can say it all. */
static bool result_v2(const struct kv_result *r)
{
	return r->lease || r->ttl_ms || r->status >= KV_STATUS_V1;
}

int kv_result_encode(const struct kv_result *r, uint8_t *buf, size_t size)
{
	bool v2 = result_v2(r);
	size_t hdr = v2 ? KV_RESULT_HDR2 : KV_RESULT_HDR;
	size_t len = hdr + r->vallen;

	if (r->status >= KV_STATUS_COUNT || r->vallen > KV_VALUE_MAX ||
	    (r->vallen && !r->has_value))
		return -EINVAL;
	if (len > size)
		return -EMSGSIZE;
	buf[0] = (uint8_t)((v2 ? KV_VERSION2 : KV_VERSION) << 4 | r->status);
	buf[1] = r->has_value ? KV_RESULT_HAS_VALUE : 0;
	put_u64(buf + 2, r->revision);
	put_u64(buf + 10, r->index);
	if (v2) {
		put_u64(buf + 18, r->lease);
		put_u32(buf + 26, r->ttl_ms);
	}
	put_u16(buf + hdr - 2, r->vallen);
	copy_bytes(buf + hdr, r->value, r->vallen);
	return (int)len;
}

int kv_result_decode(struct kv_result *r, const uint8_t *buf, size_t len)
{
	uint8_t version, status;
	uint16_t vallen;
	size_t hdr;

	if (len < KV_RESULT_HDR)
		return -EMSGSIZE;
	version = buf[0] >> 4;
	status = buf[0] & 0x0f;
	if (version == KV_VERSION && status < KV_STATUS_V1)
		hdr = KV_RESULT_HDR;
	else if (version == KV_VERSION2 && status < KV_STATUS_COUNT)
		hdr = KV_RESULT_HDR2;
	else
		return -EINVAL;
	if (buf[1] & ~KV_RESULT_HAS_VALUE)
		return -EINVAL;
	if (len < hdr)
		return -EMSGSIZE;
	vallen = get_u16(buf + hdr - 2);
	if (vallen > KV_VALUE_MAX ||
	    (vallen && !(buf[1] & KV_RESULT_HAS_VALUE)))
		return -EINVAL;
	if (len < hdr + vallen)
		return -EMSGSIZE;
	r->status = status;
	r->has_value = buf[1] & KV_RESULT_HAS_VALUE;
	r->revision = get_u64(buf + 2);
	r->index = get_u64(buf + 10);
	r->lease = hdr == KV_RESULT_HDR2 ? get_u64(buf + 18) : 0;
	r->ttl_ms = hdr == KV_RESULT_HDR2 ? get_u32(buf + 26) : 0;
	r->vallen = vallen;
	copy_bytes(r->value, buf + hdr, vallen);
	return (int)(hdr + vallen);
}

/* Snapshot records: the fixed part of each, see kv.h. */
#define SNAP_HDR		25
#define SNAP_LEASE		20
#define SNAP_KEY		20
#define SNAP_SESSION		48

static int item_link_cmp(const void *a, const void *b)
{
	const struct kv_item *x, *y;

	x = container_of(*(struct kv_link *const *)a, struct kv_item, link);
	y = container_of(*(struct kv_link *const *)b, struct kv_item, link);
	return key_cmp(x->key, x->keylen, y->key, y->keylen);
}

static int lease_link_cmp(const void *a, const void *b)
{
	const struct kv_lease *x, *y;

	x = container_of(*(struct kv_link *const *)a, struct kv_lease, link);
	y = container_of(*(struct kv_link *const *)b, struct kv_lease, link);
	return (x->id > y->id) - (x->id < y->id);
}

static size_t snap_size(const struct kv *kv)
{
	size_t size = SNAP_HDR + kv->leases.count * SNAP_LEASE;
	const struct kv_session *s;
	const struct kv_item *it;
	struct kv_link *l;
	size_t i;

	for (i = 0; i <= kv->items.mask; i++) {
		for (l = kv->items.buckets[i]; l; l = l->next) {
			it = container_of(l, struct kv_item, link);
			size += SNAP_KEY + (size_t)it->keylen + it->vallen;
		}
	}
	for (s = kv->oldest; s; s = s->newer)
		size += SNAP_SESSION + (size_t)s->vallen;
	return size;
}

static uint8_t *snap_put_lease(uint8_t *p, const struct kv_link *l)
{
	const struct kv_lease *ls = container_of(l, struct kv_lease, link);

	put_u64(p, ls->id);
	put_u64(p + 8, ls->refresh_index);
	put_u32(p + 16, ls->ttl_ms);
	return p + SNAP_LEASE;
}

static uint8_t *snap_put_item(uint8_t *p, const struct kv_link *l)
{
	const struct kv_item *it = container_of(l, struct kv_item, link);

	put_u16(p, it->keylen);
	put_u16(p + 2, it->vallen);
	put_u64(p + 4, it->revision);
	put_u64(p + 12, item_lease(it));
	p += SNAP_KEY;
	copy_bytes(p, it->key, it->keylen);
	p += it->keylen;
	copy_bytes(p, it->value, it->vallen);
	return p + it->vallen;
}

static uint8_t *snap_put_session(uint8_t *p, const struct kv_session *s)
{
	put_u64(p, s->client);
	put_u64(p + 8, s->seq);
	p[16] = s->status;
	p[17] = s->has_value ? KV_RESULT_HAS_VALUE : 0;
	put_u64(p + 18, s->revision);
	put_u64(p + 26, s->index);
	put_u64(p + 34, s->lease);
	put_u32(p + 42, s->ttl_ms);
	put_u16(p + 46, s->vallen);
	p += SNAP_SESSION;
	copy_bytes(p, s->value, s->vallen);
	return p + s->vallen;
}

static void snap_write(const struct kv *kv, struct kv_link **leases,
		       struct kv_link **items, uint8_t *p)
{
	const struct kv_session *s;
	size_t i;

	p[0] = KV_SNAP_VERSION;
	put_u64(p + 1, kv->applied);
	put_u32(p + 9, (uint32_t)kv->leases.count);
	put_u64(p + 13, kv->items.count);
	put_u32(p + 21, (uint32_t)kv->sessions.count);
	p += SNAP_HDR;
	for (i = 0; i < kv->leases.count; i++)
		p = snap_put_lease(p, leases[i]);
	for (i = 0; i < kv->items.count; i++)
		p = snap_put_item(p, items[i]);
	for (s = kv->oldest; s; s = s->newer)
		p = snap_put_session(p, s);
}

int kv_snapshot_encode(const struct kv *kv, uint8_t **buf, size_t *len)
{
	struct kv_link **leases = table_sorted(&kv->leases, lease_link_cmp);
	struct kv_link **items = table_sorted(&kv->items, item_link_cmp);
	size_t size = snap_size(kv);
	uint8_t *p = NULL;

	if (leases && items)
		p = malloc(size);
	if (p) {
		snap_write(kv, leases, items, p);
		*buf = p;
		*len = size;
	}
	free(leases);
	free(items);
	return p ? 0 : -ENOMEM;
}

struct snap_reader {
	const uint8_t *p;
	size_t left;
};

/* The next n bytes, or NULL if there are not that many. */
static const uint8_t *snap_take(struct snap_reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (n > r->left)
		return NULL;
	r->p += n;
	r->left -= n;
	return p;
}

/* By id, each granted before it was last refreshed, at most applied. */
static int snap_leases(struct kv *kv, struct snap_reader *r, uint32_t n)
{
	uint64_t id, refresh, prev = 0;
	const uint8_t *p;
	uint32_t i, ttl;

	if (n > KV_LEASES_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		p = snap_take(r, SNAP_LEASE);
		if (!p)
			return -EINVAL;
		id = get_u64(p);
		refresh = get_u64(p + 8);
		ttl = get_u32(p + 16);
		if (id <= prev || refresh < id || refresh > kv->applied ||
		    !ttl || ttl > KV_TTL_MAX)
			return -EINVAL;
		if (!lease_add(kv, id, ttl, refresh))
			return -ENOMEM;
		prev = id;
	}
	return 0;
}

/* A key is written after the lease it is attached to was granted. */
static int snap_lease_of(const struct kv *kv, uint64_t id, uint64_t revision,
			 struct kv_lease **out)
{
	*out = NULL;
	if (!id)
		return 0;
	*out = lease_find(kv, id);
	return *out && revision > id ? 0 : -EINVAL;
}

static int snap_key(struct kv *kv, struct snap_reader *r,
		    const uint8_t **prev, uint16_t *prevlen)
{
	const uint8_t *p = snap_take(r, SNAP_KEY), *key, *value;
	uint16_t keylen, vallen;
	struct kv_lease *lease;
	struct kv_item *it;
	uint64_t revision;

	if (!p)
		return -EINVAL;
	keylen = get_u16(p);
	vallen = get_u16(p + 2);
	revision = get_u64(p + 4);
	key = snap_take(r, keylen);
	value = snap_take(r, vallen);
	if (!key || !value || !keylen || keylen > KV_KEY_MAX ||
	    vallen > KV_VALUE_MAX || !revision || revision > kv->applied ||
	    snap_lease_of(kv, get_u64(p + 12), revision, &lease))
		return -EINVAL;
	/* Strictly increasing: sorted, and no key twice. */
	if (*prev && key_cmp(*prev, *prevlen, key, keylen) >= 0)
		return -EINVAL;
	it = item_new(key, keylen, key_hash(key, keylen));
	if (!it)
		return -ENOMEM;
	if (!dup_into(&it->value, value, vallen)) {
		free(it);
		return -ENOMEM;
	}
	it->vallen = vallen;
	it->revision = revision;
	table_add(&kv->items, &it->link);
	lease_link(it, lease);
	*prev = key;
	*prevlen = keylen;
	return 0;
}

static int snap_keys(struct kv *kv, struct snap_reader *r, uint64_t n)
{
	const uint8_t *prev = NULL;
	uint16_t prevlen = 0;
	uint64_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = snap_key(kv, r, &prev, &prevlen);
		if (err)
			return err;
	}
	return 0;
}

/* What kv_apply() may have recorded: never KV_STALE or KV_BAD. */
static bool snap_result_valid(const struct kv_result *res, uint8_t flags)
{
	if (res->status >= KV_STATUS_COUNT || res->status == KV_STALE ||
	    res->status == KV_BAD)
		return false;
	if (flags & ~KV_RESULT_HAS_VALUE || res->vallen > KV_VALUE_MAX ||
	    (res->vallen && !res->has_value))
		return false;
	return res->revision <= res->index && res->ttl_ms <= KV_TTL_MAX;
}

/* The session of p, or NULL for a malformed one: res is scratch. */
static const uint8_t *snap_session(struct snap_reader *r,
				   struct kv_result *res)
{
	const uint8_t *p = snap_take(r, SNAP_SESSION), *value;

	if (!p)
		return NULL;
	res->status = p[16];
	res->has_value = p[17] & KV_RESULT_HAS_VALUE;
	res->revision = get_u64(p + 18);
	res->index = get_u64(p + 26);
	res->lease = get_u64(p + 34);
	res->ttl_ms = get_u32(p + 42);
	res->vallen = get_u16(p + 46);
	value = snap_take(r, res->vallen);
	if (!value || !snap_result_valid(res, p[17]))
		return NULL;
	copy_bytes(res->value, value, res->vallen);
	return p;
}

/* Oldest first: by the index of their last write, each client once. */
static int snap_sessions(struct kv *kv, struct snap_reader *r, uint32_t n)
{
	struct kv_session *s;
	struct kv_result res;
	uint64_t client, prev = 0;
	const uint8_t *p;
	uint32_t i;

	if (n > kv->max_sessions)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		p = snap_session(r, &res);
		if (!p)
			return -EINVAL;
		client = get_u64(p);
		if (!client || session_find(kv, client) || res.index <= prev ||
		    res.index > kv->applied)
			return -EINVAL;
		s = session_new(client);
		if (!s)
			return -ENOMEM;
		if (!session_store(s, get_u64(p + 8), &res)) {
			free(s);
			return -ENOMEM;
		}
		table_add(&kv->sessions, &s->link);
		lru_append(kv, s);
		prev = res.index;
	}
	return 0;
}

int kv_snapshot_decode(struct kv **out, const uint8_t *buf, size_t len,
		       unsigned int max_sessions)
{
	struct snap_reader r = { .p = buf, .left = buf ? len : 0 };
	const uint8_t *p = snap_take(&r, SNAP_HDR);
	struct kv *kv;
	int err;

	*out = NULL;
	if (!p || p[0] != KV_SNAP_VERSION)
		return -EINVAL;
	kv = kv_new(max_sessions);
	if (!kv)
		return -ENOMEM;
	kv->applied = get_u64(p + 1);
	err = snap_leases(kv, &r, get_u32(p + 9));
	if (!err)
		err = snap_keys(kv, &r, get_u64(p + 13));
	if (!err)
		err = snap_sessions(kv, &r, get_u32(p + 21));
	if (!err && r.left)
		err = -EINVAL;
	if (err) {
		kv_free(kv);
		return err;
	}
	*out = kv;
	return 0;
}
