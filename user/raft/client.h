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
