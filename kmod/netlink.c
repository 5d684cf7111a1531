// SPDX-License-Identifier: GPL-2.0
/*
 * The "lamport" generic netlink family: configuration and state of the
 * node of the caller's network namespace and of its peers, and the
 * "events" multicast group reporting every peer state change.
 */

#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <linux/lamport.h>

#include "lamport.h"
#include "socket.h"

static struct genl_family lamport_genl_family;

enum lamport_mcgrp { LAMPORT_MCGRP_EVENTS_IDX };

static const struct genl_multicast_group lamport_mcgrps[] = {
	[LAMPORT_MCGRP_EVENTS_IDX] = { .name = LAMPORT_MCGRP_EVENTS },
};

/* NODE_GET takes no attributes: strict validation rejects any. */
static const struct nla_policy lamport_node_get_policy[LAMPORT_A_MAX + 1] = {
};

static const struct nla_policy lamport_node_set_policy[LAMPORT_A_MAX + 1] = {
	[LAMPORT_A_NODE_ID] = { .type = NLA_U32 },
	[LAMPORT_A_NODE_PORT] = { .type = NLA_U16 },
	[LAMPORT_A_NODE_ADDR] = { .type = NLA_BINARY, .len = 16 },
};

static const struct nla_policy lamport_peer_policy[LAMPORT_A_MAX + 1] = {
	[LAMPORT_A_PEER_ID] = { .type = NLA_U32 },
	[LAMPORT_A_PEER_ADDR] = { .type = NLA_BINARY, .len = 16 },
	[LAMPORT_A_PEER_PORT] = { .type = NLA_U16 },
	[LAMPORT_A_PEER_INTERVAL_US] = { .type = NLA_U32 },
	[LAMPORT_A_PEER_MULT] = { .type = NLA_U8 },
	[LAMPORT_A_PEER_MODE] = { .type = NLA_U8 },
	[LAMPORT_A_PEER_THRESHOLD] = { .type = NLA_U32 },
};

static const struct nla_policy lamport_peer_id_policy[LAMPORT_A_MAX + 1] = {
	[LAMPORT_A_PEER_ID] = { .type = NLA_U32 },
};

static int lamport_nl_get_addr(const struct nlattr *attr,
			       struct lamport_addr *addr,
			       struct netlink_ext_ack *extack)
{
	switch (nla_len(attr)) {
	case sizeof(addr->v4):
		addr->family = AF_INET;
		memset(&addr->v6, 0, sizeof(addr->v6));
		addr->v4 = nla_get_in_addr(attr);
		return 0;
	case sizeof(addr->v6):
		addr->family = AF_INET6;
		addr->v6 = nla_get_in6_addr(attr);
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(extack, attr,
			    "address must be 4 (IPv4) or 16 (IPv6) bytes");
	return -EINVAL;
}

static bool lamport_addr_is_unicast(const struct lamport_addr *addr)
{
	if (addr->family == AF_INET)
		return !ipv4_is_zeronet(addr->v4) &&
		       !ipv4_is_multicast(addr->v4) &&
		       !ipv4_is_lbcast(addr->v4);
	return !ipv6_addr_any(&addr->v6) &&
	       !ipv6_addr_is_multicast(&addr->v6);
}

static int lamport_nl_put_addr(struct sk_buff *skb, int type,
			       const struct lamport_addr *addr)
{
	if (addr->family == AF_INET)
		return nla_put_in_addr(skb, type, addr->v4);
	if (addr->family == AF_INET6)
		return nla_put_in6_addr(skb, type, &addr->v6);
	return 0;
}

static int lamport_nl_put_node(struct sk_buff *msg, struct lamport_net *ln)
{
	struct nlattr *stats;
	int i;

	if (nla_put_u32(msg, LAMPORT_A_NODE_ID, lamport_node_id(ln)) ||
	    nla_put_u16(msg, LAMPORT_A_NODE_PORT, ntohs(ln->bind.port)) ||
	    lamport_nl_put_addr(msg, LAMPORT_A_NODE_ADDR, &ln->bind))
		return -EMSGSIZE;
	stats = nla_nest_start(msg, LAMPORT_A_NODE_STATS);
	if (!stats)
		return -EMSGSIZE;
	for (i = LAMPORT_NODE_STAT_RX; i <= LAMPORT_NODE_STAT_MAX; i++)
		if (nla_put_u64_64bit(msg, i, atomic64_read(&ln->stats[i]),
				      LAMPORT_NODE_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(msg, stats);
	return 0;
}

static int lamport_nl_node_get(struct sk_buff *skb, struct genl_info *info)
{
	struct lamport_net *ln = lamport_net(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &lamport_genl_family, 0,
				LAMPORT_CMD_NODE_GET);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	mutex_lock(&ln->lock);
	err = lamport_nl_put_node(msg, ln);
	mutex_unlock(&ln->lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int lamport_nl_node_set(struct sk_buff *skb, struct genl_info *info)
{
	struct lamport_net *ln = lamport_net(genl_info_net(info));
	struct nlattr *id_attr = info->attrs[LAMPORT_A_NODE_ID];
	struct nlattr *port_attr = info->attrs[LAMPORT_A_NODE_PORT];
	struct nlattr *addr_attr = info->attrs[LAMPORT_A_NODE_ADDR];
	struct lamport_addr bind = { .port = htons(LAMPORT_DEFAULT_PORT) };
	u32 id = 0;
	int err;

	if (!id_attr && !port_attr && !addr_attr) {
		NL_SET_ERR_MSG(info->extack,
			       "nothing to set: missing node id (LAMPORT_A_NODE_ID)");
		return -EINVAL;
	}
	if (id_attr) {
		id = nla_get_u32(id_attr);
		if (!id) {
			NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
					    "node id must be non-zero (LAMPORT_A_NODE_ID)");
			return -EINVAL;
		}
	}
	if (port_attr && !nla_get_u16(port_attr)) {
		NL_SET_ERR_MSG_ATTR(info->extack, port_attr,
				    "port must be non-zero (LAMPORT_A_NODE_PORT)");
		return -EINVAL;
	}

	mutex_lock(&ln->lock);
	if (ln->bind.port)
		bind = ln->bind;
	if (port_attr)
		bind.port = htons(nla_get_u16(port_attr));
	err = addr_attr ? lamport_nl_get_addr(addr_attr, &bind, info->extack) : 0;
	if (!err)
		err = lamport_node_configure(ln, id, &bind, info->extack);
	mutex_unlock(&ln->lock);
	return err;
}

/* Applies the peer attributes of a request on top of cfg, checking each. */
static int lamport_nl_peer_config(struct genl_info *info,
				  struct lamport_peer_config *cfg)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **attrs = info->attrs;
	struct nlattr *a;
	int err;

	a = attrs[LAMPORT_A_PEER_ADDR];
	if (a) {
		__be16 port = cfg->addr.port;

		err = lamport_nl_get_addr(a, &cfg->addr, extack);
		if (err)
			return err;
		cfg->addr.port = port;
		if (!lamport_addr_is_unicast(&cfg->addr)) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "peer address must be unicast (LAMPORT_A_PEER_ADDR)");
			return -EINVAL;
		}
	}
	a = attrs[LAMPORT_A_PEER_PORT];
	if (a) {
		if (!nla_get_u16(a)) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "port must be non-zero (LAMPORT_A_PEER_PORT)");
			return -EINVAL;
		}
		cfg->addr.port = htons(nla_get_u16(a));
	}
	a = attrs[LAMPORT_A_PEER_INTERVAL_US];
	if (a) {
		cfg->interval_us = nla_get_u32(a);
		if (cfg->interval_us < LAMPORT_INTERVAL_MIN_US ||
		    cfg->interval_us > LAMPORT_INTERVAL_MAX_US) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "interval must be 1000..60000000 us (LAMPORT_A_PEER_INTERVAL_US)");
			return -ERANGE;
		}
	}
	a = attrs[LAMPORT_A_PEER_MULT];
	if (a) {
		cfg->mult = nla_get_u8(a);
		if (cfg->mult < LAMPORT_MULT_MIN) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "multiplier must be 2..255 (LAMPORT_A_PEER_MULT)");
			return -ERANGE;
		}
	}
	a = attrs[LAMPORT_A_PEER_MODE];
	if (a) {
		cfg->mode = nla_get_u8(a);
		if (cfg->mode > LAMPORT_FD_PHI) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "mode must be 0 (fixed) or 1 (phi) (LAMPORT_A_PEER_MODE)");
			return -EINVAL;
		}
	}
	a = attrs[LAMPORT_A_PEER_THRESHOLD];
	if (a) {
		cfg->threshold_milli = nla_get_u32(a);
		if (cfg->threshold_milli < LAMPORT_THRESHOLD_MIN ||
		    cfg->threshold_milli > LAMPORT_THRESHOLD_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "phi threshold must be 1000..100000 milli-phi (LAMPORT_A_PEER_THRESHOLD)");
			return -ERANGE;
		}
	}
	return 0;
}

static int lamport_nl_peer_id(struct genl_info *info, u32 *id)
{
	struct nlattr *a = info->attrs[LAMPORT_A_PEER_ID];

	if (!a) {
		NL_SET_ERR_MSG(info->extack, "missing peer id (LAMPORT_A_PEER_ID)");
		return -EINVAL;
	}
	*id = nla_get_u32(a);
	if (!*id) {
		NL_SET_ERR_MSG_ATTR(info->extack, a,
				    "peer id must be non-zero (LAMPORT_A_PEER_ID)");
		return -EINVAL;
	}
	return 0;
}

static int lamport_nl_peer_add(struct sk_buff *skb, struct genl_info *info)
{
	struct lamport_net *ln = lamport_net(genl_info_net(info));
	struct lamport_peer_config cfg = {
		.addr.port = htons(LAMPORT_DEFAULT_PORT),
		.interval_us = LAMPORT_INTERVAL_DEFAULT_US,
		.mult = LAMPORT_MULT_DEFAULT,
		.mode = LAMPORT_FD_FIXED,
		.threshold_milli = LAMPORT_THRESHOLD_DEFAULT,
	};
	u32 id;
	int err;

	err = lamport_nl_peer_id(info, &id);
	if (err)
		return err;
	if (!info->attrs[LAMPORT_A_PEER_ADDR]) {
		NL_SET_ERR_MSG(info->extack,
			       "missing peer address (LAMPORT_A_PEER_ADDR)");
		return -EINVAL;
	}
	err = lamport_nl_peer_config(info, &cfg);
	if (err)
		return err;

	mutex_lock(&ln->lock);
	if (!ln->node_id) {
		NL_SET_ERR_MSG(info->extack,
			       "set the node id (LAMPORT_A_NODE_ID) first");
		err = -EINVAL;
	} else if (id == ln->node_id) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[LAMPORT_A_PEER_ID],
				    "peer id is this node's own id (LAMPORT_A_PEER_ID)");
		err = -EINVAL;
	} else if (lamport_peer_lookup(ln, id)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[LAMPORT_A_PEER_ID],
				    "a peer with this id exists (LAMPORT_A_PEER_ID)");
		err = -EEXIST;
	} else {
		err = lamport_peer_add(ln, id, &cfg, info->extack);
	}
	mutex_unlock(&ln->lock);
	return err;
}

static struct lamport_peer *lamport_nl_find_peer(struct lamport_net *ln,
						 struct genl_info *info,
						 int *err)
{
	struct lamport_peer *peer;
	u32 id;

	*err = lamport_nl_peer_id(info, &id);
	if (*err)
		return NULL;
	peer = lamport_peer_lookup(ln, id);
	if (!peer) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[LAMPORT_A_PEER_ID],
				    "no peer with this id (LAMPORT_A_PEER_ID)");
		*err = -ENOENT;
	}
	return peer;
}

static int lamport_nl_peer_set(struct sk_buff *skb, struct genl_info *info)
{
	struct lamport_net *ln = lamport_net(genl_info_net(info));
	struct lamport_peer_config cfg;
	struct lamport_peer *peer;
	int err;

	mutex_lock(&ln->lock);
	peer = lamport_nl_find_peer(ln, info, &err);
	if (peer) {
		lamport_peer_config(peer, &cfg);
		err = lamport_nl_peer_config(info, &cfg);
		if (!err)
			lamport_peer_update(peer, &cfg);
	}
	mutex_unlock(&ln->lock);
	return err;
}

static int lamport_nl_peer_del(struct sk_buff *skb, struct genl_info *info)
{
	struct lamport_net *ln = lamport_net(genl_info_net(info));
	struct lamport_peer *peer;
	int err;

	mutex_lock(&ln->lock);
	peer = lamport_nl_find_peer(ln, info, &err);
	if (peer) {
		u32 id = peer->id;

		lamport_peer_remove(peer);
		/* Its RDM flows fail now rather than time out. */
		lamport_rdm_peer_gone(ln, id, EHOSTUNREACH);
	}
	mutex_unlock(&ln->lock);
	return err;
}

/* What a peer message reports: one consistent copy, under the peer's lock. */
struct lamport_peer_view {
	struct lamport_peer_config cfg;
	u8 state;
	bool heard;
	u64 stats[LAMPORT_PEER_STAT_MAX + 1];
};

static void lamport_peer_view(struct lamport_peer *peer,
			      struct lamport_peer_view *v)
{
	struct lp_detect *d = &peer->detect;
	u64 now = ktime_get_ns();

	spin_lock_bh(&peer->lock);
	lamport_peer_config_locked(peer, &v->cfg);
	memcpy(v->stats, peer->stats, sizeof(v->stats));
	v->state = d->state;
	v->heard = d->last_rx_ns != 0;
	v->stats[LAMPORT_PEER_STAT_SRTT_NS] = peer->srtt_ns;
	v->stats[LAMPORT_PEER_STAT_RTTVAR_NS] = peer->rttvar_ns;
	v->stats[LAMPORT_PEER_STAT_MIN_RTT_NS] = peer->min_rtt_ns;
	v->stats[LAMPORT_PEER_STAT_LAST_RX_AGE_NS] = now - d->last_rx_ns;
	v->stats[LAMPORT_PEER_STAT_PHI_MILLI] = lp_detect_phi_milli(d, now);
	v->stats[LAMPORT_PEER_STAT_STATE_AGE_NS] = now - peer->state_since_ns;
	v->stats[LAMPORT_PEER_STAT_DETECT_NS] = lp_detect_in_force_ns(d);
	v->stats[LAMPORT_PEER_STAT_REMOTE_INTERVAL_US] = d->remote_interval_us;
	v->stats[LAMPORT_PEER_STAT_REMOTE_MULT] = d->remote_mult;
	spin_unlock_bh(&peer->lock);
}

static int lamport_nl_fill_peer(struct sk_buff *skb, struct lamport_peer *peer,
				u32 portid, u32 seq, int flags)
{
	struct lamport_peer_view v;
	struct nlattr *stats;
	void *hdr;
	int i;

	lamport_peer_view(peer, &v);
	hdr = genlmsg_put(skb, portid, seq, &lamport_genl_family, flags,
			  LAMPORT_CMD_PEER_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, LAMPORT_A_PEER_ID, peer->id) ||
	    lamport_nl_put_addr(skb, LAMPORT_A_PEER_ADDR, &v.cfg.addr) ||
	    nla_put_u16(skb, LAMPORT_A_PEER_PORT, ntohs(v.cfg.addr.port)) ||
	    nla_put_u32(skb, LAMPORT_A_PEER_INTERVAL_US, v.cfg.interval_us) ||
	    nla_put_u8(skb, LAMPORT_A_PEER_MULT, v.cfg.mult) ||
	    nla_put_u8(skb, LAMPORT_A_PEER_MODE, v.cfg.mode) ||
	    nla_put_u32(skb, LAMPORT_A_PEER_THRESHOLD, v.cfg.threshold_milli) ||
	    nla_put_u8(skb, LAMPORT_A_PEER_STATE, v.state))
		goto cancel;
	stats = nla_nest_start(skb, LAMPORT_A_PEER_STATS);
	if (!stats)
		goto cancel;
	for (i = LAMPORT_PEER_STAT_TX; i <= LAMPORT_PEER_STAT_MAX; i++) {
		if (i == LAMPORT_PEER_STAT_LAST_RX_AGE_NS && !v.heard)
			continue;
		if (nla_put_u64_64bit(skb, i, v.stats[i], LAMPORT_PEER_STAT_PAD))
			goto cancel;
	}
	nla_nest_end(skb, stats);
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int lamport_nl_peer_get(struct sk_buff *skb, struct genl_info *info)
{
	struct lamport_net *ln = lamport_net(genl_info_net(info));
	struct lamport_peer *peer;
	struct sk_buff *msg;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&ln->lock);
	peer = lamport_nl_find_peer(ln, info, &err);
	if (peer)
		err = lamport_nl_fill_peer(msg, peer, info->snd_portid,
					   info->snd_seq, 0);
	mutex_unlock(&ln->lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* cb->args[0]: how many peers earlier rounds of the dump have sent. */
static int lamport_nl_peer_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct lamport_net *ln = lamport_net(sock_net(skb->sk));
	struct lamport_peer *peer;
	long skip = cb->args[0], n = 0;
	int bkt, err = 0;

	mutex_lock(&ln->lock);
	hash_for_each(ln->peers, bkt, peer, hnode) {
		if (n++ < skip)
			continue;
		err = lamport_nl_fill_peer(skb, peer,
					   NETLINK_CB(cb->skb).portid,
					   cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (err) {
			n--;
			break;
		}
	}
	mutex_unlock(&ln->lock);
	cb->args[0] = n;
	return err && n == skip ? err : skb->len;
}

void lamport_notify_event(struct lamport_net *ln,
			  const struct lamport_event *ev)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&lamport_genl_family, ln->net,
				LAMPORT_MCGRP_EVENTS_IDX))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &lamport_genl_family, 0,
			  LAMPORT_CMD_PEER_EVENT);
	if (!hdr ||
	    nla_put_u32(msg, LAMPORT_A_NODE_ID, lamport_node_id(ln)) ||
	    nla_put_u32(msg, LAMPORT_A_PEER_ID, ev->peer_id) ||
	    nla_put_u8(msg, LAMPORT_A_EVENT_OLD_STATE, ev->old_state) ||
	    nla_put_u8(msg, LAMPORT_A_PEER_STATE, ev->new_state) ||
	    nla_put_u8(msg, LAMPORT_A_EVENT_REASON, ev->reason) ||
	    nla_put_u64_64bit(msg, LAMPORT_A_EVENT_TIME_NS, ev->time_ns,
			      LAMPORT_A_PAD) ||
	    nla_put_u64_64bit(msg, LAMPORT_A_EVENT_LAST_RX_NS, ev->last_rx_ns,
			      LAMPORT_A_PAD) ||
	    nla_put_u64_64bit(msg, LAMPORT_A_EVENT_DETECT_NS, ev->detect_ns,
			      LAMPORT_A_PAD)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&lamport_genl_family, ln->net, msg, 0,
				LAMPORT_MCGRP_EVENTS_IDX, GFP_ATOMIC);
}

/* A message of a dump, addressed to whoever asked for it. */
void *lamport_nl_dump_hdr(struct sk_buff *skb, struct netlink_callback *cb,
			  u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
			   cb->nlh->nlmsg_seq, &lamport_genl_family,
			   NLM_F_MULTI, cmd);
}

static const struct genl_ops lamport_genl_ops[] = {
	{
		.cmd = LAMPORT_CMD_NODE_GET,
		.doit = lamport_nl_node_get,
		.policy = lamport_node_get_policy,
		.maxattr = LAMPORT_A_MAX,
	},
	{
		.cmd = LAMPORT_CMD_NODE_SET,
		.doit = lamport_nl_node_set,
		.policy = lamport_node_set_policy,
		.maxattr = LAMPORT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = LAMPORT_CMD_PEER_ADD,
		.doit = lamport_nl_peer_add,
		.policy = lamport_peer_policy,
		.maxattr = LAMPORT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = LAMPORT_CMD_PEER_DEL,
		.doit = lamport_nl_peer_del,
		.policy = lamport_peer_id_policy,
		.maxattr = LAMPORT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = LAMPORT_CMD_PEER_SET,
		.doit = lamport_nl_peer_set,
		.policy = lamport_peer_policy,
		.maxattr = LAMPORT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = LAMPORT_CMD_PEER_GET,
		.doit = lamport_nl_peer_get,
		.dumpit = lamport_nl_peer_dump,
		.policy = lamport_peer_id_policy,
		.maxattr = LAMPORT_A_MAX,
	},
	{
		.cmd = LAMPORT_CMD_SOCK_GET,
		.dumpit = lamport_sock_dump,
		.policy = lamport_node_get_policy,
		.maxattr = LAMPORT_A_MAX,
	},
};

static struct genl_family lamport_genl_family __ro_after_init = {
	.name = LAMPORT_GENL_NAME,
	.version = LAMPORT_GENL_VERSION,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = lamport_genl_ops,
	.n_ops = ARRAY_SIZE(lamport_genl_ops),
	.mcgrps = lamport_mcgrps,
	.n_mcgrps = ARRAY_SIZE(lamport_mcgrps),
};

int __init lamport_netlink_init(void)
{
	return genl_register_family(&lamport_genl_family);
}

void lamport_netlink_exit(void)
{
	genl_unregister_family(&lamport_genl_family);
}
