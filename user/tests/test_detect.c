// SPDX-License-Identifier: GPL-2.0
/*
 * The failure detector's rules (kmod/core/detect.c), as the kernel runs
 * them: detection time, deadlines, verdicts and the switch to phi.
 */

#include <stdio.h>

#include "detect.h"
#include "tap.h"

#define MS 1000000ULL

static void heartbeats(struct lp_detect *d, uint64_t *now, int n,
		       uint64_t gap, uint32_t interval_us, uint8_t mult)
{
	while (n--) {
		*now += gap;
		lp_detect_heartbeat(d, *now, interval_us, mult);
		d->state = LP_ALIVE;
	}
}

static void test_fixed(void)
{
	struct lp_detect d;
	uint64_t now = 1000 * MS;
	uint8_t reason;

	lp_detect_init(&d, LP_FIXED, 10000, 8000);
	tap_ok(lp_detect_verdict(&d, now, &reason) == LP_UNKNOWN &&
	       lp_detect_time_ns(&d) == 0 && lp_detect_next_deadline(&d) == 0,
	       "never heard: unknown, no detection time, no deadline");

	heartbeats(&d, &now, 1, 0, 10000, 3);
	tap_ok(lp_detect_time_ns(&d) == 30 * MS,
	       "T_D = M_r x max(I_r, I_l) = 3 x 10 ms");
	tap_ok(lp_detect_next_deadline(&d) == now + 15 * MS,
	       "alive: next deadline is suspect at T_D / 2");
	tap_ok(lp_detect_verdict(&d, now + 15 * MS - 1, &reason) == LP_ALIVE &&
	       reason == LP_R_HEARTBEAT, "alive just before T_D / 2");
	tap_ok(lp_detect_verdict(&d, now + 15 * MS, &reason) == LP_SUSPECT &&
	       reason == LP_R_TIMEOUT, "suspect at T_D / 2, reason timeout");
	d.state = LP_SUSPECT;
	tap_ok(lp_detect_next_deadline(&d) == now + 30 * MS,
	       "suspect: next deadline is dead at T_D");
	tap_ok(lp_detect_verdict(&d, now + 30 * MS, &reason) == LP_DEAD,
	       "dead at T_D");
	d.state = LP_DEAD;
	tap_ok(lp_detect_next_deadline(&d) == 0, "dead: no further deadline");

	heartbeats(&d, &now, 1, 40 * MS, 20000, 5);
	tap_ok(lp_detect_time_ns(&d) == 100 * MS,
	       "a slower peer stretches T_D: 5 x max(20 ms, 10 ms)");
	lp_detect_configure(&d, LP_FIXED, 50000, 8000);
	tap_ok(lp_detect_time_ns(&d) == 250 * MS &&
	       lp_detect_next_deadline(&d) == now + 125 * MS,
	       "a longer local interval is the agreed one, deadlines move at once");
}

static void test_phi(void)
{
	struct lp_detect d;
	uint64_t now = 1000 * MS, dead_at;
	uint8_t reason;

	lp_detect_init(&d, LP_PHI, 10000, 8000);
	heartbeats(&d, &now, 3, 10 * MS, 10000, 3);
	tap_ok(d.phi.count == 2 && lp_detect_time_ns(&d) == 30 * MS &&
	       d.dead_at_ns == now + 30 * MS,
	       "phi mode with 2 samples still uses the fixed rule");
	tap_ok(lp_detect_verdict(&d, d.dead_at_ns, &reason) == LP_DEAD &&
	       reason == LP_R_TIMEOUT, "... and says timeout");

	heartbeats(&d, &now, 20, 10 * MS, 10000, 3);
	dead_at = d.dead_at_ns;
	tap_ok(dead_at > d.suspect_at_ns && d.suspect_at_ns > now + 10 * MS,
	       "phi deadlines: suspect after the mean, dead after suspect");
	tap_ok(lp_detect_phi_milli(&d, d.suspect_at_ns) >= 4000 &&
	       lp_detect_phi_milli(&d, d.suspect_at_ns - 1000 * 1000) < 4000,
	       "suspect where phi reaches threshold / 2");
	tap_ok(lp_detect_phi_milli(&d, dead_at) >= 8000 &&
	       lp_detect_verdict(&d, dead_at, &reason) == LP_DEAD &&
	       reason == LP_R_PHI, "dead where phi reaches the threshold, reason phi");
	tap_diag("regular 10 ms peer, min stddev 5 ms: suspect +%.1f ms, dead +%.1f ms",
		 (d.suspect_at_ns - now) / 1e6, (dead_at - now) / 1e6);

	/* Jitter widens the distribution: the verdicts wait longer. */
	for (int i = 0; i < 64; i++) {
		now += (i & 1 ? 4 : 16) * MS;
		lp_detect_heartbeat(&d, now, 10000, 3);
	}
	tap_ok(d.dead_at_ns - now > dead_at - (now - 64 * 10 * MS),
	       "a jittery peer gets a longer phi detection time");
	lp_detect_configure(&d, LP_PHI, 10000, 16000);
	tap_ok(d.y_dead > d.y_suspect && d.dead_at_ns > d.suspect_at_ns,
	       "a higher threshold moves both deadlines");
}

static void test_tx_schedule(void)
{
	uint32_t r;
	bool in_range = true;

	tap_ok(lp_tx_interval_ns(10000, 0) == 10 * MS,
	       "no jitter drawn: the whole interval");
	tap_ok(lp_tx_interval_ns(10000, 1 << 15) == 8750000,
	       "half the range: shortened by 12.5 %%");
	for (r = 0; r < 1 << 16; r++) {
		uint64_t ns = lp_tx_interval_ns(10000, r);

		if (ns > 10 * MS || ns <= 7500000)
			in_range = false;
	}
	tap_ok(in_range, "every draw gives (7.5 ms, 10 ms]: never longer than I");
	tap_ok(lp_tx_first_ns(10000, 0) == 0 &&
	       lp_tx_first_ns(10000, (1 << 16) - 1) < 10 * MS,
	       "the first heartbeat leaves within the first interval");
	tap_ok(lp_tx_interval_ns(60000000, (1 << 16) - 1) > 45ULL * 1000 * MS,
	       "the longest interval does not overflow");
}

int main(void)
{
	test_fixed();
	test_phi();
	test_tx_schedule();
	return tap_done();
}
