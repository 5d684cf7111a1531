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

#include <linux/socket.h>
#include <linux/types.h>

#define LAMPORT_GENL_NAME	"lamport"
#define LAMPORT_GENL_VERSION	1
#define LAMPORT_MCGRP_EVENTS	"events"

#define LAMPORT_DEFAULT_PORT	1978	/* "Time, Clocks, and the Ordering..." */
#define LAMPORT_PEERS_MAX	4096	/* per node */

/* Heartbeat defaults and limits; intervals in microseconds. */
#define LAMPORT_INTERVAL_DEFAULT_US	10000
#define LAMPORT_INTERVAL_MIN_US		1000
#define LAMPORT_INTERVAL_MAX_US		60000000
#define LAMPORT_MULT_DEFAULT		3
#define LAMPORT_MULT_MIN		2
#define LAMPORT_MULT_MAX		255
/* phi thresholds in milli-phi: 8 is 8000. */
#define LAMPORT_THRESHOLD_DEFAULT	8000
#define LAMPORT_THRESHOLD_MIN		1000
#define LAMPORT_THRESHOLD_MAX		100000

/*
 * Commands. NODE_GET and PEER_GET may be sent by anyone; every command that
 * changes state needs CAP_NET_ADMIN in the user namespace owning the node's
 * network namespace.
 */
enum lamport_cmd {
	LAMPORT_CMD_UNSPEC,
	LAMPORT_CMD_NODE_GET,	/* reply: LAMPORT_A_NODE_* */
	LAMPORT_CMD_NODE_SET,	/* LAMPORT_A_NODE_ID, _PORT, _ADDR */
	LAMPORT_CMD_PEER_ADD,	/* LAMPORT_A_PEER_ID, _ADDR, [_PORT, ...] */
	LAMPORT_CMD_PEER_DEL,	/* LAMPORT_A_PEER_ID */
	LAMPORT_CMD_PEER_SET,	/* LAMPORT_A_PEER_ID and what changes */
	LAMPORT_CMD_PEER_GET,	/* LAMPORT_A_PEER_ID, or a dump of all */
	LAMPORT_CMD_PEER_EVENT,	/* multicast on "events": a state change */
	LAMPORT_CMD_SOCK_GET,	/* dump: every AF_LAMPORT socket of the node */

	__LAMPORT_CMD_MAX,
};

#define LAMPORT_CMD_MAX (__LAMPORT_CMD_MAX - 1)

enum lamport_peer_state {
	LAMPORT_PEER_UNKNOWN,	/* configured, never heard */
	LAMPORT_PEER_ALIVE,
	LAMPORT_PEER_SUSPECT,
	LAMPORT_PEER_DEAD,
};

enum lamport_fd_mode {
	LAMPORT_FD_FIXED,	/* timeout: detection time from interval x mult */
	LAMPORT_FD_PHI,		/* phi accrual over inter-arrival times */
};

enum lamport_event_reason {
	LAMPORT_REASON_UNSPEC,
	LAMPORT_REASON_TIMEOUT,		/* fixed mode: detection time passed */
	LAMPORT_REASON_PHI,		/* phi mode: phi crossed a threshold */
	LAMPORT_REASON_HEARTBEAT,	/* a heartbeat arrived */
	LAMPORT_REASON_CONFIG,		/* the peer was reconfigured */
};

enum lamport_attr {
	LAMPORT_A_UNSPEC,
	LAMPORT_A_PAD,
	LAMPORT_A_NODE_ID,		/* u32, non-zero once set; 0: unset */
	LAMPORT_A_NODE_PORT,		/* u16, UDP port; 0: no socket yet */
	LAMPORT_A_NODE_ADDR,		/* 4 or 16 bytes: bound address */
	LAMPORT_A_NODE_STATS,		/* nest: LAMPORT_NODE_STAT_* */
	LAMPORT_A_PEER_ID,		/* u32, non-zero */
	LAMPORT_A_PEER_ADDR,		/* 4 or 16 bytes, network order */
	LAMPORT_A_PEER_PORT,		/* u16 */
	LAMPORT_A_PEER_INTERVAL_US,	/* u32: our heartbeat interval */
	LAMPORT_A_PEER_MULT,		/* u8: detection multiplier */
	LAMPORT_A_PEER_MODE,		/* u8: enum lamport_fd_mode */
	LAMPORT_A_PEER_THRESHOLD,	/* u32: phi threshold, milli-phi */
	LAMPORT_A_PEER_STATE,		/* u8: enum lamport_peer_state */
	LAMPORT_A_PEER_STATS,		/* nest: LAMPORT_PEER_STAT_* */
	LAMPORT_A_EVENT_OLD_STATE,	/* u8: enum lamport_peer_state */
	LAMPORT_A_EVENT_REASON,		/* u8: enum lamport_event_reason */
	LAMPORT_A_EVENT_TIME_NS,	/* u64: decision, CLOCK_MONOTONIC */
	LAMPORT_A_EVENT_LAST_RX_NS,	/* u64: last heartbeat's arrival, 0: none */
	LAMPORT_A_EVENT_DETECT_NS,	/* u64: detection time in force */
	LAMPORT_A_SOCK_TYPE,		/* u8: SOCK_DGRAM or SOCK_RDM */
	LAMPORT_A_SOCK_PORT,		/* u16: bound port, 0: unbound */
	LAMPORT_A_SOCK_INODE,		/* u64: the socket's inode number */
	LAMPORT_A_SOCK_CLOCK,		/* u64: the socket's Lamport clock */
	LAMPORT_A_SOCK_STATS,		/* nest: LAMPORT_SOCK_STAT_* */
	LAMPORT_A_SOCK_FLOW,		/* nest, repeated: LAMPORT_A_FLOW_* */
	LAMPORT_A_FLOW_DIR,		/* u8: enum lamport_flow_dir */
	LAMPORT_A_FLOW_NODE,		/* u32: the other end's node */
	LAMPORT_A_FLOW_PORT,		/* u16: the other end's port */
	LAMPORT_A_FLOW_STATS,		/* nest: LAMPORT_FLOW_STAT_* */

	__LAMPORT_A_MAX,
};

#define LAMPORT_A_MAX (__LAMPORT_A_MAX - 1)

/* Node counters, all u64: what arrived on the node's socket and was dropped. */
enum lamport_node_stat {
	LAMPORT_NODE_STAT_UNSPEC,
	LAMPORT_NODE_STAT_PAD,
	LAMPORT_NODE_STAT_RX,		/* datagrams received */
	LAMPORT_NODE_STAT_TX,		/* datagrams sent */
	LAMPORT_NODE_STAT_TX_ERRORS,
	LAMPORT_NODE_STAT_DROP_SHORT,	/* shorter than the header */
	LAMPORT_NODE_STAT_DROP_MAGIC,	/* bad magic */
	LAMPORT_NODE_STAT_DROP_VERSION,	/* unknown version */
	LAMPORT_NODE_STAT_DROP_TYPE,	/* unknown message type */
	LAMPORT_NODE_STAT_DROP_LENGTH,	/* length field or body size wrong */
	LAMPORT_NODE_STAT_DROP_SENDER,	/* no peer with the sender's id */
	LAMPORT_NODE_STAT_DROP_ADDR,	/* sender is not at its configured address */
	LAMPORT_NODE_STAT_DROP_RECEIVER, /* addressed to another node id */
	LAMPORT_NODE_STAT_DROP_PORT,	/* no AF_LAMPORT socket of that type at the port */
	LAMPORT_NODE_STAT_DROP_FLOW,	/* RDM: matches no flow, or acks what was never sent */

	__LAMPORT_NODE_STAT_MAX,
};

#define LAMPORT_NODE_STAT_MAX (__LAMPORT_NODE_STAT_MAX - 1)

/* Peer counters and estimates, all u64. Times in nanoseconds. */
enum lamport_peer_stat {
	LAMPORT_PEER_STAT_UNSPEC,
	LAMPORT_PEER_STAT_PAD,
	LAMPORT_PEER_STAT_TX,		/* heartbeats sent */
	LAMPORT_PEER_STAT_RX,		/* heartbeats received */
	LAMPORT_PEER_STAT_LOST,		/* sequence gaps */
	LAMPORT_PEER_STAT_DUPLICATES,
	LAMPORT_PEER_STAT_REORDERED,
	LAMPORT_PEER_STAT_SRTT_NS,
	LAMPORT_PEER_STAT_RTTVAR_NS,
	LAMPORT_PEER_STAT_MIN_RTT_NS,
	LAMPORT_PEER_STAT_LAST_RX_AGE_NS, /* absent: never heard */
	LAMPORT_PEER_STAT_PHI_MILLI,	/* current phi (phi mode) */
	LAMPORT_PEER_STAT_TRANSITIONS,	/* state changes */
	LAMPORT_PEER_STAT_RECOVERIES,	/* dead -> alive */
	LAMPORT_PEER_STAT_STATE_AGE_NS,	/* time in the current state */
	LAMPORT_PEER_STAT_DETECT_NS,	/* detection time in force, 0: none */
	LAMPORT_PEER_STAT_REMOTE_INTERVAL_US, /* as the peer advertises */
	LAMPORT_PEER_STAT_REMOTE_MULT,

	__LAMPORT_PEER_STAT_MAX,
};

#define LAMPORT_PEER_STAT_MAX (__LAMPORT_PEER_STAT_MAX - 1)

/* AF_LAMPORT socket counters, all u64. */
enum lamport_sock_stat {
	LAMPORT_SOCK_STAT_UNSPEC,
	LAMPORT_SOCK_STAT_PAD,
	LAMPORT_SOCK_STAT_TX,		/* messages accepted by send */
	LAMPORT_SOCK_STAT_RX,		/* messages delivered to the queue */
	LAMPORT_SOCK_STAT_RX_QUEUED,	/* receive buffer in use: truesize, or
					 * for RDM LP_RDM_COST units, messages
					 * held past a gap included
					 */
	LAMPORT_SOCK_STAT_TX_QUEUED,	/* bytes held for sending (truesize) */
	LAMPORT_SOCK_STAT_RCVBUF,
	LAMPORT_SOCK_STAT_SNDBUF,
	LAMPORT_SOCK_STAT_DROP_RCVBUF,	/* dropped: receive buffer full */
	LAMPORT_SOCK_STAT_DROP_FLOWS,	/* RDM: dropped, too many flows */

	__LAMPORT_SOCK_STAT_MAX,
};

#define LAMPORT_SOCK_STAT_MAX (__LAMPORT_SOCK_STAT_MAX - 1)

enum lamport_flow_dir {
	LAMPORT_FLOW_TX,	/* we send, the other end acknowledges */
	LAMPORT_FLOW_RX,	/* the other end sends, we acknowledge */
};

/* Per RDM flow (one sending socket to one receiving socket), all u64. */
enum lamport_flow_stat {
	LAMPORT_FLOW_STAT_UNSPEC,
	LAMPORT_FLOW_STAT_PAD,
	LAMPORT_FLOW_STAT_SND_UNA,	/* tx: oldest unacknowledged sequence */
	LAMPORT_FLOW_STAT_SND_NXT,	/* tx: next sequence to send */
	LAMPORT_FLOW_STAT_QUEUED,	/* tx: messages not yet acknowledged */
	LAMPORT_FLOW_STAT_IN_FLIGHT,	/* tx: sent, not acknowledged */
	LAMPORT_FLOW_STAT_CWND,		/* tx: congestion window, messages */
	LAMPORT_FLOW_STAT_SSTHRESH,
	LAMPORT_FLOW_STAT_RWND,		/* tx: receiver's window, bytes */
	LAMPORT_FLOW_STAT_SRTT_NS,
	LAMPORT_FLOW_STAT_RTTVAR_NS,
	LAMPORT_FLOW_STAT_RTO_NS,
	LAMPORT_FLOW_STAT_RETRANSMITS,	/* tx: messages sent again */
	LAMPORT_FLOW_STAT_TIMEOUTS,	/* tx: retransmission timer expiries */
	LAMPORT_FLOW_STAT_FAST_RETRANSMITS, /* tx: holes repaired from SACK */
	LAMPORT_FLOW_STAT_RCV_NXT,	/* rx: next sequence expected */
	LAMPORT_FLOW_STAT_OUT_OF_ORDER,	/* rx: messages held for a gap */
	LAMPORT_FLOW_STAT_DUPLICATES,	/* rx: received again, suppressed */
	LAMPORT_FLOW_STAT_DELIVERED,	/* rx: delivered in order */
	LAMPORT_FLOW_STAT_WINDOW_DROPS,	/* rx: no room in the receive buffer */
	LAMPORT_FLOW_STAT_ZERO_WINDOW,	/* tx: times the receiver's window closed */

	__LAMPORT_FLOW_STAT_MAX,
};

#define LAMPORT_FLOW_STAT_MAX (__LAMPORT_FLOW_STAT_MAX - 1)

/*
 * AF_LAMPORT sockets.
 *
 * Linux has no free address family number below AF_MAX, so lamport.ko
 * registers the family on a retired slot, AF_LAMPORT_DEFAULT (19, once
 * AF_ECONET) unless loaded with family=N. The number actually in use is in
 * LAMPORT_FAMILY_PARAM; read it rather than assume the default.
 *
 * SOCK_DGRAM is fair-loss: unordered, may be lost or duplicated, never
 * corrupted. SOCK_RDM is reliable: per pair of sockets in order and exactly
 * once, flow- and congestion-controlled. Every message carries the sending
 * socket's Lamport clock; recvmsg merges it into the receiver's clock and
 * reports both in a LAMPORT_CMSG_STAMP control message.
 */
#define AF_LAMPORT_DEFAULT	19
#define LAMPORT_FAMILY_PARAM	"/sys/module/lamport/parameters/family"

#define LAMPORT_MSG_MAX		1400	/* bytes of payload per message */
#define LAMPORT_PORT_EPHEMERAL_MIN	49152	/* bind to port 0 picks from */
#define LAMPORT_PORT_EPHEMERAL_MAX	65535
#define LAMPORT_PORT_PRIVILEGED		1024	/* below: CAP_NET_BIND_SERVICE */

struct sockaddr_lamport {
	__kernel_sa_family_t	slam_family;	/* the registered family */
	__u16			slam_port;	/* host byte order */
	__u32			slam_node;	/* node id; 0 in bind: this node */
};

#define SOL_LAMPORT		0x4c4d

/* Socket options at level SOL_LAMPORT. */
enum lamport_sockopt {
	LAMPORT_CLOCK = 1,	/* get: __u64, the socket's Lamport clock */
	LAMPORT_TICK,		/* set (any or no value): a local event, +1 */
};

/* Control messages at level SOL_LAMPORT. */
enum lamport_cmsg {
	LAMPORT_CMSG_STAMP = 1,	/* struct lamport_stamp, on every recvmsg */
};

struct lamport_stamp {
	__u64	stamp;	/* the sender's clock on the message */
	__u64	clock;	/* the receiver's clock after the merge */
};

/*
 * Errors specific to SOCK_RDM sends (returned by send, or later as the
 * socket error for messages already queued):
 *   EHOSTDOWN  the failure detector declared the destination node dead
 *   ETIMEDOUT  retransmission gave up (LAMPORT_RDM_RETRIES timeouts in a row)
 */
#define LAMPORT_RDM_RETRIES	12

#endif /* _UAPI_LINUX_LAMPORT_H */
