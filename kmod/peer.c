// SPDX-License-Identifier: GPL-2.0
/*
 * The peer table of a node: peers by id, looked up under RCU by the receive
 * path, changed under the node's lock.
 */

#include <linux/hashtable.h>
#include <linux/slab.h>
#include <net/ipv6.h>

#include "lamport.h"

struct lamport_peer *lamport_peer_lookup(struct lamport_net *ln, u32 id)
{
	struct lamport_peer *peer;

	hash_for_each_possible_rcu(ln->peers, peer, hnode, id,
				   lockdep_is_held(&ln->lock)) {
		if (peer->id == id)
			return peer;
	}
	return NULL;
}

static void lamport_peer_apply(struct lamport_peer *peer,
			       const struct lamport_peer_config *cfg)
{
	lockdep_assert_held(&peer->lock);

	if (!lamport_addr_equal(&peer->addr, &cfg->addr)) {
		write_seqcount_begin(&peer->addr_seq);
		peer->addr = cfg->addr;
		write_seqcount_end(&peer->addr_seq);
		dst_cache_reset(&peer->dst_cache);
	}
	peer->interval_us = cfg->interval_us;
	peer->mult = cfg->mult;
	lp_detect_configure(&peer->detect, cfg->mode, cfg->interval_us,
			    cfg->threshold_milli);
}

int lamport_peer_add(struct lamport_net *ln, u32 id,
		     const struct lamport_peer_config *cfg,
		     struct netlink_ext_ack *extack)
{
	struct lamport_peer *peer;

	lockdep_assert_held(&ln->lock);

	if (ln->npeers >= LAMPORT_PEERS_MAX) {
		NL_SET_ERR_MSG(extack, "peer limit reached (LAMPORT_PEERS_MAX)");
		return -ENOSPC;
	}
	peer = kzalloc(sizeof(*peer), GFP_KERNEL);
	if (!peer)
		return -ENOMEM;
	if (dst_cache_init(&peer->dst_cache, GFP_KERNEL)) {
		kfree(peer);
		return -ENOMEM;
	}
	peer->ln = ln;
	peer->id = id;
	spin_lock_init(&peer->lock);
	seqcount_spinlock_init(&peer->addr_seq, &peer->lock);
	lamport_heartbeat_init(peer);
	lp_detect_init(&peer->detect, cfg->mode, cfg->interval_us,
		       cfg->threshold_milli);
	peer->state_since_ns = ktime_get_ns();

	spin_lock_bh(&peer->lock);
	lamport_peer_apply(peer, cfg);
	spin_unlock_bh(&peer->lock);

	hash_add_rcu(ln->peers, &peer->hnode, id);
	ln->npeers++;
	lamport_heartbeat_start(peer);
	return 0;
}

void lamport_peer_config_locked(struct lamport_peer *peer,
				struct lamport_peer_config *cfg)
{
	lockdep_assert_held(&peer->lock);

	cfg->addr = peer->addr;
	cfg->interval_us = peer->interval_us;
	cfg->mult = peer->mult;
	cfg->mode = peer->detect.mode;
	cfg->threshold_milli = peer->detect.threshold_milli;
}

void lamport_peer_config(struct lamport_peer *peer,
			 struct lamport_peer_config *cfg)
{
	spin_lock_bh(&peer->lock);
	lamport_peer_config_locked(peer, cfg);
	spin_unlock_bh(&peer->lock);
}

/* A new interval takes effect at once: the next heartbeat is rescheduled. */
void lamport_peer_update(struct lamport_peer *peer,
			 const struct lamport_peer_config *cfg)
{
	bool interval_changed;

	lockdep_assert_held(&peer->ln->lock);

	spin_lock_bh(&peer->lock);
	interval_changed = cfg->interval_us != peer->interval_us;
	lamport_peer_apply(peer, cfg);
	spin_unlock_bh(&peer->lock);

	if (interval_changed)
		lamport_heartbeat_start(peer);
	lamport_detect_rearm(peer);
}

/* After a grace period: no sender can be using the peer's routes. */
static void lamport_peer_free(struct rcu_head *rcu)
{
	struct lamport_peer *peer = container_of(rcu, struct lamport_peer, rcu);

	dst_cache_destroy(&peer->dst_cache);
	kfree(peer);
}

void lamport_peer_remove(struct lamport_peer *peer)
{
	struct lamport_net *ln = peer->ln;

	lockdep_assert_held(&ln->lock);

	hash_del_rcu(&peer->hnode);
	ln->npeers--;
	spin_lock_bh(&peer->lock);
	WRITE_ONCE(peer->removed, true);
	spin_unlock_bh(&peer->lock);
	/*
	 * Nothing re-arms a removed peer's timers: cancel waits out a run,
	 * and after both only a tasklet they already scheduled may be left.
	 */
	hrtimer_cancel(&peer->tx_timer);
	hrtimer_cancel(&peer->detect_timer);
	tasklet_kill(&peer->work);
	call_rcu(&peer->rcu, lamport_peer_free);
}

void lamport_peer_remove_all(struct lamport_net *ln)
{
	struct lamport_peer *peer;
	struct hlist_node *tmp;
	int bkt;

	lockdep_assert_held(&ln->lock);

	hash_for_each_safe(ln->peers, bkt, tmp, peer, hnode)
		lamport_peer_remove(peer);
}

bool lamport_addr_equal(const struct lamport_addr *a,
			const struct lamport_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family == AF_INET)
		return a->v4 == b->v4;
	return ipv6_addr_equal(&a->v6, &b->v6);
}

static void lamport_peer_addr(struct lamport_peer *peer,
			      struct lamport_addr *addr)
{
	unsigned int seq;

	do {
		seq = read_seqcount_begin(&peer->addr_seq);
		*addr = peer->addr;
	} while (read_seqcount_retry(&peer->addr_seq, seq));
}

/*
 * Where peer id is and what the detector thinks of it; under RCU, without
 * the peer's lock: every message sent asks.
 */
int lamport_peer_resolve(struct lamport_net *ln, u32 id,
			 struct lamport_addr *addr, u8 *state)
{
	struct lamport_peer *peer = lamport_peer_lookup(ln, id);

	if (!peer || READ_ONCE(peer->removed))
		return -EHOSTUNREACH;
	lamport_peer_addr(peer, addr);
	*state = READ_ONCE(peer->detect.state);
	return 0;
}

/*
 * Whether a message claiming to come from node id does: id is a peer and
 * from is its address. Counts the drop when not. Softirq, under RCU.
 */
bool lamport_peer_verify(struct lamport_net *ln, u32 id,
			 const struct lamport_addr *from)
{
	struct lamport_peer *peer = lamport_peer_lookup(ln, id);
	struct lamport_addr addr;

	if (!peer || READ_ONCE(peer->removed)) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_SENDER);
		return false;
	}
	lamport_peer_addr(peer, &addr);
	if (!lamport_addr_equal(&addr, from)) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_ADDR);
		return false;
	}
	return true;
}

/* Sends skb, a whole message, to peer id; consumes it. */
int lamport_peer_xmit(struct lamport_net *ln, u32 id, struct sk_buff *skb)
{
	struct lamport_peer *peer;
	struct lamport_addr to;
	int err;

	rcu_read_lock_bh();
	peer = lamport_peer_lookup(ln, id);
	if (!peer || READ_ONCE(peer->removed)) {
		kfree_skb(skb);
		err = -EHOSTUNREACH;
	} else {
		lamport_peer_addr(peer, &to);
		err = lamport_udp_xmit(ln, &to, &peer->dst_cache, skb);
	}
	rcu_read_unlock_bh();
	return err;
}

/* The node's address or port changed: every cached route is stale. */
void lamport_peer_reset_routes(struct lamport_net *ln)
{
	struct lamport_peer *peer;
	int bkt;

	lockdep_assert_held(&ln->lock);

	hash_for_each(ln->peers, bkt, peer, hnode)
		dst_cache_reset(&peer->dst_cache);
}
