// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lamport trace: the life of TCP connections, from tracepoints.
 *
 * Everything works from tracepoints and raw tracepoints, the only probes
 * some kernels offer.  Where the kernel has kprobes ("full mode"), three
 * of them make TIME_WAIT entry and expiry and the server's handshake
 * start exact instead of inferred.
 *
 * Cheap by construction: every program filters on the socket's own fields
 * before it touches a map; per-connection state lives in an LRU map keyed
 * by the socket; counters and histograms stay per CPU in the kernel; events
 * go to a ring buffer without waking the reader, who polls it on a timer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "trace.h"

#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6
#define ECONNREFUSED	111
#define ECONNRESET	104
#define EPIPE		32
#define ETIMEDOUT	110
#define SOCK_DONE	1	/* enum sock_flags: the peer's FIN came */

/* TCP states (include/net/tcp_states.h) */
#define TCP_ESTABLISHED	1
#define TCP_SYN_SENT	2
#define TCP_SYN_RECV	3
#define TCP_FIN_WAIT1	4
#define TCP_FIN_WAIT2	5
#define TCP_TIME_WAIT	6
#define TCP_CLOSE	7
#define TCP_CLOSE_WAIT	8
#define TCP_LAST_ACK	9
#define TCP_LISTEN	10
#define TCP_CLOSING	11

/* Set by the loader before load; the verifier prunes what they disable. */
const volatile __u32 features;
const volatile bool full_mode;
const volatile bool emit_events = true;
const volatile __u32 filter_netns;
const volatile __u16 filter_family;
const volatile __u16 filter_port;
const volatile bool filter_addr;
const volatile __u8 filter_addr_bytes[16];
const volatile __u32 filter_pid;
/* Wake the reader only when this much is waiting (it polls anyway). */
const volatile __u64 wake_bytes = 256 * 1024;

struct lt_conn {
	__u64 start_ns;
	__u64 hs_ns;
	/* The kernel releases the local port before it reports CLOSE: the
	 * tuple is kept from when it was last complete. */
	struct lt_tuple t;
	bool have_tuple;
	bool fin_rcvd;		/* the peer's FIN counts in bytes_received */
	__u32 pid;
	__u32 flags;
	__u32 syn_retrans;
	__u32 cwnd;
	__u32 ssthresh;
	__u32 srtt_us;
	char comm[LT_COMM_LEN];
};

struct lt_tw_key {
	struct lt_tuple t;
	__u32 netns;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct lt_conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct lt_tw_key);
	__type(value, __u64);
} timewaits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_HISTS * LT_HIST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hists SEC(".maps");

/* The request being turned into a socket on this CPU (full mode). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cloning SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		(*v)++;
}

static __always_inline void hist_add(__u32 hist, __u64 ns)
{
	__u64 us = ns / 1000, *v;
	__u32 slot = 0, idx;

	while (us > 1 && slot < LT_HIST_SLOTS - 1) {
		us >>= 1;
		slot++;
	}
	idx = hist * LT_HIST_SLOTS + slot;
	v = bpf_map_lookup_elem(&hists, &idx);
	if (v)
		(*v)++;
}

static __always_inline bool addr_matches(const __u8 *a, __u16 family)
{
	int n = family == AF_INET ? 4 : 16;

	for (int i = 0; i < 16; i++) {
		if (i >= n)
			break;
		if (a[i] != filter_addr_bytes[i])
			return false;
	}
	return true;
}

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* Reads the addresses and ports of a socket, a request or a TIME_WAIT
 * socket (they all start with a sock_common); false when filtered out. */
static __always_inline bool common_tuple(const struct sock_common *c,
					 struct lt_tuple *t, __u32 netns)
{
	__u16 family = BPF_CORE_READ(c, skc_family);

	if (family != AF_INET && family != AF_INET6)
		return false;
	if (filter_family && family != filter_family)
		return false;
	if (filter_netns && netns != filter_netns)
		return false;
	t->family = family;
	t->sport = BPF_CORE_READ(c, skc_num);
	t->dport = __builtin_bswap16(BPF_CORE_READ(c, skc_dport));
	t->pad = 0;
	if (filter_port && t->sport != filter_port && t->dport != filter_port)
		return false;
	__builtin_memset(t->saddr, 0, sizeof(t->saddr));
	__builtin_memset(t->daddr, 0, sizeof(t->daddr));
	if (family == AF_INET) {
		bpf_core_read(t->saddr, 4, &c->skc_rcv_saddr);
		bpf_core_read(t->daddr, 4, &c->skc_daddr);
	} else {
		bpf_core_read(t->saddr, 16, &c->skc_v6_rcv_saddr);
		bpf_core_read(t->daddr, 16, &c->skc_v6_daddr);
	}
	if (filter_addr && family == filter_family &&
	    !addr_matches(t->saddr, family) && !addr_matches(t->daddr, family))
		return false;
	return true;
}

static __always_inline bool sk_tuple(const struct sock *sk, struct lt_tuple *t,
				     __u32 *netns)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return false;
	*netns = sk_netns(sk);
	return common_tuple(&sk->__sk_common, t, *netns);
}

/*
 * sk_tuple() for the tp_btf programs, whose socket is a pointer the
 * verifier knows: plain loads instead of a bpf_probe_read_kernel() call
 * each.  Every state change of every socket runs this, so it rejects with
 * the cheapest fields first.
 */
static __always_inline bool sk_tuple_btf(const struct sock *sk,
					 struct lt_tuple *t, __u32 *netns)
{
	const struct sock_common *c = &sk->__sk_common;
	__u16 family = c->skc_family;

	if (sk->sk_protocol != IPPROTO_TCP ||
	    (family != AF_INET && family != AF_INET6) ||
	    (filter_family && family != filter_family))
		return false;
	t->sport = c->skc_num;
	t->dport = __builtin_bswap16(c->skc_dport);
	if (filter_port && t->sport != filter_port && t->dport != filter_port)
		return false;
	*netns = c->skc_net.net->ns.inum;
	if (filter_netns && *netns != filter_netns)
		return false;
	t->family = family;
	t->pad = 0;
	__builtin_memset(t->saddr, 0, sizeof(t->saddr));
	__builtin_memset(t->daddr, 0, sizeof(t->daddr));
	if (family == AF_INET) {
		*(__be32 *)t->saddr = c->skc_rcv_saddr;
		*(__be32 *)t->daddr = c->skc_daddr;
	} else {
		__builtin_memcpy(t->saddr, &c->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(t->daddr, &c->skc_v6_daddr, 16);
	}
	if (filter_addr && !addr_matches(t->saddr, family) &&
	    !addr_matches(t->daddr, family))
		return false;
	return true;
}

static __always_inline bool pid_ok(const struct lt_conn *c)
{
	if (!filter_pid)
		return true;
	return c && (c->flags & LT_CONN_HAVE_PID) && c->pid == filter_pid;
}

static __always_inline struct lt_event *event_start(__u8 type,
						   const struct lt_tuple *t,
						   __u32 netns, __u64 sk,
						   const struct lt_conn *c)
{
	struct lt_event *e;

	if (!emit_events)
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(LT_CNT_LOST);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	e->sk = sk;
	e->t = *t;
	e->netns = netns;
	if (c) {
		e->pid = c->pid;
		e->flags = c->flags;
		e->syn_retrans = c->syn_retrans;
		e->hs_ns = c->hs_ns;
		__builtin_memcpy(e->comm, c->comm, sizeof(e->comm));
	}
	return e;
}

static __always_inline void event_submit(struct lt_event *e)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline void fill_cong(struct lt_event *e, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	e->cwnd = BPF_CORE_READ(tp, snd_cwnd);
	e->ssthresh = BPF_CORE_READ(tp, snd_ssthresh);
	e->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	e->retrans = BPF_CORE_READ(tp, total_retrans);
}

static __always_inline __u8 ca_state(const struct sock *sk)
{
	const struct inet_connection_sock *icsk = (const void *)sk;

	return BPF_CORE_READ_BITFIELD_PROBED(icsk, icsk_ca_state);
}

/* A retransmit or a cwnd change, in the congestion state it happened in. */
static __always_inline void emit_cong(__u8 type, const struct sock *sk,
				      const struct lt_tuple *t, __u32 netns,
				      __u64 key, const struct lt_conn *c)
{
	struct lt_event *e = event_start(type, t, netns, key, c);

	if (!e)
		return;
	fill_cong(e, sk);
	e->new_state = ca_state(sk);
	event_submit(e);
}

/* --- handshake ------------------------------------------------------ */

static __always_inline void conn_open(__u64 key, int newstate)
{
	struct lt_conn c = {};
	__u32 zero = 0;
	__u64 *req;

	c.start_ns = bpf_ktime_get_ns();
	if (newstate == TCP_SYN_SENT) {
		/* connect(): the caller is the owner, unlike in softirq. */
		c.flags = LT_CONN_ACTIVE | LT_CONN_HAVE_PID;
		c.pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(c.comm, sizeof(c.comm));
	} else if (full_mode) {
		/* The first SYN-ACK went out at snt_synack (tcp_clock_us). */
		req = bpf_map_lookup_elem(&cloning, &zero);
		if (req && *req) {
			struct tcp_request_sock *treq = (void *)*req;
			__u64 us = BPF_CORE_READ(treq, snt_synack);

			if (us && us * 1000 < c.start_ns)
				c.start_ns = us * 1000;
			*req = 0;
		}
	}
	bpf_map_update_elem(&conns, &key, &c, BPF_ANY);
}

static __always_inline void emit_handshake(__u8 type, const struct sock *sk,
					   const struct lt_tuple *t, __u32 netns,
					   __u64 key, struct lt_conn *c)
{
	struct lt_event *e;

	if (!(features & LT_FEAT_HANDSHAKE) || !pid_ok(c))
		return;
	e = event_start(type, t, netns, key, c);
	if (!e)
		return;
	e->srtt_us = BPF_CORE_READ((struct tcp_sock *)sk, srtt_us) >> 3;
	e->err = BPF_CORE_READ(sk, sk_err);
	e->duration_ns = e->ts_ns - c->start_ns;
	event_submit(e);
}

static __always_inline void conn_established(const struct sock *sk,
					     const struct lt_tuple *t,
					     __u32 netns, __u64 key,
					     int oldstate)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	struct lt_conn *c = bpf_map_lookup_elem(&conns, &key);
	__u64 now = bpf_ktime_get_ns();

	if (!c)
		return;
	c->flags |= LT_CONN_ESTABLISHED;
	c->t = *t;
	c->have_tuple = true;
	/* cong reports changes from here on, not the initial values. */
	if (features & LT_FEAT_CONG) {
		c->cwnd = BPF_CORE_READ(tp, snd_cwnd);
		c->ssthresh = BPF_CORE_READ(tp, snd_ssthresh);
		c->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	}
	if (oldstate == TCP_SYN_SENT) {
		c->hs_ns = now - c->start_ns;
		count(LT_CNT_CONNECT);
		hist_add(LT_HIST_CONNECT, c->hs_ns);
		c->flags |= LT_CONN_REPORTED;
		emit_handshake(LT_EV_CONNECT, sk, t, netns, key, c);
		return;
	}
	/* Passive: SYN-ACK retransmits were copied from the request; the
	 * first RTT sample is the SYN-ACK's unless full mode knows better. */
	c->syn_retrans = BPF_CORE_READ(tp, total_retrans);
	if (full_mode && c->start_ns < now)
		c->hs_ns = now - c->start_ns;
	else
		c->hs_ns = (__u64)(BPF_CORE_READ(tp, srtt_us) >> 3) * 1000;
}

/* The owner of a passive connection is whoever accept()s it. */
static __always_inline int accepted(long fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct file **fds, *file;
	struct fdtable *fdt;
	struct socket *sock;
	struct lt_tuple t;
	struct lt_conn *c;
	struct sock *sk;
	__u32 netns;
	__u64 key;

	if (fd < 0 || !(features & (LT_FEAT_HANDSHAKE | LT_FEAT_CONN)))
		return 0;
	fdt = BPF_CORE_READ(task, files, fdt);
	fds = BPF_CORE_READ(fdt, fd);
	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	key = (__u64)sk;
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c || (c->flags & (LT_CONN_ACTIVE | LT_CONN_REPORTED)))
		return 0;
	c->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(c->comm, sizeof(c->comm));
	c->flags |= LT_CONN_HAVE_PID | LT_CONN_REPORTED;
	if (!(c->flags & LT_CONN_ESTABLISHED) || !sk_tuple(sk, &t, &netns))
		return 0;
	count(LT_CNT_ACCEPT);
	hist_add(LT_HIST_ACCEPT, c->hs_ns);
	emit_handshake(LT_EV_ACCEPT, sk, &t, netns, key, c);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int lt_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int lt_accept(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret);
}

/* --- the end of a connection ------------------------------------------ */

static __always_inline __u8 end_reason(int err, int oldstate)
{
	switch (err) {
	case 0:
		break;
	case ECONNREFUSED:
		return LT_END_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return LT_END_RESET;
	case ETIMEDOUT:
		return LT_END_TIMEOUT;
	default:
		return LT_END_ERROR;
	}
	/* No error, yet straight to CLOSE from a synchronized state: the
	 * application aborted, and the kernel sent a RST. */
	if (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT ||
	    oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)
		return LT_END_ABORT;
	return LT_END_CLOSE;
}

/* exact: seen by a kprobe, not inferred from a state change. */
static __always_inline void emit_tw_enter(const struct lt_tuple *t, __u32 netns,
					  __u64 key, struct lt_conn *c, bool exact)
{
	struct lt_tw_key k = { .t = *t, .netns = netns };
	__u64 now = bpf_ktime_get_ns();
	struct lt_event *e;

	/* Full mode may see one entry twice (two kprobes, or a kprobe and
	 * the fallback): the first one counts. */
	if (full_mode) {
		if (bpf_map_lookup_elem(&timewaits, &k))
			return;
		bpf_map_update_elem(&timewaits, &k, &now, BPF_ANY);
	}
	count(LT_CNT_TW_ENTER);
	if (!(features & LT_FEAT_TIMEWAIT) || !pid_ok(c))
		return;
	e = event_start(LT_EV_TW_ENTER, t, netns, key, c);
	if (!e)
		return;
	if (!exact)
		e->flags |= LT_CONN_INFERRED;
	e->old_state = TCP_TIME_WAIT;
	event_submit(e);
}

/*
 * bytes_acked and bytes_received count sequence space: the active side's
 * SYN and either side's FIN are in it, not just the payload.
 */
static __always_inline void payload_bytes(struct lt_event *e,
					  const struct tcp_sock *tp,
					  const struct lt_conn *c, int oldstate,
					  int err)
{
	__u64 acked = BPF_CORE_READ(tp, bytes_acked);
	__u64 received = BPF_CORE_READ(tp, bytes_received);
	bool fin_acked = oldstate == TCP_FIN_WAIT2 ||
		((oldstate == TCP_CLOSING || oldstate == TCP_LAST_ACK) && !err);

	if ((c->flags & LT_CONN_ACTIVE) && (c->flags & LT_CONN_ESTABLISHED) && acked)
		acked--;
	if (fin_acked && acked)
		acked--;
	if (c->fin_rcvd && received)
		received--;
	e->bytes_acked = acked;
	e->bytes_received = received;
}

static __always_inline void conn_closed(const struct sock *sk,
					const struct lt_tuple *live, __u32 netns,
					__u64 key, int oldstate)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	struct lt_conn *c = bpf_map_lookup_elem(&conns, &key);
	int err = BPF_CORE_READ(sk, sk_err);
	__u8 end = end_reason(err, oldstate);
	const struct lt_tuple *t = live;
	struct lt_event *e;
	__u64 now;

	if (c && c->have_tuple)
		t = &c->t;
	if (c && (BPF_CORE_READ(sk, __sk_common.skc_flags) & (1UL << SOCK_DONE)))
		c->fin_rcvd = true;
	/* The active closer's socket leaves FIN_WAIT2 or CLOSING without an
	 * error only to become a timewait socket: TIME_WAIT, or FIN_WAIT2
	 * until the peer's FIN comes.  In full mode the kprobes saw it,
	 * unless they were skipped: kprobes do not nest on a CPU. */
	if (!err && (oldstate == TCP_FIN_WAIT2 || oldstate == TCP_CLOSING) &&
	    (!full_mode || (c && !(c->flags & LT_CONN_TW_SEEN)))) {
		if (c)
			c->flags |= LT_CONN_TIME_WAIT;
		emit_tw_enter(t, netns, key, c, false);
	}
	if (!c)
		return;
	if (oldstate == TCP_SYN_SENT) {
		if (end == LT_END_REFUSED) {
			count(LT_CNT_REFUSED);
			emit_handshake(LT_EV_REFUSED, sk, t, netns, key, c);
		} else if (end == LT_END_TIMEOUT || end == LT_END_ERROR) {
			count(LT_CNT_CONNECT_TIMEOUT);
			emit_handshake(LT_EV_CONNECT_TIMEOUT, sk, t, netns, key, c);
		}
	}
	/* Passive, established, never accepted: report it now. */
	if ((c->flags & (LT_CONN_ACTIVE | LT_CONN_ESTABLISHED |
			 LT_CONN_REPORTED)) == LT_CONN_ESTABLISHED) {
		c->flags |= LT_CONN_REPORTED;
		count(LT_CNT_ACCEPT);
		hist_add(LT_HIST_ACCEPT, c->hs_ns);
		emit_handshake(LT_EV_ACCEPT, sk, t, netns, key, c);
	}
	now = bpf_ktime_get_ns();
	count(LT_CNT_CONN_END);
	hist_add(LT_HIST_DURATION, now - c->start_ns);
	if ((features & LT_FEAT_CONN) && pid_ok(c)) {
		e = event_start(LT_EV_CONN_END, t, netns, key, c);
		if (e) {
			e->end = end;
			e->err = err;
			e->old_state = oldstate;
			e->duration_ns = now - c->start_ns;
			fill_cong(e, sk);
			payload_bytes(e, tp, c, oldstate, err);
			if (e->retrans >= c->syn_retrans)
				e->retrans -= c->syn_retrans;
			event_submit(e);
		}
	}
	bpf_map_delete_elem(&conns, &key);
}

static __always_inline void conn_fin_rcvd(__u64 key)
{
	struct lt_conn *c = bpf_map_lookup_elem(&conns, &key);

	if (c)
		c->fin_rcvd = true;
}

/* While the port is still bound, before CLOSE loses it. */
static __always_inline void conn_keep_tuple(__u64 key, const struct lt_tuple *t)
{
	struct lt_conn *c = bpf_map_lookup_elem(&conns, &key);

	if (c && t->sport) {
		c->t = *t;
		c->have_tuple = true;
	}
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(lt_set_state, const struct sock *sk, int oldstate, int newstate)
{
	struct lt_tuple t;
	__u64 key = (__u64)sk;
	__u32 netns;

	if (!sk_tuple_btf(sk, &t, &netns))
		return 0;
	switch (newstate) {
	case TCP_SYN_SENT:
		if (oldstate == TCP_CLOSE)
			conn_open(key, newstate);
		break;
	case TCP_SYN_RECV:
		/* A child socket is born a copy of its listener. */
		if (oldstate == TCP_LISTEN || oldstate == TCP_CLOSE)
			conn_open(key, newstate);
		break;
	case TCP_ESTABLISHED:
		conn_established(sk, &t, netns, key, oldstate);
		break;
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
		conn_fin_rcvd(key);
		break;
	case TCP_CLOSE:
		conn_closed(sk, &t, netns, key, oldstate);
		break;
	}
	return 0;
}

/* --- retransmissions ---------------------------------------------------- */

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(lt_retransmit, const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct lt_event *e;
	struct lt_conn *c;
	struct lt_tuple t;
	__u32 netns;

	if (!sk_tuple_btf(sk, &t, &netns))
		return 0;
	c = bpf_map_lookup_elem(&conns, &key);
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_SYN_SENT) {
		if (c) {
			c->syn_retrans++;
			c->t = t;
			c->have_tuple = true;
		}
		count(LT_CNT_SYN_RETRANS);
		if (!(features & LT_FEAT_HANDSHAKE) || !c || !pid_ok(c))
			return 0;
		e = event_start(LT_EV_SYN_RETRANS, &t, netns, key, c);
		if (e) {
			e->duration_ns = e->ts_ns - c->start_ns;
			event_submit(e);
		}
		return 0;
	}
	count(LT_CNT_RETRANS);
	if ((features & LT_FEAT_CONG) && pid_ok(c))
		emit_cong(LT_EV_RETRANS, sk, &t, netns, key, c);
	return 0;
}

/* A RST to our SYN: the last moment the local port is known. */
SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(lt_receive_reset, const struct sock *sk)
{
	struct lt_tuple t;
	__u32 netns;

	if (sk_tuple_btf(sk, &t, &netns))
		conn_keep_tuple((__u64)sk, &t);
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(lt_retransmit_synack, const struct sock *sk,
	     const struct request_sock *req)
{
	struct lt_event *e;
	struct lt_tuple t;
	__u32 netns = sk_netns(sk);

	if (!common_tuple(&req->__req_common, &t, netns))
		return 0;
	count(LT_CNT_SYNACK_RETRANS);
	if (!(features & LT_FEAT_HANDSHAKE) || filter_pid)
		return 0;
	e = event_start(LT_EV_SYNACK_RETRANS, &t, netns, (__u64)req, NULL);
	if (e) {
		e->syn_retrans = BPF_CORE_READ(req, num_retrans);
		event_submit(e);
	}
	return 0;
}

/* --- congestion --------------------------------------------------------- */

SEC("tp_btf/tcp_cong_state_set")
int BPF_PROG(lt_cong_state, const struct sock *sk, __u8 state)
{
	__u64 key = (__u64)sk;
	__u8 old = ca_state(sk);
	struct lt_event *e;
	struct lt_conn *c;
	struct lt_tuple t;
	__u32 netns;

	if (old == state || !sk_tuple_btf(sk, &t, &netns))
		return 0;
	count(LT_CNT_CA_STATE);
	if (state == LT_CA_LOSS)
		count(LT_CNT_RTO);
	c = bpf_map_lookup_elem(&conns, &key);
	if (!pid_ok(c))
		return 0;
	e = event_start(LT_EV_CA_STATE, &t, netns, key, c);
	if (e) {
		e->old_state = old;
		e->new_state = state;
		fill_cong(e, sk);
		event_submit(e);
	}
	return 0;
}

/* cwnd or ssthresh changed, or srtt moved by an eighth since last shown. */
static __always_inline bool cong_changed(struct lt_conn *c, __u32 cwnd,
					 __u32 ssthresh, __u32 srtt)
{
	__u32 delta = srtt > c->srtt_us ? srtt - c->srtt_us : c->srtt_us - srtt;

	if (cwnd == c->cwnd && ssthresh == c->ssthresh &&
	    delta <= c->srtt_us / 8)
		return false;
	c->cwnd = cwnd;
	c->ssthresh = ssthresh;
	c->srtt_us = srtt;
	return true;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(lt_probe, const struct sock *sk)
{
	struct tcp_sock *tp;
	__u32 cwnd, ssthresh, srtt, netns;
	__u64 key = (__u64)sk;
	struct lt_conn *c;
	struct lt_tuple t;

	if (!sk_tuple_btf(sk, &t, &netns))
		return 0;
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c || !pid_ok(c))
		return 0;
	tp = bpf_skc_to_tcp_sock((void *)sk);
	if (!tp)
		return 0;
	cwnd = tp->snd_cwnd;
	ssthresh = tp->snd_ssthresh;
	srtt = tp->srtt_us >> 3;
	if (!cong_changed(c, cwnd, ssthresh, srtt))
		return 0;
	count(LT_CNT_CWND);
	emit_cong(LT_EV_CWND, sk, &t, netns, key, c);
	return 0;
}

/* --- full mode: kprobes ------------------------------------------------- */

SEC("kprobe/inet_csk_clone_lock")
int BPF_KPROBE(lt_clone, const struct sock *sk, const struct request_sock *req)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&cloning, &zero);

	if (slot)
		*slot = (__u64)req;
	return 0;
}

SEC("kprobe/tcp_time_wait")
int BPF_KPROBE(lt_time_wait, struct sock *sk, int state)
{
	__u64 key = (__u64)sk;
	struct lt_conn *c;
	struct lt_tuple t;
	__u32 netns;

	if (!sk_tuple(sk, &t, &netns))
		return 0;
	/* Either way a timewait socket now holds the tuple. */
	c = bpf_map_lookup_elem(&conns, &key);
	if (c)
		c->flags |= LT_CONN_TW_SEEN | LT_CONN_TIME_WAIT;
	/* A FIN_WAIT2 timewait socket is an orphan still waiting for the
	 * peer's FIN: lt_tw_schedule sees it become TIME_WAIT. */
	if (state == TCP_TIME_WAIT)
		emit_tw_enter(&t, netns, key, c, true);
	return 0;
}

/* A timewait socket's timer is set: on entry, and when a FIN_WAIT2 one gets
 * the peer's FIN and turns TIME_WAIT (no state change is reported then). */
SEC("kprobe/__inet_twsk_schedule")
int BPF_KPROBE(lt_tw_schedule, struct inet_timewait_sock *tw)
{
	__u32 netns = BPF_CORE_READ(tw, __tw_common.skc_net.net, ns.inum);
	struct lt_tuple t;

	if (BPF_CORE_READ(tw, tw_substate) != TCP_TIME_WAIT ||
	    !common_tuple(&tw->__tw_common, &t, netns))
		return 0;
	emit_tw_enter(&t, netns, (__u64)tw, NULL, true);
	return 0;
}

SEC("kprobe/inet_twsk_kill")
int BPF_KPROBE(lt_twsk_kill, struct inet_timewait_sock *tw)
{
	__u32 netns = BPF_CORE_READ(tw, __tw_common.skc_net.net, ns.inum);
	struct lt_tw_key k = { .netns = netns };
	__u64 *entered, expires;
	struct lt_event *e;

	if (BPF_CORE_READ(tw, tw_substate) != TCP_TIME_WAIT ||
	    !common_tuple(&tw->__tw_common, &k.t, netns))
		return 0;
	count(LT_CNT_TW_EXIT);
	if (!(features & LT_FEAT_TIMEWAIT) || filter_pid)
		return 0;
	e = event_start(LT_EV_TW_EXIT, &k.t, netns, (__u64)tw, NULL);
	if (!e)
		return 0;
	entered = bpf_map_lookup_elem(&timewaits, &k);
	if (entered) {
		e->duration_ns = e->ts_ns - *entered;
		bpf_map_delete_elem(&timewaits, &k);
	}
	/* Killed before its timer expired (reused, or the netns went). */
	expires = BPF_CORE_READ(tw, tw_timer.expires);
	e->end = (long)(bpf_jiffies64() - expires) < 0;
	e->old_state = TCP_TIME_WAIT;
	event_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
