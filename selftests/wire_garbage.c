// SPDX-License-Identifier: GPL-2.0
/*
 * Garbage on the wire is dropped, counted and never trusted.
 *
 * Two network namespaces, A and B, joined by a veth pair (198.18.0.1/24 and
 * fd00::1/64 in A, 198.18.0.2/24 and fd00::2/64 in B), each a lamport node:
 * A is node 1 with peer 2 at 198.18.0.2:1978, B is node 2 with peer 1 at
 * 198.18.0.1:1978, both sending real heartbeats every 10 ms; A has one
 * AF_LAMPORT SOCK_RDM socket, bound to an ephemeral port, and no other.
 * From B, plain UDP sockets (on ephemeral ports, never 1978) send A's node
 * datagrams of one class of garbage, alternating IPv4 and IPv6; forged
 * AF_LAMPORT messages from peer 2 go from a raw IPv4 socket as UDP from
 * 198.18.0.2:1978, peer 2's own address and port.  The test checks:
 *
 *  - every datagram is counted in A's RX, and in exactly the drop counter
 *    the first failing check names (short, magic, version, length, type;
 *    then for a heartbeat its body length, receiver, sender, address; for
 *    a DGRAM, RDM or RDM_ACK message receiver, sender, address, then its
 *    body, destination port and, for an ACK, its flow: in that order); no
 *    other drop counter moves, since the real heartbeats are never dropped;
 *  - the real heartbeats keep arriving: peer 2 on A stays ALIVE, its RX
 *    count grows, it never changes state again (TRANSITIONS <= 1: only
 *    unknown -> alive), never recovers, and nothing forged reaches its
 *    statistics (no duplicates; the remote interval and multiplier stay
 *    what B advertises, whatever the forged heartbeats claim).
 *
 * The random classes are judged by a reference classifier that follows the
 * order of the checks; LAMPORT_WIRE_SEED=<n> replays a run.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/lamport.h>

#include "kselftest_harness.h"
#include "nl.h"
#include "lamport_test.h"

/* The wire format. */
#define WIRE_MAGIC		0x4c4d5054u	/* "LMPT" */
#define WIRE_VERSION		1
#define WIRE_HEARTBEAT		1
#define WIRE_DGRAM		2
#define WIRE_RDM		3
#define WIRE_RDM_ACK		4
#define WIRE_TYPE_MAX		WIRE_RDM_ACK
#define WIRE_HDR_LEN		20
#define WIRE_HB_BODY_LEN	40
#define WIRE_HB_LEN		(WIRE_HDR_LEN + WIRE_HB_BODY_LEN)
#define WIRE_DGRAM_HDR_LEN	16	/* ports, flags, stamp */
#define WIRE_RDM_HDR_LEN	24	/* and epoch, seq */
#define WIRE_ACK_BODY_LEN	28
#define WIRE_MAX_LEN		1452
#define UDP_MAX_SENT		1500	/* largest garbage datagram */

#define NODE_A		1
#define NODE_B		2
#define ADDR_A4		0xc6120001u	/* 198.18.0.1 */
#define ADDR_B4		0xc6120002u	/* 198.18.0.2: peer 2 on A */
#define HB_INTERVAL_US	10000
/* The largest multiplier: a slow (emulated, debug) guest never times out. */
#define HB_MULT		LAMPORT_MULT_MAX
/* What forged heartbeats claim, so that trusting one would show. */
#define FORGED_INTERVAL_US	777777
#define FORGED_MULT		7

#define CHUNK		50	/* datagrams between two looks at the counters */
#define SETTLE_MS	2000	/* how long the kernel gets to count a chunk */
#define ALIVE_MS	10000	/* how long peer 2 gets to come alive */

#define FIRST_DROP	LAMPORT_NODE_STAT_DROP_SHORT
#define LAST_DROP	LAMPORT_NODE_STAT_DROP_FLOW
/* What classify() returns when no check fails: nothing sent may do that. */
#define ACCEPTED	0u

enum cls {
	C_SHORT,	/* 0..19 bytes: a truncated header, or nothing */
	C_MAGIC,	/* a bad magic */
	C_VERSION,	/* a version other than 1 */
	C_LENGTH,	/* the length field disagrees with the datagram */
	C_OVERSIZE,	/* 1453..1500 bytes, length field agreeing */
	C_TYPE,		/* type 0 or unknown (5..255) */
	C_BODY,		/* a heartbeat whose body is not 40 bytes */
	C_RECEIVER,	/* addressed to another node id */
	C_SENDER,	/* from a node id that is not a peer */
	C_ADDR,		/* peer 2's id, from the wrong address or port */
	C_MSG_RECEIVER,	/* a DGRAM, RDM or RDM_ACK to another node id */
	C_MSG_SENDER,	/* one from a node id that is not a peer */
	C_MSG_ADDR,	/* one with peer 2's id, from the wrong address or port */
	/* From peer 2, at its address and port: */
	C_MSG_BODY,	/* a DGRAM or RDM body too short, a port 0, an RDM seq 0 */
	C_MSG_PORT,	/* a DGRAM or RDM to a port with no socket of its type */
	C_ACK_BODY,	/* an RDM_ACK body that is not 28 bytes, or a port 0 */
	C_ACK_PORT,	/* an RDM_ACK to a port with no RDM socket */
	C_ACK_FLOW,	/* an RDM_ACK to A's RDM socket, for an unknown epoch */
	C_RANDOM,	/* random bytes, random length 0..1500 */
	C_MIXED,	/* any of the above, at random */
};

/* The counter each deterministic class must land in. */
static const unsigned int cls_counter[C_MIXED + 1] = {
	[C_SHORT]	= LAMPORT_NODE_STAT_DROP_SHORT,
	[C_MAGIC]	= LAMPORT_NODE_STAT_DROP_MAGIC,
	[C_VERSION]	= LAMPORT_NODE_STAT_DROP_VERSION,
	[C_LENGTH]	= LAMPORT_NODE_STAT_DROP_LENGTH,
	[C_OVERSIZE]	= LAMPORT_NODE_STAT_DROP_LENGTH,
	[C_TYPE]	= LAMPORT_NODE_STAT_DROP_TYPE,
	[C_BODY]	= LAMPORT_NODE_STAT_DROP_LENGTH,
	[C_RECEIVER]	= LAMPORT_NODE_STAT_DROP_RECEIVER,
	[C_SENDER]	= LAMPORT_NODE_STAT_DROP_SENDER,
	[C_ADDR]	= LAMPORT_NODE_STAT_DROP_ADDR,
	[C_MSG_RECEIVER] = LAMPORT_NODE_STAT_DROP_RECEIVER,
	[C_MSG_SENDER]	= LAMPORT_NODE_STAT_DROP_SENDER,
	[C_MSG_ADDR]	= LAMPORT_NODE_STAT_DROP_ADDR,
	[C_MSG_BODY]	= LAMPORT_NODE_STAT_DROP_LENGTH,
	[C_MSG_PORT]	= LAMPORT_NODE_STAT_DROP_PORT,
	[C_ACK_BODY]	= LAMPORT_NODE_STAT_DROP_LENGTH,
	[C_ACK_PORT]	= LAMPORT_NODE_STAT_DROP_PORT,
	[C_ACK_FLOW]	= LAMPORT_NODE_STAT_DROP_FLOW,
	/* C_RANDOM, C_MIXED: the classifier decides */
};

/* lt_node_stat_name(), with the counters AF_LAMPORT added. */
static const char *stat_name(unsigned int k)
{
	if (k == LAMPORT_NODE_STAT_DROP_PORT)
		return "DROP_PORT";
	if (k == LAMPORT_NODE_STAT_DROP_FLOW)
		return "DROP_FLOW";
	return lt_node_stat_name(k);
}

/* ---- datagrams --------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* The length of the fixed part of a DGRAM, RDM or RDM_ACK body. */
static size_t body_hdr_len(uint8_t type)
{
	return type == WIRE_DGRAM ? WIRE_DGRAM_HDR_LEN :
	       type == WIRE_RDM ? WIRE_RDM_HDR_LEN : WIRE_ACK_BODY_LEN;
}

/*
 * What A's node must do with a datagram of len bytes from B: the counter
 * of the first check that fails, or ACCEPTED.  from_peer: it came from
 * peer 2's address and port (the raw socket); B's garbage sockets never
 * are there, so what they send that passes every other check is dropped
 * for its address.  A's only AF_LAMPORT socket is an RDM one at rdm_port,
 * which never sent anything: it has no flow an ACK could be for.
 */
static unsigned int classify(const uint8_t *b, size_t len, bool from_peer,
			     uint16_t rdm_port)
{
	const uint8_t *body = b + WIRE_HDR_LEN;
	size_t blen;

	if (len < WIRE_HDR_LEN)
		return LAMPORT_NODE_STAT_DROP_SHORT;
	if (get32(b) != WIRE_MAGIC)
		return LAMPORT_NODE_STAT_DROP_MAGIC;
	if (b[4] != WIRE_VERSION)
		return LAMPORT_NODE_STAT_DROP_VERSION;
	if (get16(b + 16) != len || len > WIRE_MAX_LEN)
		return LAMPORT_NODE_STAT_DROP_LENGTH;
	if (b[5] == 0 || b[5] > WIRE_TYPE_MAX)
		return LAMPORT_NODE_STAT_DROP_TYPE;
	blen = len - WIRE_HDR_LEN;
	/* A heartbeat's body is checked first, the others' last. */
	if (b[5] == WIRE_HEARTBEAT && blen != WIRE_HB_BODY_LEN)
		return LAMPORT_NODE_STAT_DROP_LENGTH;
	if (get32(b + 12) != NODE_A)
		return LAMPORT_NODE_STAT_DROP_RECEIVER;
	if (get32(b + 8) != NODE_B)
		return LAMPORT_NODE_STAT_DROP_SENDER;
	if (!from_peer)
		return LAMPORT_NODE_STAT_DROP_ADDR;

	switch (b[5]) {
	case WIRE_DGRAM:
	case WIRE_RDM:
		/* Ports at 0 and 2, an RDM seq at 20. */
		if (blen < body_hdr_len(b[5]) || !get16(body) || !get16(body + 2) ||
		    (b[5] == WIRE_RDM && !get32(body + 20)))
			return LAMPORT_NODE_STAT_DROP_LENGTH;
		if (b[5] == WIRE_RDM && get16(body + 2) == rdm_port)
			return ACCEPTED;
		return LAMPORT_NODE_STAT_DROP_PORT;	/* A has no DGRAM socket */
	case WIRE_RDM_ACK:
		if (blen != WIRE_ACK_BODY_LEN || !get16(body) || !get16(body + 2))
			return LAMPORT_NODE_STAT_DROP_LENGTH;
		if (get16(body + 2) != rdm_port)
			return LAMPORT_NODE_STAT_DROP_PORT;
		return LAMPORT_NODE_STAT_DROP_FLOW;
	}
	return ACCEPTED;	/* a heartbeat from peer 2 */
}

/*
 * A header for a datagram of len bytes (length field len, flags and
 * reserved 0) and, from byte 20 on, a heartbeat body whose fields are
 * lies: a sequence number the real peer used or will use, the forged
 * interval and multiplier, random times.  Bytes past 60 are random.
 */
static void build(struct lt_rng *r, uint8_t *b, size_t len, uint8_t type,
		  uint32_t sender, uint32_t receiver)
{
	uint8_t body[WIRE_HB_BODY_LEN] = { 0 };

	lt_fill(r, b, len);
	put32(body, lt_below(r, 4096));			/* seq */
	put32(body + 4, FORGED_INTERVAL_US);
	body[8] = FORGED_MULT;				/* pad, epoch: 0 */
	put64(body + 12, lt_rand64(r));			/* tx_ns */
	put32(body + 20, lt_below(r, 4096));		/* echo_seq */
	put64(body + 24, lt_rand64(r));			/* echo_tx_ns */
	put64(body + 32, lt_below(r, 1000000));		/* echo_hold_ns */

	if (len > WIRE_HDR_LEN)
		memcpy(b + WIRE_HDR_LEN, body,
		       len - WIRE_HDR_LEN < sizeof(body) ?
		       len - WIRE_HDR_LEN : sizeof(body));
	if (len < WIRE_HDR_LEN) {
		uint8_t hdr[WIRE_HDR_LEN];

		build(r, hdr, WIRE_HDR_LEN, type, sender, receiver);
		memcpy(b, hdr, len);
		return;
	}
	put32(b, WIRE_MAGIC);
	b[4] = WIRE_VERSION;
	b[5] = type;
	put16(b + 6, 0);
	put32(b + 8, sender);
	put32(b + 12, receiver);
	put16(b + 16, (uint16_t)len);
	put16(b + 18, 0);
}

/*
 * A DGRAM, RDM or RDM_ACK message of len bytes (at least a header) from
 * sender to receiver, from port src to port dst: its body well formed as
 * far as len reaches (flags 0; a random stamp, epoch and RDM seq from 1;
 * an ACK's cumulative ack, window and SACK random), then random bytes.
 */
static void build_msg(struct lt_rng *r, uint8_t *b, size_t len, uint8_t type,
		      uint32_t sender, uint32_t receiver, uint16_t src,
		      uint16_t dst)
{
	uint8_t body[WIRE_ACK_BODY_LEN] = { 0 };
	size_t n = body_hdr_len(type);

	build(r, b, len, type, sender, receiver);
	put16(body, src);
	put16(body + 2, dst);
	if (type == WIRE_RDM_ACK) {
		put32(body + 8, lt_rand32(r));			/* epoch */
		put32(body + 12, lt_below(r, 4096));		/* cum_ack */
		put32(body + 16, lt_rand32(r));			/* wnd */
		put64(body + 20, lt_rand64(r));			/* sack */
	} else {
		put64(body + 8, lt_rand64(r));			/* stamp */
		put32(body + 16, lt_rand32(r));			/* RDM: epoch */
		put32(body + 20, lt_range(r, 1, 4096));		/* RDM: seq */
	}
	memcpy(b + WIRE_HDR_LEN, body,
	       len - WIRE_HDR_LEN < n ? len - WIRE_HDR_LEN : n);
}

/* A length that a well-formed message of type 2..4 may have. */
static size_t msg_len(struct lt_rng *r, uint8_t type)
{
	size_t hdr = WIRE_HDR_LEN + body_hdr_len(type);

	if (type == WIRE_RDM_ACK)
		return hdr;
	if (lt_chance(r, 1, 2))
		return hdr + lt_below(r, 65);
	return lt_range(r, hdr, WIRE_MAX_LEN);
}

/* A port other than 0. */
static uint16_t any_port(struct lt_rng *r)
{
	return (uint16_t)lt_range(r, 1, 65535);
}

/*
 * A message of type 2..4 that its addressing alone must fail: mostly well
 * formed, now and then of any length or from port 0, and half of the time
 * to A's RDM socket, which would take a well-formed RDM message.
 */
static size_t any_msg(struct lt_rng *r, uint8_t *b, uint8_t type,
		      uint32_t sender, uint32_t receiver, uint16_t rdm_port)
{
	size_t len = lt_chance(r, 1, 4) ? lt_range(r, WIRE_HDR_LEN, WIRE_MAX_LEN) :
		     msg_len(r, type);
	uint16_t src = lt_chance(r, 1, 8) ? 0 : any_port(r);
	uint16_t dst = lt_chance(r, 1, 2) ? rdm_port : any_port(r);

	build_msg(r, b, len, type, sender, receiver, src, dst);
	return len;
}

/* A random value other than not, from lo..hi. */
static uint32_t other_than(struct lt_rng *r, uint32_t lo, uint32_t hi,
			   uint32_t not)
{
	uint32_t v;

	do {
		v = lt_range(r, lo, hi);
	} while (v == not);
	return v;
}

/*
 * Datagram i of class c into b; returns its length.  *from_peer: it goes
 * from peer 2's address and port.  rdm_port: A's RDM socket's.
 */
static size_t generate(struct lt_rng *r, enum cls c, unsigned int i,
		       uint16_t rdm_port, uint8_t *b, bool *from_peer)
{
	static const uint32_t bad_magic[] = {
		0, 0x54504d4c /* byte-swapped */, 0x6c6d7074 /* "lmpt" */,
		0xffffffff,
	};
	static const uint16_t bad_length[] = {
		0, 1, 19, 20, 59, 61, 1452, 1453, 65535,
	};
	static const uint32_t bad_receiver[] = { 0, NODE_B, 77, 0xffffffff };
	static const uint32_t bad_sender[] = { 0, NODE_A, 3, 77, 0xffffffff };
	static const size_t bad_body[] = { 0, 1, 39, 41, 80 };
	static const size_t bad_ack_body[] = { 0, 1, 24, 27, 29, 40 };
	uint32_t sender = NODE_B, receiver = NODE_A;
	size_t len = WIRE_HB_LEN;
	uint8_t type = WIRE_HEARTBEAT;
	uint16_t dst;

	*from_peer = false;
	switch (c) {
	case C_SHORT:
		len = i % WIRE_HDR_LEN;
		build(r, b, len, type, sender, receiver);
		return len;
	case C_MAGIC:
		/* Sometimes of any size: the magic is checked first. */
		if (lt_chance(r, 1, 4))
			len = lt_range(r, WIRE_HDR_LEN, UDP_MAX_SENT);
		build(r, b, len, type, sender, receiver);
		if (i % 5 < LT_ARRAY_SIZE(bad_magic))
			put32(b, bad_magic[i % 5]);
		else
			put32(b, WIRE_MAGIC ^ (1u << lt_below(r, 32)));
		return len;
	case C_VERSION:
		build(r, b, len, type, sender, receiver);
		b[4] = i % 3 == 0 ? 0 : i % 3 == 1 ? 2 :
		       (uint8_t)other_than(r, 0, 255, WIRE_VERSION);
		/* The version is checked before the length. */
		if (lt_chance(r, 1, 3))
			put16(b + 16, (uint16_t)other_than(r, 0, 65535, len));
		return len;
	case C_LENGTH:
		if (lt_chance(r, 1, 4))
			len = lt_range(r, WIRE_HDR_LEN, WIRE_MAX_LEN);
		build(r, b, len, type, sender, receiver);
		if (i % 2)
			put16(b + 16, (uint16_t)other_than(r, 0, 65535, len));
		else if (bad_length[i / 2 % LT_ARRAY_SIZE(bad_length)] != len)
			put16(b + 16, bad_length[i / 2 % LT_ARRAY_SIZE(bad_length)]);
		else
			put16(b + 16, (uint16_t)(len + 1));
		/* The length is checked before the type: any will do. */
		if (lt_chance(r, 1, 4))
			b[5] = (uint8_t)lt_below(r, 256);
		return len;
	case C_OVERSIZE:
		len = i % 3 == 0 ? WIRE_MAX_LEN + 1 : i % 3 == 1 ? UDP_MAX_SENT :
		      lt_range(r, WIRE_MAX_LEN + 1, UDP_MAX_SENT);
		if (lt_chance(r, 1, 2))
			type = (uint8_t)lt_below(r, 256);
		build(r, b, len, type, sender, receiver);
		return len;
	case C_TYPE:
		switch (i % 4) {
		case 0:
			len = WIRE_HDR_LEN;
			break;
		case 1:
			len = WIRE_HB_LEN;
			break;
		case 2:
			len = WIRE_MAX_LEN;	/* the largest datagram taken */
			break;
		default:
			len = lt_range(r, WIRE_HDR_LEN, WIRE_MAX_LEN);
		}
		type = i % 8 < 2 ? 0 : (uint8_t)lt_range(r, WIRE_TYPE_MAX + 1, 255);
		/* The type is checked before the receiver. */
		if (lt_chance(r, 1, 4))
			receiver = 77;
		build(r, b, len, type, sender, receiver);
		return len;
	case C_BODY:
		if (i % 2)
			len = WIRE_HDR_LEN + bad_body[i / 2 % LT_ARRAY_SIZE(bad_body)];
		else
			len = WIRE_HDR_LEN + other_than(r, 0, WIRE_MAX_LEN - WIRE_HDR_LEN,
							WIRE_HB_BODY_LEN);
		/* The body is checked before the receiver. */
		if (lt_chance(r, 1, 4))
			receiver = 77;
		build(r, b, len, type, sender, receiver);
		return len;
	case C_RECEIVER:
		receiver = i % 2 ? bad_receiver[i / 2 % LT_ARRAY_SIZE(bad_receiver)] :
			   other_than(r, 0, 0xffffffff, NODE_A);
		/* The receiver is checked before the sender. */
		if (lt_chance(r, 1, 2))
			sender = lt_rand32(r);
		build(r, b, len, type, sender, receiver);
		return len;
	case C_SENDER:
		sender = i % 2 ? bad_sender[i / 2 % LT_ARRAY_SIZE(bad_sender)] :
			 other_than(r, 0, 0xffffffff, NODE_B);
		build(r, b, len, type, sender, receiver);
		return len;
	case C_ADDR:
		build(r, b, len, type, sender, receiver);
		return len;
	case C_MSG_RECEIVER:
		receiver = i % 2 ? bad_receiver[i / 2 % LT_ARRAY_SIZE(bad_receiver)] :
			   other_than(r, 0, 0xffffffff, NODE_A);
		/* The receiver is checked before the sender, address and body. */
		if (lt_chance(r, 1, 2))
			sender = lt_rand32(r);
		*from_peer = lt_chance(r, 1, 2);
		return any_msg(r, b, WIRE_DGRAM + i % 3, sender, receiver, rdm_port);
	case C_MSG_SENDER:
		sender = i % 2 ? bad_sender[i / 2 % LT_ARRAY_SIZE(bad_sender)] :
			 other_than(r, 0, 0xffffffff, NODE_B);
		/* The sender is checked before the address and the body. */
		*from_peer = lt_chance(r, 1, 2);
		return any_msg(r, b, WIRE_DGRAM + i % 3, sender, receiver, rdm_port);
	case C_MSG_ADDR:
		/* The address is checked before the body. */
		return any_msg(r, b, WIRE_DGRAM + i % 3, sender, receiver, rdm_port);
	case C_MSG_BODY:
		*from_peer = true;
		type = i % 2 ? WIRE_RDM : WIRE_DGRAM;
		len = i / 2 % 4 == 0 ?
		      WIRE_HDR_LEN + lt_below(r, body_hdr_len(type)) :
		      msg_len(r, type);
		/* The body is checked before the port: A's RDM one too. */
		dst = lt_chance(r, 1, 2) ? rdm_port : any_port(r);
		build_msg(r, b, len, type, sender, receiver, any_port(r), dst);
		switch (i / 2 % 4) {
		case 0:		/* shorter than its body header */
			break;
		case 1:
			put16(b + WIRE_HDR_LEN, 0);		/* src_port */
			break;
		case 2:
			put16(b + WIRE_HDR_LEN + 2, 0);		/* dst_port */
			break;
		default:
			if (type == WIRE_RDM)
				put32(b + WIRE_HDR_LEN + 20, 0);	/* seq */
			else
				put32(b + WIRE_HDR_LEN, 0);	/* both ports */
		}
		return len;
	case C_MSG_PORT:
		*from_peer = true;
		/* A has no DGRAM socket, and an RDM one at rdm_port only. */
		type = i % 2 ? WIRE_RDM : WIRE_DGRAM;
		if (type == WIRE_RDM)
			dst = (uint16_t)other_than(r, 1, 65535, rdm_port);
		else
			dst = i % 4 == 0 ? rdm_port : any_port(r);
		len = msg_len(r, type);
		build_msg(r, b, len, type, sender, receiver, any_port(r), dst);
		return len;
	case C_ACK_BODY:
		*from_peer = true;
		type = WIRE_RDM_ACK;
		/* The body is checked before the port and the flow. */
		dst = lt_chance(r, 1, 2) ? rdm_port : any_port(r);
		if (i % 2) {
			len = WIRE_HDR_LEN + (i / 2 % 2 ?
			      bad_ack_body[i / 4 % LT_ARRAY_SIZE(bad_ack_body)] :
			      other_than(r, 0, WIRE_MAX_LEN - WIRE_HDR_LEN,
					 WIRE_ACK_BODY_LEN));
			build_msg(r, b, len, type, sender, receiver, any_port(r), dst);
			return len;
		}
		len = WIRE_HDR_LEN + WIRE_ACK_BODY_LEN;
		build_msg(r, b, len, type, sender, receiver,
			  i / 2 % 3 == 1 ? any_port(r) : 0,
			  i / 2 % 3 == 0 ? dst : 0);
		return len;
	case C_ACK_PORT:
		*from_peer = true;
		len = WIRE_HDR_LEN + WIRE_ACK_BODY_LEN;
		build_msg(r, b, len, WIRE_RDM_ACK, sender, receiver, any_port(r),
			  (uint16_t)other_than(r, 1, 65535, rdm_port));
		return len;
	case C_ACK_FLOW:
		/* A's RDM socket never sent: every epoch is unknown to it. */
		*from_peer = true;
		len = WIRE_HDR_LEN + WIRE_ACK_BODY_LEN;
		build_msg(r, b, len, WIRE_RDM_ACK, sender, receiver, any_port(r),
			  rdm_port);
		return len;
	case C_RANDOM:
		len = lt_chance(r, 1, 8) ? lt_below(r, WIRE_HDR_LEN) :
		      lt_below(r, UDP_MAX_SENT + 1);
		lt_fill(r, b, len);
		/* Now and then a real header start, then random bytes. */
		if (len >= 6 && lt_chance(r, 1, 8)) {
			put32(b, WIRE_MAGIC);
			b[4] = WIRE_VERSION;
			if (len >= WIRE_HDR_LEN) {
				put16(b + 6, 0);
				put16(b + 18, 0);
				if (lt_chance(r, 1, 2))
					put16(b + 16, (uint16_t)len);
			}
		}
		return len;
	case C_MIXED:
		break;
	}
	return 0;
}

/* ---- the two namespaces ------------------------------------------------ */

FIXTURE(wire) {
	int ns_a, ns_b;
	struct lnl a, b;	/* genetlink of node A, of node B */
	int s4, s6;		/* garbage sockets in B */
	int raw;		/* raw IPv4 socket in B: peer 2's address */
	int rdm;		/* the RDM socket in A */
	uint16_t rdm_port;	/* its port */
	struct sockaddr_in dst4;
	struct sockaddr_in6 dst6;
	struct lt_rng rng;
};

FIXTURE_VARIANT(wire) {
	enum cls cls;
	unsigned int count;	/* lt_scaled(): a fifth on the debug kernel */
};

FIXTURE_VARIANT_ADD(wire, short_datagrams) { .cls = C_SHORT, .count = 200 };
FIXTURE_VARIANT_ADD(wire, bad_magic) { .cls = C_MAGIC, .count = 200 };
FIXTURE_VARIANT_ADD(wire, bad_version) { .cls = C_VERSION, .count = 200 };
FIXTURE_VARIANT_ADD(wire, bad_length_field) { .cls = C_LENGTH, .count = 200 };
FIXTURE_VARIANT_ADD(wire, oversize) { .cls = C_OVERSIZE, .count = 200 };
FIXTURE_VARIANT_ADD(wire, bad_type) { .cls = C_TYPE, .count = 200 };
FIXTURE_VARIANT_ADD(wire, bad_heartbeat_body) { .cls = C_BODY, .count = 200 };
FIXTURE_VARIANT_ADD(wire, wrong_receiver) { .cls = C_RECEIVER, .count = 200 };
FIXTURE_VARIANT_ADD(wire, unknown_sender) { .cls = C_SENDER, .count = 200 };
FIXTURE_VARIANT_ADD(wire, forged_sender) { .cls = C_ADDR, .count = 200 };
FIXTURE_VARIANT_ADD(wire, msg_wrong_receiver) { .cls = C_MSG_RECEIVER, .count = 200 };
FIXTURE_VARIANT_ADD(wire, msg_unknown_sender) { .cls = C_MSG_SENDER, .count = 200 };
FIXTURE_VARIANT_ADD(wire, msg_forged_sender) { .cls = C_MSG_ADDR, .count = 200 };
FIXTURE_VARIANT_ADD(wire, msg_bad_body) { .cls = C_MSG_BODY, .count = 200 };
FIXTURE_VARIANT_ADD(wire, msg_no_port) { .cls = C_MSG_PORT, .count = 200 };
FIXTURE_VARIANT_ADD(wire, ack_bad_body) { .cls = C_ACK_BODY, .count = 200 };
FIXTURE_VARIANT_ADD(wire, ack_no_port) { .cls = C_ACK_PORT, .count = 200 };
FIXTURE_VARIANT_ADD(wire, ack_no_flow) { .cls = C_ACK_FLOW, .count = 200 };
FIXTURE_VARIANT_ADD(wire, random_bytes) { .cls = C_RANDOM, .count = 1000 };
FIXTURE_VARIANT_ADD(wire, mixed) { .cls = C_MIXED, .count = 4000 };

static uint64_t drop_sum(const struct lt_node *n)
{
	uint64_t sum = 0;
	unsigned int k;

	for (k = FIRST_DROP; k <= LAST_DROP; k++)
		sum += n->stat[k];
	return sum;
}

static void node_read(struct __test_metadata *_metadata, struct lnl *nl,
		      struct lt_node *n)
{
	unsigned int k;
	int err;

	err = lt_node_get(nl, n);
	ASSERT_EQ(0, err) {
		TH_LOG("NODE_GET: %s (%s)", strerror(-err), nl->err_msg);
	}
	for (k = LAMPORT_NODE_STAT_RX; k <= LAMPORT_NODE_STAT_MAX; k++)
		ASSERT_TRUE(n->has_stat[k]) {
			TH_LOG("NODE_STATS without %s", stat_name(k));
		}
}

/* Every counter's move since base, next to what the datagrams sent expect. */
static void log_deltas(struct __test_metadata *_metadata,
		       const struct lt_node *base, const struct lt_node *n,
		       const uint64_t *expected)
{
	unsigned int k;

	for (k = LAMPORT_NODE_STAT_RX; k <= LAMPORT_NODE_STAT_MAX; k++) {
		if (k < FIRST_DROP)
			TH_LOG("  %-13s moved by %llu", stat_name(k),
			       (unsigned long long)(n->stat[k] - base->stat[k]));
		else
			TH_LOG("  %-13s moved by %llu, expected %llu",
			       stat_name(k),
			       (unsigned long long)(n->stat[k] - base->stat[k]),
			       (unsigned long long)expected[k]);
	}
}

/* Reads A's counters until the drops reach target, or SETTLE_MS pass. */
static void wait_drops(struct __test_metadata *_metadata, struct lnl *nl,
		       uint64_t target, struct lt_node *n)
{
	uint64_t deadline = lt_now_ms() + SETTLE_MS;

	for (;;) {
		node_read(_metadata, nl, n);
		if (drop_sum(n) >= target || lt_now_ms() > deadline)
			return;
		lt_sleep_ms(1);
	}
}

static void peer_read(struct __test_metadata *_metadata, struct lnl *nl,
		      struct lt_peer *p)
{
	int err = lt_peer_get(nl, NODE_B, p);

	ASSERT_EQ(0, err) {
		TH_LOG("PEER_GET 2 on A: %s (%s)", strerror(-err), nl->err_msg);
	}
	ASSERT_TRUE(p->has_state);
	ASSERT_TRUE(p->has_stats);
	ASSERT_TRUE(p->has_stat[LAMPORT_PEER_STAT_RX]);
}

static void peer_log(struct __test_metadata *_metadata, const char *when,
		     const struct lt_peer *p)
{
	TH_LOG("%s: peer 2 on A %s, rx %llu, transitions %llu, remote interval %llu us mult %llu",
	       when, lt_peer_state_name(p->state),
	       (unsigned long long)p->stat[LAMPORT_PEER_STAT_RX],
	       (unsigned long long)p->stat[LAMPORT_PEER_STAT_TRANSITIONS],
	       (unsigned long long)p->stat[LAMPORT_PEER_STAT_REMOTE_INTERVAL_US],
	       (unsigned long long)p->stat[LAMPORT_PEER_STAT_REMOTE_MULT]);
}

/*
 * Peer 2 on A right now: alive, never more than its first transition, and
 * nothing forged in what it learnt from heartbeats.
 */
static void peer_sound(struct __test_metadata *_metadata, const struct lt_peer *p,
		       const struct lt_peer *base, const char *when)
{
	ASSERT_EQ(LAMPORT_PEER_ALIVE, p->state) {
		peer_log(_metadata, when, p);
	}
	ASSERT_GE(1ULL, p->stat[LAMPORT_PEER_STAT_TRANSITIONS]) {
		peer_log(_metadata, when, p);
	}
	EXPECT_EQ(0ULL, p->stat[LAMPORT_PEER_STAT_RECOVERIES]);
	EXPECT_EQ(base->stat[LAMPORT_PEER_STAT_DUPLICATES],
		  p->stat[LAMPORT_PEER_STAT_DUPLICATES]) {
		peer_log(_metadata, when, p);
	}
	/* What B advertises, never what a forged heartbeat claims. */
	EXPECT_EQ((uint64_t)HB_INTERVAL_US,
		  p->stat[LAMPORT_PEER_STAT_REMOTE_INTERVAL_US]) {
		peer_log(_metadata, when, p);
	}
	EXPECT_EQ((uint64_t)HB_MULT, p->stat[LAMPORT_PEER_STAT_REMOTE_MULT]) {
		peer_log(_metadata, when, p);
	}
}

/* Waits for the RX count of peer 2 on A to pass rx: real heartbeats flow. */
static void peer_wait_rx(struct __test_metadata *_metadata, struct lnl *nl,
			 uint64_t rx, struct lt_peer *p)
{
	uint64_t deadline = lt_now_ms() + SETTLE_MS;

	do {
		peer_read(_metadata, nl, p);
		if (p->stat[LAMPORT_PEER_STAT_RX] > rx)
			return;
		lt_sleep_ms(5);
	} while (lt_now_ms() <= deadline);
	ASSERT_LT(rx, p->stat[LAMPORT_PEER_STAT_RX]) {
		TH_LOG("no heartbeat from B for %d ms", SETTLE_MS);
		peer_log(_metadata, "stalled", p);
	}
}

/* How a datagram leaves B. */
enum via {
	VIA_V4,		/* a garbage socket: 198.18.0.2:<ephemeral> */
	VIA_V6,		/* a garbage socket: [fd00::2]:<ephemeral> */
	VIA_PEER,	/* the raw socket: 198.18.0.2:1978, peer 2 itself */
	VIA_MAX = VIA_PEER,
};

static const char *const via_name[VIA_MAX + 1] = {
	[VIA_V4]	= "IPv4",
	[VIA_V6]	= "IPv6",
	[VIA_PEER]	= "IPv4 from 198.18.0.2:1978",
};

/* The UDP checksum of udp (header, check 0, and payload) from B to A. */
static uint16_t udp4_csum(const uint8_t *udp, size_t len)
{
	uint32_t sum = (ADDR_B4 >> 16) + (ADDR_B4 & 0xffff) +
		       (ADDR_A4 >> 16) + (ADDR_A4 & 0xffff) +
		       IPPROTO_UDP + (uint32_t)len;
	size_t k;

	for (k = 0; k + 1 < len; k += 2)
		sum += get16(udp + k);
	if (len % 2)
		sum += (uint32_t)udp[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	return sum ? (uint16_t)sum : 0xffff;
}

static void send_one(struct __test_metadata *_metadata,
		     FIXTURE_DATA(wire) *self, enum via via, const uint8_t *b,
		     size_t len)
{
	static uint8_t udp[8 + UDP_MAX_SENT];
	ssize_t n;

	switch (via) {
	case VIA_V4:
		n = sendto(self->s4, b, len, 0, (const struct sockaddr *)&self->dst4,
			   sizeof(self->dst4));
		break;
	case VIA_V6:
		n = sendto(self->s6, b, len, 0, (const struct sockaddr *)&self->dst6,
			   sizeof(self->dst6));
		break;
	default:
		/* The UDP header is ours to write: from port 1978. */
		put16(udp, LAMPORT_DEFAULT_PORT);
		put16(udp + 2, LAMPORT_DEFAULT_PORT);
		put16(udp + 4, (uint16_t)(8 + len));
		put16(udp + 6, 0);
		memcpy(udp + 8, b, len);
		put16(udp + 6, udp4_csum(udp, 8 + len));
		n = sendto(self->raw, udp, 8 + len, 0,
			   (const struct sockaddr *)&self->dst4, sizeof(self->dst4));
		if (n >= 8)
			n -= 8;
	}
	ASSERT_EQ((ssize_t)len, n) {
		TH_LOG("sendto (%s, %zu bytes): %s", via_name[via], len,
		       strerror(errno));
	}
}

/*
 * The first datagrams of a family may wait for neighbour discovery or meet
 * a link that is not quite up: send empty ones until A counts one.
 */
static void warm_up(struct __test_metadata *_metadata, FIXTURE_DATA(wire) *self,
		    enum via via)
{
	uint64_t base, deadline;
	struct lt_node n;
	unsigned int tries;

	node_read(_metadata, &self->a, &n);
	base = n.stat[LAMPORT_NODE_STAT_DROP_SHORT];
	for (tries = 0; tries < 20; tries++) {
		send_one(_metadata, self, via, (const uint8_t *)"", 0);
		deadline = lt_now_ms() + 500;
		do {
			node_read(_metadata, &self->a, &n);
			if (n.stat[LAMPORT_NODE_STAT_DROP_SHORT] > base)
				return;
			lt_sleep_ms(5);
		} while (lt_now_ms() <= deadline);
	}
	ASSERT_LT(base, n.stat[LAMPORT_NODE_STAT_DROP_SHORT]) {
		TH_LOG("nothing sent over %s reaches node A", via_name[via]);
	}
}

static int udp_socket(int family)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	int one = 1, fd;

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto fail;
	/* Port 0: an ephemeral port, which 1978 never is. */
	if (bind(fd, (struct sockaddr *)&ss, family == AF_INET ?
		 sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)))
		goto fail;
	return fd;
fail:
	one = -errno;
	close(fd);
	return one;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/*
 * A raw IPv4 socket that sends UDP datagrams from 198.18.0.2, with the
 * UDP header written by the caller: the only way to forge what comes from
 * peer 2, whose port 1978 B's own node holds.  It takes nothing in.
 */
static int peer_socket(void)
{
	static struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	const struct sock_fprog prog = {
		.len = LT_ARRAY_SIZE(drop_all),
		.filter = drop_all,
	};
	struct sockaddr_in src = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(ADDR_B4),
	};
	int fd, err;

	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* The AF_LAMPORT family number lamport.ko registered, or -errno. */
static int af_lamport_family(void)
{
	FILE *f = fopen(LAMPORT_FAMILY_PARAM, "re");
	int family = 0, n;

	if (!f)
		return -errno;
	n = fscanf(f, "%d", &family);
	fclose(f);
	return n == 1 && family > 0 && family <= 65535 ? family : -EPROTO;
}

/* An RDM socket of the current netns' node, on an ephemeral port: *port. */
static int rdm_socket(uint16_t *port)
{
	struct sockaddr_lamport sa = { 0 };
	socklen_t len = sizeof(sa);
	int family = af_lamport_family(), fd, err;

	if (family < 0)
		return family;
	fd = socket(family, SOCK_RDM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sa.slam_family = (__kernel_sa_family_t)family;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	*port = sa.slam_port;
	return fd;
}

/* One side of the veth pair: link and loopback up, both addresses. */
static void side_up(struct __test_metadata *_metadata, const char *link,
		    uint8_t host)
{
	uint8_t v4[4] = { 198, 18, 0, host };
	uint8_t v6[16] = { 0xfd, [15] = host };
	int err;

	ASSERT_EQ(0, lt_link_up("lo"));
	err = lt_link_up(link);
	ASSERT_EQ(0, err) {
		TH_LOG("link %s up: %s", link, strerror(-err));
	}
	err = lt_addr_add(link, AF_INET, v4, 24);
	ASSERT_EQ(0, err) {
		TH_LOG("198.18.0.%u/24 on %s: %s", host, link, strerror(-err));
	}
	err = lt_addr_add(link, AF_INET6, v6, 64);
	ASSERT_EQ(0, err) {
		TH_LOG("fd00::%u/64 on %s: %s", host, link, strerror(-err));
	}
}

/* The node of nl: id self_id, peer peer_id at 198.18.0.<peer_host>:1978. */
static void node_up(struct __test_metadata *_metadata, struct lnl *nl,
		    uint32_t self_id, uint32_t peer_id, uint8_t peer_host)
{
	const uint8_t addr[4] = { 198, 18, 0, peer_host };
	struct lt_peer_cfg cfg = {
		.id = peer_id,
		.addr = addr,
		.addr_len = sizeof(addr),
		.port = LAMPORT_DEFAULT_PORT,
		.interval_us = HB_INTERVAL_US,
		.mult = HB_MULT,
		.has_mode = true,
		.mode = LAMPORT_FD_FIXED,
	};
	struct lt_node n;
	int err;

	err = lt_node_set(nl, self_id, 0, NULL, 0);
	ASSERT_EQ(0, err) {
		TH_LOG("NODE_SET %u: %s (%s)", self_id, strerror(-err), nl->err_msg);
	}
	err = lt_peer_add(nl, &cfg);
	ASSERT_EQ(0, err) {
		TH_LOG("PEER_ADD %u on node %u: %s (%s)", peer_id, self_id,
		       strerror(-err), nl->err_msg);
	}
	ASSERT_EQ(0, lt_node_get(nl, &n));
	ASSERT_EQ(self_id, n.id);
	ASSERT_EQ(LAMPORT_DEFAULT_PORT, n.port);
}

FIXTURE_SETUP(wire)
{
	uint64_t seed = lt_seed_from_env("LAMPORT_WIRE_SEED");
	uint64_t deadline;
	struct lt_peer p;

	self->ns_a = self->ns_b = self->s4 = self->s6 = -1;
	self->raw = self->rdm = -1;
	lt_rng_seed(&self->rng, seed);
	TH_LOG("LAMPORT_WIRE_SEED=%llu", (unsigned long long)seed);

	self->ns_a = lt_netns_new();
	ASSERT_LE(0, self->ns_a);
	self->ns_b = lt_netns_new();
	ASSERT_LE(0, self->ns_b);

	ASSERT_EQ(0, lt_netns_enter(self->ns_a));
	ASSERT_EQ(0, lt_veth_add("lamport-a", "lamport-b", self->ns_b));
	side_up(_metadata, "lamport-a", 1);
	ASSERT_EQ(0, lnl_open(&self->a));

	ASSERT_EQ(0, lt_netns_enter(self->ns_b));
	side_up(_metadata, "lamport-b", 2);
	ASSERT_EQ(0, lnl_open(&self->b));
	self->s4 = udp_socket(AF_INET);
	ASSERT_LE(0, self->s4);
	self->s6 = udp_socket(AF_INET6);
	ASSERT_LE(0, self->s6);
	ASSERT_NE(LAMPORT_DEFAULT_PORT, local_port(self->s4));
	ASSERT_NE(LAMPORT_DEFAULT_PORT, local_port(self->s6));
	self->raw = peer_socket();
	ASSERT_LE(0, self->raw) {
		TH_LOG("raw socket: %s", strerror(-self->raw));
	}

	self->dst4.sin_family = AF_INET;
	self->dst4.sin_port = htons(LAMPORT_DEFAULT_PORT);
	self->dst4.sin_addr.s_addr = htonl(ADDR_A4);
	self->dst6.sin6_family = AF_INET6;
	self->dst6.sin6_port = htons(LAMPORT_DEFAULT_PORT);
	self->dst6.sin6_addr.s6_addr[0] = 0xfd;		/* fd00::1 */
	self->dst6.sin6_addr.s6_addr[15] = 1;

	/* Sockets keep their netns: from here on, which one we are in is moot. */
	node_up(_metadata, &self->b, NODE_B, NODE_A, 1);
	node_up(_metadata, &self->a, NODE_A, NODE_B, 2);
	/* The RDM socket belongs to the node it is created in: A's. */
	ASSERT_EQ(0, lt_netns_enter(self->ns_a));
	self->rdm = rdm_socket(&self->rdm_port);
	ASSERT_LE(0, self->rdm) {
		TH_LOG("AF_LAMPORT SOCK_RDM socket in A: %s", strerror(-self->rdm));
	}
	TH_LOG("A's RDM socket is at port %u", self->rdm_port);

	deadline = lt_now_ms() + ALIVE_MS;
	do {
		peer_read(_metadata, &self->a, &p);
		if (p.state == LAMPORT_PEER_ALIVE)
			break;
		lt_sleep_ms(10);
	} while (lt_now_ms() <= deadline);
	ASSERT_EQ(LAMPORT_PEER_ALIVE, p.state) {
		peer_log(_metadata, "setup", &p);
	}

	warm_up(_metadata, self, VIA_V4);
	warm_up(_metadata, self, VIA_V6);
	warm_up(_metadata, self, VIA_PEER);
	/* Let whatever the warm-up left in flight land before the baseline. */
	lt_sleep_ms(100);
}

FIXTURE_TEARDOWN(wire)
{
	if (self->s4 >= 0)
		close(self->s4);
	if (self->s6 >= 0)
		close(self->s6);
	if (self->raw >= 0)
		close(self->raw);
	if (self->rdm >= 0)
		close(self->rdm);
	lnl_close(&self->a);
	lnl_close(&self->b);
	if (self->ns_a >= 0)
		close(self->ns_a);
	if (self->ns_b >= 0)
		close(self->ns_b);
}

TEST_F_TIMEOUT(wire, dropped_counted_not_trusted, 300)
{
	static uint8_t dgram[UDP_MAX_SENT];
	uint64_t expected[LAMPORT_NODE_STAT_MAX + 1] = { 0 };
	unsigned int count = lt_scaled(variant->count), sent, k;
	uint64_t rx_seen, drops0, got;
	struct lt_node n0, n;
	struct lt_peer p0, p;
	bool from_peer;
	enum cls c;
	size_t len;

	peer_read(_metadata, &self->a, &p0);
	peer_sound(_metadata, &p0, &p0, "before");
	node_read(_metadata, &self->a, &n0);
	drops0 = drop_sum(&n0);
	rx_seen = p0.stat[LAMPORT_PEER_STAT_RX];
	TH_LOG("%u datagrams", count);

	for (sent = 0; sent < count; ) {
		c = variant->cls == C_MIXED ?
		    (enum cls)lt_below(&self->rng, C_MIXED) : variant->cls;
		len = generate(&self->rng, c, sent, self->rdm_port, dgram,
			       &from_peer);
		k = classify(dgram, len, from_peer, self->rdm_port);
		/* Nothing sent may pass every check. */
		ASSERT_NE(ACCEPTED, k) {
			TH_LOG("class %d datagram %u (%zu bytes) would be accepted",
			       c, sent, len);
		}
		if (cls_counter[c]) {
			/* The generator itself makes what it means to. */
			ASSERT_EQ(cls_counter[c], k) {
				TH_LOG("class %d datagram %u (%zu bytes) classifies as %s",
				       c, sent, len, stat_name(k));
			}
		}
		expected[k]++;
		send_one(_metadata, self, from_peer ? VIA_PEER :
			 sent % 2 ? VIA_V6 : VIA_V4, dgram, len);
		sent++;

		if (sent % CHUNK && sent < count)
			continue;
		/* Paced: the next chunk goes once this one is counted. */
		wait_drops(_metadata, &self->a, drops0 + sent, &n);
		ASSERT_EQ(drops0 + sent, drop_sum(&n)) {
			TH_LOG("after %u datagrams the drop counters moved by %llu",
			       sent, (unsigned long long)(drop_sum(&n) - drops0));
			log_deltas(_metadata, &n0, &n, expected);
		}
		peer_read(_metadata, &self->a, &p);
		peer_sound(_metadata, &p, &p0, "during");
		if (sent % 1000 == 0 || sent == count) {
			peer_wait_rx(_metadata, &self->a, rx_seen, &p);
			rx_seen = p.stat[LAMPORT_PEER_STAT_RX];
		}
	}

	node_read(_metadata, &self->a, &n);
	for (k = FIRST_DROP; k <= LAST_DROP; k++) {
		got = n.stat[k] - n0.stat[k];
		EXPECT_EQ(expected[k], got) {
			TH_LOG("%s moved by %llu, expected %llu",
			       stat_name(k), (unsigned long long)got,
			       (unsigned long long)expected[k]);
		}
	}
	if (_metadata->exit_code != KSFT_PASS)
		log_deltas(_metadata, &n0, &n, expected);
	/* The real heartbeats are counted too: at least what was sent. */
	EXPECT_LE(n0.stat[LAMPORT_NODE_STAT_RX] + count,
		  n.stat[LAMPORT_NODE_STAT_RX]);

	peer_wait_rx(_metadata, &self->a, p0.stat[LAMPORT_PEER_STAT_RX], &p);
	peer_sound(_metadata, &p, &p0, "after");
	peer_log(_metadata, "after", &p);
}

TEST_HARNESS_MAIN
