/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LAMPORT_H
#define _LAMPORT_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

/* Per network namespace state: each netns is one lamport node. */
struct lamport_net {
	struct net *net;
	struct mutex lock;	/* serialises configuration changes */
	u32 node_id;		/* 0 until configured; read locklessly */
};

extern unsigned int lamport_net_id;

static inline struct lamport_net *lamport_net(const struct net *net)
{
	return net_generic(net, lamport_net_id);
}

int lamport_node_init(void);
void lamport_node_exit(void);
u32 lamport_node_id(const struct lamport_net *ln);
void lamport_node_set_id(struct lamport_net *ln, u32 id);

int lamport_netlink_init(void);
void lamport_netlink_exit(void);

#endif /* _LAMPORT_H */
