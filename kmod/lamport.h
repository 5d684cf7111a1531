/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LAMPORT_H
#define _LAMPORT_H

#include <linux/atomic.h>
#include <linux/hashtable.h>
#include <linux/hrtimer.h>
#include <linux/in6.h>
#include <linux/interrupt.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/udp.h>
#include <linux/mutex.h>
#include <linux/seqlock.h>
#include <linux/netlink.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <net/dst_cache.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <linux/lamport.h>

#include "core/detect.h"
#include "core/seq.h"

struct socket;

/* An IPv4 or IPv6 address and UDP port; family AF_UNSPEC means "any". */
struct lamport_addr {
	sa_family_t family;
	__be16 port;
	union {
		__be32 v4;
		struct in6_addr v6;
	};
};

/* Per network namespace state: each netns is one lamport node. */
struct lamport_net {
	struct net *net;
	struct mutex lock;	/* node settings, the peer table, sockets */
	u32 node_id;		/* 0 until configured; read locklessly */
	struct lamport_addr bind;	/* port 0: no socket */
	struct socket __rcu *sock4;
	struct socket __rcu *sock6;
	DECLARE_HASHTABLE(peers, 8);	/* by id; RCU for readers */
	unsigned int npeers;
	atomic64_t stats[LAMPORT_NODE_STAT_MAX + 1];

	spinlock_t sock_lock;		/* AF_LAMPORT ports and socket list */
	DECLARE_HASHTABLE(ports, 8);	/* bound sockets; RCU for readers */
	struct list_head socks;		/* every socket of the node */
	unsigned int sock_gen;		/* changes with socks: dumps see it */
	struct sk_buff_head loopq;	/* messages to this node itself */
	struct tasklet_struct loop;	/* delivers them */
};

/*
 * A peer node we exchange heartbeats with. Config and detector state are
 * under lock, taken from the receive path, both timers (softirq) and
 * netlink (with BH off). A removed peer is unhashed, then marked removed
 * under lock so that nothing re-arms its timers, then the timers are
 * cancelled and the memory freed after a grace period.
 */
struct lamport_peer {
	struct hlist_node hnode;
	struct rcu_head rcu;
	struct lamport_net *ln;
	u32 id;

	spinlock_t lock;
	bool removed;
	struct lamport_addr addr;
	seqcount_spinlock_t addr_seq;	/* addr for lockless readers */
	struct dst_cache dst_cache;	/* the route to addr */
	u32 interval_us;
	u8 mult;
	struct hrtimer tx_timer;
	struct hrtimer detect_timer;
	struct tasklet_struct work;	/* runs what the timers found due */
	unsigned long due;		/* LAMPORT_DUE_* bits */
	struct lp_detect detect;
	u64 state_since_ns;
	u16 tx_epoch;
	u32 tx_seq;
	struct lp_seq rx;
	u32 echo_seq;		/* the peer's last heartbeat, echoed back */
	u64 echo_tx_ns;
	u64 echo_rx_ns;
	u64 srtt_ns, rttvar_ns, min_rtt_ns;
	u64 stats[LAMPORT_PEER_STAT_MAX + 1];
};

/* A state change, gathered under the peer's lock and reported after it. */
struct lamport_event {
	u32 peer_id;
	u8 old_state;
	u8 new_state;
	u8 reason;
	u64 time_ns;
	u64 last_rx_ns;
	u64 detect_ns;
};

extern unsigned int lamport_net_id;

static inline struct lamport_net *lamport_net(const struct net *net)
{
	return net_generic(net, lamport_net_id);
}

static inline void lamport_count(struct lamport_net *ln, int stat)
{
	atomic64_inc(&ln->stats[stat]);
}

int lamport_node_init(void);
void lamport_node_exit(void);
u32 lamport_node_id(const struct lamport_net *ln);
int lamport_node_configure(struct lamport_net *ln, u32 id,
			   const struct lamport_addr *bind,
			   struct netlink_ext_ack *extack);

int lamport_udp_open(struct lamport_net *ln, const struct lamport_addr *bind,
		     struct netlink_ext_ack *extack);
void lamport_udp_close(struct lamport_net *ln);
int lamport_udp_send(struct lamport_net *ln, const struct lamport_addr *to,
		     const void *data, unsigned int len);
int lamport_udp_xmit(struct lamport_net *ln, const struct lamport_addr *to,
		     struct dst_cache *cache, struct sk_buff *skb);

/* Room for the link, IP and UDP headers in front of a lamport message. */
#define LAMPORT_HEADROOM \
	(MAX_HEADER + sizeof(struct ipv6hdr) + sizeof(struct udphdr))

struct sk_buff *lamport_msg_alloc(unsigned int len, gfp_t gfp);

struct lamport_peer_config {
	struct lamport_addr addr;
	u32 interval_us;
	u8 mult;
	u8 mode;
	u32 threshold_milli;
};

struct lamport_peer *lamport_peer_lookup(struct lamport_net *ln, u32 id);
int lamport_peer_add(struct lamport_net *ln, u32 id,
		     const struct lamport_peer_config *cfg,
		     struct netlink_ext_ack *extack);
void lamport_peer_config(struct lamport_peer *peer,
			 struct lamport_peer_config *cfg);
void lamport_peer_config_locked(struct lamport_peer *peer,
				struct lamport_peer_config *cfg);
void lamport_peer_update(struct lamport_peer *peer,
			 const struct lamport_peer_config *cfg);
void lamport_peer_remove(struct lamport_peer *peer);
bool lamport_addr_equal(const struct lamport_addr *a,
			const struct lamport_addr *b);
int lamport_peer_resolve(struct lamport_net *ln, u32 id,
			 struct lamport_addr *addr, u8 *state);
bool lamport_peer_verify(struct lamport_net *ln, u32 id,
			 const struct lamport_addr *from);
int lamport_peer_xmit(struct lamport_net *ln, u32 id, struct sk_buff *skb);
void lamport_peer_reset_routes(struct lamport_net *ln);
void lamport_peer_remove_all(struct lamport_net *ln);

void lamport_heartbeat_start(struct lamport_peer *peer);
void lamport_heartbeat_receive(struct lamport_net *ln,
			       const struct lamport_addr *from,
			       const u8 *msg, unsigned int len);
void lamport_detect_rearm(struct lamport_peer *peer);
void lamport_heartbeat_init(struct lamport_peer *peer);

enum { LAMPORT_DUE_TX, LAMPORT_DUE_DETECT };

int lamport_netlink_init(void);
void lamport_netlink_exit(void);
void lamport_notify_event(struct lamport_net *ln,
			  const struct lamport_event *ev);
void *lamport_nl_dump_hdr(struct sk_buff *skb, struct netlink_callback *cb,
			  u8 cmd);

#endif /* _LAMPORT_H */
