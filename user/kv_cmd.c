// SPDX-License-Identifier: GPL-2.0
/*
 * lamport kv: one operation on the Raft key-value store, or a workload of
 * many clients that records a history for a linearizability checker.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "args.h"
#include "lamport.h"
#include "raft/client.h"
#include "raft/workload.h"

#define KV_HELP			"lamport kv help"
#define MAX_DURATION_MS		(7 * 24 * 3600 * 1000U)

struct kv_args {
	const char *servers;
	unsigned int timeout_ms;
	uint64_t client;	/* 0: a random one */
	uint64_t seq;		/* 0: the client's next */
};

/* One operation as given, and as answered. */
struct kv_action {
	uint8_t op;		/* enum kv_op */
	const char *name;
	const char *key;
	const char *value;
	const char *expect;	/* cas: NULL for --absent */
	uint64_t lease;		/* --lease: 0 none */
	const char *fence_key;	/* --fence KEY=TOKEN: NULL none */
	size_t fence_keylen;
	uint64_t fence_token;
	struct kv_result res;
};

struct kv_verb {
	const char *name;
	int (*run)(struct ctx *ctx, const struct kv_args *a, int argc,
		   char **argv);
};

static void kv_usage(FILE *out)
{
	fprintf(out,
		"Usage: lamport kv [ --server LIST ] [ --timeout MS ] [ --client ID ]\n"
		"                  [ --seq N ] OP\n"
		"       lamport kv [ --server LIST ] [ --timeout MS ] workload [ WORKLOAD ]\n"
		"       lamport kv help\n"
		"where  OP := { get KEY | put KEY VALUE [ WRITE ] | del KEY [ FENCE ] |\n"
		"              cas KEY OLD NEW [ WRITE ] | cas KEY --absent NEW [ WRITE ] }\n"
		"       WRITE := [ --lease ID ] [ FENCE ]\n"
		"       FENCE := --fence FKEY=TOKEN\n"
		"       LIST := ADDR[,ADDR]... (default $LAMPORT_RAFT_SERVERS, else :7001)\n"
		"       ADDR := IPV4:PORT | [IPV6]:PORT | :PORT (127.0.0.1)\n"
		"       MS := how long to try one operation (default 5000)\n"
		"       WORKLOAD := [ --clients N ] [ --duration SECONDS ] [ --ops N ]\n"
		"                   [ --keys K ] [ --mix put=40,get=40,cas=15,del=5 ]\n"
		"                   [ --history FILE ] [ --value-size B ] [ --seed S ]\n"
		"                   [ --locks L [ --lock-ttl MS ] [ --pause-pct P ] ]\n"
		"An operation goes to the leader of the Raft cluster, found by asking\n"
		"the nodes of LIST; a write is executed once however often it is retried.\n"
		"cas writes NEW if KEY holds OLD (or, --absent, does not exist).\n"
		"--lease attaches KEY to lease ID (lamport lease): revoked or expired,\n"
		"the lease deletes it; get shows a key's lease. --fence applies the\n"
		"write only while key FKEY is at revision TOKEN (a lock's token).\n"
		"Exit status: 0 done; 1 on error, a key not found or a cas that failed;\n"
		"3 fenced (FKEY is not at revision TOKEN); 4 no such lease.\n"
		"--client and --seq send the operation as client ID's write number N\n"
		"(a retry, say: the store answers a repeat with the first answer and\n"
		"refuses a seq older than the client's last as stale).\n"
		"workload runs N clients (default 4), each with a connection of its own,\n"
		"doing random operations of the mix on keys k0..k(K-1) (default 10) for\n"
		"SECONDS (default 10) or N operations in all, and prints the throughput,\n"
		"the results and the latencies. FILE gets every operation as a JSON line\n"
		"(client, op, key, value, expect, start, end, result) for a\n"
		"linearizability checker; the keys should not exist before the run.\n"
		"Values are \"c<client>-<n>\" padded with dots to B bytes (at most %d).\n"
		"--locks has the clients contend for locks lock/l0..lock/l(L-1) instead\n"
		"(at most %d), each guarding a key g0..g(L-1): a round is a get of a key,\n"
		"or an acquire as lamport lock does it (a lease of --lock-ttl MS, default\n"
		"%d, at most %d), then 1 to 3 puts of the key fenced by the lock's token,\n"
		"the lease kept alive, and a release; before one put in P%% of the holds\n"
		"(--pause-pct, default %d) the client sleeps twice the ttl instead, and\n"
		"its lease expires. FILE then has ops acquire, fput, release and get\n"
		"(with token, fence, holder and lease); no lock should be held before.\n",
		RAFT_WORKLOAD_MAX_VALUE, RAFT_WORKLOAD_MAX_LOCKS,
		RAFT_WORKLOAD_LOCK_TTL_MS, RAFT_WORKLOAD_MAX_LOCK_TTL_MS,
		RAFT_WORKLOAD_PAUSE_PCT);
}

static int kv_cmd_help(struct ctx *ctx, const struct kv_args *a, int argc,
		   char **argv)
{
	(void)ctx, (void)a, (void)argc, (void)argv;
	kv_usage(stdout);
	return 0;
}

static int too_long(const char *what, size_t len, size_t max)
{
	fprintf(stderr, "Error: %s is %zu bytes, at most %zu\n", what, len,
		max);
	return -1;
}

static int kv_check(const struct kv_action *op)
{
	size_t k = strlen(op->key);
	size_t v = op->value ? strlen(op->value) : 0;
	size_t e = op->expect ? strlen(op->expect) : 0;
	size_t hdr = KV_CMD_HDR;

	if (!k)
		return invarg("key is empty", op->key);
	if (k > KV_KEY_MAX)
		return too_long("key", k, KV_KEY_MAX);
	if (v > KV_VALUE_MAX)
		return too_long("value", v, KV_VALUE_MAX);
	if (e > KV_VALUE_MAX)
		return too_long("expected value", e, KV_VALUE_MAX);
	if (op->lease || op->fence_key)
		hdr = KV_CMD_HDR2;
	if (hdr + k + v + e + op->fence_keylen > KV_CMD_MAX)
		return too_long("the key and values together",
				k + v + e + op->fence_keylen, KV_CMD_MAX - hdr);
	return 0;
}

static int kv_send(struct raft_client *c, struct kv_action *op)
{
	struct raft_client_write_opts o = {
		.lease = op->lease, .fence_key = op->fence_key,
		.fence_keylen = op->fence_keylen,
		.fence_token = op->fence_token,
	};
	size_t k = strlen(op->key);
	size_t v = op->value ? strlen(op->value) : 0;

	switch (op->op) {
	case KV_GET:
		return raft_client_get(c, op->key, k, &op->res);
	case KV_PUT:
		return raft_client_put_ex(c, op->key, k, op->value, v, &o,
					  &op->res);
	case KV_DEL:
		return raft_client_del_ex(c, op->key, k, &o, &op->res);
	default:
		return raft_client_cas_ex(c, op->key, k, op->expect,
					  op->expect ? strlen(op->expect) : 0,
					  op->value, v, &o, &op->res);
	}
}

static int kv_error(struct raft_client *c, const struct kv_args *a,
		    const struct kv_action *op, int err)
{
	return raft_cli_call_error(c, a->servers, a->timeout_ms,
				   op->op != KV_GET, err);
}

/* Printable ASCII as is, the rest (and quotes) escaped, in quotes. */
static void print_value(const struct kv_result *r)
{
	putchar('"');
	for (uint16_t i = 0; i < r->vallen; i++) {
		uint8_t ch = r->value[i];

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void kv_print_json(struct ctx *ctx, struct raft_client *c,
			  const struct kv_action *op)
{
	const struct kv_result *r = &op->res;
	char value[KV_VALUE_MAX + 1];
	struct json j;

	memcpy(value, r->value, r->vallen);
	value[r->vallen] = '\0';
	ctx_json(ctx, &j, stdout);
	json_obj_open(&j);
	json_kv_str(&j, "op", op->name);
	json_kv_str(&j, "key", op->key);
	json_kv_str(&j, "status", kv_status_name(r->status));
	json_kv_str(&j, "value", r->has_value ? value : NULL);
	json_kv_u64(&j, "revision", r->revision);
	json_kv_u64(&j, "index", r->index);
	json_key(&j, "lease");
	if (r->lease)
		json_u64(&j, r->lease);
	else
		json_null(&j);
	json_kv_str(&j, "leader", raft_client_leader(c));
	json_obj_close(&j);
}

static void kv_print_text(const struct kv_action *op)
{
	const struct kv_result *r = &op->res;

	if (r->status == KV_NOT_FOUND) {
		printf("%s not found\n", op->key);
		return;
	}
	if (r->status == KV_CAS_FAILED && !r->has_value) {
		printf("cas %s failed: not found\n", op->key);
		return;
	}
	if (r->status == KV_CAS_FAILED)
		printf("cas %s failed: value ", op->key);
	else
		printf("%s %s%s", op->name, op->key, r->has_value ? " = " : "");
	if (r->has_value)
		print_value(r);
	printf(" revision %" PRIu64, r->revision);
	if (r->lease)
		printf(" lease %" PRIu64, r->lease);
	putchar('\n');
}

/* Why the store refused a fenced write or one with a lease. */
static void kv_print_refusal(const struct kv_action *op)
{
	const struct kv_result *r = &op->res;

	if (r->status == KV_NO_LEASE) {
		fprintf(stderr, "Error: no such lease %" PRIu64 "\n",
			r->lease ?: op->lease);
		return;
	}
	fprintf(stderr, "Error: fenced: %.*s ", (int)op->fence_keylen,
		op->fence_key ?: "");
	if (r->revision)
		fprintf(stderr, "is at revision %" PRIu64 ", not %" PRIu64 "\n",
			r->revision, op->fence_token);
	else
		fprintf(stderr, "does not exist, not at revision %" PRIu64 "\n",
			op->fence_token);
}

/*
 * 0, 1 for not found or a failed cas, -1 for an answer that is no result
 * or (with ctx->exit set) a refusal of the lease or the fence.
 */
static int kv_print(struct ctx *ctx, struct raft_client *c,
		    const struct kv_action *op)
{
	uint8_t status = op->res.status;
	bool refused = status == KV_NO_LEASE || status == KV_FENCED;

	if (status != KV_OK && status != KV_NOT_FOUND &&
	    status != KV_CAS_FAILED && !refused) {
		fprintf(stderr, "Error: the store answered \"%s\"\n",
			kv_status_name(status));
		return -1;
	}
	if (ctx->json)
		kv_print_json(ctx, c, op);
	else if (refused)
		kv_print_refusal(op);
	else
		kv_print_text(op);
	if (refused)
		return ctx_fail(ctx, status == KV_FENCED ?
				LAMPORT_EXIT_FENCED : LAMPORT_EXIT_NO_LEASE);
	return status == KV_OK ? 0 : 1;
}

static int kv_run(struct ctx *ctx, const struct kv_args *a,
		  struct kv_action *op)
{
	struct raft_client *c;
	int err, ret;

	if (kv_check(op) || raft_cli_client_as(&c, a->servers, a->timeout_ms,
						 a->client))
		return -1;
	if (a->seq)
		raft_client_set_seq(c, a->seq);
	err = kv_send(c, op);
	ret = err ? kv_error(c, a, op, err) : kv_print(ctx, c, op);
	raft_client_free(c);
	return ret;
}

/* Exactly the words named: 0, or -1 after naming the missing or extra one. */
static int kv_words(int argc, char **argv, int want, const char *const names[])
{
	if (argc < want)
		return missarg(names[argc]);
	if (argc > want)
		return unknarg("argument", argv[want], KV_HELP);
	return 0;
}

/* --fence FKEY=TOKEN, split at the last '=': 0, or -1 after the error. */
static int kv_fence(struct kv_action *op, const char *cmd, const char *arg)
{
	const char *eq = strrchr(arg, '=');
	uint64_t token;

	if (!eq || eq == arg)
		return cli_badarg(cmd, arg, "a fence KEY=TOKEN");
	if ((size_t)(eq - arg) > KV_KEY_MAX)
		return cli_badarg(cmd, arg,
				  "a fence KEY=TOKEN: KEY is over 255 bytes");
	if (cli_number(cmd, eq + 1, 1, UINT64_MAX,
		       "a fence token 1..18446744073709551615", &token))
		return -1;
	op->fence_key = arg;
	op->fence_keylen = (size_t)(eq - arg);
	op->fence_token = token;
	return 0;
}

/*
 * The words of a write: want of them, as names[] says, and --fence, and
 * --lease if lease.  0, or -1 after the error.
 */
static int kv_write_words(struct kv_action *op, bool lease, int argc,
			  char **argv, int want, const char *const names[])
{
	struct cli_opt opts[] = { { .name = "--fence" }, { .name = "--lease" } };
	char cmd[16];
	int n;

	snprintf(cmd, sizeof(cmd), "kv %s", op->name);
	n = cli_take_opts(opts, lease ? 2 : 1, &argc, argv);
	if (n < 0 || kv_words(argc, argv, want, names))
		return -1;
	if (opts[0].value && kv_fence(op, cmd, opts[0].value))
		return -1;
	if (opts[1].value &&
	    cli_number(cmd, opts[1].value, 1, UINT64_MAX,
		       "a lease id 1..18446744073709551615", &op->lease))
		return -1;
	return 0;
}

static int kv_cmd_get(struct ctx *ctx, const struct kv_args *a, int argc,
		  char **argv)
{
	static const char *const names[] = { "KEY" };
	struct kv_action op = { .op = KV_GET, .name = "get" };

	if (kv_words(argc, argv, 1, names))
		return -1;
	op.key = argv[0];
	return kv_run(ctx, a, &op);
}

static int kv_cmd_put(struct ctx *ctx, const struct kv_args *a, int argc,
		  char **argv)
{
	static const char *const names[] = { "KEY", "VALUE" };
	struct kv_action op = { .op = KV_PUT, .name = "put" };

	if (kv_write_words(&op, true, argc, argv, 2, names))
		return -1;
	op.key = argv[0];
	op.value = argv[1];
	return kv_run(ctx, a, &op);
}

static int kv_cmd_del(struct ctx *ctx, const struct kv_args *a, int argc,
		  char **argv)
{
	static const char *const names[] = { "KEY" };
	struct kv_action op = { .op = KV_DEL, .name = "del" };

	if (kv_write_words(&op, false, argc, argv, 1, names))
		return -1;
	op.key = argv[0];
	return kv_run(ctx, a, &op);
}

static int kv_cmd_cas(struct ctx *ctx, const struct kv_args *a, int argc,
		  char **argv)
{
	static const char *const names[] = { "KEY", "OLD", "NEW" };
	struct kv_action op = { .op = KV_CAS, .name = "cas" };

	if (kv_write_words(&op, true, argc, argv, 3, names))
		return -1;
	op.key = argv[0];
	op.expect = strcmp(argv[1], "--absent") ? argv[1] : NULL;
	op.value = argv[2];
	return kv_run(ctx, a, &op);
}

enum wl_opt {
	WL_CLIENTS,
	WL_DURATION,
	WL_OPS,
	WL_KEYS,
	WL_MIX,
	WL_HISTORY,
	WL_VALUE_SIZE,
	WL_SEED,
	WL_LOCKS,
	WL_LOCK_TTL,
	WL_PAUSE_PCT,
	WL_COUNT
};

static const char *const wl_names[WL_COUNT] = {
	[WL_CLIENTS]	= "--clients",
	[WL_DURATION]	= "--duration",
	[WL_OPS]	= "--ops",
	[WL_KEYS]	= "--keys",
	[WL_MIX]	= "--mix",
	[WL_HISTORY]	= "--history",
	[WL_VALUE_SIZE]	= "--value-size",
	[WL_SEED]	= "--seed",
	[WL_LOCKS]	= "--locks",
	[WL_LOCK_TTL]	= "--lock-ttl",
	[WL_PAUSE_PCT]	= "--pause-pct",
};

struct wl_args {
	struct raft_workload_opts o;
	const char *history;
	bool seen[WL_COUNT];
};

static int wl_number(const char *what, const char *arg, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	char why[80];
	int err = parse_u64(arg, out);

	if (err == -EINVAL) {
		snprintf(why, sizeof(why), "%s is not a number", what);
		return invarg(why, arg);
	}
	if (err || *out < min || *out > max) {
		snprintf(why, sizeof(why), "%s is out of range (%" PRIu64 "..%"
			 PRIu64 ")", what, min, max);
		return invarg(why, arg);
	}
	return 0;
}

static int wl_duration(const char *arg, uint64_t *ns)
{
	uint32_t ms;
	int err = parse_milli(arg, &ms);

	if (err == -EINVAL)
		return invarg("duration is not a number of seconds", arg);
	if (err || !ms || ms > MAX_DURATION_MS)
		return invarg("duration is out of range (0.001..604800 s)",
			      arg);
	*ns = (uint64_t)ms * 1000000ULL;
	return 0;
}

static int wl_set(struct wl_args *w, enum wl_opt opt, const char *arg)
{
	struct raft_workload_opts *o = &w->o;
	const char *why;
	uint64_t v = 0;
	int err = 0;

	switch (opt) {
	case WL_CLIENTS:
		err = wl_number("clients", arg, 1, RAFT_WORKLOAD_MAX_CLIENTS,
				&v);
		o->clients = (unsigned int)v;
		break;
	case WL_DURATION:
		return wl_duration(arg, &o->duration_ns);
	case WL_OPS:
		return wl_number("ops", arg, 1, UINT64_MAX, &o->ops);
	case WL_KEYS:
		err = wl_number("keys", arg, 1, RAFT_WORKLOAD_MAX_KEYS, &v);
		o->keys = (unsigned int)v;
		break;
	case WL_MIX:
		if (raft_workload_parse_mix(arg, o->mix, &why))
			return invarg(why, arg);
		break;
	case WL_HISTORY:
		w->history = arg;
		break;
	case WL_VALUE_SIZE:
		err = wl_number("value size", arg, 0, RAFT_WORKLOAD_MAX_VALUE,
				&v);
		o->value_size = (unsigned int)v;
		break;
	case WL_SEED:
		return wl_number("seed", arg, 0, UINT64_MAX, &o->seed);
	case WL_LOCKS:
		err = wl_number("locks", arg, 1, RAFT_WORKLOAD_MAX_LOCKS, &v);
		o->locks = (unsigned int)v;
		break;
	case WL_LOCK_TTL:
		err = wl_number("lock ttl", arg, 1,
				RAFT_WORKLOAD_MAX_LOCK_TTL_MS, &v);
		o->lock_ttl_ms = (unsigned int)v;
		break;
	case WL_PAUSE_PCT:
		err = wl_number("pause percentage", arg, 0, 100, &v);
		o->pause_pct = (unsigned int)v;
		break;
	case WL_COUNT:
		break;
	}
	return err;
}

/* --locks runs ops of its own: no --keys nor --mix; its options need it. */
static int wl_locks_check(const struct wl_args *w)
{
	static const enum wl_opt plain[] = { WL_KEYS, WL_MIX };
	static const enum wl_opt locking[] = { WL_LOCK_TTL, WL_PAUSE_PCT };
	size_t i;

	for (i = 0; w->seen[WL_LOCKS] && i < ARRAY_SIZE(plain); i++) {
		if (w->seen[plain[i]]) {
			fprintf(stderr, "Error: %s does not go with --locks\n",
				wl_names[plain[i]]);
			return -1;
		}
	}
	for (i = 0; !w->seen[WL_LOCKS] && i < ARRAY_SIZE(locking); i++) {
		if (w->seen[locking[i]]) {
			fprintf(stderr, "Error: %s needs --locks\n",
				wl_names[locking[i]]);
			return -1;
		}
	}
	return 0;
}

static uint64_t random_seed(void)
{
	struct timespec ts;
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int wl_parse(struct wl_args *w, const struct kv_args *a, int argc,
		    char **argv)
{
	int i, opt;

	memset(w, 0, sizeof(*w));
	raft_workload_defaults(&w->o);
	w->o.servers = a->servers;
	w->o.deadline_ms = a->timeout_ms;
	for (i = 0; i < argc; i += 2) {
		for (opt = 0; opt < WL_COUNT; opt++)
			if (!strcmp(argv[i], wl_names[opt]))
				break;
		if (opt == WL_COUNT)
			return unknarg("argument", argv[i], KV_HELP);
		if (i + 1 == argc)
			return needarg(argv[i]);
		if (w->seen[opt])
			return duparg(argv[i], argv[i + 1]);
		w->seen[opt] = true;
		if (wl_set(w, (enum wl_opt)opt, argv[i + 1]))
			return -1;
	}
	if (wl_locks_check(w))
		return -1;
	if (w->seen[WL_OPS] && !w->seen[WL_DURATION])
		w->o.duration_ns = 0;
	if (!w->seen[WL_SEED])
		w->o.seed = random_seed();
	return 0;
}

static void wl_print_latency_json(struct json *j, const char *key,
				  const struct raft_latency *l)
{
	json_key(j, key);
	json_obj_open(j);
	json_kv_u64(j, "count", l->count);
	json_kv_double(j, "p50", l->p50_ns / 1e6);
	json_kv_double(j, "p99", l->p99_ns / 1e6);
	json_kv_double(j, "max", l->max_ns / 1e6);
	json_obj_close(j);
}

static void wl_print_locks_json(struct json *j,
				const struct raft_lock_counts *l)
{
	json_key(j, "locks");
	json_obj_open(j);
	json_kv_u64(j, "acquires", l->acquires);
	json_kv_u64(j, "acquired", l->acquired);
	json_kv_u64(j, "held", l->held);
	json_kv_u64(j, "no_lease", l->no_lease);
	json_kv_u64(j, "fenced_puts", l->fputs);
	json_kv_u64(j, "fenced_puts_ok", l->fput_ok);
	json_kv_u64(j, "fenced", l->fenced);
	json_kv_u64(j, "releases", l->releases);
	json_kv_u64(j, "released", l->released);
	json_kv_u64(j, "release_fenced", l->release_fenced);
	json_kv_u64(j, "unknown", l->unknown);
	json_kv_u64(j, "grants_failed", l->grants_failed);
	json_kv_u64(j, "keepalives", l->keepalives);
	json_kv_u64(j, "leases_lost", l->leases_lost);
	json_kv_u64(j, "pauses", l->pauses);
	json_obj_close(j);
}

static void wl_print_json(struct ctx *ctx, const struct wl_args *w,
			  const struct raft_workload_result *r)
{
	struct json j;

	ctx_json(ctx, &j, stdout);
	json_obj_open(&j);
	json_kv_u32(&j, "clients", w->o.clients);
	json_kv_u64(&j, "seed", w->o.seed);
	json_kv_u64(&j, "ops", r->ops);
	json_kv_double(&j, "seconds", r->elapsed_ns / 1e9);
	json_kv_double(&j, "ops_per_sec", r->ops_per_sec);
	json_kv_u64(&j, "unknown", r->unknown);
	json_kv_u64(&j, "errors", r->errors);
	json_key(&j, "by_op");
	json_obj_open(&j);
	for (unsigned int op = 0; op < RAFT_OP_COUNT; op++) {
		const struct raft_op_counts *c = &r->by_op[op];

		json_key(&j, raft_op_name(op));
		json_obj_open(&j);
		json_kv_u64(&j, "ops", c->ops);
		json_kv_u64(&j, "ok", c->ok);
		json_kv_u64(&j, "not_found", c->not_found);
		json_kv_u64(&j, "cas_failed", c->cas_failed);
		json_kv_u64(&j, "unknown", c->unknown);
		json_obj_close(&j);
	}
	json_obj_close(&j);
	wl_print_latency_json(&j, "latency_ms", &r->answered);
	wl_print_latency_json(&j, "write_latency_ms", &r->writes);
	json_key(&j, "client");
	json_obj_open(&j);
	json_kv_u64(&j, "attempts", r->client.attempts);
	json_kv_u64(&j, "timeouts", r->client.timeouts);
	json_kv_u64(&j, "redirects", r->client.redirects);
	json_kv_u64(&j, "refusals", r->client.refusals);
	json_kv_u64(&j, "strays", r->client.strays);
	json_kv_u64(&j, "send_errors", r->client.send_errors);
	json_obj_close(&j);
	if (w->o.locks)
		wl_print_locks_json(&j, &r->locks);
	json_obj_close(&j);
}

static void wl_print_latency(const char *what, const struct raft_latency *l,
			     const char *counted)
{
	printf("%s p50 %.3f ms p99 %.3f ms max %.3f ms (%" PRIu64 " %s)\n",
	       what, l->p50_ns / 1e6, l->p99_ns / 1e6, l->max_ns / 1e6,
	       l->count, counted);
}

static void wl_print_text(const struct wl_args *w,
			  const struct raft_workload_result *r)
{
	printf("workload %u clients seed %" PRIu64 ": %" PRIu64
	       " ops in %.3f s, %.1f ops/s\n", w->o.clients, w->o.seed, r->ops,
	       r->elapsed_ns / 1e9, r->ops_per_sec);
	for (unsigned int op = 0; op < RAFT_OP_COUNT; op++) {
		const struct raft_op_counts *c = &r->by_op[op];

		printf("  %s %" PRIu64 " ok %" PRIu64 " not-found %" PRIu64
		       " cas-failed %" PRIu64 " unknown %" PRIu64 "\n",
		       raft_op_name(op), c->ops, c->ok, c->not_found,
		       c->cas_failed, c->unknown);
	}
	printf("unknown %" PRIu64 " errors %" PRIu64 " attempts %" PRIu64
	       " timeouts %" PRIu64 " redirects %" PRIu64 " refusals %" PRIu64
	       "\n", r->unknown, r->errors, r->client.attempts,
	       r->client.timeouts, r->client.redirects, r->client.refusals);
	if (w->o.locks) {
		const struct raft_lock_counts *l = &r->locks;

		printf("locks: acquire %" PRIu64 " acquired %" PRIu64
		       " held %" PRIu64 " no-lease %" PRIu64 "\n",
		       l->acquires, l->acquired, l->held, l->no_lease);
		printf("  fenced put %" PRIu64 " ok %" PRIu64 " fenced %" PRIu64
		       " release %" PRIu64 " released %" PRIu64
		       " fenced %" PRIu64 " unknown %" PRIu64 "\n",
		       l->fputs, l->fput_ok, l->fenced, l->releases,
		       l->released, l->release_fenced, l->unknown);
		printf("  leases: grant failed %" PRIu64 " keepalive %" PRIu64
		       " lost %" PRIu64 " pauses %" PRIu64 "\n",
		       l->grants_failed, l->keepalives, l->leases_lost,
		       l->pauses);
	}
	wl_print_latency("latency", &r->answered, "answered");
	wl_print_latency("write latency", &r->writes, "written");
}

static int wl_report(struct ctx *ctx, const struct wl_args *w,
		     const struct kv_args *a,
		     const struct raft_workload_result *r, int err)
{
	if (ctx->json)
		wl_print_json(ctx, w, r);
	else
		wl_print_text(w, r);
	if (err == -EIO) {
		fprintf(stderr, "Error: cannot write \"%s\"\n", w->history);
		return -1;
	}
	if (err) {
		fprintf(stderr, "Error: the workload stopped: %s\n",
			strerror(-err));
		return -1;
	}
	if (r->ops && r->unknown == r->ops) {
		fprintf(stderr, "Error: no operation got an answer from ");
		raft_cli_print_servers(stderr, a->servers);
		fputc('\n', stderr);
		return -1;
	}
	return 0;
}

static int kv_cmd_workload(struct ctx *ctx, const struct kv_args *a, int argc,
		       char **argv)
{
	struct raft_workload_result r;
	FILE *history = NULL;
	struct wl_args w;
	int err;

	if (argc && matches(argv[0], "help"))
		return kv_cmd_help(ctx, a, 0, argv);
	if (wl_parse(&w, a, argc, argv))
		return -1;
	if (w.history) {
		history = fopen(w.history, "w");
		if (!history) {
			fprintf(stderr, "Error: cannot open \"%s\": %s\n",
				w.history, strerror(errno));
			return -1;
		}
	}
	w.o.history = history;
	err = raft_workload_run(&w.o, &r);
	if (history && fclose(history) && !err)
		err = -EIO;
	if (err && err != -EIO && !r.ops) {
		fprintf(stderr, "Error: the workload did not start: %s\n",
			strerror(-err));
		return -1;
	}
	return wl_report(ctx, &w, a, &r, err);
}

/*
 * Takes the common options out of argv: the count of words left, or -1.
 * --client ID and --seq N send a request as a given client would (a retry
 * of its write number N, say): for tests of exactly-once execution.
 */
static int kv_common(struct kv_args *a, int argc, char **argv)
{
	static const char *const names[] = {
		"--server", "--timeout", "--client", "--seq",
	};
	bool seen[ARRAY_SIZE(names)] = { false };
	int n = 0;

	a->servers = raft_cli_default_servers();
	a->timeout_ms = RAFT_CLIENT_DEADLINE_MS;
	for (int i = 0; i < argc; i++) {
		unsigned int o = 0;

		while (o < ARRAY_SIZE(names) && strcmp(argv[i], names[o]))
			o++;
		if (o == ARRAY_SIZE(names)) {
			argv[n++] = argv[i];
			continue;
		}
		if (i + 1 == argc)
			return needarg(argv[i]);
		if (seen[o])
			return duparg(argv[i], argv[i + 1]);
		seen[o] = true;
		i++;
		if (o == 0)
			a->servers = argv[i];
		else if (o == 1 && raft_cli_timeout(argv[i], &a->timeout_ms))
			return -1;
		else if (o == 2 && (parse_u64(argv[i], &a->client) || !a->client))
			return invarg("client id must be 1..2^64-1", argv[i]);
		else if (o == 3 && (parse_u64(argv[i], &a->seq) || !a->seq))
			return invarg("seq must be 1..2^64-1", argv[i]);
	}
	return raft_cli_servers(a->servers) ?: n;
}

int do_kv(struct ctx *ctx, int argc, char **argv)
{
	static const struct kv_verb verbs[] = {
		{ "get",	kv_cmd_get },
		{ "put",	kv_cmd_put },
		{ "del",	kv_cmd_del },
		{ "cas",	kv_cmd_cas },
		{ "workload",	kv_cmd_workload },
		{ "help",	kv_cmd_help },
		{ NULL, NULL },
	};
	struct kv_args a;

	if (!argc) {
		kv_usage(stderr);
		return -1;
	}
	if (matches(argv[0], "help"))
		return kv_cmd_help(ctx, NULL, 0, argv);
	argc = kv_common(&a, argc, argv);
	if (argc < 0)
		return -1;
	if (!argc)
		return missarg("OP");
	for (const struct kv_verb *v = verbs; v->name; v++)
		if (matches(argv[0], v->name))
			return v->run(ctx, &a, argc - 1, argv + 1);
	return unknarg("command", argv[0], KV_HELP);
}
