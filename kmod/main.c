// SPDX-License-Identifier: GPL-2.0
/*
 * lamport: a heartbeat failure detector and a Lamport-clocked socket
 * family, one node per network namespace.
 */

#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/lamport.h>

#include "lamport.h"
#include "socket.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static int __init lamport_init(void)
{
	int err;

	err = lamport_node_init();
	if (err)
		return err;

	err = lamport_netlink_init();
	if (err)
		goto err_node;

	err = lamport_af_init();
	if (err)
		goto err_netlink;

	return 0;

err_netlink:
	lamport_netlink_exit();
err_node:
	lamport_node_exit();
	return err;
}

static void __exit lamport_exit(void)
{
	lamport_af_exit();
	lamport_netlink_exit();
	lamport_node_exit();
}

module_init(lamport_init);
module_exit(lamport_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lamport: failure detection and Lamport-clocked messaging");
MODULE_AUTHOR("The lamport developers");
MODULE_ALIAS_GENL_FAMILY(LAMPORT_GENL_NAME);
