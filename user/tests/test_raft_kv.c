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
	       a->vallen == b->vallen &&
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
	buf[0] = 0x22;
	ok += refused(kv, ref, index, buf, len);
	tap_ok(ok == 2, "version 0 or 2 is bad");
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
	tap_ok(len == KV_RESULT_MAX &&
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
	buf[0] = 0x22;
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
};

static int walk_one(const struct kv_pair *pair, void *arg)
{
	struct walk *w = arg;

	w->calls++;
	w->revisions += pair->revision;
	w->bytes += pair->keylen + pair->vallen;
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
	return tap_done();
}
