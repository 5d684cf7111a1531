// SPDX-License-Identifier: GPL-2.0
/*
 * SOCK_RDM: reliable, in order and exactly once per pair of sockets, over
 * the same fair-loss datagrams as SOCK_DGRAM.
 *
 * A sending socket keeps one tx flow per destination socket: every message
 * gets the next sequence number of the flow and stays queued until the
 * receiver acknowledges it. The receiving socket keeps one rx flow per
 * sending flow (keyed by node, port and the flow's random epoch), delivers
 * in sequence order, holds up to LP_SACK_BITS messages past a gap, and
 * answers every message with a cumulative and selective acknowledgement
 * carrying its free receive buffer.
 *
 * The sender retransmits on a timeout from measured round trips (RFC 6298,
 * Karn's rule, exponential backoff) and, sooner, a message that
 * LAMPORT_RDM_DUPTHRESH later ones overtook (RFC 6675, simplified). A
 * congestion window in messages grows by slow start and congestion
 * avoidance and shrinks on loss; the receiver's window caps what may be
 * in flight, and a full send buffer blocks the writer.
 *
 * Flow state is under the socket's lock, taken from process context with
 * BH off and from softirq (receive, the socket's retransmission timer).
 * Messages are built under the lock and sent after it is dropped: a
 * message to this node comes straight back into the receive path.
 */

#include <linux/random.h>
#include <net/sock.h>

#include "lamport.h"
#include "socket.h"
#include "trace.h"

struct lamport_flow_tx {
	struct hlist_node hnode;
	u32 node;
	u16 port;
	u32 epoch;
	struct sk_buff_head queue;	/* seq order: acked ones leave */
	struct sk_buff *send_head;	/* the first never sent, or NULL */
	u32 lost;		/* sent, then declared lost: to send again */
	u32 sacked;		/* held by the receiver past a gap */
	u32 snd_una;		/* oldest not acknowledged */
	u32 snd_nxt;		/* next never sent */
	u32 next_seq;		/* for the next message queued */
	u32 in_flight;		/* sent, not acked, sacked or lost */
	u32 in_flight_cost;
	u32 cwnd, ssthresh, cwnd_cnt;
	u32 rwnd;		/* the receiver's free buffer, bytes */
	bool recovery;
	bool zero_window;
	u32 recover;		/* recovery ends when this is acked */
	u64 srtt, rttvar, rto;
	u64 deadline;		/* retransmission or probe; 0: none */
	u64 last_ns;
	u8 timeouts;		/* in a row */
	u64 retransmits, nr_timeouts, fast_retransmits, zero_windows;
};

struct lamport_flow_rx {
	struct hlist_node hnode;
	u32 node;
	u16 port;
	u32 epoch;
	u32 rcv_nxt;
	struct sk_buff_head ooo;	/* held past a gap, seq order */
	u64 last_ns;
	bool window_closed;
	u8 unacked;		/* delivered since the last ack */
	u64 duplicates, delivered, window_drops;
};

/* The state of a queued message, in its skb's control block. */
struct lamport_tx_cb {
	u64 tx_ns;
	u32 seq;
	u32 cost;
	u8 tx_count;
	bool sacked;
	bool in_flight;
	bool lost;
};

#define LAMPORT_TX_CB(skb) ((struct lamport_tx_cb *)(skb)->cb)

static_assert(sizeof(struct lamport_tx_cb) <= sizeof_field(struct sk_buff, cb));
static_assert(sizeof(struct lamport_cb) <= sizeof_field(struct sk_buff, cb));

#define LAMPORT_RDM_RWND_INIT	(64 * 1024)

static bool seq_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

static u32 lamport_flow_hash(u32 node, u16 port)
{
	return node ^ (u32)port << 16;
}

/* Sends what was gathered under the lock; each skb's cb names its node. */
static void lamport_rdm_flush(struct lamport_net *ln, struct sk_buff_head *xq)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(xq)))
		lamport_msg_send(ln, LAMPORT_CB(skb)->node, skb);
}

static void lamport_rdm_arm(struct lamport_sock *lsk, u64 deadline)
{
	lockdep_assert_held(&lsk->lock);

	if (lsk->dead || !deadline)
		return;
	if (hrtimer_is_queued(&lsk->timer) &&
	    ktime_to_ns(hrtimer_get_expires(&lsk->timer)) <= deadline)
		return;
	hrtimer_start(&lsk->timer, ns_to_ktime(deadline), HRTIMER_MODE_ABS_SOFT);
}

/* A copy of a queued message to put on the wire. */
static struct sk_buff *lamport_tx_copy(struct lamport_flow_tx *f,
				       struct sk_buff *skb,
				       struct sk_buff_head *xq)
{
	struct sk_buff *copy = lamport_msg_alloc(skb->len, GFP_ATOMIC);

	if (!copy)
		return NULL;	/* as if lost: the timer sends it again */
	skb_copy_bits(skb, 0, skb_put(copy, skb->len), skb->len);
	LAMPORT_CB(copy)->node = f->node;
	__skb_queue_tail(xq, copy);
	return copy;
}

static void lamport_tx_ack_now(struct sk_buff *copy)
{
	if (copy)
		lp_put16(copy->data + LP_WIRE_HDR_LEN + 4, LP_RDM_F_ACK_NOW);
}

static void lamport_tx_set_lost(struct lamport_flow_tx *f,
				struct lamport_tx_cb *cb)
{
	if (!cb->lost && !cb->sacked) {
		cb->lost = true;
		f->lost++;
	}
}

static void lamport_tx_clear_lost(struct lamport_flow_tx *f,
				  struct lamport_tx_cb *cb)
{
	if (cb->lost) {
		cb->lost = false;
		f->lost--;
	}
}

static struct sk_buff *lamport_tx_send(struct lamport_flow_tx *f,
				       struct sk_buff *skb, u64 now,
				       struct sk_buff_head *xq)
{
	struct lamport_tx_cb *cb = LAMPORT_TX_CB(skb);
	struct sk_buff *copy;

	if (cb->tx_count) {
		f->retransmits++;
		lamport_tx_clear_lost(f, cb);
	} else {
		f->snd_nxt = cb->seq + 1;
		f->send_head = skb_queue_is_last(&f->queue, skb) ? NULL :
			       skb->next;
	}
	cb->tx_count++;
	cb->tx_ns = now;
	cb->in_flight = true;
	f->in_flight++;
	f->in_flight_cost += cb->cost;
	copy = lamport_tx_copy(f, skb, xq);
	if (cb->tx_count > 1)
		lamport_tx_ack_now(copy);	/* a repair: hear of it soon */
	return copy;
}

static void lamport_tx_unflight(struct lamport_flow_tx *f,
				struct lamport_tx_cb *cb)
{
	if (!cb->in_flight)
		return;
	cb->in_flight = false;
	f->in_flight--;
	f->in_flight_cost -= cb->cost;
}

/*
 * Sends what the windows allow: first what was declared lost, then new
 * messages, all in sequence order. When a window stops it, the last one
 * sent asks for an ack at once: the sender can go on only when it comes.
 */
static void lamport_flow_push(struct lamport_sock *lsk,
			      struct lamport_flow_tx *f, u64 now,
			      struct sk_buff_head *xq)
{
	struct sk_buff *skb, *last = NULL;
	struct lamport_tx_cb *cb;
	bool stopped = false;

	/* Without losses to repair, what is before send_head is all out. */
	for (skb = f->lost ? skb_peek(&f->queue) : f->send_head; skb;
	     skb = skb_queue_is_last(&f->queue, skb) ? NULL : skb->next) {
		cb = LAMPORT_TX_CB(skb);
		if (cb->sacked || cb->in_flight)
			continue;
		/* The receiver holds no more than LP_SACK_BITS past a gap. */
		stopped = f->in_flight >= f->cwnd ||
			  cb->seq - f->snd_una > LP_SACK_BITS ||
			  f->in_flight_cost + cb->cost > f->rwnd;
		if (stopped) {
			if (!f->in_flight && !f->zero_window &&
			    f->in_flight_cost + cb->cost > f->rwnd) {
				f->zero_window = true;
				f->zero_windows++;
			}
			break;
		}
		f->zero_window = false;
		last = lamport_tx_send(f, skb, now, xq);
	}
	if (stopped)
		lamport_tx_ack_now(last);
	if (!skb_queue_empty(&f->queue) && !f->deadline)
		f->deadline = now + f->rto;
	if (skb_queue_empty(&f->queue))
		f->deadline = 0;
	lamport_rdm_arm(lsk, f->deadline);
}

static void lamport_flow_tx_free(struct lamport_sock *lsk,
				 struct lamport_flow_tx *f)
{
	hash_del(&f->hnode);
	lsk->ntx--;
	__skb_queue_purge(&f->queue);
	kfree(f);
}

/* The flow cannot go on: its messages are dropped, the socket learns why. */
static void lamport_flow_fail(struct lamport_sock *lsk,
			      struct lamport_flow_tx *f, int err)
{
	bool pending = !skb_queue_empty(&f->queue);

	lamport_flow_tx_free(lsk, f);
	if (pending) {
		WRITE_ONCE(lsk->sk.sk_err, err);
		sk_error_report(&lsk->sk);
	}
}

static void lamport_flow_tx_gc(struct lamport_sock *lsk, u64 now)
{
	struct lamport_flow_tx *f;
	struct hlist_node *tmp;
	int bkt;

	hash_for_each_safe(lsk->tx_flows, bkt, tmp, f, hnode)
		if (skb_queue_empty(&f->queue) &&
		    now - f->last_ns > LAMPORT_RDM_FLOW_IDLE)
			lamport_flow_tx_free(lsk, f);
}

static struct lamport_flow_tx *lamport_flow_tx_get(struct lamport_sock *lsk,
						   u32 node, u16 port, u64 now)
{
	struct lamport_flow_tx *f;

	hash_for_each_possible(lsk->tx_flows, f, hnode,
			       lamport_flow_hash(node, port)) {
		if (f->node != node || f->port != port)
			continue;
		/*
		 * An idle flow starts again before its receiver may forget it;
		 * so does one whose sequence numbers ran out.
		 */
		if (!skb_queue_empty(&f->queue))
			return f->next_seq ? f : ERR_PTR(-EAGAIN);
		if (f->next_seq && now - f->last_ns < LAMPORT_RDM_FLOW_IDLE / 2)
			return f;
		lamport_flow_tx_free(lsk, f);
		break;
	}
	if (lsk->ntx >= LAMPORT_RDM_FLOWS_MAX)
		lamport_flow_tx_gc(lsk, now);
	if (lsk->ntx >= LAMPORT_RDM_FLOWS_MAX)
		return ERR_PTR(-ENOBUFS);
	f = kzalloc(sizeof(*f), GFP_ATOMIC);
	if (!f)
		return ERR_PTR(-ENOMEM);
	f->node = node;
	f->port = port;
	f->epoch = get_random_u32();
	__skb_queue_head_init(&f->queue);
	f->snd_una = 1;
	f->snd_nxt = 1;
	f->next_seq = 1;
	f->cwnd = LAMPORT_RDM_CWND_INIT;
	f->ssthresh = LAMPORT_RDM_CWND_MAX;
	f->rwnd = LAMPORT_RDM_RWND_INIT;
	f->rto = LAMPORT_RDM_RTO_INIT;
	hash_add(lsk->tx_flows, &f->hnode, lamport_flow_hash(node, port));
	lsk->ntx++;
	return f;
}

static struct lamport_flow_tx *lamport_flow_tx_find(struct lamport_sock *lsk,
						    u32 node, u16 port,
						    u32 epoch)
{
	struct lamport_flow_tx *f;

	hash_for_each_possible(lsk->tx_flows, f, hnode,
			       lamport_flow_hash(node, port))
		if (f->node == node && f->port == port && f->epoch == epoch)
			return f;
	return NULL;
}

/* The message skb (payload only) becomes the flow's next; consumes skb. */
static int lamport_rdm_queue(struct lamport_sock *lsk, u32 node, u16 port,
			     struct sk_buff *skb, struct sk_buff_head *xq,
			     u64 *stamp)
{
	struct lamport_net *ln = lsk->ln;
	struct lamport_flow_tx *f;
	struct lp_msg m = {
		.src_port = lsk->port,
		.dst_port = port,
	};
	u64 now = ktime_get_ns();
	u32 len = skb->len;
	int err;

	lockdep_assert_held(&lsk->lock);

	err = sock_error(&lsk->sk);
	if (err)
		return err;
	f = lamport_flow_tx_get(lsk, node, port, now);
	if (IS_ERR(f))
		return PTR_ERR(f);
	m.epoch = f->epoch;
	m.seq = f->next_seq++;
	m.stamp = lamport_clock_tick(lsk);
	lp_msg_put(skb_push(skb, LP_RDM_HDR_LEN), &m, true);
	lamport_msg_push_hdr(skb, LP_MSG_RDM, lamport_node_id(ln), node);
	*LAMPORT_TX_CB(skb) = (struct lamport_tx_cb) {
		.seq = m.seq,
		.cost = LP_RDM_COST(len),
	};
	__skb_queue_tail(&f->queue, skb);
	if (!f->send_head)
		f->send_head = skb;
	f->last_ns = now;
	*stamp = m.stamp;
	lamport_flow_push(lsk, f, now, xq);
	return 0;
}

static int lamport_rdm_check_dest(struct lamport_net *ln, u32 node)
{
	struct lamport_addr to;
	u8 state;
	int err;

	if (node == lamport_node_id(ln))
		return 0;
	rcu_read_lock();
	err = lamport_peer_resolve(ln, node, &to, &state);
	rcu_read_unlock();
	if (!err && state == LAMPORT_PEER_DEAD)
		err = -EHOSTDOWN;
	return err;
}

int lamport_rdm_send(struct lamport_sock *lsk, u32 node, u16 port,
		     struct msghdr *msg, size_t len)
{
	struct lamport_net *ln = lsk->ln;
	struct sock *sk = &lsk->sk;
	struct sk_buff_head xq;
	struct sk_buff *skb;
	u64 stamp = 0;
	int err;

	err = sock_error(sk);
	if (err)
		return err;
	err = lamport_rdm_check_dest(ln, node);
	if (err)
		return err;
	skb = sock_alloc_send_skb(sk, LP_WIRE_HDR_LEN + LP_RDM_HDR_LEN + len,
				  msg->msg_flags & MSG_DONTWAIT, &err);
	if (!skb)
		return err;
	skb_reserve(skb, LP_WIRE_HDR_LEN + LP_RDM_HDR_LEN);
	err = memcpy_from_msg(skb_put(skb, len), msg, len);
	if (err) {
		kfree_skb(skb);
		return err;
	}

	__skb_queue_head_init(&xq);
	spin_lock_bh(&lsk->lock);
	err = lamport_rdm_queue(lsk, node, port, skb, &xq, &stamp);
	spin_unlock_bh(&lsk->lock);
	if (err) {
		kfree_skb(skb);
		return err;
	}
	lamport_sock_count(lsk, LAMPORT_SOCK_STAT_TX);
	trace_lamport_msg_send(ln->net->ns.inum, SOCK_RDM, lsk->port, node,
			       port, stamp, len);
	lamport_rdm_flush(ln, &xq);
	return len;
}

static void lamport_flow_rtt(struct lamport_flow_tx *f, u64 rtt)
{
	u64 delta;

	if (!f->srtt) {
		f->srtt = rtt;
		f->rttvar = rtt / 2;
	} else {
		delta = rtt > f->srtt ? rtt - f->srtt : f->srtt - rtt;
		f->rttvar = (3 * f->rttvar + delta) / 4;
		f->srtt = (7 * f->srtt + rtt) / 8;
	}
	f->rto = clamp_t(u64, f->srtt + max_t(u64, 4 * f->rttvar, NSEC_PER_MSEC),
			 LAMPORT_RDM_RTO_MIN, LAMPORT_RDM_RTO_MAX);
}

static void lamport_flow_grow(struct lamport_flow_tx *f, u32 acked)
{
	if (f->recovery)
		return;
	while (acked--) {
		if (f->cwnd < f->ssthresh) {
			f->cwnd++;
		} else if (++f->cwnd_cnt >= f->cwnd) {
			f->cwnd_cnt = 0;
			f->cwnd++;
		}
	}
	f->cwnd = min_t(u32, f->cwnd, LAMPORT_RDM_CWND_MAX);
}

static void lamport_flow_enter_recovery(struct lamport_flow_tx *f)
{
	if (f->recovery)
		return;
	f->recovery = true;
	f->recover = f->snd_nxt - 1;
	f->ssthresh = max_t(u32, f->cwnd / 2, 2);
	f->cwnd = f->ssthresh;
	f->cwnd_cnt = 0;
}

/*
 * A message sent once that DUPTHRESH later messages overtook is lost: it
 * is taken out of flight, so that push sends it again.
 */
static void lamport_flow_detect_loss(struct lamport_flow_tx *f)
{
	struct lamport_tx_cb *cb;
	struct sk_buff *skb;
	u32 sacked_above = 0;

	if (f->sacked < LAMPORT_RDM_DUPTHRESH)
		return;
	skb_queue_reverse_walk(&f->queue, skb) {
		cb = LAMPORT_TX_CB(skb);
		if (cb->sacked) {
			sacked_above++;
		} else if (cb->in_flight && cb->tx_count == 1 &&
			   sacked_above >= LAMPORT_RDM_DUPTHRESH) {
			lamport_tx_unflight(f, cb);
			lamport_tx_set_lost(f, cb);
			f->fast_retransmits++;
			lamport_flow_enter_recovery(f);
		}
	}
}

static void lamport_flow_sack(struct lamport_flow_tx *f, u32 cum, u64 sack)
{
	struct lamport_tx_cb *cb;
	struct sk_buff *skb;
	u32 bit;

	if (!sack)
		return;
	skb_queue_walk(&f->queue, skb) {
		cb = LAMPORT_TX_CB(skb);
		if (!seq_before(cb->seq, f->snd_nxt))
			break;		/* never sent: a forged or broken ack */
		bit = cb->seq - cum - 2;
		if (bit >= LP_SACK_BITS)
			continue;
		if ((sack >> bit) & 1 && !cb->sacked) {
			lamport_tx_unflight(f, cb);
			lamport_tx_clear_lost(f, cb);
			cb->sacked = true;
			f->sacked++;
		}
	}
}

static void lamport_flow_ack(struct lamport_sock *lsk,
			     struct lamport_flow_tx *f, const struct lp_ack *a,
			     struct sk_buff_head *xq)
{
	u64 now = ktime_get_ns(), rtt_from = 0;
	struct lamport_tx_cb *cb;
	struct sk_buff *skb;
	u32 acked = 0;

	while ((skb = skb_peek(&f->queue)) &&
	       !seq_before(a->cum_ack, LAMPORT_TX_CB(skb)->seq)) {
		cb = LAMPORT_TX_CB(skb);
		/* Karn: not after a retransmission, nor a repair's wait. */
		if (cb->tx_count == 1 && !cb->sacked)
			rtt_from = cb->tx_ns;
		lamport_tx_unflight(f, cb);
		lamport_tx_clear_lost(f, cb);
		if (cb->sacked)
			f->sacked--;
		__skb_unlink(skb, &f->queue);
		consume_skb(skb);	/* frees send buffer: wakes writers */
		acked++;
	}
	if (!seq_before(a->cum_ack + 1, f->snd_una)) {
		f->snd_una = a->cum_ack + 1;
		f->rwnd = a->wnd;	/* not from an ack overtaken by a newer */
	}
	lamport_flow_sack(f, a->cum_ack, a->sack);
	f->last_ns = now;
	/* Any ack shows the receiver alive, even one whose window is shut. */
	f->timeouts = 0;

	if (acked) {
		if (rtt_from)
			lamport_flow_rtt(f, now - rtt_from);
		lamport_flow_grow(f, acked);
		f->deadline = f->in_flight ? now + f->rto : 0;
	}
	if (f->recovery && seq_before(f->recover, f->snd_una))
		f->recovery = false;
	lamport_flow_detect_loss(f);
	lamport_flow_push(lsk, f, now, xq);
	if (skb_queue_empty(&f->queue))
		wake_up_interruptible_all(sk_sleep(&lsk->sk));
}

void lamport_rdm_ack_receive(struct lamport_net *ln, const struct lp_hdr *hdr,
			     struct sk_buff *skb)
{
	struct lamport_flow_tx *f;
	struct lamport_sock *lsk;
	struct sk_buff_head xq;
	u8 body[LP_ACK_LEN];
	struct lp_ack a;

	if (skb->len != LP_WIRE_HDR_LEN + LP_ACK_LEN ||
	    skb_copy_bits(skb, LP_WIRE_HDR_LEN, body, LP_ACK_LEN) ||
	    !lp_ack_get(body, LP_ACK_LEN, &a)) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_LENGTH);
		goto out;
	}
	lsk = lamport_sock_lookup(ln, SOCK_RDM, a.dst_port);
	if (!lsk) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_PORT);
		goto out;
	}
	__skb_queue_head_init(&xq);
	spin_lock(&lsk->lock);
	f = lsk->dead ? NULL :
	    lamport_flow_tx_find(lsk, hdr->sender, a.src_port, a.epoch);
	/* An ack for what was never sent is forged or from another life. */
	if (!f || !seq_before(a.cum_ack, f->snd_nxt)) {
		spin_unlock(&lsk->lock);
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_FLOW);
		goto out;
	}
	if (a.flags & LP_ACK_F_RESET)
		lamport_flow_fail(lsk, f, ECONNRESET);
	else
		lamport_flow_ack(lsk, f, &a, &xq);
	spin_unlock(&lsk->lock);
	lamport_rdm_flush(ln, &xq);
out:
	consume_skb(skb);
}

/* After a timeout nothing is known to be in flight any more. */
static void lamport_flow_all_lost(struct lamport_flow_tx *f)
{
	struct lamport_tx_cb *cb;
	struct sk_buff *skb;

	skb_queue_walk(&f->queue, skb) {
		cb = LAMPORT_TX_CB(skb);
		if (cb->in_flight) {
			lamport_tx_unflight(f, cb);
			lamport_tx_set_lost(f, cb);
		}
	}
}

/* The retransmission timer of a flow expired at now. */
static void lamport_flow_timeout(struct lamport_sock *lsk,
				 struct lamport_flow_tx *f, u64 now,
				 struct sk_buff_head *xq)
{
	struct lamport_tx_cb *cb;
	struct sk_buff *skb;

	f->deadline = 0;
	f->nr_timeouts++;
	if (++f->timeouts >= LAMPORT_RDM_RETRIES) {
		lamport_flow_fail(lsk, f, ETIMEDOUT);
		return;
	}
	f->rto = min_t(u64, f->rto * 2, LAMPORT_RDM_RTO_MAX);
	if (!f->in_flight || f->zero_window) {
		/*
		 * The receiver's window is shut: probe with one message. That
		 * is flow control, not congestion; any answer resets the count.
		 */
		lamport_flow_all_lost(f);
		skb_queue_walk(&f->queue, skb) {
			cb = LAMPORT_TX_CB(skb);
			if (!cb->sacked) {
				lamport_tx_ack_now(lamport_tx_send(f, skb, now,
								   xq));
				break;
			}
		}
		f->deadline = now + f->rto;
		lamport_rdm_arm(lsk, f->deadline);
		return;
	}
	f->ssthresh = max_t(u32, f->in_flight / 2, 2);
	f->cwnd = 1;
	f->cwnd_cnt = 0;
	f->recovery = true;
	f->recover = f->snd_nxt - 1;
	lamport_flow_all_lost(f);
	lamport_flow_push(lsk, f, now, xq);
}

static void lamport_rdm_ack(struct lamport_sock *lsk, struct lamport_flow_rx *f,
			    struct sk_buff_head *xq);

/* The acks held back for more messages are due. */
static void lamport_rdm_delayed_acks(struct lamport_sock *lsk,
				     struct sk_buff_head *xq)
{
	struct lamport_flow_rx *f;
	int bkt;

	lsk->ack_deadline = 0;
	hash_for_each(lsk->rx_flows, bkt, f, hnode)
		if (f->unacked)
			lamport_rdm_ack(lsk, f, xq);
}

static enum hrtimer_restart lamport_rdm_timer(struct hrtimer *timer)
{
	struct lamport_sock *lsk = container_of(timer, struct lamport_sock,
						timer);
	struct lamport_flow_tx *f;
	struct hlist_node *tmp;
	u64 now = ktime_get_ns();
	struct sk_buff_head xq;
	int bkt;

	__skb_queue_head_init(&xq);
	spin_lock(&lsk->lock);
	if (!lsk->dead) {
		hash_for_each_safe(lsk->tx_flows, bkt, tmp, f, hnode)
			if (f->deadline && f->deadline <= now)
				lamport_flow_timeout(lsk, f, now, &xq);
		hash_for_each(lsk->tx_flows, bkt, f, hnode)
			lamport_rdm_arm(lsk, f->deadline);
		if (lsk->ack_deadline && lsk->ack_deadline <= now)
			lamport_rdm_delayed_acks(lsk, &xq);
		lamport_rdm_arm(lsk, lsk->ack_deadline);
	}
	spin_unlock(&lsk->lock);
	lamport_rdm_flush(lsk->ln, &xq);
	return HRTIMER_NORESTART;
}

static void lamport_flow_rx_free(struct lamport_sock *lsk,
				 struct lamport_flow_rx *f)
{
	hash_del(&f->hnode);
	lsk->nrx--;
	__skb_queue_purge(&f->ooo);
	kfree(f);
}

static struct lamport_flow_rx *lamport_flow_rx_find(struct lamport_sock *lsk,
						    u32 node, u16 port,
						    u32 epoch)
{
	struct lamport_flow_rx *f;

	hash_for_each_possible(lsk->rx_flows, f, hnode,
			       lamport_flow_hash(node, port))
		if (f->node == node && f->port == port && f->epoch == epoch)
			return f;
	return NULL;
}

static struct lamport_flow_rx *lamport_flow_rx_new(struct lamport_sock *lsk,
						   u32 node, u16 port,
						   u32 epoch, u64 now)
{
	struct lamport_flow_rx *f;
	struct hlist_node *tmp;
	int bkt;

	if (lsk->nrx >= LAMPORT_RDM_FLOWS_MAX)
		hash_for_each_safe(lsk->rx_flows, bkt, tmp, f, hnode)
			if (now - f->last_ns > LAMPORT_RDM_FLOW_IDLE)
				lamport_flow_rx_free(lsk, f);
	if (lsk->nrx >= LAMPORT_RDM_FLOWS_MAX)
		return NULL;
	f = kzalloc(sizeof(*f), GFP_ATOMIC);
	if (!f)
		return NULL;
	f->node = node;
	f->port = port;
	f->epoch = epoch;
	f->rcv_nxt = 1;
	__skb_queue_head_init(&f->ooo);
	hash_add(lsk->rx_flows, &f->hnode, lamport_flow_hash(node, port));
	lsk->nrx++;
	return f;
}

static void lamport_rdm_rfree(struct sk_buff *skb)
{
	struct lamport_sock *lsk = lamport_sk(skb->sk);

	atomic_sub(LP_RDM_COST(skb->len), &lsk->rx_cost);
}

/* Charges a payload-only skb to the socket's receive buffer. */
static void lamport_rdm_charge(struct lamport_sock *lsk, struct sk_buff *skb)
{
	skb_orphan(skb);
	skb->sk = &lsk->sk;
	skb->destructor = lamport_rdm_rfree;
	atomic_add(LP_RDM_COST(skb->len), &lsk->rx_cost);
}

static void lamport_rdm_deliver(struct lamport_sock *lsk,
				struct lamport_flow_rx *f, struct sk_buff *skb)
{
	skb_queue_tail(&lsk->sk.sk_receive_queue, skb);
	f->rcv_nxt++;
	f->delivered++;
	lamport_sock_count(lsk, LAMPORT_SOCK_STAT_RX);
	lsk->sk.sk_data_ready(&lsk->sk);
}

static void lamport_ooo_insert(struct lamport_flow_rx *f, struct sk_buff *skb)
{
	u32 seq = LAMPORT_CB(skb)->seq;
	struct sk_buff *pos;

	skb_queue_reverse_walk(&f->ooo, pos)
		if (seq_before(LAMPORT_CB(pos)->seq, seq)) {
			__skb_queue_after(&f->ooo, pos, skb);
			return;
		}
	__skb_queue_head(&f->ooo, skb);
}

static bool lamport_ooo_holds(struct lamport_flow_rx *f, u32 seq)
{
	struct sk_buff *pos;

	skb_queue_walk(&f->ooo, pos)
		if (LAMPORT_CB(pos)->seq == seq)
			return true;
	return false;
}

static u32 lamport_rdm_free_space(struct lamport_sock *lsk)
{
	int free = READ_ONCE(lsk->sk.sk_rcvbuf) - atomic_read(&lsk->rx_cost);

	return max(free, 0);
}

/* The acknowledgement of flow f as it stands, for its sender. */
static void lamport_rdm_ack(struct lamport_sock *lsk, struct lamport_flow_rx *f,
			    struct sk_buff_head *xq)
{
	struct lp_ack a = {
		.src_port = lsk->port,
		.dst_port = f->port,
		.epoch = f->epoch,
		.cum_ack = f->rcv_nxt - 1,
		.wnd = lamport_rdm_free_space(lsk),
	};
	struct sk_buff *skb, *pos;
	u32 bit;

	f->unacked = 0;
	skb_queue_walk(&f->ooo, pos) {
		bit = LAMPORT_CB(pos)->seq - f->rcv_nxt - 1;
		if (bit < LP_SACK_BITS)
			a.sack |= 1ULL << bit;
	}
	f->window_closed = a.wnd < LP_RDM_COST(LAMPORT_MSG_MAX);
	if (f->window_closed)
		lsk->window_closed = true;

	skb = lamport_msg_alloc(LP_WIRE_HDR_LEN + LP_ACK_LEN, GFP_ATOMIC);
	if (!skb)
		return;
	lp_ack_put(skb_put(skb, LP_ACK_LEN), &a);
	lamport_msg_push_hdr(skb, LP_MSG_RDM_ACK, lamport_node_id(lsk->ln),
			     f->node);
	LAMPORT_CB(skb)->node = f->node;
	__skb_queue_tail(xq, skb);
}

static void lamport_rdm_delay_ack(struct lamport_sock *lsk)
{
	lsk->ack_deadline = ktime_get_ns() + LAMPORT_RDM_ACK_DELAY;
	lamport_rdm_arm(lsk, lsk->ack_deadline);
}

/*
 * A message of a flow this socket does not know, from past where a new
 * flow can begin: the socket was reopened, or forgot an idle flow. Its
 * sender hears that the flow is gone instead of retrying forever.
 */
static void lamport_rdm_reset(struct lamport_sock *lsk, u32 node, u16 port,
			      u32 epoch, struct sk_buff_head *xq)
{
	struct lp_ack a = {
		.src_port = lsk->port,
		.dst_port = port,
		.flags = LP_ACK_F_RESET,
		.epoch = epoch,
	};
	struct sk_buff *skb;

	skb = lamport_msg_alloc(LP_WIRE_HDR_LEN + LP_ACK_LEN, GFP_ATOMIC);
	if (!skb)
		return;
	lp_ack_put(skb_put(skb, LP_ACK_LEN), &a);
	lamport_msg_push_hdr(skb, LP_MSG_RDM_ACK, lamport_node_id(lsk->ln),
			     node);
	LAMPORT_CB(skb)->node = node;
	__skb_queue_tail(xq, skb);
}

static struct lamport_flow_rx *lamport_flow_rx_get(struct lamport_sock *lsk,
						   const struct lp_hdr *hdr,
						   const struct lp_msg *m,
						   struct sk_buff_head *xq)
{
	struct lamport_flow_rx *f;

	if (lsk->dead)
		return NULL;
	f = lamport_flow_rx_find(lsk, hdr->sender, m->src_port, m->epoch);
	if (f)
		return f;
	if (m->seq > LP_SACK_BITS + 1) {
		lamport_rdm_reset(lsk, hdr->sender, m->src_port, m->epoch, xq);
		return NULL;
	}
	f = lamport_flow_rx_new(lsk, hdr->sender, m->src_port, m->epoch,
				ktime_get_ns());
	if (!f)
		lamport_sock_count(lsk, LAMPORT_SOCK_STAT_DROP_FLOWS);
	return f;
}

/*
 * Takes a message of flow f: delivers, holds, or drops it. True when it
 * was the next in order and nothing waits behind a gap: then the ack may
 * wait for the next message.
 */
static bool lamport_flow_rx_take(struct lamport_sock *lsk,
				 struct lamport_flow_rx *f, struct sk_buff *skb)
{
	u32 seq = LAMPORT_CB(skb)->seq;

	if (seq_before(seq, f->rcv_nxt) || lamport_ooo_holds(f, seq)) {
		f->duplicates++;
		goto drop;
	}
	if (seq - f->rcv_nxt > LP_SACK_BITS ||
	    atomic_read(&lsk->rx_cost) + LP_RDM_COST(skb->len) >
	    READ_ONCE(lsk->sk.sk_rcvbuf)) {
		f->window_drops++;
		goto drop;
	}
	lamport_rdm_charge(lsk, skb);
	if (seq != f->rcv_nxt) {
		lamport_ooo_insert(f, skb);
		return false;
	}
	lamport_rdm_deliver(lsk, f, skb);
	while ((skb = skb_peek(&f->ooo)) && LAMPORT_CB(skb)->seq == f->rcv_nxt) {
		__skb_unlink(skb, &f->ooo);
		lamport_rdm_deliver(lsk, f, skb);
	}
	return skb_queue_empty(&f->ooo);
drop:
	kfree_skb(skb);
	return false;
}

void lamport_rdm_receive(struct lamport_net *ln, const struct lp_hdr *hdr,
			 struct sk_buff *skb)
{
	struct lamport_flow_rx *f;
	struct lamport_sock *lsk;
	struct sk_buff_head xq;
	struct lp_msg m;

	if (!pskb_may_pull(skb, LP_WIRE_HDR_LEN + LP_RDM_HDR_LEN) ||
	    !lp_msg_get(skb->data + LP_WIRE_HDR_LEN,
			skb->len - LP_WIRE_HDR_LEN, &m, true)) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_LENGTH);
		goto drop;
	}
	lsk = lamport_sock_lookup(ln, SOCK_RDM, m.dst_port);
	if (!lsk) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_PORT);
		goto drop;
	}
	__skb_pull(skb, LP_WIRE_HDR_LEN + LP_RDM_HDR_LEN);
	*LAMPORT_CB(skb) = (struct lamport_cb) {
		.stamp = m.stamp,
		.node = hdr->sender,
		.port = m.src_port,
		.seq = m.seq,
	};

	__skb_queue_head_init(&xq);
	spin_lock(&lsk->lock);
	f = lamport_flow_rx_get(lsk, hdr, &m, &xq);
	if (f) {
		f->last_ns = ktime_get_ns();
		/*
		 * In order, one ack for several messages unless the sender
		 * waits for it; the rest after LAMPORT_RDM_ACK_DELAY.
		 */
		if (!lamport_flow_rx_take(lsk, f, skb) ||
		    (m.flags & LP_RDM_F_ACK_NOW) ||
		    ++f->unacked >= LAMPORT_RDM_ACK_EVERY)
			lamport_rdm_ack(lsk, f, &xq);
		else if (!lsk->ack_deadline)
			lamport_rdm_delay_ack(lsk);
	}
	spin_unlock(&lsk->lock);
	lamport_rdm_flush(ln, &xq);
	if (!f)
		kfree_skb(skb);
	return;
drop:
	kfree_skb(skb);
}

/*
 * The reader made room: senders told the window was closed hear that it
 * opened, rather than wait for their next probe.
 */
void lamport_rdm_read(struct lamport_sock *lsk)
{
	struct lamport_flow_rx *f;
	struct sk_buff_head xq;
	int bkt;

	if (!READ_ONCE(lsk->window_closed) ||
	    lamport_rdm_free_space(lsk) < READ_ONCE(lsk->sk.sk_rcvbuf) / 2)
		return;
	__skb_queue_head_init(&xq);
	spin_lock_bh(&lsk->lock);
	lsk->window_closed = false;
	hash_for_each(lsk->rx_flows, bkt, f, hnode)
		if (f->window_closed)
			lamport_rdm_ack(lsk, f, &xq);
	spin_unlock_bh(&lsk->lock);
	lamport_rdm_flush(lsk->ln, &xq);
}

bool lamport_rdm_drained(struct lamport_sock *lsk)
{
	struct lamport_flow_tx *f;
	bool drained = true;
	int bkt;

	spin_lock_bh(&lsk->lock);
	hash_for_each(lsk->tx_flows, bkt, f, hnode)
		if (!skb_queue_empty(&f->queue))
			drained = false;
	spin_unlock_bh(&lsk->lock);
	return drained;
}

/*
 * Flows to node fail now with err: EHOSTDOWN when the failure detector
 * declared it dead, EHOSTUNREACH when it stopped being a peer.
 */
void lamport_rdm_peer_gone(struct lamport_net *ln, u32 node, int err)
{
	struct lamport_flow_tx *f;
	struct lamport_sock *lsk;
	struct hlist_node *tmp;
	int bkt;

	spin_lock_bh(&ln->sock_lock);
	list_for_each_entry(lsk, &ln->socks, node) {
		if (lsk->sk.sk_type != SOCK_RDM)
			continue;
		spin_lock(&lsk->lock);
		hash_for_each_safe(lsk->tx_flows, bkt, tmp, f, hnode)
			if (f->node == node)
				lamport_flow_fail(lsk, f, err);
		spin_unlock(&lsk->lock);
	}
	spin_unlock_bh(&ln->sock_lock);
}

void lamport_rdm_init(struct lamport_sock *lsk)
{
	spin_lock_init(&lsk->lock);
	hash_init(lsk->tx_flows);
	hash_init(lsk->rx_flows);
	hrtimer_init(&lsk->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	lsk->timer.function = lamport_rdm_timer;
}

/* The socket is closing: no timer, no flow, nothing held. */
void lamport_rdm_release(struct lamport_sock *lsk)
{
	struct lamport_flow_tx *ftx;
	struct lamport_flow_rx *frx;
	struct hlist_node *tmp;
	int bkt;

	spin_lock_bh(&lsk->lock);
	lsk->dead = true;
	spin_unlock_bh(&lsk->lock);
	hrtimer_cancel(&lsk->timer);

	spin_lock_bh(&lsk->lock);
	hash_for_each_safe(lsk->tx_flows, bkt, tmp, ftx, hnode)
		lamport_flow_tx_free(lsk, ftx);
	hash_for_each_safe(lsk->rx_flows, bkt, tmp, frx, hnode)
		lamport_flow_rx_free(lsk, frx);
	spin_unlock_bh(&lsk->lock);
}

static int lamport_put_stats(struct sk_buff *skb, const u64 *v, int max)
{
	struct nlattr *nest = nla_nest_start(skb, LAMPORT_A_FLOW_STATS);
	int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = LAMPORT_FLOW_STAT_SND_UNA; i <= max; i++)
		if (v[i] != U64_MAX &&
		    nla_put_u64_64bit(skb, i, v[i], LAMPORT_FLOW_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int lamport_fill_flow(struct sk_buff *skb, u8 dir, u32 node, u16 port,
			     const u64 *v)
{
	struct nlattr *nest = nla_nest_start(skb, LAMPORT_A_SOCK_FLOW);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u8(skb, LAMPORT_A_FLOW_DIR, dir) ||
	    nla_put_u32(skb, LAMPORT_A_FLOW_NODE, node) ||
	    nla_put_u16(skb, LAMPORT_A_FLOW_PORT, port) ||
	    lamport_put_stats(skb, v, LAMPORT_FLOW_STAT_MAX)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static void lamport_flow_tx_stats(const struct lamport_flow_tx *f, u64 *v)
{
	v[LAMPORT_FLOW_STAT_SND_UNA] = f->snd_una;
	v[LAMPORT_FLOW_STAT_SND_NXT] = f->snd_nxt;
	v[LAMPORT_FLOW_STAT_QUEUED] = skb_queue_len(&f->queue);
	v[LAMPORT_FLOW_STAT_IN_FLIGHT] = f->in_flight;
	v[LAMPORT_FLOW_STAT_CWND] = f->cwnd;
	v[LAMPORT_FLOW_STAT_SSTHRESH] = f->ssthresh;
	v[LAMPORT_FLOW_STAT_RWND] = f->rwnd;
	v[LAMPORT_FLOW_STAT_SRTT_NS] = f->srtt;
	v[LAMPORT_FLOW_STAT_RTTVAR_NS] = f->rttvar;
	v[LAMPORT_FLOW_STAT_RTO_NS] = f->rto;
	v[LAMPORT_FLOW_STAT_RETRANSMITS] = f->retransmits;
	v[LAMPORT_FLOW_STAT_TIMEOUTS] = f->nr_timeouts;
	v[LAMPORT_FLOW_STAT_FAST_RETRANSMITS] = f->fast_retransmits;
	v[LAMPORT_FLOW_STAT_ZERO_WINDOW] = f->zero_windows;
}

static void lamport_flow_rx_stats(const struct lamport_flow_rx *f, u64 *v)
{
	v[LAMPORT_FLOW_STAT_RCV_NXT] = f->rcv_nxt;
	v[LAMPORT_FLOW_STAT_OUT_OF_ORDER] = skb_queue_len(&f->ooo);
	v[LAMPORT_FLOW_STAT_DUPLICATES] = f->duplicates;
	v[LAMPORT_FLOW_STAT_DELIVERED] = f->delivered;
	v[LAMPORT_FLOW_STAT_WINDOW_DROPS] = f->window_drops;
}

/*
 * The flows of an RDM socket, for LAMPORT_CMD_SOCK_GET: as many as fit in
 * the socket's one message (over a hundred), the rest left out.
 */
int lamport_rdm_fill_flows(struct sk_buff *skb, struct lamport_sock *lsk)
{
	u64 v[LAMPORT_FLOW_STAT_MAX + 1];
	struct lamport_flow_tx *ftx;
	struct lamport_flow_rx *frx;
	int bkt;

	spin_lock_bh(&lsk->lock);
	hash_for_each(lsk->tx_flows, bkt, ftx, hnode) {
		memset(v, 0xff, sizeof(v));
		lamport_flow_tx_stats(ftx, v);
		if (lamport_fill_flow(skb, LAMPORT_FLOW_TX, ftx->node,
				      ftx->port, v))
			goto out;
	}
	hash_for_each(lsk->rx_flows, bkt, frx, hnode) {
		memset(v, 0xff, sizeof(v));
		lamport_flow_rx_stats(frx, v);
		if (lamport_fill_flow(skb, LAMPORT_FLOW_RX, frx->node,
				      frx->port, v))
			goto out;
	}
out:
	spin_unlock_bh(&lsk->lock);
	return 0;
}
