// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kmod/core/phi.c, the fixed-point phi-accrual detector, against
 * a double-precision reference of the same formula:
 *	y = (t - mean) / sigma, z = y * (1.5976 + 0.070566 * y^2),
 *	phi = log10(1 + e^z), capped at 1000.
 * Every window is swept in elapsed time from 0 to far past the cap, with and
 * without a minimum standard deviation.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "phi.h"
#include "tap.h"

/*
 * Largest error allowed for phi in [0, PHI_RANGE], and above it. Rounding
 * to milli-phi alone accounts for 0.0005; the target was 0.01.
 */
#define PHI_RANGE	50.0
#define PHI_TOL		0.002
#define PHI_TOL_HIGH	0.005

/* Points of the coarse sweep of one window, and the fine sweep's reach. */
#define SWEEP_POINTS	100000
#define FINE_REACH	3000

#define MAX_FEED	256

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct window {
	const char *name;
	u32 n;
	u32 feed[MAX_FEED];	/* intervals fed, in order */
};

/* Reference statistics of the last LP_PHI_WINDOW (clamped) intervals. */
struct ref_stats {
	u32 n;
	double mean;
	double sd;
};

/* Errors over every sweep, for the summary. */
static double max_err_range;
static double max_err_high;
static long points_range;
static long points_high;

/* splitmix64: deterministic, so every run checks the same windows. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_unit(void)
{
	return (double)(rng_next() >> 11) / 9007199254740992.0;
}

/* Uniform in [lo, hi]. */
static u32 rng_range(u32 lo, u32 hi)
{
	return lo + (u32)(rng_unit() * ((double)hi - lo + 1.0));
}

/* Roughly standard normal: the Irwin-Hall sum of 12 uniforms, minus 6. */
static double rng_normal(void)
{
	double s = 0;
	int i;

	for (i = 0; i < 12; i++)
		s += rng_unit();
	return s - 6.0;
}

static void feed(struct window *w, u32 v)
{
	if (w->n < MAX_FEED)
		w->feed[w->n++] = v;
}

static void make_single(struct window *w)
{
	feed(w, 1000000);
}

static void make_constant(struct window *w)
{
	while (w->n < LP_PHI_WINDOW)
		feed(w, 1000000);
}

static void make_tiny_jitter(struct window *w)
{
	while (w->n < LP_PHI_WINDOW)
		feed(w, rng_range(999998, 1000002));
}

static void make_normal(struct window *w)
{
	while (w->n < 200)
		feed(w, (u32)lround(100000.0 + 10000.0 * rng_normal()));
}

static void make_heavy(struct window *w)
{
	while (w->n < 100)
		feed(w, rng_range(1000, 2000000));
}

static void make_small(struct window *w)
{
	while (w->n < LP_PHI_WINDOW + 37)
		feed(w, rng_range(7, 13));
}

static void make_bimodal(struct window *w)
{
	while (w->n < LP_PHI_WINDOW)
		feed(w, (w->n & 1) ? 50000 : 1000000);
}

static void make_clamped(struct window *w)
{
	while (w->n < 80)
		feed(w, (w->n % 5) ? 1000000 : 90000000);
}

static void make_near_max(struct window *w)
{
	while (w->n < 150)
		feed(w, rng_range(59000000, 61000000));
}

static void make_partial(struct window *w)
{
	while (w->n < 5)
		feed(w, (u32)lround(1000000.0 + 100000.0 * rng_normal()));
}

static const struct {
	const char *name;
	void (*make)(struct window *w);
} windows[] = {
	{ "single sample 1 s", make_single },
	{ "constant 1 s, full ring", make_constant },
	{ "1 s +-2 us, full ring", make_tiny_jitter },
	{ "100 ms, normal sd 10 ms, 200 fed (wrapped)", make_normal },
	{ "uniform 1 ms..2 s, 100 fed (wrapped)", make_heavy },
	{ "10 us +-3 us, 101 fed (wrapped)", make_small },
	{ "bimodal 50 ms / 1 s", make_bimodal },
	{ "1 s with 90 s outliers (clamped)", make_clamped },
	{ "59..61 s (some clamped), 150 fed", make_near_max },
	{ "5 samples, 1 s sd 100 ms", make_partial },
};

static const u32 min_stddevs[] = { 0, 500, 100000, 4000000000U };

static u32 clamp_interval(u32 v)
{
	return v > LP_PHI_MAX_INTERVAL_US ? LP_PHI_MAX_INTERVAL_US : v;
}

/* Two-pass mean and population standard deviation, in double. */
static struct ref_stats ref_stats(const struct window *w)
{
	struct ref_stats r = { 0, 0, 0 };
	u32 first = w->n > LP_PHI_WINDOW ? w->n - LP_PHI_WINDOW : 0;
	double var = 0;
	u32 i;

	r.n = w->n - first;
	if (!r.n)
		return r;
	for (i = first; i < w->n; i++)
		r.mean += clamp_interval(w->feed[i]);
	r.mean /= r.n;
	for (i = first; i < w->n; i++) {
		double dv = clamp_interval(w->feed[i]) - r.mean;

		var += dv * dv;
	}
	r.sd = sqrt(var / r.n);
	return r;
}

static double ref_sigma(const struct ref_stats *r, u32 min_stddev_us)
{
	double floor_sd = min_stddev_us;

	if (floor_sd > LP_PHI_MAX_INTERVAL_US)
		floor_sd = LP_PHI_MAX_INTERVAL_US;
	return fmax(fmax(r->sd, floor_sd), 1.0);
}

/* phi, uncapped. */
static double ref_phi(const struct ref_stats *r, u32 min_stddev_us, double t)
{
	double y = (t - r->mean) / ref_sigma(r, min_stddev_us);
	double z = y * (1.5976 + 0.070566 * y * y);
	double sp = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));

	return sp / log(10.0);
}

struct sweep {
	double max_err_range;	/* over phi in [0, PHI_RANGE] */
	double max_err_high;	/* over phi above it */
	long bad_cap;		/* phi >= 1000.5 but not saturated */
	long non_monotonic;	/* phi lower than at a smaller elapsed */
	long points;
};

static void sweep_point(struct sweep *s, const struct lp_phi *p,
			const struct ref_stats *r, u32 min_sd, u32 t,
			u32 *last)
{
	u32 milli = lp_phi_milli(p, t, min_sd);
	double want = ref_phi(r, min_sd, t);
	double err = fabs(milli / 1000.0 - fmin(want, 1000.0));

	if (want <= PHI_RANGE) {
		s->max_err_range = fmax(s->max_err_range, err);
		points_range++;
	} else {
		s->max_err_high = fmax(s->max_err_high, err);
		points_high++;
	}
	if (want >= 1000.5 && milli != LP_PHI_MILLI_MAX)
		s->bad_cap++;
	if (milli < *last)
		s->non_monotonic++;
	*last = milli;
	s->points++;
}

/*
 * A coarse sweep from 0 to 40 sigmas past the mean and on to UINT32_MAX,
 * then one in steps of 1 us around the mean; both in increasing order.
 */
static void sweep(struct sweep *s, const struct lp_phi *p,
		  const struct ref_stats *r, u32 min_sd)
{
	double top = r->mean + 40.0 * ref_sigma(r, min_sd);
	u32 hi = top >= UINT32_MAX ? UINT32_MAX : (u32)top;
	u32 step = hi / SWEEP_POINTS + 1;
	u32 lo_fine, hi_fine, last, j;
	uint64_t t;

	last = 0;
	for (t = 0; t <= hi; t += step)
		sweep_point(s, p, r, min_sd, (u32)t, &last);
	for (j = 1; j <= 64; j++) {
		t = hi + ((uint64_t)(UINT32_MAX - hi) * j) / 64;
		sweep_point(s, p, r, min_sd, (u32)t, &last);
	}

	lo_fine = r->mean > FINE_REACH ? (u32)r->mean - FINE_REACH : 0;
	hi_fine = (u32)r->mean + FINE_REACH;
	last = 0;
	for (t = lo_fine; t <= hi_fine; t++)
		sweep_point(s, p, r, min_sd, (u32)t, &last);
}

/* The running sums against the ring's content, recomputed. */
static bool sums_exact(const struct lp_phi *p)
{
	uint64_t sum = 0, sumsq = 0;
	u32 i;

	for (i = 0; i < p->count; i++) {
		u32 slot = (p->head - 1 - i) & (LP_PHI_WINDOW - 1);

		sum += p->samples[slot];
		sumsq += (uint64_t)p->samples[slot] * p->samples[slot];
	}
	return sum == p->sum && sumsq == p->sumsq;
}

static void test_window(size_t which)
{
	struct window w = { windows[which].name, 0, { 0 } };
	struct lp_phi p;
	struct ref_stats r;
	size_t m;
	u32 i;

	windows[which].make(&w);
	lp_phi_init(&p);
	for (i = 0; i < w.n; i++)
		lp_phi_add(&p, w.feed[i]);
	r = ref_stats(&w);

	tap_ok(p.count == r.n && sums_exact(&p),
	       "%s: %u samples held, running sums exact", w.name, p.count);
	tap_ok(fabs(lp_phi_mean_us(&p) - r.mean) <= 0.5 + 1e-9,
	       "%s: mean %u us, reference %.3f", w.name,
	       lp_phi_mean_us(&p), r.mean);
	tap_ok(fabs(lp_phi_stddev_us(&p) - r.sd) <= 0.5 + 1e-4,
	       "%s: stddev %u us, reference %.3f", w.name,
	       lp_phi_stddev_us(&p), r.sd);

	for (m = 0; m < ARRAY_SIZE(min_stddevs); m++) {
		struct sweep s = { 0, 0, 0, 0, 0 };
		u32 min_sd = min_stddevs[m];

		sweep(&s, &p, &r, min_sd);
		tap_ok(s.max_err_range <= PHI_TOL,
		       "%s, min_stddev %u: |phi error| %.5f <= %.3f for phi <= %.0f",
		       w.name, min_sd, s.max_err_range, PHI_TOL, PHI_RANGE);
		tap_ok(s.max_err_high <= PHI_TOL_HIGH,
		       "%s, min_stddev %u: |phi error| %.5f <= %.3f for phi > %.0f",
		       w.name, min_sd, s.max_err_high, PHI_TOL_HIGH, PHI_RANGE);
		tap_ok(!s.non_monotonic && !s.bad_cap,
		       "%s, min_stddev %u: non-decreasing and saturating over %ld points",
		       w.name, min_sd, s.points);
		max_err_range = fmax(max_err_range, s.max_err_range);
		max_err_high = fmax(max_err_high, s.max_err_high);
	}
}

static void test_empty(void)
{
	struct lp_phi p;

	lp_phi_init(&p);
	tap_ok(!lp_phi_mean_us(&p) && !lp_phi_stddev_us(&p),
	       "empty window: mean and stddev 0");
	tap_ok(!lp_phi_milli(&p, 0, 0) && !lp_phi_milli(&p, UINT32_MAX, 0) &&
	       !lp_phi_milli(&p, 1000000, 1000),
	       "empty window: phi 0 whatever the elapsed time");

	lp_phi_add(&p, 1000);
	lp_phi_add(&p, 3000);
	lp_phi_init(&p);
	tap_ok(!p.count && !p.head && !p.sum && !p.sumsq &&
	       !lp_phi_milli(&p, UINT32_MAX, 0),
	       "lp_phi_init() empties a used window");
}

static void test_fixed_points(void)
{
	struct lp_phi p;
	u32 i;

	lp_phi_init(&p);
	lp_phi_add(&p, UINT32_MAX);
	tap_ok(p.samples[0] == LP_PHI_MAX_INTERVAL_US &&
	       lp_phi_mean_us(&p) == LP_PHI_MAX_INTERVAL_US,
	       "an interval above the maximum is clamped to it");

	lp_phi_init(&p);
	for (i = 0; i < 3 * LP_PHI_WINDOW; i++)
		lp_phi_add(&p, 1000000);
	tap_ok(lp_phi_milli(&p, 1000000, 0) == 301,
	       "at the mean, phi = log10(2) (got %u milli)",
	       lp_phi_milli(&p, 1000000, 0));
	tap_ok(lp_phi_milli(&p, 1000001, 0) == 800,
	       "1 us late with sigma raised to 1 us: phi 0.800 (got %u milli)",
	       lp_phi_milli(&p, 1000001, 0));
	tap_ok(lp_phi_milli(&p, 1000032, 0) == LP_PHI_MILLI_MAX &&
	       lp_phi_milli(&p, UINT32_MAX, 0) == LP_PHI_MILLI_MAX,
	       "32 sigmas late and more: saturated at %u", LP_PHI_MILLI_MAX);
	tap_ok(!lp_phi_milli(&p, 0, 0) && !lp_phi_milli(&p, 999968, 0),
	       "32 sigmas early and more: phi 0");
	tap_ok(lp_phi_milli(&p, 1000001, 1000) == 301 ||
	       lp_phi_milli(&p, 1000001, 1000) == 302,
	       "min_stddev 1 ms: 1 us late stays near phi 0.301 (got %u)",
	       lp_phi_milli(&p, 1000001, 1000));
	tap_ok(lp_phi_milli(&p, 61000000, UINT32_MAX) ==
	       lp_phi_milli(&p, 61000000, LP_PHI_MAX_INTERVAL_US),
	       "min_stddev is clamped to %u us", LP_PHI_MAX_INTERVAL_US);
}

int main(void)
{
	size_t i;

	rng_state = 0x6c616d706f7274ULL;
	test_empty();
	test_fixed_points();
	for (i = 0; i < ARRAY_SIZE(windows); i++)
		test_window(i);

	tap_diag("max |phi error| = %.6f over %ld points (phi in [0, %.0f])",
		 max_err_range, points_range, PHI_RANGE);
	tap_diag("max |phi error| = %.6f over %ld points (phi above %.0f, capped at 1000)",
		 max_err_high, points_high, PHI_RANGE);
	tap_ok(max_err_range <= PHI_TOL && points_range > 0,
	       "max |phi error| %.6f <= %.3f over phi in [0, %.0f]",
	       max_err_range, PHI_TOL, PHI_RANGE);
	return tap_done();
}
