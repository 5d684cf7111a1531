// SPDX-License-Identifier: GPL-2.0
/*
 * The arithmetic of lamport bench fd: detection-time percentiles and the
 * accuracy metrics of a failure detector while its target is up.
 */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

int samples_add(struct samples *s, uint64_t v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		uint64_t *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

void samples_free(struct samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t samples_pct(const struct samples *s, double pct)
{
	uint64_t *sorted, v;
	size_t rank;

	if (!s->n)
		return 0;
	sorted = malloc(s->n * sizeof(*sorted));
	if (!sorted)
		return 0;
	memcpy(sorted, s->v, s->n * sizeof(*sorted));
	qsort(sorted, s->n, sizeof(*sorted), cmp_u64);
	rank = (size_t)ceil(pct / 100.0 * (double)s->n);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	v = sorted[rank - 1];
	free(sorted);
	return v;
}

uint64_t samples_max(const struct samples *s)
{
	uint64_t max = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] > max)
			max = s->v[i];
	return max;
}

void qos_trust(struct qos *q, uint64_t now)
{
	if (!q->open) {
		q->open = true;
		q->mistaken = false;
		q->opened_ns = now;
		return;
	}
	if (q->mistaken) {
		q->mistaken = false;
		q->mistake_ns += now - q->mistake_since_ns;
	}
}

void qos_down(struct qos *q, uint64_t now)
{
	if (!q->open || q->mistaken)
		return;
	q->mistaken = true;
	q->mistake_since_ns = now;
	q->mistakes++;
}

void qos_suspect(struct qos *q)
{
	if (q->open && !q->mistaken)
		q->suspicions++;
}

void qos_close(struct qos *q, uint64_t now)
{
	if (!q->open)
		return;
	if (q->mistaken)
		q->mistake_ns += now - q->mistake_since_ns;
	q->window_ns += now - q->opened_ns;
	q->open = false;
	q->mistaken = false;
}

double qos_mistakes_per_1e5(const struct qos *q, uint64_t mean_interval_ns)
{
	double heartbeats;

	if (!q->window_ns || !mean_interval_ns)
		return NAN;
	heartbeats = (double)q->window_ns / (double)mean_interval_ns;
	return q->mistakes * 1e5 / heartbeats;
}

double qos_recurrence_ns(const struct qos *q)
{
	if (!q->window_ns)
		return NAN;
	return q->mistakes ? (double)q->window_ns / q->mistakes : INFINITY;
}

double qos_duration_ns(const struct qos *q)
{
	return q->mistakes ? (double)q->mistake_ns / q->mistakes : NAN;
}

double qos_accuracy(const struct qos *q)
{
	if (!q->window_ns)
		return NAN;
	return 1.0 - (double)q->mistake_ns / (double)q->window_ns;
}

double loss_floor_per_1e5(double p, unsigned int mult)
{
	return 1e5 * (1.0 - p) * pow(p, mult);
}
