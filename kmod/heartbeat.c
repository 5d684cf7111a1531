// SPDX-License-Identifier: GPL-2.0
/*
 * Heartbeats and the failure detector's clock work.
 *
 * Both per-peer timers are hard hrtimers whose only job is to hand the work
 * to the peer's HI tasklet, which sends or decides in softirq context. Soft
 * hrtimers would do on recent kernels, but before 6.5 a softirq raised while
 * ksoftirqd is runnable waits for ksoftirqd (a SCHED_OTHER thread) unless it
 * is HI or TASKLET: under real-time load that is most of a second, measured
 * by lamport bench fd on 6.1. HI always runs at interrupt exit, and takes
 * the other pending softirqs (our receive path too) along.
 *
 * Timers are re-armed only under the peer's lock, and never once the peer
 * is removed.
 */

#include <linux/random.h>
#include <net/ipv6.h>

#include "lamport.h"
#include "socket.h"
#include "core/wire.h"
#include "trace.h"

static_assert((int)LP_ALIVE == LAMPORT_PEER_ALIVE && (int)LP_DEAD == LAMPORT_PEER_DEAD);
static_assert((int)LP_PHI == LAMPORT_FD_PHI && (int)LP_R_CONFIG == LAMPORT_REASON_CONFIG);

void lamport_heartbeat_start(struct lamport_peer *peer)
{
	u64 first;

	spin_lock_bh(&peer->lock);
	first = lp_tx_first_ns(peer->interval_us, get_random_u32_below(1 << 16));
	if (!peer->removed)
		hrtimer_start(&peer->tx_timer, ns_to_ktime(first),
			      HRTIMER_MODE_REL_HARD);
	spin_unlock_bh(&peer->lock);
}

/*
 * A state change leaves the peer's lock: RDM flows to a dead peer fail,
 * and userspace hears of it.
 */
static void lamport_report(struct lamport_net *ln,
			   const struct lamport_event *ev)
{
	if (ev->new_state == LP_DEAD)
		lamport_rdm_peer_gone(ln, ev->peer_id, EHOSTDOWN);
	lamport_notify_event(ln, ev);
}

static void lamport_transition(struct lamport_peer *peer, u8 state, u8 reason,
			       u64 now, struct lamport_event *ev)
{
	struct lp_detect *d = &peer->detect;

	lockdep_assert_held(&peer->lock);

	ev->peer_id = peer->id;
	ev->old_state = d->state;
	ev->new_state = state;
	ev->reason = reason;
	ev->time_ns = now;
	ev->last_rx_ns = d->last_rx_ns;
	ev->detect_ns = lp_detect_in_force_ns(d);

	if (d->state == LP_DEAD && state == LP_ALIVE)
		peer->stats[LAMPORT_PEER_STAT_RECOVERIES]++;
	peer->stats[LAMPORT_PEER_STAT_TRANSITIONS]++;
	WRITE_ONCE(d->state, state);
	peer->state_since_ns = now;
	trace_lamport_peer_state(peer->ln->net->ns.inum, peer->id, ev->old_state,
				 state, reason,
				 d->last_rx_ns ? now - d->last_rx_ns : 0);
}

/*
 * Applies the verdict at now and arms the timer for the next deadline.
 * cause overrides the verdict's reason (a reconfiguration); 0 keeps it.
 */
static bool lamport_detect_evaluate(struct lamport_peer *peer, u64 now,
				    u8 cause, struct lamport_event *ev)
{
	struct lp_detect *d = &peer->detect;
	bool changed = false;
	u8 state, reason;
	u64 next;

	lockdep_assert_held(&peer->lock);

	state = lp_detect_verdict(d, now, &reason);
	if (state != d->state && state != LP_UNKNOWN) {
		lamport_transition(peer, state, cause ?: reason, now, ev);
		changed = true;
	}
	next = lp_detect_next_deadline(d);
	if (next)
		hrtimer_start(&peer->detect_timer, ns_to_ktime(next),
			      HRTIMER_MODE_ABS_HARD);
	return changed;
}

static void lamport_detect_expired(struct lamport_peer *peer)
{
	struct lamport_event ev;
	bool report = false;

	spin_lock(&peer->lock);
	if (!peer->removed)
		report = lamport_detect_evaluate(peer, ktime_get_ns(), 0, &ev);
	spin_unlock(&peer->lock);
	if (report)
		lamport_report(peer->ln, &ev);
}

/* After a configuration change: decide again, now. */
void lamport_detect_rearm(struct lamport_peer *peer)
{
	struct lamport_event ev;
	bool report = false;

	spin_lock_bh(&peer->lock);
	if (!peer->removed)
		report = lamport_detect_evaluate(peer, ktime_get_ns(),
						 LP_R_CONFIG, &ev);
	spin_unlock_bh(&peer->lock);
	if (report)
		lamport_report(peer->ln, &ev);
}

static void lamport_heartbeat_send(struct lamport_peer *peer)
{
	struct lamport_net *ln = peer->ln;
	u8 msg[LP_WIRE_HEARTBEAT_LEN];
	struct lp_heartbeat hb = {};
	struct lamport_addr to;
	struct lp_hdr hdr = {
		.type = LP_MSG_HEARTBEAT,
		.length = LP_WIRE_HEARTBEAT_LEN,
		.sender = lamport_node_id(ln),
	};
	u64 now;

	spin_lock(&peer->lock);
	if (peer->removed) {
		spin_unlock(&peer->lock);
		return;
	}
	now = ktime_get_ns();
	hdr.receiver = peer->id;
	hb.epoch = peer->tx_epoch;
	hb.seq = ++peer->tx_seq;
	hb.interval_us = peer->interval_us;
	hb.mult = peer->mult;
	hb.tx_ns = now;
	if (peer->echo_seq) {
		hb.echo_seq = peer->echo_seq;
		hb.echo_tx_ns = peer->echo_tx_ns;
		hb.echo_hold_ns = now - peer->echo_rx_ns;
	}
	to = peer->addr;
	peer->stats[LAMPORT_PEER_STAT_TX]++;
	hrtimer_start(&peer->tx_timer,
		      ns_to_ktime(lp_tx_interval_ns(peer->interval_us,
						    get_random_u32_below(1 << 16))),
		      HRTIMER_MODE_REL_HARD);
	spin_unlock(&peer->lock);

	lp_hdr_put(msg, &hdr);
	lp_heartbeat_put(msg + LP_WIRE_HDR_LEN, &hb);
	lamport_udp_send(ln, &to, msg, sizeof(msg));
	trace_lamport_heartbeat_send(ln->net->ns.inum, peer->id, hb.seq);
}

static void lamport_peer_work(struct tasklet_struct *t)
{
	struct lamport_peer *peer = from_tasklet(peer, t, work);

	if (test_and_clear_bit(LAMPORT_DUE_TX, &peer->due))
		lamport_heartbeat_send(peer);
	if (test_and_clear_bit(LAMPORT_DUE_DETECT, &peer->due))
		lamport_detect_expired(peer);
}

/* Hard interrupt context: mark the work due, nothing else. */
static enum hrtimer_restart lamport_tx_timer(struct hrtimer *timer)
{
	struct lamport_peer *peer = container_of(timer, struct lamport_peer,
						 tx_timer);

	set_bit(LAMPORT_DUE_TX, &peer->due);
	tasklet_hi_schedule(&peer->work);
	return HRTIMER_NORESTART;
}

static enum hrtimer_restart lamport_detect_timer(struct hrtimer *timer)
{
	struct lamport_peer *peer = container_of(timer, struct lamport_peer,
						 detect_timer);

	set_bit(LAMPORT_DUE_DETECT, &peer->due);
	tasklet_hi_schedule(&peer->work);
	return HRTIMER_NORESTART;
}

/* A new peer: its timers, its work, and a fresh epoch for its sequence. */
void lamport_heartbeat_init(struct lamport_peer *peer)
{
	hrtimer_init(&peer->tx_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	peer->tx_timer.function = lamport_tx_timer;
	hrtimer_init(&peer->detect_timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	peer->detect_timer.function = lamport_detect_timer;
	tasklet_setup(&peer->work, lamport_peer_work);
	peer->tx_epoch = get_random_u32_below(0xffff) + 1;
}

/* Sequence bookkeeping; false for a duplicate, which tells nothing new. */
static bool lamport_track_seq(struct lamport_peer *peer,
			      const struct lp_heartbeat *hb)
{
	enum lp_seq_result res = lp_seq_track(&peer->rx, hb->epoch, hb->seq);

	if (res == LP_SEQ_DUP)
		peer->stats[LAMPORT_PEER_STAT_DUPLICATES]++;
	else if (res == LP_SEQ_LATE)
		peer->stats[LAMPORT_PEER_STAT_REORDERED]++;
	peer->stats[LAMPORT_PEER_STAT_LOST] = peer->rx.lost;
	return res != LP_SEQ_DUP;
}

/* RFC 6298 smoothing of the round trip the peer's echo gives us. */
static void lamport_track_rtt(struct lamport_peer *peer,
			      const struct lp_heartbeat *hb, u64 now)
{
	u64 rtt, delta;

	if (!hb->echo_seq || hb->echo_tx_ns > now ||
	    now - hb->echo_tx_ns <= hb->echo_hold_ns)
		return;
	rtt = now - hb->echo_tx_ns - hb->echo_hold_ns;
	if (rtt > 10ULL * NSEC_PER_SEC)
		return;
	if (!peer->srtt_ns) {
		peer->srtt_ns = rtt;
		peer->rttvar_ns = rtt / 2;
		peer->min_rtt_ns = rtt;
		return;
	}
	delta = rtt > peer->srtt_ns ? rtt - peer->srtt_ns : peer->srtt_ns - rtt;
	peer->rttvar_ns = (3 * peer->rttvar_ns + delta) / 4;
	peer->srtt_ns = (7 * peer->srtt_ns + rtt) / 8;
	peer->min_rtt_ns = min(peer->min_rtt_ns, rtt);
}

static bool lamport_heartbeat_apply(struct lamport_peer *peer,
				    const struct lp_heartbeat *hb,
				    struct lamport_event *ev)
{
	u32 interval = clamp_t(u32, hb->interval_us, LAMPORT_INTERVAL_MIN_US,
			       LAMPORT_INTERVAL_MAX_US);
	u8 mult = max_t(u8, hb->mult, LAMPORT_MULT_MIN);
	u64 now = ktime_get_ns();
	bool changed = false;

	lockdep_assert_held(&peer->lock);

	peer->stats[LAMPORT_PEER_STAT_RX]++;
	if (!lamport_track_seq(peer, hb))
		return false;
	lamport_track_rtt(peer, hb, now);
	peer->echo_seq = hb->seq;
	peer->echo_tx_ns = hb->tx_ns;
	peer->echo_rx_ns = now;

	lp_detect_heartbeat(&peer->detect, now, interval, mult);
	if (peer->detect.state != LP_ALIVE) {
		lamport_transition(peer, LP_ALIVE, LP_R_HEARTBEAT, now, ev);
		changed = true;
	}
	hrtimer_start(&peer->detect_timer,
		      ns_to_ktime(lp_detect_next_deadline(&peer->detect)),
		      HRTIMER_MODE_ABS_HARD);
	return changed;
}

static int lamport_wire_drop_stat(enum lp_wire_error err)
{
	switch (err) {
	case LP_WIRE_SHORT:
		return LAMPORT_NODE_STAT_DROP_SHORT;
	case LP_WIRE_BAD_MAGIC:
		return LAMPORT_NODE_STAT_DROP_MAGIC;
	case LP_WIRE_BAD_VERSION:
		return LAMPORT_NODE_STAT_DROP_VERSION;
	case LP_WIRE_BAD_TYPE:
		return LAMPORT_NODE_STAT_DROP_TYPE;
	default:
		return LAMPORT_NODE_STAT_DROP_LENGTH;
	}
}

/*
 * A datagram of len bytes (msg holds its first bytes, at least a whole
 * heartbeat if it is that long) from the node's port, in softirq context
 * under RCU. Nothing in it is trusted before every check has passed.
 */
void lamport_heartbeat_receive(struct lamport_net *ln,
			       const struct lamport_addr *from,
			       const u8 *msg, unsigned int len)
{
	struct lamport_peer *peer;
	struct lamport_event ev;
	struct lp_heartbeat hb;
	enum lp_wire_error err;
	bool report = false;
	struct lp_hdr hdr;

	err = lp_hdr_get(msg, len, &hdr);
	if (err != LP_WIRE_OK) {
		lamport_count(ln, lamport_wire_drop_stat(err));
		return;
	}
	if (!lp_heartbeat_get(msg + LP_WIRE_HDR_LEN, len - LP_WIRE_HDR_LEN, &hb)) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_LENGTH);
		return;
	}
	if (hdr.receiver != lamport_node_id(ln)) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_RECEIVER);
		return;
	}
	peer = lamport_peer_lookup(ln, hdr.sender);
	if (!peer) {
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_SENDER);
		return;
	}

	spin_lock(&peer->lock);
	if (peer->removed) {
		spin_unlock(&peer->lock);
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_SENDER);
		return;
	}
	if (!lamport_addr_equal(&peer->addr, from)) {
		spin_unlock(&peer->lock);
		lamport_count(ln, LAMPORT_NODE_STAT_DROP_ADDR);
		return;
	}
	report = lamport_heartbeat_apply(peer, &hb, &ev);
	spin_unlock(&peer->lock);

	trace_lamport_heartbeat_recv(ln->net->ns.inum, peer->id, hb.seq);
	if (report)
		lamport_report(ln, &ev);
}
