// SPDX-License-Identifier: GPL-2.0
/*
 * Phi-accrual failure detector in fixed point, for the kernel (which has no
 * floating point) and the host unit tests alike.
 *
 * Statistics. The window keeps the exact integer sums S1 = sum(x) and
 * S2 = sum(x^2) of its n samples, updated on every add and eviction, so
 * they never drift. Then n * (t - mean) = n * t - S1 and
 * n^2 * var = n * S2 - S1^2 are exact integers (population variance), and
 * y = (t - mean) / sigma = (n * t - S1) / sqrt(n * S2 - S1^2) needs one
 * square root and one division, both done to 16 or more fractional bits.
 *
 * Phi. Like Akka, the normal CDF is approximated by a logistic function:
 * F(y) ~ 1 / (1 + e^-z) with z = y * (1.5976 + 0.070566 * y^2), which is
 * within 1.4e-4 of the true CDF. The chance that the heartbeat is still to
 * come after t is then
 *	P(later) = 1 - F(y) = e^-z / (1 + e^-z) = 1 / (1 + e^z),
 * hence, for every real z,
 *	phi = -log10(P(later)) = log10(1 + e^z) = softplus(z) / ln 10.
 * Akka's two branches (t above the mean, and not) are two ways of writing
 * this one expression, chosen for rounding in double precision. Here it is
 * evaluated without ever exceeding 1 in the exponential:
 *	softplus(z) = z + log1p(e^-z)	for z > 0,
 *	softplus(z) = log1p(e^z)	for z <= 0,
 * so all that is needed is e^-x for x >= 0 and log1p(u) for u in [0, 1].
 *
 * Fixed-point formats (all unsigned; the sign of t - mean is kept apart):
 *	sigma (times n)			Q16
 *	|y|, |z|			Q20
 *	e^-x, log1p(), softplus()	Q30
 * |y| is bounded by 32 before any of it: z(32) = 2363 is already past the
 * phi = 1000 cap (1000 * ln 10 = 2302.6), and z(-32) gives phi = 0.
 */

#include "phi.h"

_Static_assert((LP_PHI_WINDOW & (LP_PHI_WINDOW - 1)) == 0,
	       "LP_PHI_WINDOW must be a power of two");
_Static_assert((u64)LP_PHI_WINDOW * LP_PHI_MAX_INTERVAL_US <= 0xffffffffULL,
	       "sum of the window (and its square) must fit in 32 (64) bits");

#define Q30_ONE			(1ULL << 30)

/* |y| at and beyond which phi is saturated (late) or 0 (early). */
#define PHI_Y_LIMIT		32

/* The logistic fit: z = y * (A + B * y^2). */
#define PHI_A_Q20		1675205ULL	/* 1.5976 */
#define PHI_B_Q32		303078662ULL	/* 0.070566 */

#define LN2_Q30			744261118ULL	/* ln 2 */
/* floor(2^62 / LN2_Q30): (x_q20 * it) >> 52 never exceeds x / ln 2. */
#define INV_LN2_Q32		6196328018ULL
/* e^-22 = 2.8e-10 is below half a Q30 unit: e^-x rounds to 0 from there. */
#define EXP_ZERO_Q20		(22ULL << 20)

#define MILLI_PER_LN_Q20	455390771ULL	/* 1000 / ln 10 */

/* 1 / i! in Q30: e^s = sum(s^i / i!), s in (0, ln 2]; rest < 2e-12. */
#define EXP_TERMS		13
static const u32 exp_coef_q30[EXP_TERMS] = {
	1073741824, 1073741824, 536870912, 178956971, 44739243, 8947849,
	1491308, 213044, 26631, 2959, 296, 27, 2,
};

/* 1 / (2m + 1) in Q30: atanh(w) = w * sum(w^2m / (2m + 1)), w <= 1/3. */
#define LOG_TERMS		10
static const u32 log_coef_q30[LOG_TERMS] = {
	1073741824, 357913941, 214748365, 153391689, 119304647, 97612893,
	82595525, 71582788, 63161284, 56512728,
};

void lp_phi_init(struct lp_phi *p)
{
	u32 i;

	for (i = 0; i < LP_PHI_WINDOW; i++)
		p->samples[i] = 0;
	p->count = 0;
	p->head = 0;
	p->sum = 0;
	p->sumsq = 0;
}

void lp_phi_add(struct lp_phi *p, u32 interval_us)
{
	u64 v = interval_us;
	u64 old;

	if (v > LP_PHI_MAX_INTERVAL_US)
		v = LP_PHI_MAX_INTERVAL_US;
	if (p->count == LP_PHI_WINDOW) {
		old = p->samples[p->head];
		p->sum -= old;
		p->sumsq -= old * old;
	} else {
		p->count++;
	}
	p->samples[p->head] = (u32)v;
	p->sum += v;
	p->sumsq += v * v;
	p->head = (p->head + 1) & (LP_PHI_WINDOW - 1);
}

/* n^2 times the population variance: n * S2 - S1^2, exact. */
static u64 lp_phi_spread(const struct lp_phi *p)
{
	u64 a = (u64)p->count * p->sumsq;
	u64 b = p->sum * p->sum;

	return a > b ? a - b : 0;
}

/*
 * floor(sqrt(v) * 2^16), digit by digit: v followed by 32 zero bits is
 * consumed two bits at a time. The root stays below 2^48 and the
 * remainder, at most twice the root, below 2^51.
 */
static u64 isqrt_q16(u64 v)
{
	u64 root = 0;
	u64 rem = 0;
	u64 trial;
	int i;

	for (i = 0; i < 48; i++) {
		rem <<= 2;
		if (i < 32) {
			rem |= v >> 62;
			v <<= 2;
		}
		root <<= 1;
		trial = (root << 1) | 1;
		if (rem >= trial) {
			rem -= trial;
			root |= 1;
		}
	}
	return root;
}

u32 lp_phi_mean_us(const struct lp_phi *p)
{
	if (!p->count)
		return 0;
	return (u32)lp_div_u64_u32(p->sum + p->count / 2, p->count);
}

u32 lp_phi_stddev_us(const struct lp_phi *p)
{
	u64 sd;

	if (!p->count)
		return 0;
	sd = isqrt_q16(lp_phi_spread(p));
	return (u32)lp_div_u64_u32(sd + ((u64)p->count << 15),
				   p->count << 16);
}

/* n * sigma in Q16, sigma raised to min_stddev_us and to 1 us. */
static u64 lp_phi_sigma_q16(const struct lp_phi *p, u32 min_stddev_us)
{
	u64 sd = isqrt_q16(lp_phi_spread(p));
	u64 lo;

	if (min_stddev_us > LP_PHI_MAX_INTERVAL_US)
		min_stddev_us = LP_PHI_MAX_INTERVAL_US;
	if (!min_stddev_us)
		min_stddev_us = 1;
	lo = ((u64)p->count * min_stddev_us) << 16;
	return sd > lo ? sd : lo;
}

/*
 * |y| in Q20 from d = n * |t - mean| and sd = n * sigma in Q16, for
 * d < 32 * sd / 2^16. The divisor is cut to 32 bits (keeping at least 31
 * of them); the dividend then stays below 2^57.
 */
static u64 phi_y_q20(u64 d, u64 sd)
{
	int k = 0;

	while ((sd >> k) > 0xffffffffULL)
		k++;
	return lp_div_u64_u32(d << (36 - k), (u32)(sd >> k));
}

/* |z| in Q20 from |y| < 32 in Q20; z stays below 2^31.2. */
static u64 phi_z_q20(u64 y)
{
	u64 y2 = (y * y) >> 20;
	u64 c = PHI_A_Q20 + ((PHI_B_Q32 * y2) >> 32);

	return (y * c) >> 20;
}

/* e^-x in Q30 for x >= 0 in Q20, as e^s / 2^(k + 1), s in (0, ln 2]. */
static u64 exp_neg_q30(u64 x)
{
	u64 k, r, s, e;
	int i;

	if (x >= EXP_ZERO_Q20)
		return 0;
	k = (x * INV_LN2_Q32) >> 52;
	r = (x << 10) - k * LN2_Q30;
	while (r >= LN2_Q30) {
		r -= LN2_Q30;
		k++;
	}
	s = LN2_Q30 - r;
	e = exp_coef_q30[EXP_TERMS - 1];
	for (i = EXP_TERMS - 2; i >= 0; i--)
		e = exp_coef_q30[i] + ((e * s + (Q30_ONE >> 1)) >> 30);
	return (e + (1ULL << k)) >> (k + 1);
}

/* log(1 + u) in Q30 for u in [0, 1] in Q30, as 2 atanh(u / (2 + u)). */
static u64 log1p_q30(u64 u)
{
	u64 w, w2, acc;
	int m;

	w = lp_div_u64_u32(u << 30, (u32)(2 * Q30_ONE + u));
	w2 = (w * w) >> 30;
	acc = log_coef_q30[LOG_TERMS - 1];
	for (m = LOG_TERMS - 2; m >= 0; m--)
		acc = log_coef_q30[m] + ((acc * w2) >> 30);
	return (2 * w * acc) >> 30;
}

/* softplus(+z) or softplus(-z) in Q30, z >= 0 in Q20. */
static u64 softplus_q30(u64 z, bool positive)
{
	u64 tail = log1p_q30(exp_neg_q30(z));

	return positive ? (z << 10) + tail : tail;
}

/* phi in milli for a deviation of |y| (Q20, below PHI_Y_LIMIT) standard deviations. */
static u32 phi_milli_of_y(u64 y, bool late)
{
	u64 sp, milli;

	sp = (softplus_q30(phi_z_q20(y), late) + 512) >> 10;
	milli = (sp * MILLI_PER_LN_Q20 + (1ULL << 39)) >> 40;
	return milli < LP_PHI_MILLI_MAX ? (u32)milli : LP_PHI_MILLI_MAX;
}

u32 lp_phi_milli(const struct lp_phi *p, u32 elapsed_us, u32 min_stddev_us)
{
	u64 nt = (u64)p->count * elapsed_us;
	u64 sd, d;
	bool late;

	if (!p->count)
		return 0;
	sd = lp_phi_sigma_q16(p, min_stddev_us);
	late = nt > p->sum;
	d = late ? nt - p->sum : p->sum - nt;
	/* d < 2^38 and sd < 2^48: neither shift overflows. */
	if ((d << 16) >= sd * PHI_Y_LIMIT)
		return late ? LP_PHI_MILLI_MAX : 0;
	return phi_milli_of_y(phi_y_q20(d, sd), late);
}

/*
 * phi depends on the elapsed time only through y = (t - mean) / sigma, so a
 * threshold maps to one deviation y, found once per threshold by bisection
 * (phi grows with y). Thresholds at or below phi(mean) = log10(2) give 0.
 */
u32 lp_phi_y_for(u32 phi_milli)
{
	u64 lo = 0, hi = (u64)PHI_Y_LIMIT << 20;

	if (phi_milli >= LP_PHI_MILLI_MAX)
		return (u32)hi;
	while (lo < hi) {
		u64 mid = (lo + hi) / 2;

		if (phi_milli_of_y(mid, true) >= phi_milli)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (u32)lo;
}

u32 lp_phi_elapsed_at(const struct lp_phi *p, u32 y_q20, u32 min_stddev_us)
{
	u64 sigma_n, t;

	if (!p->count)
		return 0;
	/* n * sigma < 2^32 and y < 2^25: the product stays below 2^57. */
	sigma_n = lp_phi_sigma_q16(p, min_stddev_us) >> 16;
	/* Rounded up: at the returned time phi has reached the level. */
	t = p->sum + ((sigma_n * y_q20 + (1 << 20) - 1) >> 20);
	t = lp_div_u64_u32(t + p->count - 1, p->count);
	return t < 0xffffffffULL ? (u32)t : 0xffffffffU;
}
