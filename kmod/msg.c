// SPDX-License-Identifier: GPL-2.0
/*
 * Messages between nodes: what arrives on the node's port goes to the
 * heartbeat code or to an AF_LAMPORT socket; what a socket sends goes to a
 * peer's address, or straight back in when it is for this node. SOCK_DGRAM
 * lives here whole: one message, one datagram, no state.
 */

#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>

#include "lamport.h"
#include "socket.h"
#include "trace.h"

/* Prepends the lamport header; the body is already in skb. */
struct sk_buff *lamport_msg_push_hdr(struct sk_buff *skb, u8 type,
				     u32 sender, u32 receiver)
{
	struct lp_hdr hdr = {
		.type = type,
		.sender = sender,
		.receiver = receiver,
		.length = skb->len + LP_WIRE_HDR_LEN,
	};

	lp_hdr_put(skb_push(skb, LP_WIRE_HDR_LEN), &hdr);
	return skb;
}

/*
 * Where node's messages go: to = its address, or family AF_UNSPEC for this
 * node itself. Fails for an unknown node.
 */
int lamport_msg_route(struct lamport_net *ln, u32 node,
		      struct lamport_addr *to)
{
	u8 state;
	int err;

	if (node == lamport_node_id(ln)) {
		to->family = AF_UNSPEC;
		return 0;
	}
	rcu_read_lock();
	err = lamport_peer_resolve(ln, node, to, &state);
	rcu_read_unlock();
	return err;
}

/*
 * A message to this node skips the network, not the receive path. It is
 * queued rather than received at once: receiving may send (an ack, more
 * messages), and those would come straight back, deeper in the stack.
 */
static void lamport_msg_loop(struct lamport_net *ln, struct sk_buff *skb)
{
	/* Still charged to its sender: a full send buffer blocks it. */
	skb_queue_tail(&ln->loopq, skb);
	tasklet_schedule(&ln->loop);
}

#define LAMPORT_LOOP_BUDGET	64

static void lamport_msg_loop_work(struct tasklet_struct *t)
{
	struct lamport_net *ln = from_tasklet(ln, t, loop);
	struct lamport_addr self = { .family = AF_UNSPEC };
	struct sk_buff *skb;
	int budget = LAMPORT_LOOP_BUDGET;

	rcu_read_lock();
	while (budget-- && (skb = skb_dequeue(&ln->loopq))) {
		skb_orphan(skb);
		lamport_count(ln, LAMPORT_NODE_STAT_RX);
		lamport_wire_receive(ln, &self, skb);
	}
	rcu_read_unlock();
	if (!skb_queue_empty_lockless(&ln->loopq))
		tasklet_schedule(&ln->loop);
}

void lamport_msg_net_init(struct lamport_net *ln)
{
	skb_queue_head_init(&ln->loopq);
	tasklet_setup(&ln->loop, lamport_msg_loop_work);
}

/* Once no socket is left to send to this node. */
void lamport_msg_net_exit(struct lamport_net *ln)
{
	tasklet_kill(&ln->loop);
	skb_queue_purge(&ln->loopq);
}

/* Sends skb, a whole message, to node: a peer, or this node; consumes it. */
int lamport_msg_send(struct lamport_net *ln, u32 node, struct sk_buff *skb)
{
	if (node == lamport_node_id(ln)) {
		lamport_msg_loop(ln, skb);
		return 0;
	}
	return lamport_peer_xmit(ln, node, skb);
}

int lamport_dgram_send(struct lamport_sock *lsk, u32 node, u16 port,
		       struct msghdr *msg, size_t len)
{
	struct lamport_net *ln = lsk->ln;
	struct sock *sk = &lsk->sk;
	struct lamport_addr to;
	struct lp_msg m = {
		.src_port = lsk->port,
		.dst_port = port,
	};
	struct sk_buff *skb;
	int err;

	err = lamport_msg_route(ln, node, &to);
	if (err)
		return err;
	skb = sock_alloc_send_skb(sk, LAMPORT_HEADROOM + LP_WIRE_HDR_LEN +
				  LP_DGRAM_HDR_LEN + len,
				  msg->msg_flags & MSG_DONTWAIT, &err);
	if (!skb)
		return err;
	skb_reserve(skb, LAMPORT_HEADROOM + LP_WIRE_HDR_LEN + LP_DGRAM_HDR_LEN);
	err = memcpy_from_msg(skb_put(skb, len), msg, len);
	if (err) {
		kfree_skb(skb);
		return err;
	}
	m.stamp = lamport_clock_tick(lsk);
	lp_msg_put(skb_push(skb, LP_DGRAM_HDR_LEN), &m, false);
	lamport_msg_push_hdr(skb, LP_MSG_DGRAM, lamport_node_id(ln), node);
	trace_lamport_msg_send(ln->net->ns.inum, SOCK_DGRAM, m.src_port, node,
			       port, m.stamp, len);
	lamport_sock_count(lsk, LAMPORT_SOCK_STAT_TX);
	err = lamport_msg_send(ln, node, skb);
	return err ?: len;
}

static void lamport_dgram_receive(struct lamport_net *ln,
				  const struct lp_hdr *hdr, struct sk_buff *skb)
{
	struct lamport_sock *lsk;
	struct lp_msg m;

	if (!pskb_may_pull(skb, LP_WIRE_HDR_LEN + LP_DGRAM_HDR_LEN) ||
	    !lp_msg_get(skb->data + LP_WIRE_HDR_LEN,
			skb->len - LP_WIRE_HDR_LEN, &m, false)) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_LENGTH);
		goto drop;
	}
	lsk = lamport_sock_lookup(ln, SOCK_DGRAM, m.dst_port);
	if (!lsk) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_PORT);
		goto drop;
	}
	__skb_pull(skb, LP_WIRE_HDR_LEN + LP_DGRAM_HDR_LEN);
	*LAMPORT_CB(skb) = (struct lamport_cb) {
		.stamp = m.stamp,
		.node = hdr->sender,
		.port = m.src_port,
	};
	if (sock_queue_rcv_skb(&lsk->sk, skb)) {
		lamport_sock_count(lsk, LAMPORT_SOCK_STAT_DROP_RCVBUF);
		goto drop;
	}
	lamport_sock_count(lsk, LAMPORT_SOCK_STAT_RX);
	return;
drop:
	kfree_skb(skb);
}

/*
 * A datagram from the node's port (from: AF_UNSPEC when it is this node's
 * own), skb->data at the lamport header; consumes skb. Softirq, under RCU.
 * Nothing in it is trusted before every check has passed.
 */
void lamport_wire_receive(struct lamport_net *ln,
			  const struct lamport_addr *from, struct sk_buff *skb)
{
	u8 buf[LP_WIRE_HEARTBEAT_LEN];
	unsigned int len = skb->len;
	enum lp_wire_error err;
	struct lp_hdr hdr;

	/* Only the bytes a heartbeat needs are read; len says the rest. */
	if (skb_copy_bits(skb, 0, buf, min_t(unsigned int, len, sizeof(buf))))
		goto drop;
	err = lp_hdr_get(buf, len, &hdr);
	if (err != LP_WIRE_OK || hdr.type == LP_MSG_HEARTBEAT) {
		/* The heartbeat code counts every bad header. */
		if (from->family != AF_UNSPEC)
			lamport_heartbeat_receive(ln, from, buf, len);
		consume_skb(skb);
		return;
	}
	if (hdr.receiver != lamport_node_id(ln)) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_RECEIVER);
		goto drop;
	}
	if (from->family == AF_UNSPEC ? hdr.sender != hdr.receiver :
	    !lamport_peer_verify(ln, hdr.sender, from))
		goto drop;

	skb_dst_drop(skb);
	nf_reset_ct(skb);
	switch (hdr.type) {
	case LP_MSG_DGRAM:
		lamport_dgram_receive(ln, &hdr, skb);
		return;
	case LP_MSG_RDM:
		lamport_rdm_receive(ln, &hdr, skb);
		return;
	case LP_MSG_RDM_ACK:
		lamport_rdm_ack_receive(ln, &hdr, skb);
		return;
	}
drop:
	kfree_skb(skb);
}
