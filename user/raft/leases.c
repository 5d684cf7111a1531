// SPDX-License-Identifier: GPL-2.0
/*
 * The leader's lease clocks (see leases.h).  A plain array: a cluster's
 * leases are a few thousand at most, looked at once a tick.
 */
#include <errno.h>
#include <stdlib.h>

#include "leases.h"

static struct lease_timer *find(struct lease_timers *lt, uint64_t id)
{
	for (size_t i = 0; i < lt->n; i++)
		if (lt->t[i].id == id)
			return &lt->t[i];
	return NULL;
}

static struct lease_timer *add(struct lease_timers *lt, uint64_t id)
{
	if (lt->n == lt->cap) {
		size_t cap = lt->cap ? 2 * lt->cap : 64;
		struct lease_timer *t = realloc(lt->t, cap * sizeof(*t));

		if (!t)
			return NULL;
		lt->t = t;
		lt->cap = cap;
	}
	lt->t[lt->n] = (struct lease_timer){ .id = id };
	return &lt->t[lt->n++];
}

int lease_timers_refresh(struct lease_timers *lt, uint64_t id, uint32_t ttl_ms,
			 uint64_t now_ms)
{
	struct lease_timer *t = find(lt, id);

	if (!t)
		t = add(lt, id);
	if (!t)
		return -ENOMEM;
	t->deadline_ms = now_ms + ttl_ms;
	t->expiring = 0;
	return 0;
}

struct reset {
	struct lease_timers *lt;
	uint64_t now_ms;
	int err;
};

static int reset_one(const struct kv_lease_info *l, void *arg)
{
	struct reset *r = arg;

	r->err = lease_timers_refresh(r->lt, l->id, l->ttl_ms, r->now_ms);
	return r->err;
}

int lease_timers_reset(struct lease_timers *lt, const struct kv *kv,
		       uint64_t now_ms)
{
	struct reset r = { .lt = lt, .now_ms = now_ms };

	lt->n = 0;
	kv_lease_foreach(kv, reset_one, &r);
	return r.err;
}

size_t lease_timers_due(struct lease_timers *lt, const struct kv *kv,
			uint64_t now_ms,
			int (*expire)(void *arg, uint64_t id, uint64_t refresh),
			void *arg)
{
	size_t asked = 0, i = 0;

	while (i < lt->n) {
		struct lease_timer *t = &lt->t[i];
		struct kv_lease_info info;

		if (kv_lease_get(kv, t->id, &info)) {
			*t = lt->t[--lt->n];
			continue;
		}
		if (now_ms >= t->deadline_ms && t->expiring != info.refresh_index) {
			if (!expire(arg, t->id, info.refresh_index)) {
				t->expiring = info.refresh_index;
				asked++;
			}
		}
		i++;
	}
	return asked;
}

void lease_timers_free(struct lease_timers *lt)
{
	free(lt->t);
	lt->t = NULL;
	lt->n = lt->cap = 0;
}
