/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * lamport: a heartbeat failure detector and a Lamport-clocked socket family,
 * one node per network namespace.
 *
 * This header is the single source of truth for the generic netlink API
 * shared by lamport.ko and its userspace tools.
 */
#ifndef _UAPI_LINUX_LAMPORT_H
#define _UAPI_LINUX_LAMPORT_H

#define LAMPORT_GENL_NAME	"lamport"
#define LAMPORT_GENL_VERSION	1

/*
 * Commands.  NODE_GET may be sent by anyone; every command that changes
 * state needs CAP_NET_ADMIN in the user namespace owning the node's netns.
 */
enum lamport_cmd {
	LAMPORT_CMD_UNSPEC,
	LAMPORT_CMD_NODE_GET,	/* reply: LAMPORT_A_NODE_* */
	LAMPORT_CMD_NODE_SET,	/* LAMPORT_A_NODE_ID */

	__LAMPORT_CMD_MAX,
};

#define LAMPORT_CMD_MAX (__LAMPORT_CMD_MAX - 1)

enum lamport_attr {
	LAMPORT_A_UNSPEC,
	LAMPORT_A_NODE_ID,	/* u32, non-zero once set; 0 means unset */

	__LAMPORT_A_MAX,
};

#define LAMPORT_A_MAX (__LAMPORT_A_MAX - 1)

#endif /* _UAPI_LINUX_LAMPORT_H */
