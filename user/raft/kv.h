/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The replicated key-value store a Raft log drives.  Writes (PUT, DEL, CAS)
 * reach it as encoded commands in the log's COMMAND entries; GET is served
 * by the leader after a ReadIndex round, straight from kv_get().
 *
 * Applying is deterministic: replicas that apply the same entries at the
 * same indexes hold byte-identical state (kv_digest() tells).  Nothing here
 * does I/O, reads a clock or draws a random number.
 *
 * Every write carries a (client, seq) pair for exactly-once execution: the
 * store remembers each client's last seq and its result, answers a repeat
 * with that result and an older seq with KV_STALE.  Client 0 has no
 * session.  Sessions are bounded: a new client evicts the one whose last
 * write is oldest in the log, and a retry from an evicted client applies
 * again.
 *
 * Command (little-endian, KV_CMD_HDR bytes then key, value, expected):
 *	u8  version << 4 | op	version 1, op an enum kv_op
 *	u8  flags		KV_CMD_EXPECT_ABSENT (CAS only)
 *	u64 client
 *	u64 seq
 *	u16 key length		1..KV_KEY_MAX
 *	u16 value length	0..KV_VALUE_MAX; 0 for GET and DEL
 *	u16 expected length	0..KV_VALUE_MAX; CAS only, 0 if absent
 * The whole command is at most KV_CMD_MAX bytes, so a long key and a long
 * value may not fit together.
 *
 * Result (little-endian, KV_RESULT_HDR bytes then the value):
 *	u8  version << 4 | status	version 1, status an enum kv_status
 *	u8  flags			KV_RESULT_HAS_VALUE
 *	u64 revision
 *	u64 index
 *	u16 value length		0 without a value
 */
#ifndef LAMPORT_RAFT_KV_H
#define LAMPORT_RAFT_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"

#define KV_KEY_MAX		255
#define KV_VALUE_MAX		1024
#define KV_CMD_HDR		24
#define KV_CMD_MAX		RAFT_ENTRY_DATA_MAX
#define KV_RESULT_HDR		20
#define KV_RESULT_MAX		(KV_RESULT_HDR + KV_VALUE_MAX)
#define KV_SESSIONS_DEFAULT	4096

#define KV_CMD_EXPECT_ABSENT	0x01
#define KV_RESULT_HAS_VALUE	0x01

enum kv_op {
	KV_GET = 1,
	KV_PUT,
	KV_DEL,
	KV_CAS,		/* value replaces expect, or creates if expect_absent */
};

enum kv_status {
	KV_OK,
	KV_NOT_FOUND,	/* GET or DEL of a missing key */
	KV_CAS_FAILED,	/* with the current value and revision, if any */
	KV_STALE,	/* seq older than the client's last write */
	KV_BAD,		/* malformed: nothing changed */
	KV_STATUS_COUNT
};

/* The pointers are the caller's; kv_decode() points them into its buffer. */
struct kv_cmd {
	uint8_t op;		/* enum kv_op */
	uint64_t client;	/* 0: no session */
	uint64_t seq;
	const uint8_t *key;
	uint16_t keylen;
	const uint8_t *value;	/* PUT and CAS */
	uint16_t vallen;
	const uint8_t *expect;	/* CAS */
	uint16_t expectlen;
	bool expect_absent;	/* CAS: succeed iff the key does not exist */
};

/*
 * revision: for a successful write, its index; for a GET or a failed CAS,
 * the key's current one; 0 when the key is missing.
 * index: where the command was applied (a repeat gets the first one's), or
 * for kv_get() the last index applied.
 * value: for a found GET and a CAS that failed on an existing key.
 */
struct kv_result {
	uint8_t status;		/* enum kv_status */
	uint64_t revision;
	uint64_t index;
	bool has_value;
	uint16_t vallen;
	uint8_t value[KV_VALUE_MAX];
};

/* What kv_foreach() shows of a key; value is never NULL. */
struct kv_pair {
	const uint8_t *key;
	uint16_t keylen;
	const uint8_t *value;
	uint16_t vallen;
	uint64_t revision;
};

/* Returns 0 to go on; anything else stops the walk and is returned. */
typedef int (*kv_foreach_fn)(const struct kv_pair *pair, void *arg);

struct kv;

/* max_sessions 0 is KV_SESSIONS_DEFAULT.  NULL when out of memory. */
struct kv *kv_new(unsigned int max_sessions);
void kv_free(struct kv *kv);

/*
 * Returns the length written to buf, -EINVAL for a bad field (op, a length
 * out of range, a field the op does not take) or -EMSGSIZE when the
 * command exceeds KV_CMD_MAX or size.
 */
int kv_encode(const struct kv_cmd *cmd, uint8_t *buf, size_t size);

/*
 * Decodes and validates exactly len bytes: 0, -EMSGSIZE if they end
 * before the command does or -EINVAL for anything else wrong.
 */
int kv_decode(struct kv_cmd *cmd, const uint8_t *buf, size_t len);

/*
 * Applies the command of the COMMAND entry at index; res may be NULL.
 * Every index above the last applied one advances it, whatever the
 * command; a malformed one, or a GET, is KV_BAD and changes nothing else.
 * An index not above the last applied one is KV_BAD and changes nothing.
 * Out of memory, it aborts: a replica must stop rather than diverge.
 */
void kv_apply(struct kv *kv, uint64_t index, const uint8_t *buf, size_t len,
	      struct kv_result *res);

/* A NOOP entry: advances the applied index, if index is above it. */
void kv_skip(struct kv *kv, uint64_t index);

/* KV_OK or KV_NOT_FOUND, or KV_BAD for a key length out of range. */
void kv_get(const struct kv *kv, const uint8_t *key, uint16_t keylen,
	    struct kv_result *res);

uint64_t kv_applied(const struct kv *kv);
size_t kv_count(const struct kv *kv);
size_t kv_sessions(const struct kv *kv);

/*
 * A hash of the keys, values, revisions, sessions and applied index; equal
 * on replicas in the same state, whatever the history of their tables.
 */
uint64_t kv_digest(const struct kv *kv);

/* Every key once, in no particular order; fn must not change kv. */
int kv_foreach(const struct kv *kv, kv_foreach_fn fn, void *arg);

/* "ok", "not-found", "cas-failed", "stale", "bad" or "unknown". */
const char *kv_status_name(uint8_t status);

/* Returns the length written, -EINVAL for a bad r, -EMSGSIZE if short. */
int kv_result_encode(const struct kv_result *r, uint8_t *buf, size_t size);

/*
 * Returns the bytes used from buf (trailing ones are the caller's),
 * -EMSGSIZE if it ends before the result does or -EINVAL if malformed.
 */
int kv_result_decode(struct kv_result *r, const uint8_t *buf, size_t len);

#endif /* LAMPORT_RAFT_KV_H */
