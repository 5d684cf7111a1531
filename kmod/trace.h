/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM lamport

#if !defined(_LAMPORT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _LAMPORT_TRACE_H

#include <linux/tracepoint.h>

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

#endif /* _LAMPORT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
