// SPDX-License-Identifier: GPL-2.0
/*
 * raft/kv.c: the writes and reads, revisions, exactly-once sessions and
 * their eviction, digests of replicas, a table grown to 100k keys, binary
 * keys, the length limits, malformed and random commands, and the result
 * wire format.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/kv.h"
#include "tap.h"

#define GROW_KEYS	100000
#define FUZZ_ROUNDS	20000

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

/* xorshift64*: the same bytes every run, so a failure replays. */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static struct kv_cmd cmd_of(uint8_t op, uint64_t client, uint64_t seq,
			    const char *key, const char *value)
{
	struct kv_cmd cmd = {
		.op = op, .client = client, .seq = seq,
		.key = (const uint8_t *)key, .keylen = (uint16_t)strlen(key),
	};

	if (value) {
		cmd.value = (const uint8_t *)value;
		cmd.vallen = (uint16_t)strlen(value);
	}
	return cmd;
}

static int apply_cmd(struct kv *kv, uint64_t index, const struct kv_cmd *cmd,
		     struct kv_result *res)
{
	uint8_t buf[KV_CMD_MAX];
	int len = kv_encode(cmd, buf, sizeof(buf));

	if (len < 0)
		return len;
	kv_apply(kv, index, buf, (size_t)len, res);
	return 0;
}

static void put(struct kv *kv, uint64_t index, uint64_t client, uint64_t seq,
		const char *key, const char *value, struct kv_result *res)
{
	struct kv_cmd cmd = cmd_of(KV_PUT, client, seq, key, value);

	apply_cmd(kv, index, &cmd, res);
}

static void del(struct kv *kv, uint64_t index, uint64_t client, uint64_t seq,
		const char *key, struct kv_result *res)
{
	struct kv_cmd cmd = cmd_of(KV_DEL, client, seq, key, NULL);

	apply_cmd(kv, index, &cmd, res);
}

/* expect NULL: the key must be absent. */
static void cas(struct kv *kv, uint64_t index, uint64_t client, uint64_t seq,
		const char *key, const char *expect, const char *value,
		struct kv_result *res)
{
	struct kv_cmd cmd = cmd_of(KV_CAS, client, seq, key, value);

	cmd.expect_absent = !expect;
	if (expect) {
		cmd.expect = (const uint8_t *)expect;
		cmd.expectlen = (uint16_t)strlen(expect);
	}
	apply_cmd(kv, index, &cmd, res);
}

static bool value_equals(const struct kv_result *r, const void *value,
			 size_t len)
{
	return r->has_value && r->vallen == len &&
	       (!len || !memcmp(r->value, value, len));
}

/* value NULL: the result carries none. */
static bool result_is(const struct kv_result *r, uint8_t status,
		      uint64_t revision, uint64_t index, const char *value)
{
	if (r->status != status || r->revision != revision ||
	    r->index != index)
		return false;
	if (!value)
		return !r->has_value && !r->vallen;
	return value_equals(r, value, strlen(value));
}

static bool results_equal(const struct kv_result *a,
			  const struct kv_result *b)
{
	return a->status == b->status && a->revision == b->revision &&
	       a->index == b->index && a->has_value == b->has_value &&
	       a->vallen == b->vallen && a->lease == b->lease &&
	       a->ttl_ms == b->ttl_ms &&
	       !memcmp(a->value, b->value, a->vallen);
}

static bool holds(const struct kv *kv, const char *key, const char *value,
		  uint64_t revision)
{
	struct kv_result r;

	kv_get(kv, (const uint8_t *)key, (uint16_t)strlen(key), &r);
	return result_is(&r, KV_OK, revision, kv_applied(kv), value);
}

static bool missing(const struct kv *kv, const char *key)
{
	struct kv_result r;

	kv_get(kv, (const uint8_t *)key, (uint16_t)strlen(key), &r);
	return result_is(&r, KV_NOT_FOUND, 0, kv_applied(kv), NULL);
}

static void test_put_get_del(void)
{
	struct kv *kv = kv_new(0);
	uint8_t long_key[KV_KEY_MAX + 1] = { 0 };
	struct kv_result r;

	put(kv, 1, 0, 0, "a", "1", &r);
	tap_ok(result_is(&r, KV_OK, 1, 1, NULL), "PUT: ok at index 1, rev 1");
	tap_ok(holds(kv, "a", "1", 1), "GET: the value, revision 1");
	put(kv, 2, 0, 0, "a", "22", &r);
	tap_ok(result_is(&r, KV_OK, 2, 2, NULL) && holds(kv, "a", "22", 2),
	       "a second PUT replaces it, revision 2");
	put(kv, 3, 0, 0, "b", "", &r);
	tap_ok(holds(kv, "b", "", 3), "an empty value is a value");
	tap_ok(missing(kv, "c"), "GET of a missing key: not-found, rev 0");
	del(kv, 4, 0, 0, "a", &r);
	tap_ok(result_is(&r, KV_OK, 4, 4, NULL) && missing(kv, "a"),
	       "DEL: ok, revision 4, and gone");
	del(kv, 5, 0, 0, "a", &r);
	tap_ok(result_is(&r, KV_NOT_FOUND, 0, 5, NULL),
	       "DEL of a missing key: not-found");
	tap_ok(kv_count(kv) == 1 && kv_applied(kv) == 5,
	       "1 key, applied 5: %zu, %llu", kv_count(kv),
	       (unsigned long long)kv_applied(kv));

	kv_skip(kv, 7);
	kv_skip(kv, 6);
	tap_ok(kv_applied(kv) == 7, "kv_skip advances applied, never back");
	put(kv, 7, 0, 0, "c", "x", &r);
	tap_ok(result_is(&r, KV_BAD, 0, 7, NULL) && missing(kv, "c") &&
	       kv_applied(kv) == 7, "an index not above applied is bad");
	put(kv, 3, 0, 0, "c", "x", &r);
	tap_ok(r.status == KV_BAD && missing(kv, "c"), "so is an older one");

	kv_get(kv, long_key, 0, &r);
	tap_ok(r.status == KV_BAD, "GET of a 0-byte key is bad");
	kv_get(kv, long_key, KV_KEY_MAX + 1, &r);
	tap_ok(r.status == KV_BAD, "GET of a %d-byte key is bad",
	       KV_KEY_MAX + 1);
	kv_free(kv);
}

static void test_cas(void)
{
	struct kv *kv = kv_new(0);
	struct kv_result r;

	put(kv, 1, 0, 0, "k", "old", &r);
	cas(kv, 2, 0, 0, "k", "old", "new", &r);
	tap_ok(result_is(&r, KV_OK, 2, 2, NULL) && holds(kv, "k", "new", 2),
	       "CAS with the current value: ok, revision 2");
	cas(kv, 3, 0, 0, "k", "old", "x", &r);
	tap_ok(result_is(&r, KV_CAS_FAILED, 2, 3, "new") &&
	       holds(kv, "k", "new", 2),
	       "CAS with another value fails with the current one, rev 2");
	cas(kv, 4, 0, 0, "k", "ne", "x", &r);
	tap_ok(r.status == KV_CAS_FAILED, "a prefix does not match");
	cas(kv, 5, 0, 0, "k", "new!", "x", &r);
	tap_ok(r.status == KV_CAS_FAILED, "nor a longer value");
	cas(kv, 6, 0, 0, "m", "", "v", &r);
	tap_ok(result_is(&r, KV_CAS_FAILED, 0, 6, NULL) && missing(kv, "m"),
	       "CAS of a missing key fails without a value");
	cas(kv, 7, 0, 0, "m", NULL, "v", &r);
	tap_ok(result_is(&r, KV_OK, 7, 7, NULL) && holds(kv, "m", "v", 7),
	       "CAS if absent creates it");
	cas(kv, 8, 0, 0, "m", NULL, "w", &r);
	tap_ok(result_is(&r, KV_CAS_FAILED, 7, 8, "v") &&
	       holds(kv, "m", "v", 7),
	       "CAS if absent of an existing key fails with its value");
	put(kv, 9, 0, 0, "e", "", &r);
	cas(kv, 10, 0, 0, "e", "", "full", &r);
	tap_ok(r.status == KV_OK && holds(kv, "e", "full", 10),
	       "an empty expected value matches an empty value");
	cas(kv, 11, 0, 0, "e", NULL, "again", &r);
	tap_ok(r.status == KV_CAS_FAILED, "which is not absent");
	kv_free(kv);
}

static void test_sessions(void)
{
	struct kv_result first, again, failed;
	struct kv *kv = kv_new(0);

	put(kv, 1, 7, 1, "x", "seven", &first);
	put(kv, 2, 8, 1, "x", "eight", &again);
	put(kv, 3, 7, 1, "x", "seven", &again);
	tap_ok(results_equal(&first, &again) && again.index == 1,
	       "a repeated (client, seq) gets the first result, index 1");
	tap_ok(holds(kv, "x", "eight", 2), "and is not applied again");
	put(kv, 4, 7, 0, "x", "zero", &again);
	tap_ok(result_is(&again, KV_STALE, 0, 4, NULL) &&
	       holds(kv, "x", "eight", 2), "an older seq is stale");
	put(kv, 5, 7, 3, "x", "three", &again);
	tap_ok(result_is(&again, KV_OK, 5, 5, NULL) &&
	       holds(kv, "x", "three", 5), "a newer seq applies");

	cas(kv, 6, 9, 1, "x", "seven", "nine", &failed);
	put(kv, 7, 8, 2, "x", "later", &again);
	cas(kv, 8, 9, 1, "x", "seven", "nine", &again);
	tap_ok(result_is(&failed, KV_CAS_FAILED, 5, 6, "three") &&
	       results_equal(&failed, &again),
	       "a repeated failed CAS shows the value it failed on");

	del(kv, 9, 10, 1, "gone", &first);
	put(kv, 10, 8, 3, "gone", "back", &again);
	del(kv, 11, 10, 1, "gone", &again);
	tap_ok(result_is(&again, KV_NOT_FOUND, 0, 9, NULL) &&
	       holds(kv, "gone", "back", 10),
	       "a repeated DEL is not-found again and deletes nothing");

	put(kv, 12, 0, 5, "z", "a", &first);
	put(kv, 13, 0, 5, "z", "b", &again);
	tap_ok(first.status == KV_OK && again.status == KV_OK &&
	       holds(kv, "z", "b", 13), "client 0 has no session");
	tap_ok(kv_sessions(kv) == 4, "4 sessions: %zu", kv_sessions(kv));
	kv_free(kv);
}

/* 3 sessions; the retries that find theirs get its index back. */
static void feed_evictions(struct kv *kv, uint64_t got[6])
{
	struct kv_result r;

	put(kv, 1, 1, 1, "k", "1", &r);
	put(kv, 2, 2, 1, "k", "2", &r);
	put(kv, 3, 3, 1, "k", "3", &r);
	put(kv, 4, 1, 2, "k", "1b", &r);
	put(kv, 5, 4, 1, "k", "4", &r);		/* evicts 2, last at 2 */
	put(kv, 6, 3, 1, "k", "3", &r);
	got[0] = r.index;
	put(kv, 7, 1, 2, "k", "1b", &r);
	got[1] = r.index;
	put(kv, 8, 2, 1, "k", "2", &r);		/* evicts 3, last at 3 */
	got[2] = r.index;
	put(kv, 9, 3, 1, "k", "3", &r);		/* evicts 1, last at 4 */
	got[3] = r.index;
	put(kv, 10, 4, 1, "k", "4", &r);
	got[4] = r.index;
	put(kv, 11, 1, 2, "k", "1b", &r);	/* evicts 4, last at 5 */
	got[5] = r.index;
}

static void test_eviction(void)
{
	static const uint64_t want[6] = { 3, 4, 8, 9, 5, 11 };
	struct kv *a = kv_new(3), *b = kv_new(3);
	uint64_t got_a[6], got_b[6];

	feed_evictions(a, got_a);
	feed_evictions(b, got_b);
	tap_ok(!memcmp(got_a, want, sizeof(want)),
	       "the oldest last write goes first: indexes %llu %llu %llu %llu %llu %llu",
	       (unsigned long long)got_a[0], (unsigned long long)got_a[1],
	       (unsigned long long)got_a[2], (unsigned long long)got_a[3],
	       (unsigned long long)got_a[4], (unsigned long long)got_a[5]);
	tap_ok(kv_sessions(a) == 3, "never more than 3 sessions: %zu",
	       kv_sessions(a));
	tap_ok(!memcmp(got_a, got_b, sizeof(got_a)) &&
	       kv_digest(a) == kv_digest(b),
	       "a second replica evicts the same ones");
	kv_free(a);
	kv_free(b);
}

/* variant 1 changes a value, variant 2 swaps two writes. */
static void feed(struct kv *kv, int variant)
{
	struct kv_result r;

	put(kv, 1, 1, 1, "alpha", "a", &r);
	put(kv, 2, 2, 1, variant == 2 ? "gamma" : "beta", "b", &r);
	put(kv, 3, 3, 1, variant == 2 ? "beta" : "gamma", "b", &r);
	cas(kv, 4, 1, 2, "alpha", "a", variant == 1 ? "A!" : "A", &r);
	cas(kv, 5, 2, 2, "delta", NULL, "d", &r);
	del(kv, 6, 3, 2, "gamma", &r);
	cas(kv, 7, 1, 3, "beta", "nope", "x", &r);
	kv_skip(kv, 8);
}

static void put_range(struct kv *kv, int from, int to, uint64_t index)
{
	char key[32], value[32];
	int i;

	for (i = from; i < to; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(value, sizeof(value), "v%d", i);
		put(kv, index++, 0, 0, key, value, NULL);
	}
}

static void test_digest(void)
{
	struct kv *a = kv_new(0), *b = kv_new(0), *c = kv_new(0);
	struct kv *d = kv_new(0);
	uint64_t empty = kv_digest(a);
	char key[32];
	int i;

	tap_ok(empty == kv_digest(b), "empty stores have equal digests");
	feed(a, 0);
	feed(b, 0);
	feed(c, 1);
	feed(d, 2);
	tap_ok(kv_digest(a) == kv_digest(b) && kv_digest(a) != empty,
	       "the same commands give equal digests: %016llx",
	       (unsigned long long)kv_digest(a));
	tap_ok(kv_digest(a) != kv_digest(c), "one value apart: different");
	tap_ok(kv_digest(a) != kv_digest(d),
	       "the same keys written in another order: different");
	kv_skip(b, 9);
	tap_ok(kv_digest(a) != kv_digest(b), "applied apart: different");
	kv_free(a);
	kv_free(b);
	kv_free(c);
	kv_free(d);

	/* A table grown to 1024 buckets against one of 16, same contents. */
	a = kv_new(0);
	b = kv_new(0);
	put_range(a, 0, 1000, 1);
	for (i = 10; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		del(a, (uint64_t)i + 991, 0, 0, key, NULL);
	}
	put_range(b, 0, 10, 1);
	kv_skip(b, 1990);
	tap_ok(kv_count(a) == 10 && kv_applied(a) == 1990 &&
	       kv_digest(a) == kv_digest(b),
	       "independent of the table's layout and history");
	put(b, 1991, 5, 1, "k0", "v0", NULL);
	put(a, 1991, 0, 0, "k0", "v0", NULL);
	tap_ok(kv_digest(a) != kv_digest(b), "sessions count");
	kv_free(a);
	kv_free(b);
}

static uint16_t grow_value(int i, uint8_t *value)
{
	uint16_t len = (uint16_t)(i % 50);
	uint16_t j;

	for (j = 0; j < len; j++)
		value[j] = (uint8_t)(i * 31 + j);
	return len;
}

static bool grow_intact(const struct kv *kv, int i)
{
	uint8_t value[64];
	uint16_t len = grow_value(i, value);
	struct kv_result r;
	char key[32];

	snprintf(key, sizeof(key), "key-%d", i);
	kv_get(kv, (const uint8_t *)key, (uint16_t)strlen(key), &r);
	return r.status == KV_OK && r.revision == (uint64_t)i + 1 &&
	       value_equals(&r, value, len);
}

static void test_grow(void)
{
	struct kv *kv = kv_new(0);
	struct kv_cmd cmd = { .op = KV_PUT, .client = 1 };
	int i, intact = 0, gone = 0;
	uint8_t value[64];
	char key[32];

	cmd.key = (const uint8_t *)key;
	cmd.value = value;
	for (i = 0; i < GROW_KEYS; i++) {
		cmd.keylen = (uint16_t)snprintf(key, sizeof(key), "key-%d", i);
		cmd.vallen = grow_value(i, value);
		cmd.seq = (uint64_t)i + 1;
		apply_cmd(kv, (uint64_t)i + 1, &cmd, NULL);
	}
	for (i = 0; i < GROW_KEYS; i++)
		intact += grow_intact(kv, i);
	tap_ok(kv_count(kv) == GROW_KEYS && intact == GROW_KEYS,
	       "%d keys, every value and revision intact: %d",
	       GROW_KEYS, intact);
	for (i = 1; i < GROW_KEYS; i += 2) {
		snprintf(key, sizeof(key), "key-%d", i);
		del(kv, (uint64_t)(GROW_KEYS + i), 0, 0, key, NULL);
	}
	for (i = 0, intact = 0; i < GROW_KEYS; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		if (i % 2)
			gone += missing(kv, key);
		else
			intact += grow_intact(kv, i);
	}
	tap_ok(kv_count(kv) == GROW_KEYS / 2 && gone == GROW_KEYS / 2 &&
	       intact == GROW_KEYS / 2,
	       "half deleted: %d gone, %d intact", gone, intact);
	kv_free(kv);
}

static bool binary_holds(const struct kv *kv, const uint8_t *key,
			 uint16_t keylen, const uint8_t *value,
			 uint16_t vallen)
{
	struct kv_result r;

	kv_get(kv, key, keylen, &r);
	return r.status == KV_OK && value_equals(&r, value, vallen);
}

static void test_binary(void)
{
	static const uint8_t keys[4][3] = { "a\0b", "a\0c", "a", "\0" };
	static const uint16_t keylens[4] = { 3, 3, 1, 1 };
	struct kv_cmd cmd = { .op = KV_PUT };
	struct kv *kv = kv_new(0);
	uint8_t value[256];
	int i, found = 0;

	for (i = 0; i < 256; i++)
		value[i] = (uint8_t)i;
	for (i = 0; i < 4; i++) {
		cmd.key = keys[i];
		cmd.keylen = keylens[i];
		cmd.value = value + i;
		cmd.vallen = (uint16_t)(256 - i);
		apply_cmd(kv, (uint64_t)i + 1, &cmd, NULL);
	}
	for (i = 0; i < 4; i++)
		found += binary_holds(kv, keys[i], keylens[i], value + i,
				      (uint16_t)(256 - i));
	tap_ok(kv_count(kv) == 4 && found == 4,
	       "keys and values with NUL bytes are kept apart and intact");
	kv_free(kv);
}

static int fill(uint8_t *buf, uint8_t op, uint16_t keylen, uint16_t vallen,
		uint16_t expectlen, size_t size)
{
	struct kv_cmd cmd = { .op = op, .key = buf + 2000, .keylen = keylen,
			      .value = buf + 3000, .vallen = vallen,
			      .expect = buf + 3000, .expectlen = expectlen };

	return kv_encode(&cmd, buf, size);
}

static void test_limits(void)
{
	static uint8_t buf[4096];
	struct kv *kv = kv_new(0);
	struct kv_cmd cmd;
	struct kv_result r;
	int len;

	memset(buf, 'x', sizeof(buf));
	len = fill(buf, KV_PUT, KV_KEY_MAX, 1, 0, KV_CMD_MAX);
	kv_apply(kv, 1, buf, (size_t)len, &r);
	tap_ok(len == KV_CMD_HDR + KV_KEY_MAX + 1 && r.status == KV_OK,
	       "a %d-byte key: %d bytes, ok", KV_KEY_MAX, len);
	tap_ok(fill(buf, KV_PUT, KV_KEY_MAX + 1, 1, 0, KV_CMD_MAX) ==
	       -EINVAL, "a %d-byte key: -EINVAL", KV_KEY_MAX + 1);
	len = fill(buf, KV_PUT, 1, KV_VALUE_MAX, 0, KV_CMD_MAX);
	kv_apply(kv, 2, buf, (size_t)len, &r);
	tap_ok(len > 0 && r.status == KV_OK &&
	       binary_holds(kv, buf + 2000, 1, buf + 3000, KV_VALUE_MAX),
	       "a %d-byte value: ok, read back whole", KV_VALUE_MAX);
	tap_ok(fill(buf, KV_PUT, 1, KV_VALUE_MAX + 1, 0, KV_CMD_MAX) ==
	       -EINVAL, "a %d-byte value: -EINVAL", KV_VALUE_MAX + 1);
	len = KV_CMD_MAX - KV_CMD_HDR - KV_VALUE_MAX;
	tap_ok(fill(buf, KV_PUT, (uint16_t)len, KV_VALUE_MAX, 0,
		    KV_CMD_MAX) == KV_CMD_MAX &&
	       fill(buf, KV_PUT, (uint16_t)len + 1, KV_VALUE_MAX, 0,
		    KV_CMD_MAX + 1) == -EMSGSIZE,
	       "a %d-byte key fits with %d bytes of value, one more does not",
	       len, KV_VALUE_MAX);
	tap_ok(fill(buf, KV_CAS, 1, 700, 700, sizeof(buf)) == -EMSGSIZE,
	       "CAS counts value and expected: -EMSGSIZE");
	tap_ok(fill(buf, KV_PUT, 3, 4, 0, KV_CMD_HDR + 6) == -EMSGSIZE,
	       "a buffer one byte short: -EMSGSIZE");
	tap_ok(fill(buf, KV_PUT, 0, 4, 0, KV_CMD_MAX) == -EINVAL,
	       "an empty key: -EINVAL");
	tap_ok(fill(buf, 0, 1, 0, 0, KV_CMD_MAX) == -EINVAL &&
	       fill(buf, KV_CAS + 1, 1, 0, 0, KV_CMD_MAX) == -EINVAL,
	       "an unknown op: -EINVAL");
	tap_ok(fill(buf, KV_GET, 1, 1, 0, KV_CMD_MAX) == -EINVAL &&
	       fill(buf, KV_DEL, 1, 1, 0, KV_CMD_MAX) == -EINVAL &&
	       fill(buf, KV_PUT, 1, 1, 1, KV_CMD_MAX) == -EINVAL,
	       "GET and DEL take no value, PUT no expected one");

	cmd = cmd_of(KV_PUT, 0, 0, "k", "v");
	cmd.expect_absent = true;
	tap_ok(kv_encode(&cmd, buf, KV_CMD_MAX) == -EINVAL,
	       "PUT takes no expect-absent");
	cmd.op = KV_CAS;
	cmd.expect = buf;
	cmd.expectlen = 1;
	tap_ok(kv_encode(&cmd, buf + 100, KV_CMD_MAX) == -EINVAL,
	       "expect-absent with an expected value: -EINVAL");
	cmd = cmd_of(KV_PUT, 0, 0, "k", NULL);
	cmd.vallen = 3;
	tap_ok(kv_encode(&cmd, buf, KV_CMD_MAX) == -EINVAL,
	       "a value length without a value: -EINVAL");
	kv_free(kv);
}

static void test_layout(void)
{
	static const uint8_t want[] = {
		0x14, 0x01,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x2a, 0, 0, 0, 0, 0, 0, 0,
		2, 0, 3, 0, 0, 0,
		'k', 0, 'v', 0, 'w',
	};
	struct kv_cmd cmd = {
		.op = KV_CAS, .client = 0x0102030405060708ULL, .seq = 42,
		.key = (const uint8_t *)"k", .keylen = 2,
		.value = (const uint8_t *)"v\0w", .vallen = 3,
		.expect_absent = true,
	};
	uint8_t buf[64];
	struct kv_cmd out;
	int len = kv_encode(&cmd, buf, sizeof(buf));

	tap_ok(len == (int)sizeof(want) && !memcmp(buf, want, sizeof(want)),
	       "the command's bytes: version 1 << 4 | op, flags, client, seq, lengths, key, value");
	tap_ok(!kv_decode(&out, buf, (size_t)len) && out.op == KV_CAS &&
	       out.client == cmd.client && out.seq == 42 &&
	       out.keylen == 2 && !memcmp(out.key, "k", 2) &&
	       out.vallen == 3 && !memcmp(out.value, "v\0w", 3) &&
	       out.expectlen == 0 && out.expect_absent,
	       "kv_decode gives it back");
}

/* Applies bad at index to kv and skips it on ref: their digests agree. */
static bool refused(struct kv *kv, struct kv *ref, uint64_t *index,
		    const uint8_t *bad, size_t len)
{
	struct kv_result r;

	++*index;
	kv_apply(kv, *index, bad, len, &r);
	kv_skip(ref, *index);
	return r.status == KV_BAD && r.index == *index &&
	       kv_digest(kv) == kv_digest(ref);
}

static size_t craft(uint8_t *buf, uint8_t first, uint8_t flags,
		    uint16_t keylen, uint16_t vallen, uint16_t expectlen)
{
	size_t len = KV_CMD_HDR + (size_t)keylen + vallen + expectlen;

	memset(buf, 'k', len);
	buf[0] = first;
	buf[1] = flags;
	memset(buf + 2, 0, 16);
	buf[18] = (uint8_t)keylen;
	buf[19] = (uint8_t)(keylen >> 8);
	buf[20] = (uint8_t)vallen;
	buf[21] = (uint8_t)(vallen >> 8);
	buf[22] = (uint8_t)expectlen;
	buf[23] = (uint8_t)(expectlen >> 8);
	return len;
}

static void test_malformed(struct kv *kv, struct kv *ref, uint64_t *index)
{
	static uint8_t buf[4096];
	struct kv_cmd cmd = cmd_of(KV_CAS, 3, 9, "alpha", "new");
	size_t i, len, ok = 0;

	cmd.expect = (const uint8_t *)"A";
	cmd.expectlen = 1;
	len = (size_t)kv_encode(&cmd, buf, sizeof(buf));
	for (i = 0; i < len; i++)
		ok += refused(kv, ref, index, buf, i);
	tap_ok(ok == len, "all %zu truncations are bad, change nothing", len);
	tap_ok(refused(kv, ref, index, buf, len + 1),
	       "a trailing byte is bad");
	tap_ok(refused(kv, ref, index, NULL, 0), "no bytes at all is bad");

	len = craft(buf, 0x02, 0, 1, 1, 0);
	ok = refused(kv, ref, index, buf, len);
	buf[0] = 0x32;
	ok += refused(kv, ref, index, buf, len);
	tap_ok(ok == 2, "version 0 or 3 is bad");
	buf[0] = 0x10;
	ok = refused(kv, ref, index, buf, len);
	buf[0] = 0x15;
	ok += refused(kv, ref, index, buf, len);
	tap_ok(ok == 2, "op 0 or 5 is bad");
	buf[0] = 0x12;
	buf[1] = 0x02;
	ok = refused(kv, ref, index, buf, len);
	buf[1] = KV_CMD_EXPECT_ABSENT;
	ok += refused(kv, ref, index, buf, len);
	tap_ok(ok == 2, "unknown flags, or expect-absent on a PUT, are bad");
	len = craft(buf, 0x12, 0, 0, 1, 0);
	tap_ok(refused(kv, ref, index, buf, len), "an empty key is bad");
	len = craft(buf, 0x12, 0, KV_KEY_MAX + 1, 1, 0);
	tap_ok(refused(kv, ref, index, buf, len), "a 256-byte key is bad");
	len = craft(buf, 0x12, 0, 1, KV_VALUE_MAX + 1, 0);
	tap_ok(refused(kv, ref, index, buf, len), "a 1025-byte value is bad");
	len = craft(buf, 0x12, 0, KV_KEY_MAX, KV_VALUE_MAX, 0);
	tap_ok(refused(kv, ref, index, buf, len),
	       "%zu bytes, over %d, are bad", len, KV_CMD_MAX);
	len = craft(buf, 0x14, KV_CMD_EXPECT_ABSENT, 1, 1, 1);
	tap_ok(refused(kv, ref, index, buf, len),
	       "expect-absent with an expected value is bad");
	len = craft(buf, 0x11, 0, 5, 0, 0);
	tap_ok(refused(kv, ref, index, buf, len), "a GET in the log is bad");
}

static void test_random(struct kv *kv, struct kv *ref, uint64_t *index)
{
	static uint8_t buf[KV_CMD_MAX + 16];
	size_t i, j, len, ok = 0;

	for (i = 0; i < FUZZ_ROUNDS; i++) {
		len = rng() % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rng();
		ok += refused(kv, ref, index, buf, len);
	}
	tap_ok(ok == FUZZ_ROUNDS, "%d random commands are bad: %zu",
	       FUZZ_ROUNDS, ok);
}

/* A valid command with a few bytes changed, maybe cut short. */
static size_t mutant(uint8_t *buf, size_t size)
{
	struct kv_cmd cmd = cmd_of((uint8_t)(KV_PUT + rng() % 3), rng() % 4,
				   rng() % 4, "key", "value");
	size_t len, n = rng() % 4;

	if (cmd.op == KV_DEL)
		cmd.vallen = 0;
	len = (size_t)kv_encode(&cmd, buf, size);
	while (n--)
		buf[rng() % len] = (uint8_t)rng();
	if (rng() % 4 == 0)
		len = rng() % len;
	return len;
}

/* Mutants may decode; the replicas must still agree on every one. */
static void test_mutants(void)
{
	struct kv *a = kv_new(2), *b = kv_new(2);
	struct kv_result ra, rb;
	size_t i, len, agree = 0, honest = 0, bad = 0;
	uint8_t buf[KV_CMD_MAX];
	struct kv_cmd cmd;
	bool want_bad;
	int err;

	for (i = 1; i <= FUZZ_ROUNDS; i++) {
		len = mutant(buf, sizeof(buf));
		err = kv_decode(&cmd, buf, len);
		kv_apply(a, i, buf, len, &ra);
		kv_apply(b, i, buf, len, &rb);
		agree += results_equal(&ra, &rb);
		want_bad = err || cmd.op == KV_GET;
		honest += (ra.status == KV_BAD) == want_bad;
		bad += ra.status == KV_BAD;
	}
	tap_diag("%zu of %d mutants bad", bad, FUZZ_ROUNDS);
	tap_ok(honest == FUZZ_ROUNDS,
	       "mutants are bad exactly when kv_decode refuses them");
	tap_ok(agree == FUZZ_ROUNDS && kv_digest(a) == kv_digest(b),
	       "two replicas fed them agree on every result and the digest");
	kv_free(a);
	kv_free(b);
}

static void test_bad_commands(void)
{
	struct kv *kv = kv_new(0), *ref = kv_new(0);
	uint64_t index = 8;

	feed(kv, 0);
	feed(ref, 0);
	test_malformed(kv, ref, &index);
	test_random(kv, ref, &index);
	tap_ok(holds(kv, "alpha", "A", 4) && kv_count(kv) == 3 &&
	       kv_applied(kv) == index,
	       "after them all: the same keys, applied %llu",
	       (unsigned long long)index);
	kv_free(kv);
	kv_free(ref);
	test_mutants();
}

static void test_result_codec(void)
{
	static const uint8_t head[] = {
		0x12, 0x01,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
		5, 0,
	};
	struct kv_result r = {
		.status = KV_CAS_FAILED, .revision = 0x0102030405060708ULL,
		.index = 0x1122334455667788ULL, .has_value = true, .vallen = 5,
	}, out;
	uint8_t buf[KV_RESULT_MAX + 8];
	int len, i, short_ok = 0;

	memcpy(r.value, "a\0b\0c", 5);
	len = kv_result_encode(&r, buf, sizeof(buf));
	tap_ok(len == KV_RESULT_HDR + 5 && !memcmp(buf, head, sizeof(head)) &&
	       !memcmp(buf + KV_RESULT_HDR, "a\0b\0c", 5),
	       "the result's bytes: version 1 << 4 | status, flags, revision, index, length, value");
	memset(&out, 0xff, sizeof(out));
	tap_ok(kv_result_decode(&out, buf, sizeof(buf)) == len &&
	       results_equal(&r, &out),
	       "decoded back, trailing bytes left to the caller");
	for (i = 0; i < len; i++)
		short_ok += kv_result_decode(&out, buf, (size_t)i) == -EMSGSIZE;
	tap_ok(short_ok == len, "every truncation: -EMSGSIZE");
	tap_ok(kv_result_encode(&r, buf, (size_t)len - 1) == -EMSGSIZE,
	       "encoding into a buffer one short: -EMSGSIZE");

	r.vallen = KV_VALUE_MAX;
	memset(r.value, 0, KV_VALUE_MAX);
	len = kv_result_encode(&r, buf, sizeof(buf));
	tap_ok(len == KV_RESULT_HDR + KV_VALUE_MAX &&
	       kv_result_decode(&out, buf, (size_t)len) == len &&
	       results_equal(&r, &out), "a %d-byte value round trips",
	       KV_VALUE_MAX);
	r = (struct kv_result){ .status = KV_NOT_FOUND, .index = 3 };
	len = kv_result_encode(&r, buf, sizeof(buf));
	tap_ok(len == KV_RESULT_HDR &&
	       kv_result_decode(&out, buf, (size_t)len) == len &&
	       results_equal(&r, &out) && !out.has_value,
	       "so does one without a value");

	r.status = KV_STATUS_COUNT;
	i = kv_result_encode(&r, buf, sizeof(buf));
	r.status = KV_OK;
	r.vallen = 1;
	tap_ok(i == -EINVAL && kv_result_encode(&r, buf, sizeof(buf)) ==
	       -EINVAL, "encode refuses a bad status, or a value length without a value");
	r.has_value = true;
	r.vallen = KV_VALUE_MAX + 1;
	tap_ok(kv_result_encode(&r, buf, sizeof(buf)) == -EINVAL,
	       "or a value too long");

	memcpy(buf, head, sizeof(head));
	memset(buf + KV_RESULT_HDR, 'v', 5);
	buf[0] = 0x32;
	short_ok = kv_result_decode(&out, buf, 25) == -EINVAL;
	buf[0] = 0x15;
	short_ok += kv_result_decode(&out, buf, 25) == -EINVAL;
	buf[0] = 0x10;
	buf[1] = 0x03;
	short_ok += kv_result_decode(&out, buf, 25) == -EINVAL;
	buf[1] = 0x00;
	short_ok += kv_result_decode(&out, buf, 25) == -EINVAL;
	buf[1] = KV_RESULT_HAS_VALUE;
	buf[18] = 0x01;
	buf[19] = 0x04;
	short_ok += kv_result_decode(&out, buf, sizeof(buf)) == -EINVAL;
	tap_ok(short_ok == 5,
	       "decode refuses a bad version, status, flags, or length");
}

static void test_applied_result(void)
{
	struct kv *kv = kv_new(0);
	struct kv_result r, out;
	uint8_t buf[KV_RESULT_MAX];
	int len;

	put(kv, 1, 0, 0, "k", "v\0", &r);
	cas(kv, 2, 0, 0, "k", "w", "x", &r);
	len = kv_result_encode(&r, buf, sizeof(buf));
	tap_ok(len == KV_RESULT_HDR + 1 &&
	       kv_result_decode(&out, buf, (size_t)len) == len &&
	       result_is(&out, KV_CAS_FAILED, 1, 2, "v"),
	       "a failed CAS from kv_apply crosses the wire");
	kv_free(kv);
}

struct walk {
	int calls;
	uint64_t revisions;
	size_t bytes;
	size_t leases;		/* keys with one */
};

static int walk_one(const struct kv_pair *pair, void *arg)
{
	struct walk *w = arg;

	w->calls++;
	w->revisions += pair->revision;
	w->bytes += pair->keylen + pair->vallen;
	w->leases += pair->lease != 0;
	return pair->value ? 0 : -1;
}

static int walk_stop(const struct kv_pair *pair, void *arg)
{
	(void)pair;
	++*(int *)arg;
	return 7;
}

static void test_foreach(void)
{
	struct kv *kv = kv_new(0);
	struct walk w = { 0 };
	int calls = 0, err;

	put(kv, 1, 0, 0, "one", "1", NULL);
	put(kv, 2, 0, 0, "two", "", NULL);
	put(kv, 3, 0, 0, "three", "333", NULL);
	err = kv_foreach(kv, walk_one, &w);
	tap_ok(!err && w.calls == 3 && w.revisions == 6 && w.bytes == 15,
	       "kv_foreach: each key once, empty values not NULL");
	tap_ok(kv_foreach(kv, walk_stop, &calls) == 7 && calls == 1,
	       "a non-zero return stops it and is returned");
	kv_free(kv);
}

static void test_names(void)
{
	tap_ok(!strcmp(kv_status_name(KV_OK), "ok") &&
	       !strcmp(kv_status_name(KV_NOT_FOUND), "not-found") &&
	       !strcmp(kv_status_name(KV_CAS_FAILED), "cas-failed") &&
	       !strcmp(kv_status_name(KV_STALE), "stale") &&
	       !strcmp(kv_status_name(KV_BAD), "bad") &&
	       !strcmp(kv_status_name(KV_STATUS_COUNT), "unknown"),
	       "status names");
}

/* Leases, locks and fencing. */

static void lease_op(struct kv *kv, uint64_t index, uint8_t op,
		     uint64_t client, uint64_t seq, uint64_t lease,
		     uint64_t refresh, struct kv_result *res)
{
	struct kv_cmd cmd = { .op = op, .client = client, .seq = seq,
			      .lease = lease, .refresh_index = refresh };

	apply_cmd(kv, index, &cmd, res);
}

static void grant(struct kv *kv, uint64_t index, uint64_t client,
		  uint64_t seq, uint32_t ttl_ms, struct kv_result *res)
{
	struct kv_cmd cmd = { .op = KV_LEASE_GRANT, .client = client,
			      .seq = seq, .ttl_ms = ttl_ms };

	apply_cmd(kv, index, &cmd, res);
}

static void put_leased(struct kv *kv, uint64_t index, uint64_t client,
		       uint64_t seq, const char *key, const char *value,
		       uint64_t lease, struct kv_result *res)
{
	struct kv_cmd cmd = cmd_of(KV_PUT, client, seq, key, value);

	cmd.attach_lease = true;
	cmd.lease = lease;
	apply_cmd(kv, index, &cmd, res);
}

/* A lock: CAS-absent of key with lease attached. */
static void acquire(struct kv *kv, uint64_t index, uint64_t client,
		    uint64_t seq, const char *key, uint64_t lease,
		    struct kv_result *res)
{
	struct kv_cmd cmd = cmd_of(KV_CAS, client, seq, key, "holder");

	cmd.expect_absent = true;
	cmd.attach_lease = true;
	cmd.lease = lease;
	apply_cmd(kv, index, &cmd, res);
}

/* value NULL: a fenced DEL, else a fenced PUT. */
static void fenced(struct kv *kv, uint64_t index, uint64_t client,
		   uint64_t seq, const char *key, const char *value,
		   const char *fence_key, uint64_t token,
		   struct kv_result *res)
{
	struct kv_cmd cmd = cmd_of(value ? KV_PUT : KV_DEL, client, seq, key,
				   value);

	cmd.fenced = true;
	cmd.fence_key = (const uint8_t *)fence_key;
	cmd.fence_keylen = (uint16_t)strlen(fence_key);
	cmd.fence_token = token;
	apply_cmd(kv, index, &cmd, res);
}

static bool lease_is(const struct kv_result *r, uint8_t status,
		     uint64_t revision, uint64_t index, uint64_t lease,
		     uint32_t ttl_ms)
{
	return result_is(r, status, revision, index, NULL) &&
	       r->lease == lease && r->ttl_ms == ttl_ms;
}

static bool lease_has(const struct kv *kv, uint64_t id, uint32_t ttl_ms,
		      uint64_t refresh, size_t n_keys)
{
	struct kv_lease_info l;

	return !kv_lease_get(kv, id, &l) && l.id == id &&
	       l.ttl_ms == ttl_ms && l.refresh_index == refresh &&
	       l.n_keys == n_keys;
}

static uint64_t lease_of(const struct kv *kv, const char *key)
{
	struct kv_result r;

	kv_get(kv, (const uint8_t *)key, (uint16_t)strlen(key), &r);
	return r.status == KV_OK ? r.lease : UINT64_MAX;
}

struct lease_walk {
	size_t calls, keys;
	uint64_t ids;
};

static int lease_walk_one(const struct kv_lease_info *l, void *arg)
{
	struct lease_walk *w = arg;

	w->calls++;
	w->keys += l->n_keys;
	w->ids += l->id;
	return 0;
}

static void test_leases(void)
{
	struct kv *kv = kv_new(0), *ref = kv_new(0);
	struct lease_walk w = { 0 };
	struct kv_lease_info info;
	struct kv_result r;

	grant(kv, 1, 0, 0, 5000, &r);
	tap_ok(lease_is(&r, KV_OK, 1, 1, 1, 5000) && kv_leases(kv) == 1 &&
	       lease_has(kv, 1, 5000, 1, 0),
	       "GRANT: lease 1 of 5000 ms, refreshed at 1");
	grant(kv, 2, 0, 0, 1, &r);
	grant(kv, 3, 0, 0, KV_TTL_MAX, &r);
	tap_ok(lease_is(&r, KV_OK, 3, 3, 3, KV_TTL_MAX) && kv_leases(kv) == 3,
	       "ttl 1 and %d ms are granted too", KV_TTL_MAX);
	lease_op(kv, 5, KV_LEASE_KEEPALIVE, 0, 0, 1, 0, &r);
	tap_ok(lease_is(&r, KV_OK, 5, 5, 1, 5000) &&
	       lease_has(kv, 1, 5000, 5, 0),
	       "KEEPALIVE: its refresh index becomes 5");
	lease_op(kv, 6, KV_LEASE_KEEPALIVE, 0, 0, 4, 0, &r);
	tap_ok(lease_is(&r, KV_NO_LEASE, 0, 6, 4, 0) &&
	       kv_lease_get(kv, 4, &info) == -ENOENT,
	       "KEEPALIVE of a missing lease: no-lease, naming it");
	kv_lease_foreach(kv, lease_walk_one, &w);
	tap_ok(w.calls == 3 && w.ids == 1 + 2 + 3 && !w.keys,
	       "kv_lease_foreach: each lease once");
	lease_op(kv, 7, KV_LEASE_REVOKE, 0, 0, 2, 0, &r);
	tap_ok(lease_is(&r, KV_OK, 7, 7, 2, 1) && kv_leases(kv) == 2 &&
	       kv_lease_get(kv, 2, &info) == -ENOENT,
	       "REVOKE: ok, and the lease is gone");
	lease_op(kv, 8, KV_LEASE_REVOKE, 0, 0, 2, 0, &r);
	tap_ok(lease_is(&r, KV_NO_LEASE, 0, 8, 2, 0),
	       "REVOKE again: no-lease");

	grant(ref, 1, 0, 0, 5000, NULL);
	grant(ref, 3, 0, 0, KV_TTL_MAX, NULL);
	kv_skip(ref, 8);
	tap_ok(kv_digest(kv) != kv_digest(ref),
	       "the digest sees a lease's refresh index");
	kv_free(ref);
	ref = kv_new(0);
	grant(ref, 1, 0, 0, 5000, NULL);
	grant(ref, 3, 0, 0, KV_TTL_MAX, NULL);
	lease_op(ref, 5, KV_LEASE_KEEPALIVE, 0, 0, 1, 0, NULL);
	kv_skip(ref, 8);
	tap_ok(kv_digest(kv) == kv_digest(ref),
	       "equal once the leases are: a revoked one leaves no trace");
	grant(ref, 9, 0, 0, 5001, NULL);
	grant(kv, 9, 0, 0, 5000, NULL);
	tap_ok(kv_digest(kv) != kv_digest(ref), "nor does it miss a ttl");
	kv_free(kv);
	kv_free(ref);
}

static void test_lease_sessions(void)
{
	struct kv *kv = kv_new(0);
	struct kv_result first, again;

	grant(kv, 1, 7, 1, 100, &first);
	grant(kv, 2, 7, 1, 100, &again);
	tap_ok(results_equal(&first, &again) && again.lease == 1 &&
	       kv_leases(kv) == 1,
	       "a retried GRANT gets the first lease, grants no other");
	grant(kv, 3, 7, 0, 100, &again);
	tap_ok(again.status == KV_STALE && kv_leases(kv) == 1,
	       "an older seq is stale");
	lease_op(kv, 4, KV_LEASE_KEEPALIVE, 7, 2, 1, 0, &first);
	lease_op(kv, 5, KV_LEASE_KEEPALIVE, 7, 2, 1, 0, &again);
	tap_ok(results_equal(&first, &again) && lease_has(kv, 1, 100, 4, 0),
	       "a retried KEEPALIVE refreshes nothing again");
	kv_free(kv);
}

static void test_lease_keys(void)
{
	struct kv *kv = kv_new(0), *ref = kv_new(0);
	struct walk w = { 0 };
	struct kv_result r;

	grant(kv, 1, 0, 0, 1000, NULL);
	grant(kv, 2, 0, 0, 1000, NULL);
	put_leased(kv, 3, 0, 0, "a", "1", 1, &r);
	tap_ok(result_is(&r, KV_OK, 3, 3, NULL) && r.lease == 1 &&
	       lease_of(kv, "a") == 1 && lease_has(kv, 1, 1000, 1, 1),
	       "PUT with a lease: ok, the key reports it");
	put_leased(kv, 4, 0, 0, "b", "2", 1, NULL);
	put(kv, 5, 0, 0, "c", "3", NULL);
	tap_ok(lease_of(kv, "c") == 0 && lease_has(kv, 1, 1000, 1, 2),
	       "a PUT without one: lease 0");
	kv_foreach(kv, walk_one, &w);
	tap_ok(w.calls == 3 && w.leases == 2, "kv_foreach reports the leases");
	put(kv, 6, 0, 0, "b", "2b", NULL);
	tap_ok(lease_of(kv, "b") == 0 && lease_has(kv, 1, 1000, 1, 1),
	       "a later PUT without a lease detaches the key");
	put_leased(kv, 7, 0, 0, "b", "2c", 2, NULL);
	put_leased(kv, 8, 0, 0, "a", "1b", 2, NULL);
	put_leased(kv, 9, 0, 0, "a", "1c", 1, NULL);
	tap_ok(lease_of(kv, "a") == 1 && lease_of(kv, "b") == 2 &&
	       lease_has(kv, 1, 1000, 1, 1) && lease_has(kv, 2, 1000, 2, 1),
	       "and one with another lease moves it there");
	put_leased(kv, 10, 0, 0, "d", "4", 1, NULL);
	del(kv, 11, 0, 0, "d", NULL);
	tap_ok(lease_has(kv, 1, 1000, 1, 1), "DEL detaches the key");
	cas(kv, 12, 0, 0, "c", "3", "3b", &r);
	tap_ok(r.status == KV_OK && r.lease == 0, "CAS without a lease");
	lease_op(kv, 13, KV_LEASE_REVOKE, 0, 0, 1, 0, &r);
	tap_ok(r.status == KV_OK && missing(kv, "a") && kv_count(kv) == 2 &&
	       lease_of(kv, "b") == 2 && holds(kv, "c", "3b", 12),
	       "REVOKE deletes the lease's keys, only those");
	lease_op(kv, 14, KV_LEASE_EXPIRE, 0, 0, 2, 2, &r);
	tap_ok(lease_is(&r, KV_OK, 14, 14, 2, 1000) && missing(kv, "b") &&
	       !kv_leases(kv) && kv_count(kv) == 1,
	       "EXPIRE with the lease's refresh index deletes its keys too");

	put(ref, 12, 0, 0, "c", "3b", NULL);
	kv_skip(ref, 14);
	tap_ok(kv_digest(kv) == kv_digest(ref),
	       "after which the store equals one that never had leases");
	kv_free(kv);
	kv_free(ref);
}

static void test_expire_race(void)
{
	struct kv *kv = kv_new(0), *ref = kv_new(0);
	struct kv_result r;

	grant(kv, 1, 0, 0, 300, NULL);
	put_leased(kv, 2, 0, 0, "k", "v", 1, NULL);
	lease_op(kv, 3, KV_LEASE_KEEPALIVE, 0, 0, 1, 0, NULL);
	grant(ref, 1, 0, 0, 300, NULL);
	put_leased(ref, 2, 0, 0, "k", "v", 1, NULL);
	lease_op(ref, 3, KV_LEASE_KEEPALIVE, 0, 0, 1, 0, NULL);
	/* The leader's timer was armed at 1; the keepalive at 3 came first. */
	lease_op(kv, 4, KV_LEASE_EXPIRE, 0, 0, 1, 1, &r);
	kv_skip(ref, 4);
	tap_ok(lease_is(&r, KV_LEASE_REFRESHED, 3, 4, 1, 300) &&
	       holds(kv, "k", "v", 2) && lease_has(kv, 1, 300, 3, 1),
	       "EXPIRE loses to a keepalive applied since: lease-refreshed, with the refresh index");
	tap_ok(kv_digest(kv) == kv_digest(ref), "and changes nothing");
	lease_op(kv, 5, KV_LEASE_EXPIRE, 0, 0, 1, 5, &r);
	tap_ok(r.status == KV_LEASE_REFRESHED && holds(kv, "k", "v", 2),
	       "so does one naming a refresh index the lease never had");
	lease_op(kv, 6, KV_LEASE_EXPIRE, 0, 0, 1, 3, &r);
	tap_ok(lease_is(&r, KV_OK, 6, 6, 1, 300) && missing(kv, "k") &&
	       !kv_leases(kv), "re-armed at 3, it expires the lease");
	lease_op(kv, 7, KV_LEASE_EXPIRE, 0, 0, 1, 3, &r);
	tap_ok(lease_is(&r, KV_NO_LEASE, 0, 7, 1, 0),
	       "a second EXPIRE: no-lease");
	kv_free(kv);
	kv_free(ref);
}

static void test_attach_missing(void)
{
	struct kv *kv = kv_new(0), *ref = kv_new(0);
	struct kv_result r;
	struct kv_cmd cmd;

	put(kv, 1, 0, 0, "k", "old", NULL);
	put(ref, 1, 0, 0, "k", "old", NULL);
	grant(kv, 2, 0, 0, 10, NULL);
	grant(ref, 2, 0, 0, 10, NULL);
	put_leased(kv, 3, 0, 0, "n", "v", 99, &r);
	tap_ok(lease_is(&r, KV_NO_LEASE, 0, 3, 99, 0) && missing(kv, "n"),
	       "PUT attaching to a missing lease: no-lease, nothing written");
	put_leased(kv, 4, 0, 0, "k", "new", 99, &r);
	tap_ok(r.status == KV_NO_LEASE && holds(kv, "k", "old", 1),
	       "nor over an existing key");
	cmd = cmd_of(KV_CAS, 0, 0, "k", "new");
	cmd.expect = (const uint8_t *)"old";
	cmd.expectlen = 3;
	cmd.attach_lease = true;
	cmd.lease = 3;
	apply_cmd(kv, 5, &cmd, &r);
	tap_ok(r.status == KV_NO_LEASE && holds(kv, "k", "old", 1),
	       "CAS attaching to a missing lease: no-lease, even matching");
	lease_op(kv, 6, KV_LEASE_REVOKE, 0, 0, 2, 0, NULL);
	lease_op(ref, 6, KV_LEASE_REVOKE, 0, 0, 2, 0, NULL);
	put_leased(kv, 7, 0, 0, "n", "v", 2, &r);
	tap_ok(r.status == KV_NO_LEASE && missing(kv, "n"),
	       "nor to a revoked one");
	kv_skip(ref, 7);
	tap_ok(kv_digest(kv) == kv_digest(ref), "none of them changed a thing");
	kv_free(kv);
	kv_free(ref);
}

static void test_lease_bound(void)
{
	struct kv *kv = kv_new(0);
	uint64_t i, ok = 0;
	struct kv_result r;

	for (i = 1; i <= KV_LEASES_MAX; i++) {
		grant(kv, i, 0, 0, 1000, &r);
		ok += r.status == KV_OK;
	}
	grant(kv, i, 0, 0, 1000, &r);
	tap_ok(ok == KV_LEASES_MAX && r.status == KV_BUSY && !r.lease &&
	       kv_leases(kv) == KV_LEASES_MAX,
	       "%d leases granted, one more is busy", KV_LEASES_MAX);
	lease_op(kv, i + 1, KV_LEASE_REVOKE, 0, 0, 77, 0, NULL);
	grant(kv, i + 2, 0, 0, 1000, &r);
	tap_ok(r.status == KV_OK && r.lease == i + 2 &&
	       kv_leases(kv) == KV_LEASES_MAX, "after a revoke, one more fits");
	kv_free(kv);
}

static void test_locks(void)
{
	struct kv *kv = kv_new(0);
	struct kv_result r, late;

	/* Client 1 takes the lock under lease 1: its token is 2. */
	grant(kv, 1, 1, 1, 500, NULL);
	acquire(kv, 2, 1, 2, "lock/x", 1, &r);
	tap_ok(result_is(&r, KV_OK, 2, 2, NULL) && r.lease == 1,
	       "acquired by CAS-absent with a lease: token 2, its revision");
	fenced(kv, 3, 1, 3, "data", "one", "lock/x", 2, &r);
	tap_ok(result_is(&r, KV_OK, 3, 3, NULL) && holds(kv, "data", "one", 3),
	       "a write fenced by the token applies");
	grant(kv, 4, 2, 1, 500, NULL);
	acquire(kv, 5, 2, 2, "lock/x", 4, &r);
	tap_ok(result_is(&r, KV_CAS_FAILED, 2, 5, "holder") && r.lease == 1,
	       "a second client fails to acquire, sees the holder's token");

	/* Client 1 pauses; the leader expires its lease; 2 takes the lock. */
	lease_op(kv, 6, KV_LEASE_EXPIRE, 0, 0, 1, 1, &r);
	tap_ok(r.status == KV_OK && missing(kv, "lock/x"),
	       "the holder's lease expires and the lock key with it");
	acquire(kv, 7, 2, 3, "lock/x", 4, &r);
	tap_ok(result_is(&r, KV_OK, 7, 7, NULL),
	       "the second client acquires it: token 7");
	fenced(kv, 8, 1, 4, "data", "stale", "lock/x", 2, &late);
	tap_ok(result_is(&late, KV_FENCED, 7, 8, NULL) &&
	       holds(kv, "data", "one", 3),
	       "the former holder's late write is fenced, with the new token");
	fenced(kv, 9, 1, 4, "data", "stale", "lock/x", 2, &r);
	tap_ok(results_equal(&r, &late) && holds(kv, "data", "one", 3),
	       "a retry gets the same fenced result");
	fenced(kv, 10, 1, 5, "lock/x", NULL, "lock/x", 2, &r);
	tap_ok(result_is(&r, KV_FENCED, 7, 10, NULL) &&
	       holds(kv, "lock/x", "holder", 7),
	       "so is its late release");
	fenced(kv, 11, 0, 0, "data", "x", "lock/none", 1, &r);
	tap_ok(result_is(&r, KV_FENCED, 0, 11, NULL),
	       "a missing fence key fences too, revision 0");

	fenced(kv, 12, 2, 4, "data", "two", "lock/x", 7, &r);
	tap_ok(r.status == KV_OK && holds(kv, "data", "two", 12),
	       "the new holder's fenced write applies");
	fenced(kv, 13, 2, 5, "lock/x", NULL, "lock/x", 7, &r);
	tap_ok(result_is(&r, KV_OK, 13, 13, NULL) && missing(kv, "lock/x") &&
	       lease_has(kv, 4, 500, 4, 0),
	       "released by a DEL fenced by its own token");
	fenced(kv, 14, 2, 6, "data", "three", "lock/x", 7, &r);
	tap_ok(result_is(&r, KV_FENCED, 0, 14, NULL) &&
	       holds(kv, "data", "two", 12),
	       "after which the token fences nothing in");
	kv_free(kv);
}

static void test_fenced_cas(void)
{
	struct kv *kv = kv_new(0);
	struct kv_result r;
	struct kv_cmd cmd;

	put(kv, 1, 0, 0, "f", "x", NULL);
	put(kv, 2, 0, 0, "k", "a", NULL);
	cmd = cmd_of(KV_CAS, 0, 0, "k", "b");
	cmd.expect = (const uint8_t *)"a";
	cmd.expectlen = 1;
	cmd.fenced = true;
	cmd.fence_key = (const uint8_t *)"f";
	cmd.fence_keylen = 1;
	cmd.fence_token = 2;
	apply_cmd(kv, 3, &cmd, &r);
	tap_ok(result_is(&r, KV_FENCED, 1, 3, NULL) && holds(kv, "k", "a", 2),
	       "a fenced CAS with the wrong token: fenced, not even compared");
	cmd.fence_token = 1;
	apply_cmd(kv, 4, &cmd, &r);
	tap_ok(r.status == KV_OK && holds(kv, "k", "b", 4),
	       "with the right one it applies");
	kv_free(kv);
}

/* Version 1 and version 2 on the wire. */

static void test_v1_compat(void)
{
	static const uint8_t v1[] = {
		0x12, 0x00,
		0x05, 0, 0, 0, 0, 0, 0, 0,
		0x01, 0, 0, 0, 0, 0, 0, 0,
		1, 0, 2, 0, 0, 0,
		'k', 'v', 'w',
	};
	struct kv *a = kv_new(0), *b = kv_new(0);
	struct kv_cmd cmd = { .lease = 9, .ttl_ms = 9, .fence_token = 9 };
	struct kv_result ra, rb;
	uint8_t buf[64];

	tap_ok(!kv_decode(&cmd, v1, sizeof(v1)) && cmd.op == KV_PUT &&
	       cmd.client == 5 && cmd.seq == 1 && !cmd.attach_lease &&
	       !cmd.fenced && !cmd.lease && !cmd.ttl_ms &&
	       !cmd.fence_token && !cmd.fence_keylen && !cmd.refresh_index,
	       "a version 1 PUT decodes, the new fields 0");
	tap_ok(kv_encode(&cmd, buf, sizeof(buf)) == (int)sizeof(v1) &&
	       !memcmp(buf, v1, sizeof(v1)),
	       "and encodes back to the same version 1 bytes");
	kv_apply(a, 1, v1, sizeof(v1), &ra);
	put(b, 1, 5, 1, "k", "vw", &rb);
	tap_ok(results_equal(&ra, &rb) && ra.status == KV_OK && !ra.lease &&
	       kv_digest(a) == kv_digest(b),
	       "and applies as a PUT written today");
	kv_free(a);
	kv_free(b);
}

static void test_v2_layout(void)
{
	static const uint8_t want[] = {
		0x24, KV_CMD_EXPECT_ABSENT | KV_CMD_LEASE | KV_CMD_FENCED,
		0x07, 0, 0, 0, 0, 0, 0, 0,
		0x02, 0, 0, 0, 0, 0, 0, 0,
		1, 0, 2, 0, 0, 0,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x2a, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0,
		3, 0,
		'k', 'v', 'w', 'f', 'e', 'n',
	};
	struct kv_cmd cmd = cmd_of(KV_CAS, 7, 2, "k", "vw"), out;
	uint8_t buf[128];
	int len;

	cmd.expect_absent = true;
	cmd.attach_lease = true;
	cmd.lease = 0x0102030405060708ULL;
	cmd.fenced = true;
	cmd.fence_key = (const uint8_t *)"fen";
	cmd.fence_keylen = 3;
	cmd.fence_token = 42;
	len = kv_encode(&cmd, buf, sizeof(buf));
	tap_ok(len == (int)sizeof(want) && len == KV_CMD_HDR2 + 6 &&
	       !memcmp(buf, want, sizeof(want)),
	       "a version 2 command's bytes: v1's header, lease, token, refresh, ttl, fence key length, then the fence key last");
	tap_ok(!kv_decode(&out, buf, (size_t)len) && out.op == KV_CAS &&
	       out.attach_lease && out.lease == cmd.lease && out.fenced &&
	       out.fence_token == 42 && out.fence_keylen == 3 &&
	       !memcmp(out.fence_key, "fen", 3) && out.expect_absent &&
	       out.vallen == 2 && !memcmp(out.value, "vw", 2),
	       "kv_decode gives it back");
	cmd = (struct kv_cmd){ .op = KV_LEASE_GRANT, .ttl_ms = 0x123456 };
	len = kv_encode(&cmd, buf, sizeof(buf));
	tap_ok(len == KV_CMD_HDR2 && buf[0] == 0x25 && buf[48] == 0x56 &&
	       buf[50] == 0x12 && !kv_decode(&out, buf, (size_t)len) &&
	       out.op == KV_LEASE_GRANT && out.ttl_ms == 0x123456 &&
	       !out.keylen, "a GRANT: %d bytes, no key", KV_CMD_HDR2);
	cmd = (struct kv_cmd){ .op = KV_LEASE_EXPIRE, .lease = 3,
			       .refresh_index = 0x1122 };
	len = kv_encode(&cmd, buf, sizeof(buf));
	tap_ok(len == KV_CMD_HDR2 && buf[0] == 0x28 && buf[24] == 3 &&
	       buf[40] == 0x22 && buf[41] == 0x11 &&
	       !kv_decode(&out, buf, (size_t)len) && out.lease == 3 &&
	       out.refresh_index == 0x1122, "an EXPIRE: lease and refresh index");
}

/* A valid fenced PUT with a lease, in version 2, for breaking. */
static size_t v2_put(uint8_t *buf)
{
	struct kv_cmd cmd = cmd_of(KV_PUT, 1, 1, "k", "v");

	cmd.attach_lease = true;
	cmd.lease = 5;
	cmd.fenced = true;
	cmd.fence_key = (const uint8_t *)"lock";
	cmd.fence_keylen = 4;
	cmd.fence_token = 9;
	return (size_t)kv_encode(&cmd, buf, KV_CMD_MAX);
}

static size_t v2_lease(uint8_t *buf, uint8_t op)
{
	struct kv_cmd cmd = { .op = op, .lease = 5, .ttl_ms = 100,
			      .refresh_index = 4 };

	if (op == KV_LEASE_GRANT)
		cmd.lease = cmd.refresh_index = 0;
	else
		cmd.ttl_ms = 0;
	if (op != KV_LEASE_EXPIRE)
		cmd.refresh_index = 0;
	return (size_t)kv_encode(&cmd, buf, KV_CMD_MAX);
}

static void set_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void set_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool decode_is(const uint8_t *buf, size_t len, int want)
{
	struct kv_cmd cmd;

	return kv_decode(&cmd, buf, len) == want;
}

static void test_v2_malformed(void)
{
	static uint8_t buf[KV_CMD_MAX + 64];
	size_t i, len, ok = 0;
	struct kv_cmd cmd;

	len = v2_put(buf);
	tap_ok(len == KV_CMD_HDR2 + 6 && decode_is(buf, len, 0),
	       "the fenced PUT with a lease decodes");
	for (i = 0; i < len; i++)
		ok += decode_is(buf, i, -EMSGSIZE);
	tap_ok(ok == len && decode_is(buf, len + 1, -EINVAL),
	       "every truncation: -EMSGSIZE; a trailing byte: -EINVAL");
	buf[1] = 0x08 | KV_CMD_LEASE | KV_CMD_FENCED;
	tap_ok(decode_is(buf, len, -EINVAL), "an unknown flag");
	buf[1] = KV_CMD_FENCED;
	tap_ok(decode_is(buf, len, -EINVAL), "a lease without the flag");
	buf[1] = KV_CMD_LEASE | KV_CMD_FENCED;
	set_u64(buf + 24, 0);
	tap_ok(decode_is(buf, len, -EINVAL), "the flag with lease 0");
	len = v2_put(buf);
	set_u64(buf + 32, 0);
	tap_ok(decode_is(buf, len, -EINVAL), "fenced with token 0");
	len = v2_put(buf);
	buf[1] = KV_CMD_LEASE;
	tap_ok(decode_is(buf, len, -EINVAL), "a token and fence key unflagged");
	len = v2_put(buf);
	set_u16(buf + 52, 0);
	tap_ok(decode_is(buf, len - 4, -EINVAL), "fenced with no fence key");
	len = v2_put(buf);
	set_u16(buf + 52, KV_KEY_MAX + 1);
	memset(buf + len - 4, 'f', KV_KEY_MAX + 1);
	tap_ok(decode_is(buf, len - 4 + KV_KEY_MAX + 1, -EINVAL),
	       "a %d-byte fence key", KV_KEY_MAX + 1);
	len = v2_put(buf);
	set_u64(buf + 40, 1);
	tap_ok(decode_is(buf, len, -EINVAL), "a PUT with a refresh index");
	len = v2_put(buf);
	buf[48] = 1;
	tap_ok(decode_is(buf, len, -EINVAL), "a PUT with a ttl");
	len = v2_put(buf);
	buf[0] = 0x23;
	set_u16(buf + 20, 0);
	memmove(buf + KV_CMD_HDR2 + 1, buf + KV_CMD_HDR2 + 2, 4);
	ok = decode_is(buf, len - 1, -EINVAL);
	buf[1] = KV_CMD_FENCED;
	set_u64(buf + 24, 0);
	tap_ok(ok && decode_is(buf, len - 1, 0),
	       "a DEL takes no lease, but a fence");
	buf[0] = 0x21;
	tap_ok(decode_is(buf, len - 1, -EINVAL), "a GET takes no fence");
	buf[0] = 0x22;
	buf[1] = 0;
	set_u64(buf + 32, 0);
	set_u16(buf + 52, 0);
	tap_ok(decode_is(buf, len - 5, -EINVAL),
	       "a version 2 PUT using nothing of version 2 is refused");

	for (i = KV_LEASE_GRANT, ok = 0; i <= KV_LEASE_EXPIRE; i++) {
		len = v2_lease(buf, (uint8_t)i);
		ok += len == KV_CMD_HDR2 && decode_is(buf, len, 0);
		buf[0] = (uint8_t)(0x10 | i);
		ok += decode_is(buf, KV_CMD_HDR, -EINVAL);
	}
	tap_ok(ok == 8, "the four lease ops decode, not as version 1");
	buf[0] = 0x29;
	ok = decode_is(buf, KV_CMD_HDR2, -EINVAL);
	buf[0] = 0x20;
	ok += decode_is(buf, KV_CMD_HDR2, -EINVAL);
	tap_ok(ok == 2, "op 0 or 9 is bad");
	len = v2_lease(buf, KV_LEASE_GRANT);
	set_u64(buf + 48, 0);
	ok = decode_is(buf, len, -EINVAL);
	buf[48] = (uint8_t)(KV_TTL_MAX + 1);
	buf[49] = (uint8_t)((KV_TTL_MAX + 1) >> 8);
	buf[50] = (uint8_t)((KV_TTL_MAX + 1) >> 16);
	ok += decode_is(buf, len, -EINVAL);
	buf[48] = (uint8_t)KV_TTL_MAX;
	ok += decode_is(buf, len, 0);
	tap_ok(ok == 3, "GRANT: ttl 0 or %d is bad, %d is not",
	       KV_TTL_MAX + 1, KV_TTL_MAX);
	set_u64(buf + 24, 1);
	ok = decode_is(buf, len, -EINVAL);
	len = v2_lease(buf, KV_LEASE_GRANT);
	set_u64(buf + 40, 1);
	ok += decode_is(buf, len, -EINVAL);
	len = v2_lease(buf, KV_LEASE_GRANT);
	buf[1] = KV_CMD_LEASE;
	ok += decode_is(buf, len, -EINVAL);
	tap_ok(ok == 3, "GRANT takes no lease id, refresh index or flag");
	set_u16(buf + 18, 1);
	buf[1] = 0;
	buf[len] = 'k';
	ok = decode_is(buf, len + 1, -EINVAL);
	set_u16(buf + 18, 0);
	set_u16(buf + 20, 1);
	ok += decode_is(buf, len + 1, -EINVAL);
	tap_ok(ok == 2, "lease ops take no key or value");
	len = v2_lease(buf, KV_LEASE_KEEPALIVE);
	set_u64(buf + 24, 0);
	ok = decode_is(buf, len, -EINVAL);
	len = v2_lease(buf, KV_LEASE_REVOKE);
	buf[48] = 1;
	ok += decode_is(buf, len, -EINVAL);
	len = v2_lease(buf, KV_LEASE_KEEPALIVE);
	buf[40] = 1;
	ok += decode_is(buf, len, -EINVAL);
	len = v2_lease(buf, KV_LEASE_EXPIRE);
	set_u64(buf + 40, 0);
	ok += decode_is(buf, len, -EINVAL);
	tap_ok(ok == 4, "KEEPALIVE needs a lease; REVOKE takes no ttl, KEEPALIVE no refresh index, EXPIRE needs one");

	cmd = (struct kv_cmd){ .op = KV_LEASE_GRANT, .ttl_ms = KV_TTL_MAX + 1 };
	ok = kv_encode(&cmd, buf, sizeof(buf)) == -EINVAL;
	cmd = (struct kv_cmd){ .op = KV_LEASE_REVOKE };
	ok += kv_encode(&cmd, buf, sizeof(buf)) == -EINVAL;
	cmd = cmd_of(KV_PUT, 0, 0, "k", "v");
	cmd.fenced = true;
	cmd.fence_keylen = 2;
	cmd.fence_token = 1;
	ok += kv_encode(&cmd, buf, sizeof(buf)) == -EINVAL;
	cmd.fence_key = (const uint8_t *)"ab";
	ok += kv_encode(&cmd, buf, KV_CMD_HDR2 + 3) == -EMSGSIZE;
	tap_ok(ok == 4, "kv_encode refuses them too, or a short buffer");
}

/* Snapshots. */

static bool snapshot_copy(const struct kv *kv, struct kv **out,
			  unsigned int max_sessions)
{
	uint8_t *buf;
	size_t len;
	int err;

	if (kv_snapshot_encode(kv, &buf, &len))
		return false;
	err = kv_snapshot_decode(out, buf, len, max_sessions);
	free(buf);
	return !err;
}

static bool same_snapshot(const struct kv *a, const struct kv *b)
{
	uint8_t *sa = NULL, *sb = NULL;
	size_t la = 0, lb = 0;
	bool same;

	kv_snapshot_encode(a, &sa, &la);
	kv_snapshot_encode(b, &sb, &lb);
	same = sa && sb && la == lb && !memcmp(sa, sb, la);
	free(sa);
	free(sb);
	return same;
}

/* 3 sessions, 2 leases with keys, a failed CAS remembered. */
static void feed_rich(struct kv *kv)
{
	static const uint8_t bin_key[] = { 'b', 0, 'k' };
	struct kv_cmd cmd = { .op = KV_PUT, .key = bin_key, .keylen = 3,
			      .value = bin_key, .vallen = 3 };

	grant(kv, 1, 1, 1, 1000, NULL);
	grant(kv, 2, 0, 0, 2000, NULL);
	put_leased(kv, 3, 2, 1, "a", "1", 1, NULL);
	put_leased(kv, 4, 0, 0, "ab", "", 2, NULL);
	put(kv, 5, 3, 1, "b", "2", NULL);
	apply_cmd(kv, 6, &cmd, NULL);
	cas(kv, 7, 4, 1, "b", "x", "y", NULL);	/* evicts client 1 */
	acquire(kv, 8, 2, 2, "lock/l", 2, NULL);
	lease_op(kv, 9, KV_LEASE_KEEPALIVE, 0, 0, 1, 0, NULL);
	kv_apply(kv, 10, (const uint8_t *)"?", 1, NULL);
}

/* The same entries for the original and the restored store. */
static bool feed_after(struct kv *kv, struct kv_result got[10])
{
	acquire(kv, 11, 2, 2, "lock/l", 2, &got[0]);	/* retried */
	cas(kv, 12, 4, 1, "b", "x", "y", &got[1]);	/* retried */
	put(kv, 13, 5, 1, "c", "3", &got[2]);		/* evicts 3 */
	put(kv, 14, 3, 1, "b", "2", &got[3]);		/* applies again */
	put(kv, 15, 2, 1, "a", "1", &got[4]);		/* stale */
	lease_op(kv, 16, KV_LEASE_EXPIRE, 0, 0, 1, 1, &got[5]);
	lease_op(kv, 17, KV_LEASE_EXPIRE, 0, 0, 1, 9, &got[6]);
	fenced(kv, 18, 0, 0, "lock/l", NULL, "lock/l", 8, &got[7]);
	lease_op(kv, 19, KV_LEASE_REVOKE, 6, 1, 2, 0, &got[8]);
	grant(kv, 20, 7, 1, 5, &got[9]);
	return kv_count(kv) == 3 && !missing(kv, "c") && kv_leases(kv) == 1;
}

static void test_snapshot(void)
{
	struct kv_result ra[10], rb[10];
	struct kv *a = kv_new(3), *b, *c, *d;
	uint8_t *buf;
	char key[32];
	size_t len;
	int i, same = 0;

	feed_rich(a);
	i = kv_snapshot_encode(a, &buf, &len);
	tap_ok(!i && buf[0] == 1,
	       "a snapshot of %zu keys, %zu leases, %zu sessions: %zu bytes",
	       kv_count(a), kv_leases(a), kv_sessions(a), len);
	tap_ok(!kv_snapshot_decode(&b, buf, len, 3) &&
	       kv_digest(a) == kv_digest(b) && kv_applied(b) == 10 &&
	       kv_count(b) == 5 && kv_leases(b) == 2 && kv_sessions(b) == 3,
	       "restored: the same digest, applied, counts");
	free(buf);
	tap_ok(lease_has(b, 1, 1000, 9, 1) && lease_has(b, 2, 2000, 2, 2) &&
	       lease_of(b, "ab") == 2 && lease_of(b, "b") == 0 &&
	       holds(b, "lock/l", "holder", 8),
	       "the leases, their keys and the lock intact");
	tap_ok(same_snapshot(a, b), "and it snapshots to the same bytes");
	tap_ok(feed_after(a, ra) && feed_after(b, rb),
	       "then the same 10 entries to both");
	for (i = 0; i < 10; i++)
		same += results_equal(&ra[i], &rb[i]);
	tap_ok(same == 10 && kv_digest(a) == kv_digest(b) &&
	       same_snapshot(a, b),
	       "give the same results and digest: %d of 10", same);
	tap_ok(ra[0].index == 8 && ra[0].status == KV_OK &&
	       ra[1].index == 7 && ra[1].status == KV_CAS_FAILED &&
	       ra[3].index == 14 && ra[4].status == KV_STALE &&
	       ra[5].status == KV_LEASE_REFRESHED && ra[6].status == KV_OK &&
	       ra[7].status == KV_OK,
	       "retries deduplicated to indexes 8 and 7, the evicted client applied again, the stale one refused");
	kv_free(b);

	tap_ok(snapshot_copy(a, &c, 3) && !snapshot_copy(a, &d, 2) && !d,
	       "restoring into fewer sessions than it holds: -EINVAL");
	kv_free(c);
	c = kv_new(0);
	tap_ok(snapshot_copy(c, &d, 0) && kv_digest(c) == kv_digest(d) &&
	       same_snapshot(c, d), "an empty store round trips");
	kv_free(c);
	kv_free(d);
	kv_free(a);

	/* A grown and shrunk table against a fresh one, same contents. */
	a = kv_new(0);
	b = kv_new(0);
	put_range(a, 0, 1000, 1);
	for (i = 10; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		del(a, (uint64_t)i + 991, 0, 0, key, NULL);
	}
	put_range(b, 0, 10, 1);
	kv_skip(b, 1990);
	tap_ok(same_snapshot(a, b), "the bytes do not depend on history");
	kv_free(a);
	kv_free(b);
}

/* applied 9; lease 1; keys "a" (lease 1), "b"; clients 3 and 4. */
static size_t small_snapshot(uint8_t **buf)
{
	struct kv *kv = kv_new(2);
	size_t len = 0;

	grant(kv, 1, 0, 0, 100, NULL);
	put_leased(kv, 2, 0, 0, "a", "x", 1, NULL);
	put(kv, 3, 0, 0, "b", "y", NULL);
	put(kv, 4, 3, 1, "b", "z", NULL);
	del(kv, 5, 4, 1, "c", NULL);
	kv_skip(kv, 9);
	*buf = NULL;
	kv_snapshot_encode(kv, buf, &len);
	kv_free(kv);
	return len;
}

#define SNAP_A		45	/* offset of key "a" in small_snapshot() */
#define SNAP_B		(SNAP_A + 22)
#define SNAP_S		(SNAP_B + 22)
#define SNAP_S2		(SNAP_S + 48)

/* Refused, or a store that snapshots back to exactly these bytes. */
static int decode_honest(const uint8_t *buf, size_t len, unsigned int max)
{
	uint8_t *again = NULL;
	size_t n = 0;
	struct kv *kv;
	int err = kv_snapshot_decode(&kv, buf, len, max);

	if (err)
		return kv ? 1 : err;
	err = kv_snapshot_encode(kv, &again, &n) || n != len ||
	      memcmp(again, buf, len) ? 1 : 0;
	free(again);
	kv_free(kv);
	return err;
}

static bool patched(const uint8_t *good, size_t len, size_t at,
		    const void *bytes, size_t n)
{
	static uint8_t buf[256];

	memcpy(buf, good, len);
	memcpy(buf + at, bytes, n);
	return decode_honest(buf, len, 2) == -EINVAL;
}

static void test_snapshot_malformed(void)
{
	static const uint8_t one[1] = { 1 }, two[1] = { 2 }, three[1] = { 3 };
	static const uint8_t zero[8], big[8] = { 0xff, 0xff };
	static const uint8_t lease7[8] = { 7 }, rev10[8] = { 10 };
	uint8_t *good, *buf;
	size_t i, len, ok = 0;

	len = small_snapshot(&good);
	tap_ok(len == SNAP_S2 + 48 && !decode_honest(good, len, 2) &&
	       good[SNAP_A + 20] == 'a' && good[SNAP_B + 20] == 'b',
	       "a small snapshot: %zu bytes, laid out as documented", len);
	for (i = 0; i < len; i++)
		ok += decode_honest(good, i, 2) == -EINVAL;
	tap_ok(ok == len, "every one of its %zu truncations: -EINVAL", len);
	buf = malloc(len + 1);
	memcpy(buf, good, len);
	buf[len] = 0;
	tap_ok(decode_honest(buf, len + 1, 2) == -EINVAL &&
	       decode_honest(NULL, 0, 2) == -EINVAL,
	       "a trailing byte, or nothing: -EINVAL");
	free(buf);

	tap_ok(patched(good, len, 0, two, 1), "an unknown version");
	tap_ok(patched(good, len, 1, two, 1), "applied below the revisions");
	tap_ok(patched(good, len, 9, two, 1) &&
	       patched(good, len, 13, three, 1) &&
	       patched(good, len, 13, zero, 1) &&
	       patched(good, len, 21, one, 1) &&
	       patched(good, len, 21, zero, 1) &&
	       patched(good, len, 13, big, 8),
	       "counts that do not add up");
	tap_ok(patched(good, len, SNAP_B + 20, "a", 1), "a key twice");
	tap_ok(patched(good, len, SNAP_A + 20, "c", 1), "keys out of order");
	tap_ok(patched(good, len, SNAP_A + 12, lease7, 8),
	       "a key attached to a missing lease");
	tap_ok(patched(good, len, SNAP_A, zero, 1) &&
	       patched(good, len, SNAP_A + 2, big, 2),
	       "an empty key, a value length out of range");
	tap_ok(patched(good, len, SNAP_A + 4, rev10, 8) &&
	       patched(good, len, SNAP_A + 4, zero, 8),
	       "a revision above applied, or 0");
	tap_ok(patched(good, len, 25, zero, 8) &&
	       patched(good, len, 33, zero, 8) &&
	       patched(good, len, 41, zero, 4),
	       "a lease id 0, refreshed before granted, ttl 0");
	tap_ok(patched(good, len, SNAP_S, zero, 8) &&
	       patched(good, len, SNAP_S + 16, (uint8_t[]){ KV_STALE }, 1) &&
	       patched(good, len, SNAP_S + 17, two, 1) &&
	       patched(good, len, SNAP_S + 26, rev10, 8),
	       "a session of client 0, a status never stored, bad flags, an index above applied");
	tap_ok(patched(good, len, SNAP_S2, good + SNAP_S, 8) &&
	       patched(good, len, SNAP_S2 + 26, good + SNAP_S + 26, 8),
	       "a client twice, sessions out of order");
	tap_ok(decode_honest(good, len, 1) == -EINVAL,
	       "two sessions do not fit one");
	free(good);
}

static void test_snapshot_garbage(void)
{
	size_t i, j, len, n, honest = 0, refused = 0;
	uint8_t *good, buf[512];
	int err;

	len = small_snapshot(&good);
	for (i = 0; i < FUZZ_ROUNDS; i++) {
		memcpy(buf, good, len);
		n = rng() % 3 + 1;
		for (j = 0; j < n; j++)
			buf[rng() % len] ^= (uint8_t)(1 + rng() % 255);
		err = decode_honest(buf, len, 2);
		honest += !err || err == -EINVAL;
		refused += err != 0;
	}
	tap_diag("%zu of %d corrupted snapshots refused", refused, FUZZ_ROUNDS);
	tap_ok(honest == FUZZ_ROUNDS && refused > FUZZ_ROUNDS / 4,
	       "corrupted bytes are refused or restore exactly what they say");
	for (i = 0, honest = 0; i < FUZZ_ROUNDS; i++) {
		n = rng() % sizeof(buf);
		for (j = 0; j < n; j++)
			buf[j] = (uint8_t)rng();
		if (n && rng() % 2)
			buf[0] = 1;
		honest += decode_honest(buf, n, 0) == -EINVAL;
	}
	tap_ok(honest == FUZZ_ROUNDS, "%d random buffers: -EINVAL",
	       FUZZ_ROUNDS);
	free(good);
}

static struct kv_cmd lease_cmd(uint8_t op, uint64_t client, uint64_t seq,
				uint64_t lease, uint64_t refresh)
{
	struct kv_cmd cmd = { .op = op, .client = client, .seq = seq,
			      .lease = lease, .refresh_index = refresh };

	return cmd;
}

/* A random write on a few keys, recent leases and tokens, 6 clients. */
static size_t random_cmd(uint8_t *buf, uint64_t index)
{
	static const char *const keys[] = { "k0", "k1", "lock/a", "lock/b" };
	struct kv_cmd cmd = cmd_of(KV_PUT, rng() % 6, rng() % 4,
				   keys[rng() % 4], "v");
	uint64_t recent = index - 1 - rng() % 6;

	switch (rng() % 8) {
	case 0:
	case 1:
		cmd = lease_cmd(KV_LEASE_GRANT, cmd.client, cmd.seq, 0, 0);
		cmd.ttl_ms = 10;
		break;
	case 2:
		cmd = lease_cmd(KV_LEASE_KEEPALIVE, cmd.client, cmd.seq,
				recent, 0);
		break;
	case 3:
		cmd = lease_cmd(KV_LEASE_REVOKE, cmd.client, cmd.seq, recent,
				0);
		break;
	case 4:
		cmd = lease_cmd(KV_LEASE_EXPIRE, 0, 0, recent,
				index - 1 - rng() % 6);
		break;
	case 5:
		cmd.op = KV_CAS;
		cmd.expect_absent = true;
		cmd.attach_lease = true;
		cmd.lease = recent;
		break;
	case 6:
		if (rng() % 2) {
			cmd.op = KV_DEL;
			cmd.vallen = 0;
		}
		cmd.fenced = true;
		cmd.fence_key = (const uint8_t *)keys[2 + rng() % 2];
		cmd.fence_keylen = 6;
		cmd.fence_token = recent;
		break;
	default:
		cmd.attach_lease = rng() % 2;
		cmd.lease = cmd.attach_lease ? recent : 0;
		break;
	}
	return (size_t)kv_encode(&cmd, buf, KV_CMD_MAX);
}

static int count_leased(const struct kv_pair *pair, void *arg)
{
	*(size_t *)arg += pair->lease != 0;
	return 0;
}

/* The keys that report a lease, if the leases count as many; else -1. */
static long leases_agree(const struct kv *kv)
{
	struct lease_walk w = { 0 };
	size_t leased = 0;

	kv_foreach(kv, count_leased, &leased);
	kv_lease_foreach(kv, lease_walk_one, &w);
	if (leased != w.keys || w.calls != kv_leases(kv))
		return -1;
	return (long)leased;
}

/* Two replicas, and one restored halfway, agree on every result. */
static void test_random_leases(void)
{
	struct kv *a = kv_new(4), *b = kv_new(4), *c = NULL;
	size_t counts[KV_STATUS_COUNT] = { 0 }, agree = 0, checks = 0;
	struct kv_result ra, rb, rc;
	long leased, most = 0;
	uint8_t buf[KV_CMD_MAX];
	uint64_t i, last = 8 + FUZZ_ROUNDS;
	size_t len;

	kv_skip(a, 7);
	kv_skip(b, 7);
	for (i = 8; i < last; i++) {
		if (i == 8 + FUZZ_ROUNDS / 2 && !snapshot_copy(a, &c, 4))
			break;
		len = random_cmd(buf, i);
		kv_apply(a, i, buf, len, &ra);
		kv_apply(b, i, buf, len, &rb);
		rc = ra;
		if (c)
			kv_apply(c, i, buf, len, &rc);
		agree += results_equal(&ra, &rb) && results_equal(&ra, &rc);
		counts[ra.status]++;
		if (i % 16)
			continue;
		leased = leases_agree(a);
		checks += leased < 0;
		most = leased > most ? leased : most;
	}
	tap_diag("ok %zu, not-found %zu, cas-failed %zu, stale %zu, no-lease %zu, fenced %zu, lease-refreshed %zu",
		 counts[KV_OK], counts[KV_NOT_FOUND], counts[KV_CAS_FAILED],
		 counts[KV_STALE], counts[KV_NO_LEASE], counts[KV_FENCED],
		 counts[KV_LEASE_REFRESHED]);
	tap_ok(c && agree == FUZZ_ROUNDS && kv_digest(a) == kv_digest(b) &&
	       kv_digest(a) == kv_digest(c) && same_snapshot(a, c),
	       "%d random lease, lock and fenced writes: two replicas and one restored halfway agree",
	       FUZZ_ROUNDS);
	tap_ok(counts[KV_OK] && counts[KV_CAS_FAILED] && counts[KV_STALE] &&
	       counts[KV_NO_LEASE] && counts[KV_FENCED] &&
	       counts[KV_LEASE_REFRESHED] && !counts[KV_BAD],
	       "every outcome came up, none bad");
	tap_ok(!checks && most > 0,
	       "all along, the leases count as many keys as report a lease (up to %ld)",
	       most);
	kv_free(a);
	kv_free(b);
	kv_free(c);
}

static void test_result_v2(void)
{
	static const uint8_t head[] = {
		0x20 | KV_OK, KV_RESULT_HAS_VALUE,
		0x02, 0, 0, 0, 0, 0, 0, 0,
		0x03, 0, 0, 0, 0, 0, 0, 0,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x10, 0x27, 0, 0,
		1, 0,
		'v',
	};
	struct kv_result r = {
		.status = KV_OK, .revision = 2, .index = 3, .has_value = true,
		.vallen = 1, .value = "v", .lease = 0x0102030405060708ULL,
		.ttl_ms = 10000,
	}, out;
	uint8_t buf[KV_RESULT_MAX];
	struct kv *kv = kv_new(0);
	int len, i, ok = 0;

	len = kv_result_encode(&r, buf, sizeof(buf));
	tap_ok(len == KV_RESULT_HDR2 + 1 && !memcmp(buf, head, sizeof(head)),
	       "a result with a lease: version 2, lease and ttl before the value length");
	memset(&out, 0xff, sizeof(out));
	tap_ok(kv_result_decode(&out, buf, sizeof(buf)) == len &&
	       results_equal(&r, &out), "decoded back");
	for (i = 0; i < len; i++)
		ok += kv_result_decode(&out, buf, (size_t)i) == -EMSGSIZE;
	tap_ok(ok == len, "every truncation: -EMSGSIZE");
	r = (struct kv_result){ .status = KV_FENCED, .revision = 7,
				.index = 9 };
	len = kv_result_encode(&r, buf, sizeof(buf));
	tap_ok(len == KV_RESULT_HDR2 && buf[0] == (0x20 | KV_FENCED) &&
	       kv_result_decode(&out, buf, (size_t)len) == len &&
	       results_equal(&r, &out),
	       "a status version 1 did not know goes as version 2");
	buf[0] = 0x10 | KV_FENCED;
	tap_ok(kv_result_decode(&out, buf, (size_t)len) == -EINVAL,
	       "and is refused as version 1");
	r = (struct kv_result){ .status = KV_OK, .index = 3 };
	memset(&out, 0xff, sizeof(out));
	len = kv_result_encode(&r, buf, sizeof(buf));
	tap_ok(len == KV_RESULT_HDR && kv_result_decode(&out, buf,
							(size_t)len) == len &&
	       !out.lease && !out.ttl_ms,
	       "version 1 decodes with lease and ttl 0");

	grant(kv, 1, 0, 0, 250, &r);
	len = kv_result_encode(&r, buf, sizeof(buf));
	tap_ok(kv_result_decode(&out, buf, (size_t)len) == len &&
	       lease_is(&out, KV_OK, 1, 1, 1, 250),
	       "a GRANT's result crosses the wire with its lease and ttl");
	put_leased(kv, 2, 0, 0, "k", "v", 1, NULL);
	kv_get(kv, (const uint8_t *)"k", 1, &r);
	len = kv_result_encode(&r, buf, sizeof(buf));
	tap_ok(kv_result_decode(&out, buf, (size_t)len) == len &&
	       out.lease == 1 && value_equals(&out, "v", 1),
	       "so does a GET of a key with a lease");
	kv_free(kv);
}

static void test_names_v2(void)
{
	tap_ok(!strcmp(kv_status_name(KV_NO_LEASE), "no-lease") &&
	       !strcmp(kv_status_name(KV_FENCED), "fenced") &&
	       !strcmp(kv_status_name(KV_LEASE_REFRESHED), "lease-refreshed") &&
	       !strcmp(kv_status_name(KV_BUSY), "busy"),
	       "the new status names");
}

int main(void)
{
	test_put_get_del();
	test_cas();
	test_sessions();
	test_eviction();
	test_digest();
	test_grow();
	test_binary();
	test_limits();
	test_layout();
	test_bad_commands();
	test_result_codec();
	test_applied_result();
	test_foreach();
	test_names();
	test_leases();
	test_lease_sessions();
	test_lease_keys();
	test_expire_race();
	test_attach_missing();
	test_lease_bound();
	test_locks();
	test_fenced_cas();
	test_v1_compat();
	test_v2_layout();
	test_v2_malformed();
	test_snapshot();
	test_snapshot_malformed();
	test_snapshot_garbage();
	test_random_leases();
	test_result_v2();
	test_names_v2();
	return tap_done();
}
