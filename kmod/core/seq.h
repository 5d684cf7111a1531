/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sequence bookkeeping of a peer's heartbeats: what is new, late or a
 * duplicate, and how many were lost. Pure C, shared by the module, the
 * userspace twin and host tests.
 *
 * A sender draws a random non-zero epoch whenever it starts a sequence (a
 * peer added again, a module reloaded, a node rebooted). Without it, a
 * restarted sequence would look like 64 heartbeats of duplicates: a peer
 * coming back would be ignored for up to 64 intervals.
 */
#ifndef _LAMPORT_CORE_SEQ_H
#define _LAMPORT_CORE_SEQ_H

#include "compat.h"

enum lp_seq_result {
	LP_SEQ_NEW,		/* the highest yet */
	LP_SEQ_LATE,		/* reordered: an earlier one, counted lost */
	LP_SEQ_DUP,		/* seen already: tells nothing new */
	LP_SEQ_RESTART,		/* a new epoch, or a sequence far behind */
};

struct lp_seq {
	bool started;
	u16 epoch;
	u32 last;		/* highest sequence number received */
	u64 seen;		/* bit n: last - n has arrived */
	u64 lost;		/* gaps, less the late arrivals that filled them */
};

static inline enum lp_seq_result lp_seq_restart(struct lp_seq *s, u16 epoch,
						u32 seq)
{
	s->started = true;
	s->epoch = epoch;
	s->last = seq;
	s->seen = 1;
	return LP_SEQ_RESTART;
}

static inline enum lp_seq_result lp_seq_track(struct lp_seq *s, u16 epoch,
					      u32 seq)
{
	u32 back;

	if (!s->started || epoch != s->epoch || !seq)
		return lp_seq_restart(s, epoch, seq);
	if (seq > s->last) {
		u32 gap = seq - s->last;

		s->lost += gap - 1;
		s->seen = gap >= 64 ? 1 : (s->seen << gap) | 1;
		s->last = seq;
		return LP_SEQ_NEW;
	}
	back = s->last - seq;
	if (back >= 64)
		return lp_seq_restart(s, epoch, seq);
	if (s->seen & (1ULL << back))
		return LP_SEQ_DUP;
	s->seen |= 1ULL << back;
	if (s->lost)
		s->lost--;
	return LP_SEQ_LATE;
}

#endif /* _LAMPORT_CORE_SEQ_H */
