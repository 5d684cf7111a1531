// SPDX-License-Identifier: GPL-2.0
/*
 * A node is the lamport state of one network namespace.
 */

#include <linux/mutex.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "lamport.h"
#include "trace.h"

unsigned int lamport_net_id __read_mostly;

u32 lamport_node_id(const struct lamport_net *ln)
{
	return READ_ONCE(ln->node_id);
}

void lamport_node_set_id(struct lamport_net *ln, u32 id)
{
	lockdep_assert_held(&ln->lock);

	trace_lamport_node_set_id(ln->net->ns.inum, ln->node_id, id);
	WRITE_ONCE(ln->node_id, id);
}

static int __net_init lamport_net_init(struct net *net)
{
	struct lamport_net *ln = lamport_net(net);

	ln->net = net;
	mutex_init(&ln->lock);
	trace_lamport_node_create(net->ns.inum);
	return 0;
}

static void __net_exit lamport_net_exit(struct net *net)
{
	struct lamport_net *ln = lamport_net(net);

	trace_lamport_node_destroy(net->ns.inum, ln->node_id);
	mutex_destroy(&ln->lock);
}

/*
 * A device-level pernet subsystem: its exit runs before the core
 * protocols of the namespace (UDP among them) are torn down.
 */
static struct pernet_operations lamport_net_ops = {
	.init = lamport_net_init,
	.exit = lamport_net_exit,
	.id = &lamport_net_id,
	.size = sizeof(struct lamport_net),
};

int __init lamport_node_init(void)
{
	return register_pernet_device(&lamport_net_ops);
}

void lamport_node_exit(void)
{
	unregister_pernet_device(&lamport_net_ops);
}
