// SPDX-License-Identifier: GPL-2.0
/*
 * A node is the lamport state of one network namespace.
 */

#include <linux/mutex.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "lamport.h"
#include "socket.h"
#include "trace.h"

unsigned int lamport_net_id __read_mostly;

u32 lamport_node_id(const struct lamport_net *ln)
{
	return READ_ONCE(ln->node_id);
}

/*
 * Sets the id (0: keep) and the address and port the node listens on. The
 * node opens its port once it has an id; a change of address or port
 * reopens it.
 */
int lamport_node_configure(struct lamport_net *ln, u32 id,
			   const struct lamport_addr *bind,
			   struct netlink_ext_ack *extack)
{
	bool reopen;
	int err;

	lockdep_assert_held(&ln->lock);

	if (!id && !ln->node_id) {
		NL_SET_ERR_MSG(extack, "set the node id (LAMPORT_A_NODE_ID) first");
		return -EINVAL;
	}
	reopen = !ln->bind.port || bind->port != ln->bind.port ||
		 bind->family != ln->bind.family ||
		 memcmp(&bind->v6, &ln->bind.v6, sizeof(bind->v6));
	if (reopen) {
		err = lamport_udp_open(ln, bind, extack);
		if (err)
			return err;
		lamport_peer_reset_routes(ln);
	}
	if (id && id != ln->node_id) {
		trace_lamport_node_set_id(ln->net->ns.inum, ln->node_id, id);
		WRITE_ONCE(ln->node_id, id);
	}
	return 0;
}

static int __net_init lamport_net_init(struct net *net)
{
	struct lamport_net *ln = lamport_net(net);

	ln->net = net;
	mutex_init(&ln->lock);
	hash_init(ln->peers);
	lamport_af_net_init(ln);
	lamport_msg_net_init(ln);
	trace_lamport_node_create(net->ns.inum);
	return 0;
}

/*
 * First the port closes, so nothing more arrives; then the peers go, their
 * timers cancelled.
 */
static void __net_exit lamport_net_exit(struct net *net)
{
	struct lamport_net *ln = lamport_net(net);

	mutex_lock(&ln->lock);
	lamport_udp_close(ln);
	lamport_peer_remove_all(ln);
	mutex_unlock(&ln->lock);
	lamport_msg_net_exit(ln);
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
	rcu_barrier();	/* peers are freed by RCU callbacks of this module */
}
