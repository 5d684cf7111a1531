// SPDX-License-Identifier: GPL-2.0
/*
 * Failure detector decisions: see detect.h for the rules.
 */

#include "detect.h"

static u32 lp_max_u32(u32 a, u32 b)
{
	return a > b ? a : b;
}

static u32 lp_agreed_interval_us(const struct lp_detect *d)
{
	return lp_max_u32(d->remote_interval_us, d->local_interval_us);
}

static u32 lp_min_stddev_us(const struct lp_detect *d)
{
	return lp_agreed_interval_us(d) / 2;
}

static bool lp_uses_phi(const struct lp_detect *d)
{
	return d->mode == LP_PHI && d->phi.count >= LP_PHI_MIN_SAMPLES;
}

u64 lp_detect_time_ns(const struct lp_detect *d)
{
	if (!d->last_rx_ns)
		return 0;
	return (u64)d->remote_mult * lp_agreed_interval_us(d) * 1000;
}

/* The detection time in force, whichever mode set it; 0 before any heartbeat. */
u64 lp_detect_in_force_ns(const struct lp_detect *d)
{
	return d->last_rx_ns ? d->dead_at_ns - d->last_rx_ns : 0;
}

static void lp_detect_deadlines(struct lp_detect *d)
{
	u64 suspect, dead;

	if (!d->last_rx_ns)
		return;
	if (lp_uses_phi(d)) {
		u32 sd = lp_min_stddev_us(d);

		suspect = (u64)lp_phi_elapsed_at(&d->phi, d->y_suspect, sd) * 1000;
		dead = (u64)lp_phi_elapsed_at(&d->phi, d->y_dead, sd) * 1000;
	} else {
		dead = lp_detect_time_ns(d);
		suspect = dead / 2;
	}
	if (dead < suspect)
		dead = suspect;
	d->suspect_at_ns = d->last_rx_ns + suspect;
	d->dead_at_ns = d->last_rx_ns + dead;
}

void lp_detect_configure(struct lp_detect *d, u8 mode, u32 local_interval_us,
			 u32 threshold_milli)
{
	d->mode = mode;
	d->local_interval_us = local_interval_us;
	d->threshold_milli = threshold_milli;
	d->y_suspect = lp_phi_y_for(threshold_milli / 2);
	d->y_dead = lp_phi_y_for(threshold_milli);
	lp_detect_deadlines(d);
}

void lp_detect_init(struct lp_detect *d, u8 mode, u32 local_interval_us,
		    u32 threshold_milli)
{
	d->state = LP_UNKNOWN;
	d->remote_mult = 0;
	d->remote_interval_us = 0;
	d->last_rx_ns = 0;
	d->suspect_at_ns = 0;
	d->dead_at_ns = 0;
	lp_phi_init(&d->phi);
	lp_detect_configure(d, mode, local_interval_us, threshold_milli);
}

void lp_detect_heartbeat(struct lp_detect *d, u64 now_ns,
			 u32 remote_interval_us, u8 remote_mult)
{
	if (d->last_rx_ns && now_ns > d->last_rx_ns) {
		u64 gap_us = lp_div_u64_u32(now_ns - d->last_rx_ns, 1000);

		lp_phi_add(&d->phi, gap_us > 0xffffffffULL ? 0xffffffffU : (u32)gap_us);
	}
	d->last_rx_ns = now_ns;
	d->remote_interval_us = remote_interval_us;
	d->remote_mult = remote_mult;
	lp_detect_deadlines(d);
}

u8 lp_detect_verdict(const struct lp_detect *d, u64 now_ns, u8 *reason)
{
	*reason = lp_uses_phi(d) ? LP_R_PHI : LP_R_TIMEOUT;
	if (!d->last_rx_ns)
		return LP_UNKNOWN;
	if (now_ns >= d->dead_at_ns)
		return LP_DEAD;
	if (now_ns >= d->suspect_at_ns)
		return LP_SUSPECT;
	*reason = LP_R_HEARTBEAT;
	return LP_ALIVE;
}

/* The next time the verdict can change without a heartbeat; 0: none. */
u64 lp_detect_next_deadline(const struct lp_detect *d)
{
	switch (d->state) {
	case LP_ALIVE:
		return d->suspect_at_ns;
	case LP_SUSPECT:
		return d->dead_at_ns;
	default:
		return 0;
	}
}

u32 lp_detect_phi_milli(const struct lp_detect *d, u64 now_ns)
{
	u64 elapsed_us;

	if (!d->last_rx_ns || now_ns < d->last_rx_ns)
		return 0;
	elapsed_us = lp_div_u64_u32(now_ns - d->last_rx_ns, 1000);
	if (elapsed_us > 0xffffffffULL)
		elapsed_us = 0xffffffffULL;
	return lp_phi_milli(&d->phi, (u32)elapsed_us, lp_min_stddev_us(d));
}
