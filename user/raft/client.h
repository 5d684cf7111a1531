/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The client side of lamport's Raft key-value store: requests in UDP
 * datagrams (wire.h) to the nodes of a cluster, following the leader as
 * the nodes name it and trying the next node after a timeout or a refusal.
 *
 *	struct raft_client *c;
 *	struct kv_result res;
 *
 *	raft_client_new(&c, "198.18.0.1:7001,198.18.0.2:7001", NULL);
 *	raft_client_put(c, "k1", 2, "v", 1, &res);
 *	raft_client_free(c);
 *
 * Writes are executed once however often they are sent: each carries the
 * client's id and a sequence number, the same in every retry of one
 * operation and higher in the next, and the nodes answer a repeat with the
 * result of the first (kv.h).  A call that runs out of time returns
 * -ETIMEDOUT: the write may then have happened or not.
 *
 * Leases and fenced writes go the same way, and so do changes of the
 * cluster (raft_client_admin()), which carry no sequence number.
 *
 * A client owns one UDP socket and one thread may use it at a time.
 */
#ifndef LAMPORT_RAFT_CLIENT_H
#define LAMPORT_RAFT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "kv.h"
#include "wire.h"

#define RAFT_CLIENT_MAX_SERVERS		16
#define RAFT_CLIENT_ATTEMPT_MS		200
#define RAFT_CLIENT_DEADLINE_MS		5000
#define RAFT_CLIENT_BACKOFF_MIN_MS	10
#define RAFT_CLIENT_BACKOFF_MAX_MS	100
#define RAFT_CLIENT_ADMIN_ATTEMPT_MS	1000	/* at least, for a change */

struct raft_client;

struct raft_client_opts {
	unsigned int attempt_ms;	/* the wait for one answer; 0: 200 */
	unsigned int deadline_ms;	/* for a whole call; 0: 5000 */
	/*
	 * 0: a random one.  Two clients with one id, or a client whose id an
	 * earlier one used, break the exactly-once guarantee: for tests.
	 */
	uint64_t id;
};

/*
 * A client of the servers in the list (raft_addr_list_parse()): 0, or
 * -EINVAL (a wrong list), -E2BIG (more than RAFT_CLIENT_MAX_SERVERS),
 * -ENOMEM or the error of socket().
 */
int raft_client_new(struct raft_client **c, const char *servers,
		     const struct raft_client_opts *opts);
void raft_client_free(struct raft_client *c);

/*
 * Sends the request to the node most likely to lead, and on until one
 * answers WIRE_DONE or WIRE_BAD_REQUEST: 0 with that reply in out, its
 * body pointing into buf (WIRE_DGRAM_MAX bytes suffice).  -ETIMEDOUT once
 * the deadline passes, -EMSGSIZE for a body too large, or another error of
 * the socket.
 *
 * Every datagram sent carries a new request id.  An answer counts when its
 * id is one of this call's and it comes from the address that id was sent
 * to; anything else received is dropped.  WIRE_NOT_LEADER naming a leader
 * sends there at once (a few hops at most); the other refusals and a
 * timeout move on to the next node after a pause of 10 ms, doubling up to
 * 100 ms.  The node that answered is asked first by the next call.
 */
int raft_client_call(struct raft_client *c, uint8_t kind, const void *body,
		     size_t len, struct wire_reply *out, uint8_t *buf,
		     size_t size);

/*
 * The key-value operations, each with the next sequence number: 0 with
 * the node's result in res, or an error of raft_client_call(), -EINVAL
 * for a key or value out of range, -EMSGSIZE for a command beyond
 * KV_CMD_MAX, -EREMOTEIO when a node refused the request
 * (raft_client_error() tells why) or -EBADMSG for an unreadable result.
 */
int raft_client_get(struct raft_client *c, const void *key, size_t keylen,
		    struct kv_result *res);
int raft_client_put(struct raft_client *c, const void *key, size_t keylen,
		    const void *value, size_t vallen, struct kv_result *res);
int raft_client_del(struct raft_client *c, const void *key, size_t keylen,
		    struct kv_result *res);
/* Writes value if the key holds expect or, expect NULL, does not exist. */
int raft_client_cas(struct raft_client *c, const void *key, size_t keylen,
		    const void *expect, size_t expectlen, const void *value,
		    size_t vallen, struct kv_result *res);

/*
 * What a write may add (kv.h): lease, when not 0, is the lease PUT and CAS
 * attach the key to; fence_key, when not NULL, makes PUT, DEL and CAS
 * apply only while that key's revision is fence_token (not 0), else the
 * result is KV_FENCED with the fence key's revision.  NULL opts: neither.
 */
struct raft_client_write_opts {
	uint64_t lease;
	const void *fence_key;
	size_t fence_keylen;
	uint64_t fence_token;
};

/* The same with opts: -EINVAL also for opts out of range (a DEL's lease). */
int raft_client_put_ex(struct raft_client *c, const void *key, size_t keylen,
		       const void *value, size_t vallen,
		       const struct raft_client_write_opts *opts,
		       struct kv_result *res);
int raft_client_del_ex(struct raft_client *c, const void *key, size_t keylen,
		       const struct raft_client_write_opts *opts,
		       struct kv_result *res);
int raft_client_cas_ex(struct raft_client *c, const void *key, size_t keylen,
		       const void *expect, size_t expectlen, const void *value,
		       size_t vallen, const struct raft_client_write_opts *opts,
		       struct kv_result *res);

/*
 * Leases, as the other writes (exactly once, the same errors): GRANT a
 * lease of ttl_ms (1..KV_TTL_MAX, else -EINVAL), KV_OK with its id in
 * res->lease and its ttl in res->ttl_ms, or KV_BUSY when the store holds
 * KV_LEASES_MAX; KEEPALIVE restarts the lease's ttl and REVOKE deletes it
 * with its keys: KV_OK with the ttl, or KV_NO_LEASE when it is gone.
 */
int raft_client_lease_grant(struct raft_client *c, uint32_t ttl_ms,
			    struct kv_result *res);
int raft_client_lease_keepalive(struct raft_client *c, uint64_t lease,
				struct kv_result *res);
int raft_client_lease_revoke(struct raft_client *c, uint64_t lease,
			     struct kv_result *res);

/*
 * A change of the cluster (wire.h), sent to the leader as writes are, with
 * the refusals retried (WIRE_BUSY: another change is under way) until the
 * deadline.  0 and the leader's line of text in msg (TRANSFER: the transfer
 * has begun, not ended); else -EINVAL (a wrong request), -EREMOTEIO (the
 * leader refused it: its reason in msg), -ETIMEDOUT (msg says what the
 * nodes answered last, if anything) or another error of raft_client_call(),
 * with a message in msg.  msg is always a NUL-terminated line without a
 * newline, cut to msglen.
 *
 * An attempt waits RAFT_CLIENT_ADMIN_ATTEMPT_MS at least, the time a
 * change may take to commit.  A change carries no sequence number: when an
 * answer is lost, the retry reaches a leader that may have made the change
 * already (and says so, refusing it).
 */
int raft_client_admin(struct raft_client *c, const struct wire_admin *a,
		      char *msg, size_t msglen);

/*
 * The status of the node at addr (raft_addr_parse()), whether it leads or
 * not: asked again after each attempt timeout until the deadline, never
 * redirected.  0, -EINVAL (a wrong addr), -ETIMEDOUT, -EREMOTEIO (the node
 * answered something else: raft_client_error() says what) or -EBADMSG.
 */
int raft_client_status(struct raft_client *c, const char *addr,
		       struct wire_status *st);

struct raft_client_stats {
	uint64_t calls;
	uint64_t attempts;	/* datagrams sent */
	uint64_t timeouts;	/* attempts left unanswered */
	uint64_t redirects;	/* WIRE_NOT_LEADER naming the leader */
	uint64_t refusals;	/* the other answers that moved on */
	uint64_t strays;	/* datagrams received and dropped */
	uint64_t send_errors;
};

/* New waits for the calls that follow (0: the default, as in opts). */
void raft_client_set_timeout(struct raft_client *c, unsigned int attempt_ms,
			     unsigned int deadline_ms);

uint64_t raft_client_id(const struct raft_client *c);
/* The sequence number of the last key-value operation (0: none yet). */
uint64_t raft_client_seq(const struct raft_client *c);
/* The next operation goes with seq (a retry, as the tests make one). */
void raft_client_set_seq(struct raft_client *c, uint64_t seq);
/* The address of the node that answered last, or NULL. */
const char *raft_client_leader(const struct raft_client *c);
/* The text of the last refusal, "" if none. */
const char *raft_client_error(const struct raft_client *c);
void raft_client_get_stats(const struct raft_client *c,
			   struct raft_client_stats *st);

#endif /* LAMPORT_RAFT_CLIENT_H */
