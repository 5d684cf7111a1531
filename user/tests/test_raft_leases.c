// SPDX-License-Identifier: GPL-2.0
/*
 * raft/leases.c, the leader's lease clocks, against a real store: a lease
 * runs its TTL from its grant or last keepalive, its expiry is asked once
 * (again only after a keepalive or a failed proposal), a new leader starts
 * every clock afresh (a lease may outlive its TTL across a failover, never
 * end early), and leases the store no longer holds are forgotten.
 */
#include <errno.h>
#include <string.h>

#include "raft/kv.h"
#include "raft/leases.h"
#include "tap.h"

struct asked {
	uint64_t id[8];
	uint64_t refresh[8];
	unsigned int n;
	int fail;			/* what expire() returns */
};

static int expire(void *arg, uint64_t id, uint64_t refresh)
{
	struct asked *a = arg;

	if (a->n < 8) {
		a->id[a->n] = id;
		a->refresh[a->n] = refresh;
	}
	a->n++;
	return a->fail;
}

static void apply(struct kv *kv, uint64_t index, uint8_t op, uint64_t lease,
		  uint32_t ttl, struct kv_result *res)
{
	struct kv_cmd cmd = { .op = op, .lease = lease, .ttl_ms = ttl };
	uint8_t buf[KV_CMD_MAX];
	int len;

	/* EXPIRE: ttl is the refresh index it is conditional on. */
	if (op == KV_LEASE_EXPIRE) {
		cmd.refresh_index = ttl;
		cmd.ttl_ms = 0;
	}
	len = kv_encode(&cmd, buf, sizeof(buf));
	kv_apply(kv, index, buf, len > 0 ? (size_t)len : 0, res);
}

int main(void)
{
	struct lease_timers lt = { 0 };
	struct kv *kv = kv_new(0);
	struct kv_result res;
	struct asked a = { 0 };
	uint64_t now = 1000000;

	apply(kv, 1, KV_LEASE_GRANT, 0, 500, &res);
	tap_ok(res.status == KV_OK && res.lease == 1 && res.ttl_ms == 500,
	       "a lease granted at index 1, ttl 500 ms");
	tap_ok(!lease_timers_refresh(&lt, res.lease, res.ttl_ms, now), "its clock starts");
	lease_timers_due(&lt, kv, now + 499, expire, &a);
	tap_ok(a.n == 0, "nothing is due before the ttl");
	lease_timers_due(&lt, kv, now + 500, expire, &a);
	lease_timers_due(&lt, kv, now + 600, expire, &a);
	tap_ok(a.n == 1 && a.id[0] == 1 && a.refresh[0] == 1,
	       "its expiry is asked once, at the ttl, for refresh index 1 (%u asked)", a.n);

	apply(kv, 2, KV_LEASE_KEEPALIVE, 1, 0, &res);
	tap_ok(res.status == KV_OK && res.ttl_ms == 500, "kept alive at index 2");
	lease_timers_refresh(&lt, 1, res.ttl_ms, now + 700);
	a.n = 0;
	lease_timers_due(&lt, kv, now + 1100, expire, &a);
	tap_ok(a.n == 0, "a keepalive restarts the clock");
	lease_timers_due(&lt, kv, now + 1200, expire, &a);
	tap_ok(a.n == 1 && a.refresh[0] == 2,
	       "and the next expiry names refresh index 2, so an older one would lose");

	a.n = 0;
	a.fail = -EBUSY;
	apply(kv, 3, KV_LEASE_GRANT, 0, 100, &res);
	lease_timers_refresh(&lt, res.lease, res.ttl_ms, now + 1200);
	lease_timers_due(&lt, kv, now + 1300, expire, &a);
	a.fail = 0;
	lease_timers_due(&lt, kv, now + 1301, expire, &a);
	tap_ok(a.n == 2 && a.id[0] == 3 && a.id[1] == 3,
	       "an expiry the leader could not propose is asked again");

	/* A new leader: every lease runs its whole ttl from now. */
	a.n = 0;
	tap_ok(!lease_timers_reset(&lt, kv, now + 5000) && lt.n == 2,
	       "a new leader starts the clocks of the store's 2 leases");
	lease_timers_due(&lt, kv, now + 5099, expire, &a);
	tap_ok(a.n == 0, "none ends before its ttl from the new leader's start");
	lease_timers_due(&lt, kv, now + 5500, expire, &a);
	tap_ok(a.n == 2, "both are due a ttl later");

	apply(kv, 4, KV_LEASE_EXPIRE, 1, 2, &res);
	tap_ok(res.status == KV_OK, "lease 1 expires (refresh index 2)");
	apply(kv, 5, KV_LEASE_REVOKE, 3, 0, &res);
	a.n = 0;
	lease_timers_due(&lt, kv, now + 9000, expire, &a);
	tap_ok(a.n == 0 && lt.n == 0,
	       "leases gone from the store are forgotten (%zu clocks left)", lt.n);

	lease_timers_free(&lt);
	kv_free(kv);
	return tap_done();
}
