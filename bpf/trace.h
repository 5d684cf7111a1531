/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * What trace.bpf.c and its loader (user/trace*.c) share: the records of the
 * ring buffer, the counters and the histograms.  Plain __u types only, so
 * that it compiles against vmlinux.h and against the UAPI headers alike.
 */
#ifndef LAMPORT_BPF_TRACE_H
#define LAMPORT_BPF_TRACE_H

#define LT_COMM_LEN	16

/* What the loader asks for: each feature loads its own programs. */
#define LT_FEAT_HANDSHAKE	(1u << 0)
#define LT_FEAT_TIMEWAIT	(1u << 1)
#define LT_FEAT_CONG		(1u << 2)
#define LT_FEAT_CONN		(1u << 3)

enum lt_event_type {
	LT_EV_CONNECT = 1,	/* active open established: hs_ns, syn_retrans */
	LT_EV_ACCEPT,		/* passive open accepted: hs_ns, syn_retrans */
	LT_EV_REFUSED,		/* SYN answered by a RST */
	LT_EV_CONNECT_TIMEOUT,	/* SYN retransmits exhausted (or ICMP error) */
	LT_EV_SYN_RETRANS,	/* a SYN retransmitted: count so far */
	LT_EV_SYNACK_RETRANS,	/* a SYN-ACK retransmitted: count so far */
	LT_EV_TW_ENTER,		/* a connection entered TIME_WAIT */
	LT_EV_TW_EXIT,		/* a TIME_WAIT socket expired or was killed */
	LT_EV_CA_STATE,		/* congestion state change */
	LT_EV_CWND,		/* cwnd, ssthresh or srtt changed */
	LT_EV_RETRANS,		/* a data segment retransmitted */
	LT_EV_CONN_END,		/* a connection finished */
	LT_EV_TYPES,
};

/* How a connection ended (LT_EV_CONN_END's end). */
enum lt_end {
	LT_END_CLOSE = 0,	/* FIN exchange */
	LT_END_RESET,		/* the peer sent a RST */
	LT_END_ABORT,		/* we sent a RST (abortive close, data unread) */
	LT_END_TIMEOUT,		/* retransmits or keepalives exhausted */
	LT_END_REFUSED,		/* never established: RST to the SYN */
	LT_END_ERROR,		/* another socket error (e.g. ICMP unreachable) */
};

/* Per-connection flags. */
#define LT_CONN_ACTIVE		(1u << 0)	/* we connected */
#define LT_CONN_ESTABLISHED	(1u << 1)
#define LT_CONN_TIME_WAIT	(1u << 2)	/* left a TIME_WAIT behind */
#define LT_CONN_REPORTED	(1u << 3)	/* handshake already emitted */
#define LT_CONN_HAVE_PID	(1u << 4)	/* pid and comm are the owner's */
#define LT_CONN_TW_SEEN		(1u << 5)	/* tcp_time_wait() ran (full mode) */
#define LT_CONN_INFERRED	(1u << 6)	/* TW_ENTER: inferred, not seen */

struct lt_tuple {
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport;		/* host byte order */
	__u16 dport;
	__u16 family;		/* AF_INET, AF_INET6 */
	__u16 pad;
};

struct lt_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u64 sk;		/* identifies the socket for the reader */
	struct lt_tuple t;
	__u32 netns;		/* inode number of the netns */
	__u32 pid;		/* tgid; 0 if unknown */
	char comm[LT_COMM_LEN];
	__u8 type;		/* enum lt_event_type */
	__u8 old_state;		/* LT_EV_CA_STATE: before; TW: substate */
	__u8 new_state;		/* LT_EV_CA_STATE: after; RETRANS: ca_state */
	__u8 end;		/* CONN_END: enum lt_end; TW_EXIT: 1 if killed early */
	__u32 flags;		/* LT_CONN_* */
	__u32 syn_retrans;	/* SYN or SYN-ACK retransmits */
	__u32 retrans;		/* data retransmits (total_retrans) */
	__u32 cwnd;		/* segments */
	__u32 ssthresh;
	__u32 srtt_us;
	__s32 err;		/* sk_err at the end */
	__u64 hs_ns;		/* handshake latency */
	__u64 duration_ns;	/* connection: first SYN to close; TW: age */
	__u64 bytes_acked;	/* sent and acknowledged */
	__u64 bytes_received;
};

/* Per-CPU counters, indexed by these. */
enum lt_counter {
	LT_CNT_LOST = 0,	/* events lost to a full ring buffer */
	LT_CNT_CONNECT,
	LT_CNT_ACCEPT,
	LT_CNT_REFUSED,
	LT_CNT_CONNECT_TIMEOUT,
	LT_CNT_SYN_RETRANS,
	LT_CNT_SYNACK_RETRANS,
	LT_CNT_TW_ENTER,
	LT_CNT_TW_EXIT,
	LT_CNT_CA_STATE,
	LT_CNT_CWND,
	LT_CNT_RETRANS,
	LT_CNT_RTO,		/* entries into Loss */
	LT_CNT_CONN_END,
	LT_COUNTERS,
};

/* Log2 histograms (bucket i: [2^i, 2^(i+1)) microseconds). */
enum lt_hist {
	LT_HIST_CONNECT = 0,
	LT_HIST_ACCEPT,
	LT_HIST_DURATION,
	LT_HISTS,
};
#define LT_HIST_SLOTS	32

/* The TCP congestion states (icsk_ca_state) and their names. */
#define LT_CA_OPEN	0
#define LT_CA_DISORDER	1
#define LT_CA_CWR	2
#define LT_CA_RECOVERY	3
#define LT_CA_LOSS	4

#endif /* LAMPORT_BPF_TRACE_H */
