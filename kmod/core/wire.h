/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lamport wire format: every UDP datagram between nodes starts with this
 * header. Pure C, shared by the module, the userspace twin and host tests.
 * All multi-byte fields are big-endian on the wire; these helpers read and
 * write them byte by byte, so no alignment or endianness header is needed.
 */
#ifndef _LAMPORT_CORE_WIRE_H
#define _LAMPORT_CORE_WIRE_H

#include "compat.h"

#define LP_WIRE_MAGIC		0x4c4d5054u	/* "LMPT" */
#define LP_WIRE_VERSION		1
#define LP_WIRE_HDR_LEN		20
#define LP_WIRE_MAX_LEN		1452		/* a 1500-byte MTU, IPv6 */

enum lp_msg_type {
	LP_MSG_HEARTBEAT = 1,
	LP_MSG_DGRAM,		/* an AF_LAMPORT SOCK_DGRAM message */
	LP_MSG_RDM,		/* an AF_LAMPORT SOCK_RDM message */
	LP_MSG_RDM_ACK,		/* acknowledges RDM messages of one flow */
	__LP_MSG_MAX,
};

struct lp_hdr {
	u32 magic;
	u8 version;
	u8 type;
	u16 flags;
	u32 sender;	/* node id of the sender */
	u32 receiver;	/* node id of the intended receiver */
	u16 length;	/* of the whole message, header included */
	u16 reserved;	/* 0 on send, ignored on receive */
};

/*
 * A heartbeat. tx_ns is the sender's CLOCK_MONOTONIC at transmission; echo_*
 * returns the receiver's last heartbeat to it: its sequence number, its own
 * tx_ns and how long the sender held it, so that the receiver computes
 * rtt = now - echo_tx_ns - echo_hold_ns on its own clock alone.
 */
struct lp_heartbeat {
	u16 epoch;		/* random per sequence; 0 from senders before it */
	u32 seq;
	u32 interval_us;	/* the sender's transmit interval */
	u8 mult;		/* the sender's detection multiplier */
	u64 tx_ns;
	u32 echo_seq;		/* 0: nothing received yet */
	u64 echo_tx_ns;
	u64 echo_hold_ns;
};

#define LP_WIRE_HEARTBEAT_LEN	(LP_WIRE_HDR_LEN + 40)

enum lp_wire_error {
	LP_WIRE_OK,
	LP_WIRE_SHORT,		/* shorter than a header */
	LP_WIRE_BAD_MAGIC,
	LP_WIRE_BAD_VERSION,
	LP_WIRE_BAD_LENGTH,	/* length field disagrees with the datagram */
	LP_WIRE_BAD_TYPE,
};

static inline void lp_put16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)(v & 0xff);
}

static inline void lp_put32(u8 *p, u32 v)
{
	lp_put16(p, (u16)(v >> 16));
	lp_put16(p + 2, (u16)(v & 0xffff));
}

static inline void lp_put64(u8 *p, u64 v)
{
	lp_put32(p, (u32)(v >> 32));
	lp_put32(p + 4, (u32)(v & 0xffffffff));
}

static inline u16 lp_get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static inline u32 lp_get32(const u8 *p)
{
	return (u32)lp_get16(p) << 16 | lp_get16(p + 2);
}

static inline u64 lp_get64(const u8 *p)
{
	return (u64)lp_get32(p) << 32 | lp_get32(p + 4);
}

static inline void lp_hdr_put(u8 *p, const struct lp_hdr *h)
{
	lp_put32(p, LP_WIRE_MAGIC);
	p[4] = LP_WIRE_VERSION;
	p[5] = h->type;
	lp_put16(p + 6, h->flags);
	lp_put32(p + 8, h->sender);
	lp_put32(p + 12, h->receiver);
	lp_put16(p + 16, h->length);
	lp_put16(p + 18, 0);
}

/* Parses and checks the header of a datagram of len bytes. */
static inline enum lp_wire_error lp_hdr_get(const u8 *p, u32 len,
					    struct lp_hdr *h)
{
	if (len < LP_WIRE_HDR_LEN)
		return LP_WIRE_SHORT;
	h->magic = lp_get32(p);
	if (h->magic != LP_WIRE_MAGIC)
		return LP_WIRE_BAD_MAGIC;
	h->version = p[4];
	if (h->version != LP_WIRE_VERSION)
		return LP_WIRE_BAD_VERSION;
	h->type = p[5];
	h->flags = lp_get16(p + 6);
	h->sender = lp_get32(p + 8);
	h->receiver = lp_get32(p + 12);
	h->length = lp_get16(p + 16);
	h->reserved = lp_get16(p + 18);
	if (h->length != len || len > LP_WIRE_MAX_LEN)
		return LP_WIRE_BAD_LENGTH;
	if (h->type == 0 || h->type >= __LP_MSG_MAX)
		return LP_WIRE_BAD_TYPE;
	return LP_WIRE_OK;
}

static inline void lp_heartbeat_put(u8 *p, const struct lp_heartbeat *hb)
{
	lp_put32(p, hb->seq);
	lp_put32(p + 4, hb->interval_us);
	p[8] = hb->mult;
	p[9] = 0;
	lp_put16(p + 10, hb->epoch);
	lp_put64(p + 12, hb->tx_ns);
	lp_put32(p + 20, hb->echo_seq);
	lp_put64(p + 24, hb->echo_tx_ns);
	lp_put64(p + 32, hb->echo_hold_ns);
}

/* The body follows the header; len is the body's length. */
static inline bool lp_heartbeat_get(const u8 *p, u32 len,
				    struct lp_heartbeat *hb)
{
	if (len != LP_WIRE_HEARTBEAT_LEN - LP_WIRE_HDR_LEN)
		return false;
	hb->seq = lp_get32(p);
	hb->interval_us = lp_get32(p + 4);
	hb->mult = p[8];
	hb->epoch = lp_get16(p + 10);
	hb->tx_ns = lp_get64(p + 12);
	hb->echo_seq = lp_get32(p + 20);
	hb->echo_tx_ns = lp_get64(p + 24);
	hb->echo_hold_ns = lp_get64(p + 32);
	return true;
}

/*
 * AF_LAMPORT messages. Both kinds start with the ports and the sender's
 * Lamport stamp; an RDM message adds its flow's epoch (random per flow, so
 * a new flow between the same ports never looks like an old one) and its
 * sequence number in that flow. The payload follows the body header.
 */
struct lp_msg {
	u16 src_port;
	u16 dst_port;
	u16 flags;
	u64 stamp;
	u32 epoch;	/* RDM only */
	u32 seq;	/* RDM only, from 1 */
};

#define LP_RDM_F_ACK_NOW	0x1	/* the sender waits: acknowledge at once */

#define LP_DGRAM_HDR_LEN	16
#define LP_RDM_HDR_LEN		24

/*
 * Acknowledges an RDM flow: every seq up to cum_ack arrived in order; bit
 * i of sack says seq cum_ack + 2 + i is held out of order (cum_ack + 1 is
 * the hole, by definition); wnd is the free receive buffer in bytes.
 */
struct lp_ack {
	u16 src_port;	/* the receiver's port */
	u16 dst_port;	/* the sender's port */
	u16 flags;
	u32 epoch;
	u32 cum_ack;
	u32 wnd;
	u64 sack;
};

#define LP_ACK_LEN		28
#define LP_ACK_F_RESET		0x1	/* no such flow here: give it up */
#define LP_SACK_BITS		64

/* What an RDM message costs the receiver's buffer (window accounting). */
#define LP_RDM_COST(len)	((u32)(len) + 768)

static inline void lp_msg_put(u8 *p, const struct lp_msg *m, bool rdm)
{
	lp_put16(p, m->src_port);
	lp_put16(p + 2, m->dst_port);
	lp_put16(p + 4, m->flags);
	lp_put16(p + 6, 0);
	lp_put64(p + 8, m->stamp);
	if (rdm) {
		lp_put32(p + 16, m->epoch);
		lp_put32(p + 20, m->seq);
	}
}

/* len is the body's length, payload included. */
static inline bool lp_msg_get(const u8 *p, u32 len, struct lp_msg *m,
			      bool rdm)
{
	if (len < (rdm ? LP_RDM_HDR_LEN : LP_DGRAM_HDR_LEN))
		return false;
	m->src_port = lp_get16(p);
	m->dst_port = lp_get16(p + 2);
	m->flags = lp_get16(p + 4);
	m->stamp = lp_get64(p + 8);
	m->epoch = rdm ? lp_get32(p + 16) : 0;
	m->seq = rdm ? lp_get32(p + 20) : 0;
	return m->src_port && m->dst_port && (!rdm || m->seq);
}

static inline void lp_ack_put(u8 *p, const struct lp_ack *a)
{
	lp_put16(p, a->src_port);
	lp_put16(p + 2, a->dst_port);
	lp_put16(p + 4, a->flags);
	lp_put16(p + 6, 0);
	lp_put32(p + 8, a->epoch);
	lp_put32(p + 12, a->cum_ack);
	lp_put32(p + 16, a->wnd);
	lp_put64(p + 20, a->sack);
}

static inline bool lp_ack_get(const u8 *p, u32 len, struct lp_ack *a)
{
	if (len != LP_ACK_LEN)
		return false;
	a->src_port = lp_get16(p);
	a->dst_port = lp_get16(p + 2);
	a->flags = lp_get16(p + 4);
	a->epoch = lp_get32(p + 8);
	a->cum_ack = lp_get32(p + 12);
	a->wnd = lp_get32(p + 16);
	a->sack = lp_get64(p + 20);
	return a->src_port && a->dst_port;
}

#endif /* _LAMPORT_CORE_WIRE_H */
