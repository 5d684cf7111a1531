/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM lamport

#if !defined(_LAMPORT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _LAMPORT_TRACE_H

#include <linux/tracepoint.h>

#define lamport_show_state(state) \
	__print_symbolic(state, { 0, "unknown" }, { 1, "alive" }, \
			 { 2, "suspect" }, { 3, "dead" })
#define lamport_show_reason(reason) \
	__print_symbolic(reason, { 0, "unspec" }, { 1, "timeout" }, \
			 { 2, "phi" }, { 3, "heartbeat" }, { 4, "config" })

/* A node is born with its netns (or when the module loads into one). */
TRACE_EVENT(lamport_node_create,
	TP_PROTO(unsigned int netns),
	TP_ARGS(netns),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
	),
	TP_fast_assign(
		__entry->netns = netns;
	),
	TP_printk("netns=%u", __entry->netns)
);

/* A node's state is torn down: its netns died or the module unloads. */
TRACE_EVENT(lamport_node_destroy,
	TP_PROTO(unsigned int netns, u32 id),
	TP_ARGS(netns, id),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(u32, id)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->id = id;
	),
	TP_printk("netns=%u id=%u", __entry->netns, __entry->id)
);

TRACE_EVENT(lamport_node_set_id,
	TP_PROTO(unsigned int netns, u32 old_id, u32 new_id),
	TP_ARGS(netns, old_id, new_id),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(u32, old_id)
		__field(u32, new_id)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->old_id = old_id;
		__entry->new_id = new_id;
	),
	TP_printk("netns=%u id=%u->%u",
		  __entry->netns, __entry->old_id, __entry->new_id)
);

/* A peer's state changed; since_rx_ns: time since its last heartbeat. */
TRACE_EVENT(lamport_peer_state,
	TP_PROTO(unsigned int netns, u32 peer, u8 old_state, u8 new_state,
		 u8 reason, u64 since_rx_ns),
	TP_ARGS(netns, peer, old_state, new_state, reason, since_rx_ns),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(u32, peer)
		__field(u8, old_state)
		__field(u8, new_state)
		__field(u8, reason)
		__field(u64, since_rx_ns)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->peer = peer;
		__entry->old_state = old_state;
		__entry->new_state = new_state;
		__entry->reason = reason;
		__entry->since_rx_ns = since_rx_ns;
	),
	TP_printk("netns=%u peer=%u %s->%s reason=%s since_rx_ns=%llu",
		  __entry->netns, __entry->peer,
		  lamport_show_state(__entry->old_state),
		  lamport_show_state(__entry->new_state),
		  lamport_show_reason(__entry->reason),
		  __entry->since_rx_ns)
);

DECLARE_EVENT_CLASS(lamport_heartbeat,
	TP_PROTO(unsigned int netns, u32 peer, u32 seq),
	TP_ARGS(netns, peer, seq),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(u32, peer)
		__field(u32, seq)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->peer = peer;
		__entry->seq = seq;
	),
	TP_printk("netns=%u peer=%u seq=%u",
		  __entry->netns, __entry->peer, __entry->seq)
);

DEFINE_EVENT(lamport_heartbeat, lamport_heartbeat_send,
	TP_PROTO(unsigned int netns, u32 peer, u32 seq),
	TP_ARGS(netns, peer, seq)
);

DEFINE_EVENT(lamport_heartbeat, lamport_heartbeat_recv,
	TP_PROTO(unsigned int netns, u32 peer, u32 seq),
	TP_ARGS(netns, peer, seq)
);

#define lamport_show_type(type) \
	__print_symbolic(type, { 2, "dgram" }, { 4, "rdm" })

/* An AF_LAMPORT message leaves a socket, stamped with its clock. */
TRACE_EVENT(lamport_msg_send,
	TP_PROTO(unsigned int netns, int type, u16 port, u32 node, u16 dport,
		 u64 stamp, u32 len),
	TP_ARGS(netns, type, port, node, dport, stamp, len),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(int, type)
		__field(u16, port)
		__field(u16, dport)
		__field(u32, node)
		__field(u32, len)
		__field(u64, stamp)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->type = type;
		__entry->port = port;
		__entry->node = node;
		__entry->dport = dport;
		__entry->stamp = stamp;
		__entry->len = len;
	),
	TP_printk("netns=%u %s port=%u to=%u:%u stamp=%llu len=%u",
		  __entry->netns, lamport_show_type(__entry->type),
		  __entry->port, __entry->node, __entry->dport,
		  __entry->stamp, __entry->len)
);

/* A message is received: its stamp, and the receiver's clock after it. */
TRACE_EVENT(lamport_msg_recv,
	TP_PROTO(unsigned int netns, int type, u16 port, u32 node, u16 sport,
		 u64 stamp, u64 clock, u32 len),
	TP_ARGS(netns, type, port, node, sport, stamp, clock, len),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(int, type)
		__field(u16, port)
		__field(u16, sport)
		__field(u32, node)
		__field(u32, len)
		__field(u64, stamp)
		__field(u64, clock)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->type = type;
		__entry->port = port;
		__entry->node = node;
		__entry->sport = sport;
		__entry->stamp = stamp;
		__entry->clock = clock;
		__entry->len = len;
	),
	TP_printk("netns=%u %s port=%u from=%u:%u stamp=%llu clock=%llu len=%u",
		  __entry->netns, lamport_show_type(__entry->type),
		  __entry->port, __entry->node, __entry->sport,
		  __entry->stamp, __entry->clock, __entry->len)
);

#endif /* _LAMPORT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
