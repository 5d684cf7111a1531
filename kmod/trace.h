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

#endif /* _LAMPORT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
