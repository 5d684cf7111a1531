/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What lamport's Raft puts in datagrams: the messages between nodes (over
 * AF_LAMPORT or UDP, one encoding) and the client protocol (UDP).  All
 * little-endian, at most WIRE_DGRAM_MAX bytes (AF_LAMPORT's payload).
 *
 * Node to node, WIRE_PEER_HDR bytes then the entries:
 *	u16 magic 'L' 'R'	u8 version	u8 type (enum raft_msg_type)
 *	u64 cluster		u32 from	u32 to
 *	u64 stamp		the sender's Lamport clock
 *	u64 term, index, log_term, commit
 *	u64 hint_index, hint_term	SNAPSHOT(_REPLY): offset, total
 *	u64 read_ctx
 *	u64 incarnation			of the sender's data directory
 *	u8  flags (WIRE_OK, WIRE_TRANSFER, WIRE_REMOVED)
 *	u16 count			APPEND: entries; SNAPSHOT: data bytes
 * each entry: u64 term, u8 type, u16 length, data (its index follows
 * from the message's index); a SNAPSHOT's data is a chunk of the file.
 *
 * Client to node: u16 magic 'L' 'K', u8 version, u8 kind, u64 request id,
 * then for WIRE_REQ_KV a kv command (kv.h).  Node to client: the same
 * four fields, u8 code, u32 leader id, u8 length and the leader's client
 * address ("198.18.0.1:7001"), then for WIRE_OK a kv result or, for
 * WIRE_REQ_STATUS, a struct wire_status (wire_status_encode()).
 *
 * WIRE_REQ_ADMIN asks the leader to change the cluster: u8 op (enum
 * wire_admin_op), u32 node id, u8 length and the node's address (ADD
 * only).  A WIRE_DONE reply, once the change is committed (TRANSFER: once
 * under way), carries a line of text saying what was done; a
 * WIRE_BAD_REQUEST reply says why not, WIRE_BUSY that another change is
 * under way (retry).
 */
#ifndef LAMPORT_RAFT_WIRE_H
#define LAMPORT_RAFT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "core.h"

#define WIRE_DGRAM_MAX		1400
#define WIRE_VERSION		1
#define WIRE_PEER_VERSION	2
#define WIRE_PEER_HDR		95
#define WIRE_ENTRY_HDR		11
#define WIRE_OK			0x01
#define WIRE_TRANSFER		0x02
#define WIRE_REMOVED		0x04
/* Entry bytes an APPEND may carry: the core's max_append_bytes. */
#define WIRE_APPEND_BYTES	(WIRE_DGRAM_MAX - WIRE_PEER_HDR)

#define WIRE_CLIENT_HDR		12
#define WIRE_REPLY_HDR		18
#define WIRE_ADDR_MAX		RAFT_ADDR_MAX

enum wire_kind {
	WIRE_REQ_KV = 1,
	WIRE_REQ_STATUS,
	WIRE_REQ_ADMIN,
};

enum wire_admin_op {
	WIRE_ADMIN_ADD = 1,	/* a new member, as a non-voter first */
	WIRE_ADMIN_REMOVE,
	WIRE_ADMIN_TRANSFER,	/* leadership, to a voter */
};

struct wire_admin {
	uint8_t op;		/* enum wire_admin_op */
	uint32_t id;
	char addr[RAFT_MEMBER_ADDR_MAX];	/* ADD: its --peers address */
};

/* 0 and the length, or -EINVAL (bad op, id 0, address) / -EMSGSIZE. */
int wire_admin_encode(const struct wire_admin *a, uint8_t *buf, size_t size);
/* Exactly len bytes: 0 or -EBADMSG. */
int wire_admin_decode(struct wire_admin *a, const uint8_t *buf, size_t len);

enum wire_code {
	WIRE_DONE,		/* the result follows */
	WIRE_NOT_LEADER,	/* ask the leader named, if any */
	WIRE_NO_LEADER,		/* an election is going on: retry */
	WIRE_BUSY,		/* too many writes in flight: retry */
	WIRE_RETRY,		/* leadership changed before the answer */
	WIRE_UNAVAILABLE,	/* this node's storage failed */
	WIRE_BAD_REQUEST,	/* the text says why */
};

/* Snapshot bytes a SNAPSHOT may carry: the core's snapshot_chunk. */
#define WIRE_CHUNK_BYTES	1024

struct wire_peer_hdr {
	uint64_t cluster;
	uint64_t stamp;
	uint64_t incarnation;
};

/*
 * Encodes m (entries included) into buf: the length, or -EMSGSIZE when it
 * does not fit in size.
 */
int wire_peer_encode(const struct wire_peer_hdr *h, const struct raft_msg *m,
		     uint8_t *buf, size_t size);

/*
 * Decodes a datagram: 0, or -EBADMSG (not ours, truncated, trailing
 * bytes, a field out of range).  m->entries points into ents, which must
 * hold WIRE_DGRAM_MAX / WIRE_ENTRY_HDR entries; their data and a
 * SNAPSHOT's m->data into buf.
 */
int wire_peer_decode(struct wire_peer_hdr *h, struct raft_msg *m,
		     struct raft_entry *ents, const uint8_t *buf, size_t len);

#define WIRE_MAX_ENTRIES	(WIRE_DGRAM_MAX / WIRE_ENTRY_HDR)

struct wire_request {
	uint8_t kind;		/* enum wire_kind */
	uint64_t id;
	const uint8_t *body;	/* the kv command */
	size_t len;
};

struct wire_reply {
	uint8_t kind;
	uint8_t code;		/* enum wire_code */
	uint64_t id;
	uint32_t leader;
	char leader_addr[WIRE_ADDR_MAX];
	const uint8_t *body;	/* kv result, status JSON or error text */
	size_t len;
};

int wire_request_encode(const struct wire_request *r, uint8_t *buf, size_t size);
int wire_request_decode(struct wire_request *r, const uint8_t *buf, size_t len);
int wire_reply_encode(const struct wire_reply *r, uint8_t *buf, size_t size);
int wire_reply_decode(struct wire_reply *r, const uint8_t *buf, size_t len);

const char *wire_code_name(uint8_t code);

enum wire_transport {
	WIRE_TRANSPORT_UDP = 1,
	WIRE_TRANSPORT_LAMPORT,		/* AF_LAMPORT datagrams */
};

/* The body of a WIRE_DONE reply to WIRE_REQ_STATUS. */
struct wire_status {
	struct raft_status raft;
	uint64_t applied;
	uint64_t clock;		/* the node's Lamport clock */
	uint8_t transport;	/* enum wire_transport */
	uint64_t kv_keys;
	uint64_t kv_digest;	/* equal on replicas at the same applied */
	uint64_t kv_leases;
	bool hints;		/* the failure detector's hints are heard */
	struct raft_conf members;	/* the membership in force (n 0: none) */
};

int wire_status_encode(const struct wire_status *st, uint8_t *buf, size_t size);
int wire_status_decode(struct wire_status *st, const uint8_t *buf, size_t len);

#endif /* LAMPORT_RAFT_WIRE_H */
