/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LAMPORT_SOCKET_H
#define _LAMPORT_SOCKET_H

#include <linux/hrtimer.h>
#include <linux/skbuff.h>
#include <net/sock.h>

#include "lamport.h"
#include "core/wire.h"

struct lamport_flow_tx;
struct lamport_flow_rx;

/* RDM limits. Times in nanoseconds. */
#define LAMPORT_RDM_RTO_MIN	(5 * NSEC_PER_MSEC)
#define LAMPORT_RDM_RTO_MAX	NSEC_PER_SEC
#define LAMPORT_RDM_RTO_INIT	(100 * NSEC_PER_MSEC)
#define LAMPORT_RDM_CWND_INIT	4
#define LAMPORT_RDM_CWND_MAX	1024
#define LAMPORT_RDM_FLOWS_MAX	1024	/* each way, per socket */
#define LAMPORT_RDM_FLOW_IDLE	(60ULL * NSEC_PER_SEC)
#define LAMPORT_RDM_DUPTHRESH	3
#define LAMPORT_RDM_ACK_EVERY	8	/* in-order messages per ack, at most */
#define LAMPORT_RDM_ACK_DELAY	NSEC_PER_MSEC	/* for the ones left over */

/* An AF_LAMPORT socket: the endpoint of one process on one node. */
struct lamport_sock {
	struct sock sk;			/* first: a struct sock is one */
	struct lamport_net *ln;
	struct hlist_node port_node;	/* in ln->ports while bound */
	struct list_head node;		/* in ln->socks, for dumps */
	u16 port;			/* 0: unbound */
	u64 dest;			/* connect(): node << 16 | port; 0: none */
	atomic64_t clock;		/* the Lamport clock */
	atomic64_t stats[LAMPORT_SOCK_STAT_MAX + 1];

	/* RDM only: flows, under lock (taken in softirq too). */
	spinlock_t lock;
	bool dead;			/* released: no new flow, no timer */
	DECLARE_HASHTABLE(tx_flows, 4);
	DECLARE_HASHTABLE(rx_flows, 4);
	unsigned int ntx, nrx;
	atomic_t rx_cost;		/* LP_RDM_COST of what we hold */
	bool window_closed;		/* we advertised less than a message */
	u64 ack_deadline;		/* delayed acks are due; 0: none */
	struct hrtimer timer;		/* retransmissions of every tx flow */
};

static inline struct lamport_sock *lamport_sk(const struct sock *sk)
{
	return container_of(sk, struct lamport_sock, sk);
}

/* What a received message's skb carries to recvmsg. */
struct lamport_cb {
	u64 stamp;
	u32 node;
	u32 seq;		/* RDM: for the out-of-order queue */
	u16 port;
};

#define LAMPORT_CB(skb) ((struct lamport_cb *)(skb)->cb)

static inline void lamport_sock_count(struct lamport_sock *lsk, int stat)
{
	atomic64_inc(&lsk->stats[stat]);
}

/* af_lamport.c */
int lamport_af_init(void);
void lamport_af_exit(void);
void lamport_af_net_init(struct lamport_net *ln);
struct lamport_sock *lamport_sock_lookup(struct lamport_net *ln, int type,
					 u16 port);
u64 lamport_clock_tick(struct lamport_sock *lsk);
int lamport_sock_dump(struct sk_buff *skb, struct netlink_callback *cb);

/* msg.c */
void lamport_msg_net_init(struct lamport_net *ln);
void lamport_msg_net_exit(struct lamport_net *ln);
void lamport_wire_receive(struct lamport_net *ln,
			  const struct lamport_addr *from, struct sk_buff *skb);
int lamport_msg_route(struct lamport_net *ln, u32 node,
		      struct lamport_addr *to);
int lamport_msg_send(struct lamport_net *ln, u32 node, struct sk_buff *skb);
struct sk_buff *lamport_msg_push_hdr(struct sk_buff *skb, u8 type,
				     u32 sender, u32 receiver);
int lamport_dgram_send(struct lamport_sock *lsk, u32 node, u16 port,
		       struct msghdr *msg, size_t len);

/* rdm.c */
void lamport_rdm_init(struct lamport_sock *lsk);
void lamport_rdm_release(struct lamport_sock *lsk);
int lamport_rdm_send(struct lamport_sock *lsk, u32 node, u16 port,
		     struct msghdr *msg, size_t len);
void lamport_rdm_receive(struct lamport_net *ln, const struct lp_hdr *hdr,
			 struct sk_buff *skb);
void lamport_rdm_ack_receive(struct lamport_net *ln, const struct lp_hdr *hdr,
			     struct sk_buff *skb);
void lamport_rdm_read(struct lamport_sock *lsk);
bool lamport_rdm_drained(struct lamport_sock *lsk);
void lamport_rdm_peer_gone(struct lamport_net *ln, u32 node, int err);
int lamport_rdm_fill_flows(struct sk_buff *skb, struct lamport_sock *lsk);

#endif /* _LAMPORT_SOCKET_H */
