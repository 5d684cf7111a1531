// SPDX-License-Identifier: GPL-2.0
/*
 * Heartbeat sequence bookkeeping (kmod/core/seq.h), as the kernel and the
 * userspace twin run it: new, late, duplicate, lost, and restarts.
 */

#include "seq.h"
#include "tap.h"

static void test_in_order_and_gaps(void)
{
	struct lp_seq s = { 0 };

	tap_ok(lp_seq_track(&s, 7, 1) == LP_SEQ_RESTART && s.last == 1 && !s.lost,
	       "the first heartbeat starts the sequence, nothing lost");
	tap_ok(lp_seq_track(&s, 7, 2) == LP_SEQ_NEW && !s.lost, "2 is new");
	tap_ok(lp_seq_track(&s, 7, 5) == LP_SEQ_NEW && s.lost == 2,
	       "5 after 2: 3 and 4 lost");
	tap_ok(lp_seq_track(&s, 7, 4) == LP_SEQ_LATE && s.lost == 1,
	       "4 late: one fewer lost");
	tap_ok(lp_seq_track(&s, 7, 4) == LP_SEQ_DUP && s.lost == 1,
	       "4 again: a duplicate, counts nothing");
	tap_ok(lp_seq_track(&s, 7, 5) == LP_SEQ_DUP, "5 again: a duplicate");
	tap_ok(lp_seq_track(&s, 7, 3) == LP_SEQ_LATE && s.lost == 0,
	       "3 late: nothing lost any more");
	tap_ok(lp_seq_track(&s, 7, 3) == LP_SEQ_DUP && s.lost == 0,
	       "lost never goes below zero");
}

static void test_window(void)
{
	struct lp_seq s = { 0 };

	lp_seq_track(&s, 1, 100);
	tap_ok(lp_seq_track(&s, 1, 300) == LP_SEQ_NEW && s.lost == 199 &&
	       s.seen == 1, "a jump of 200 clears the window");
	tap_ok(lp_seq_track(&s, 1, 237) == LP_SEQ_LATE,
	       "63 behind is inside the window");
	tap_ok(lp_seq_track(&s, 1, 236) == LP_SEQ_RESTART && s.last == 236,
	       "64 behind restarts (a sender that lost its sequence)");
}

static void test_epochs(void)
{
	struct lp_seq s = { 0 };
	uint32_t i;

	for (i = 1; i <= 50; i++)
		lp_seq_track(&s, 0x1234, i);
	tap_ok(lp_seq_track(&s, 0x4321, 1) == LP_SEQ_RESTART && s.last == 1 &&
	       s.epoch == 0x4321,
	       "a new epoch restarts at once, below the old sequence");
	tap_ok(lp_seq_track(&s, 0x4321, 2) == LP_SEQ_NEW && s.lost == 0,
	       "and goes on from there");
	tap_ok(lp_seq_track(&s, 0x4321, 2) == LP_SEQ_DUP,
	       "duplicates of the new epoch are duplicates");

	for (i = 1; i <= 50; i++)
		lp_seq_track(&s, 0, i);
	tap_ok(lp_seq_track(&s, 0, 20) == LP_SEQ_DUP,
	       "epoch 0 (an old sender): a low number is still a duplicate");
	tap_ok(lp_seq_track(&s, 0, 0) == LP_SEQ_RESTART,
	       "sequence 0 always restarts");
}

int main(void)
{
	test_in_order_and_gaps();
	test_window();
	test_epochs();
	return tap_done();
}
