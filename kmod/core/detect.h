/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The failure detector's decisions, free of time sources, timers and locks:
 * the caller feeds heartbeats and asks for verdicts. Pure C, shared by the
 * module, the userspace twin and host tests.
 *
 * Detection time (as BFD, RFC 5880 6.8.4): T_D = M_r * max(I_r, I_l), with
 * M_r and I_r the multiplier and interval the peer advertises in its
 * heartbeats and I_l our own interval for that peer (BFD's Required Min RX
 * Interval). Fixed mode: suspect once T_D / 2 has passed without a
 * heartbeat, dead once T_D has. Phi mode: suspect at phi >= threshold / 2,
 * dead at phi >= threshold, with a minimum standard deviation of
 * max(I_r, I_l) / 2; until LP_PHI_MIN_SAMPLES inter-arrival times are known
 * the fixed rule applies.
 */
#ifndef _LAMPORT_CORE_DETECT_H
#define _LAMPORT_CORE_DETECT_H

#include "compat.h"
#include "phi.h"

/* Same numbers as enum lamport_peer_state, lamport_fd_mode, event reasons. */
enum lp_state { LP_UNKNOWN, LP_ALIVE, LP_SUSPECT, LP_DEAD };
enum lp_mode { LP_FIXED, LP_PHI };
enum lp_reason { LP_R_UNSPEC, LP_R_TIMEOUT, LP_R_PHI, LP_R_HEARTBEAT, LP_R_CONFIG };

#define LP_PHI_MIN_SAMPLES	3

struct lp_detect {
	u8 mode;
	u8 state;
	u8 remote_mult;
	u32 local_interval_us;
	u32 remote_interval_us;
	u32 threshold_milli;
	u32 y_suspect;		/* deviations (Q20) where phi hits threshold/2 */
	u32 y_dead;		/* ... and the threshold */
	u64 last_rx_ns;		/* 0: never */
	u64 suspect_at_ns;	/* absolute deadlines, valid once heard */
	u64 dead_at_ns;
	struct lp_phi phi;
};

/*
 * The transmit schedule, as BFD's (RFC 5880 6.8.7): each interval is
 * shortened by a random 0-25 %, so that peers never fall into step, and the
 * first heartbeat leaves at a random point of the first interval. r16 is a
 * uniform random number below 1 << 16.
 */
static inline u64 lp_tx_interval_ns(u32 interval_us, u32 r16)
{
	u64 ns = (u64)interval_us * 1000;

	return ns - (((ns / 4) * r16) >> 16);
}

static inline u64 lp_tx_first_ns(u32 interval_us, u32 r16)
{
	return ((u64)interval_us * 1000 * r16) >> 16;
}

void lp_detect_init(struct lp_detect *d, u8 mode, u32 local_interval_us,
		    u32 threshold_milli);
void lp_detect_configure(struct lp_detect *d, u8 mode, u32 local_interval_us,
			 u32 threshold_milli);
void lp_detect_heartbeat(struct lp_detect *d, u64 now_ns,
			 u32 remote_interval_us, u8 remote_mult);
u8 lp_detect_verdict(const struct lp_detect *d, u64 now_ns, u8 *reason);
u64 lp_detect_next_deadline(const struct lp_detect *d);
u64 lp_detect_time_ns(const struct lp_detect *d);
u64 lp_detect_in_force_ns(const struct lp_detect *d);
u32 lp_detect_phi_milli(const struct lp_detect *d, u64 now_ns);

#endif /* _LAMPORT_CORE_DETECT_H */
