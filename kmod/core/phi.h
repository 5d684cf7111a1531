/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Phi-accrual failure detector (Hayashibara et al., 2004), fixed point.
 *
 * The detector keeps the last LP_PHI_WINDOW heartbeat inter-arrival
 * intervals of one peer, in microseconds, and turns the time elapsed since
 * the last heartbeat into a suspicion level phi = -log10(P(later)), where
 * P(later) is the probability that a heartbeat arrives even later than that
 * under a normal distribution fitted to the window. phi = 1 means a 10%
 * chance of a false suspicion, phi = 2 a 1% chance, and so on.
 *
 * No floating point: phi is returned multiplied by 1000 (milli-phi). No
 * locking either: the caller serialises access to one struct lp_phi.
 */
#ifndef LAMPORT_CORE_PHI_H
#define LAMPORT_CORE_PHI_H

#include "compat.h"

/* Intervals kept per peer; a power of two. */
#define LP_PHI_WINDOW		64

/*
 * Longest interval recorded (60 s); longer ones are clamped to it, and so is
 * the min_stddev_us argument of lp_phi_milli(). With it the exact sums below
 * cannot overflow: LP_PHI_WINDOW * 60e6 < 2^32, and even
 * (LP_PHI_WINDOW * 60e6)^2 = 1.5e19 < 2^64.
 */
#define LP_PHI_MAX_INTERVAL_US	60000000U

/* Largest value lp_phi_milli() returns: phi = 1000 (P(later) = 1e-1000). */
#define LP_PHI_MILLI_MAX	1000000U

struct lp_phi {
	u32 samples[LP_PHI_WINDOW];	/* ring of intervals, microseconds */
	u32 count;			/* samples held, <= LP_PHI_WINDOW */
	u32 head;			/* slot the next sample goes to */
	u64 sum;			/* exact sum of the samples held */
	u64 sumsq;			/* exact sum of their squares */
};

/* Empties the window. */
void lp_phi_init(struct lp_phi *p);

/* Records one inter-arrival interval, evicting the oldest if full. */
void lp_phi_add(struct lp_phi *p, u32 interval_us);

/* Mean of the window, rounded to the nearest microsecond; 0 if empty. */
u32 lp_phi_mean_us(const struct lp_phi *p);

/*
 * Population standard deviation of the window, rounded to the nearest
 * microsecond; 0 if empty.
 */
u32 lp_phi_stddev_us(const struct lp_phi *p);

/*
 * phi * 1000 for a heartbeat silence of elapsed_us, rounded to the nearest
 * integer and saturated at LP_PHI_MILLI_MAX; 0 if the window is empty. The
 * standard deviation used is the largest of the window's, min_stddev_us
 * and 1 us, so that a very regular peer is not suspected on the first
 * microsecond of lateness. Non-decreasing in elapsed_us.
 */
u32 lp_phi_milli(const struct lp_phi *p, u32 elapsed_us, u32 min_stddev_us);

/*
 * The deviation from the mean, in standard deviations (Q20), at which a
 * late heartbeat's phi first reaches phi_milli; and the elapsed time at which
 * the window reaches that deviation. Together they turn a threshold into a
 * deadline without evaluating phi on every tick.
 */
u32 lp_phi_y_for(u32 phi_milli);
u32 lp_phi_elapsed_at(const struct lp_phi *p, u32 y_q20, u32 min_stddev_us);

#endif /* LAMPORT_CORE_PHI_H */
