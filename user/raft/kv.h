/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The replicated key-value store a Raft log drives.  Writes (PUT, DEL, CAS)
 * and lease operations reach it as encoded commands in the log's COMMAND
 * entries; GET is served by the leader after a ReadIndex round, straight
 * from kv_get().
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
 * Leases: LEASE_GRANT creates one whose id is its index, with a ttl that
 * only the leader's timers read.  PUT and CAS may attach their key to a
 * lease; revoking the lease deletes its keys.  Expiry is the leader's
 * call, replicated as LEASE_EXPIRE with the refresh index its timer was
 * armed for: a keepalive applied in between wins (KV_LEASE_REFRESHED).
 *
 * Fencing: PUT, DEL and CAS may name a fence key and a token, and apply
 * only while that key's revision is the token (else KV_FENCED).  A lock is
 * a key created by CAS-absent with a lease attached; its revision is the
 * fencing token of its holder, and grows with every acquisition.
 *
 * Command (little-endian, a header then key, value, expected, fence key):
 *	u8  version << 4 | op	version 1 or 2, op an enum kv_op
 *	u8  flags		KV_CMD_EXPECT_ABSENT (CAS only); in version 2
 *				KV_CMD_LEASE (PUT, CAS), KV_CMD_FENCED (PUT,
 *				DEL, CAS)
 *	u64 client
 *	u64 seq
 *	u16 key length		1..KV_KEY_MAX; 0 for lease ops
 *	u16 value length	0..KV_VALUE_MAX; 0 for GET, DEL and lease ops
 *	u16 expected length	0..KV_VALUE_MAX; CAS only, 0 if absent
 * Version 1 ends there (KV_CMD_HDR bytes) and has only ops GET to CAS.
 * Version 2 goes on (KV_CMD_HDR2 bytes in all):
 *	u64 lease		the one to attach (KV_CMD_LEASE), or the one
 *				KEEPALIVE, REVOKE or EXPIRE is about; else 0
 *	u64 fence token		non-zero with KV_CMD_FENCED, else 0
 *	u64 refresh index	non-zero for EXPIRE, else 0
 *	u32 ttl_ms		1..KV_TTL_MAX for GRANT, else 0
 *	u16 fence key length	1..KV_KEY_MAX with KV_CMD_FENCED, else 0
 * A command is version 2 exactly when it uses one of these: kv_encode()
 * writes version 1 otherwise, and kv_decode() refuses such a version 2.
 * The whole command is at most KV_CMD_MAX bytes, so a long key and a long
 * value may not fit together.
 *
 * Result (little-endian, a header then the value):
 *	u8  version << 4 | status	version 1 or 2, an enum kv_status
 *	u8  flags			KV_RESULT_HAS_VALUE
 *	u64 revision
 *	u64 index
 *	u64 lease			version 2 only
 *	u32 ttl_ms			version 2 only
 *	u16 value length		0 without a value
 * kv_result_encode() writes version 1 (KV_RESULT_HDR bytes of header) when
 * lease and ttl_ms are 0 and the status is one version 1 knew (up to
 * KV_BAD), else version 2 (KV_RESULT_HDR2 bytes).
 *
 * Snapshot (little-endian, kv_snapshot_encode()):
 *	u8  version			1
 *	u64 applied index
 *	u32 leases, u64 keys, u32 sessions	the counts of what follows
 *	leases by id:		u64 id, u64 refresh index, u32 ttl_ms
 *	keys by their bytes:	u16 key length, u16 value length,
 *				u64 revision, u64 lease (0: none), key, value
 *	sessions, oldest first:	u64 client, u64 seq, u8 status,
 *				u8 flags, u64 revision, u64 index,
 *				u64 lease, u32 ttl_ms, u16 value length,
 *				value
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
#define KV_CMD_HDR2		54
#define KV_CMD_MAX		RAFT_ENTRY_DATA_MAX
#define KV_RESULT_HDR		20
#define KV_RESULT_HDR2		32
#define KV_RESULT_MAX		(KV_RESULT_HDR2 + KV_VALUE_MAX)
#define KV_SESSIONS_DEFAULT	4096
#define KV_LEASES_MAX		65536
#define KV_TTL_MAX		3600000		/* ms: an hour */

#define KV_CMD_EXPECT_ABSENT	0x01
#define KV_CMD_LEASE		0x02
#define KV_CMD_FENCED		0x04
#define KV_RESULT_HAS_VALUE	0x01

enum kv_op {
	KV_GET = 1,
	KV_PUT,
	KV_DEL,
	KV_CAS,		/* value replaces expect, or creates if expect_absent */
	KV_LEASE_GRANT,		/* a lease of ttl_ms, its id the index */
	KV_LEASE_KEEPALIVE,	/* its refresh index becomes this index */
	KV_LEASE_REVOKE,	/* deletes it and its keys */
	KV_LEASE_EXPIRE,	/* the same, if not refreshed since */
};

enum kv_status {
	KV_OK,
	KV_NOT_FOUND,	/* GET or DEL of a missing key */
	KV_CAS_FAILED,	/* with the current value and revision, if any */
	KV_STALE,	/* seq older than the client's last write */
	KV_BAD,		/* malformed: nothing changed */
	KV_NO_LEASE,	/* the lease to attach or act on is missing */
	KV_FENCED,	/* the fence key's revision is not the token */
	KV_LEASE_REFRESHED,	/* EXPIRE lost to a keepalive */
	KV_BUSY,	/* GRANT with KV_LEASES_MAX leases already */
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
	bool attach_lease;	/* PUT, CAS: attach the key to lease */
	uint64_t lease;		/* attach_lease, KEEPALIVE, REVOKE, EXPIRE */
	bool fenced;		/* PUT, DEL, CAS: the fence_* fields apply */
	const uint8_t *fence_key;
	uint16_t fence_keylen;
	uint64_t fence_token;	/* the fence key's revision to insist on */
	uint64_t refresh_index;	/* EXPIRE: what the leader's timer saw */
	uint32_t ttl_ms;	/* GRANT */
};

/*
 * revision: for a successful write, its index; for a GET or a failed CAS,
 * the key's current one; for KV_FENCED the fence key's; for
 * KV_LEASE_REFRESHED the lease's refresh index; 0 when the key is missing.
 * index: where the command was applied (a repeat gets the first one's), or
 * for kv_get() the last index applied.
 * lease: the key's lease (0: none) after a successful PUT or CAS, for a GET
 * or a failed CAS; the lease a lease op was about, or the one KV_NO_LEASE
 * did not find.
 * ttl_ms: the lease's, for a lease op that found (or granted) it.
 * value: for a found GET and a CAS that failed on an existing key.
 */
struct kv_result {
	uint8_t status;		/* enum kv_status */
	uint64_t revision;
	uint64_t index;
	bool has_value;
	uint16_t vallen;
	uint8_t value[KV_VALUE_MAX];
	uint64_t lease;
	uint32_t ttl_ms;
};

/* What kv_foreach() shows of a key; value is never NULL. */
struct kv_pair {
	const uint8_t *key;
	uint16_t keylen;
	const uint8_t *value;
	uint16_t vallen;
	uint64_t revision;
	uint64_t lease;		/* 0: none */
};

/* What kv_lease_foreach() and kv_lease_get() show of a lease. */
struct kv_lease_info {
	uint64_t id;		/* the index that granted it */
	uint32_t ttl_ms;
	uint64_t refresh_index;	/* of its grant or last keepalive */
	size_t n_keys;		/* attached to it */
};

/* Returns 0 to go on; anything else stops the walk and is returned. */
typedef int (*kv_foreach_fn)(const struct kv_pair *pair, void *arg);
typedef int (*kv_lease_fn)(const struct kv_lease_info *l, void *arg);

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
size_t kv_leases(const struct kv *kv);

/* 0, or -ENOENT when there is no lease id. */
int kv_lease_get(const struct kv *kv, uint64_t id, struct kv_lease_info *out);

/* Every lease once, in no particular order; fn must not change kv. */
int kv_lease_foreach(const struct kv *kv, kv_lease_fn fn, void *arg);

/*
 * A hash of the keys, values, revisions, leases, sessions and applied
 * index; equal on replicas in the same state, whatever the history of
 * their tables.
 */
uint64_t kv_digest(const struct kv *kv);

/* Every key once, in no particular order; fn must not change kv. */
int kv_foreach(const struct kv *kv, kv_foreach_fn fn, void *arg);

/*
 * "ok", "not-found", "cas-failed", "stale", "bad", "no-lease", "fenced",
 * "lease-refreshed", "busy" or "unknown".
 */
const char *kv_status_name(uint8_t status);

/* Returns the length written, -EINVAL for a bad r, -EMSGSIZE if short. */
int kv_result_encode(const struct kv_result *r, uint8_t *buf, size_t size);

/*
 * Returns the bytes used from buf (trailing ones are the caller's),
 * -EMSGSIZE if it ends before the result does or -EINVAL if malformed.
 */
int kv_result_decode(struct kv_result *r, const uint8_t *buf, size_t len);

/*
 * The whole state, in one deterministic encoding: *buf is malloc'd, *len
 * its length.  0 or -ENOMEM.
 */
int kv_snapshot_encode(const struct kv *kv, uint8_t **buf, size_t *len);

/*
 * A new store in the state a snapshot holds, with room for max_sessions
 * (0 is KV_SESSIONS_DEFAULT): 0, -EINVAL for a malformed snapshot or one
 * with more sessions than that, or -ENOMEM.
 */
int kv_snapshot_decode(struct kv **out, const uint8_t *buf, size_t len,
		       unsigned int max_sessions);

#endif /* LAMPORT_RAFT_KV_H */
