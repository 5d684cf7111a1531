// SPDX-License-Identifier: GPL-2.0
/*
 * lamport lease and lamport lock: the leases of the Raft key-value store,
 * and locks made of them.  A lock NAME is the key "lock/NAME", created by
 * a cas that finds it absent, with a lease attached: the holder keeps the
 * lease alive, and should it die, the lease expires and the key goes with
 * it.  The key's revision, which grows with every acquisition, is the
 * holder's fencing token: writes fenced by it (lamport kv --fence) apply
 * only while that holder still holds the lock.
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "lamport.h"
#include "raft/client.h"

#define LEASE_HELP		"lamport lease help"
#define LOCK_HELP		"lamport lock help"
#define LOCK_PREFIX		"lock/"
#define LOCK_NAME_MAX		(KV_KEY_MAX - (sizeof(LOCK_PREFIX) - 1))
#define LOCK_RETRY_MS		50
#define KEEPALIVE_MS		1000	/* while the lease's ttl is unknown */
#define WAIT_MAX_MS		3600000
#define LEASE_ID_RANGE		"a lease id 1..18446744073709551615"
#define TTL_RANGE		"a ttl of 1..3600000 ms"
#define NSEC_PER_MSEC		1000000ULL

struct lease_verb {
	const char *name;
	int (*run)(struct ctx *ctx, const struct raft_cli_args *a, int argc,
		   char **argv);
};

/*
 * The last of SIGINT and SIGTERM caught, and whether to pass it on.
 * SIGCHLD is caught only to end the wait in sleep_until().
 */
static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t pass_signal;

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	if (sig == SIGCHLD)
		return;
	got_signal = sig;
	/* Sent to this process alone (kill), not by the terminal to all. */
	pass_signal = info->si_code <= 0;
}

/*
 * Catches SIGINT, SIGTERM and SIGCHLD, blocked but while waiting in
 * sleep_until(): *open is the mask to wait with, *orig the one to
 * restore (in a child, say).
 */
static void catch_signals(sigset_t *open, sigset_t *orig)
{
	struct sigaction sa = { .sa_sigaction = on_signal,
				.sa_flags = SA_SIGINFO };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, orig);
	*open = *orig;
	sigdelset(open, SIGINT);
	sigdelset(open, SIGTERM);
	sigdelset(open, SIGCHLD);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Until the time 'until' (now_ns()) or a signal caught. */
static void sleep_until(uint64_t until, const sigset_t *open)
{
	uint64_t now = now_ns();
	struct timespec ts;

	if (now >= until)
		return;
	ts.tv_sec = (time_t)((until - now) / 1000000000ULL);
	ts.tv_nsec = (long)((until - now) % 1000000000ULL);
	ppoll(NULL, 0, &ts, open);
}

static void lease_usage(FILE *out)
{
	fprintf(out,
		"Usage: lamport lease [ CLUSTER ] grant TTL_MS\n"
		"       lamport lease [ CLUSTER ] keepalive ID [ --interval MS ] [ --count N ]\n"
		"       lamport lease [ CLUSTER ] revoke ID\n"
		"       lamport lease help\n"
		"where  CLUSTER := [ --server LIST ] [ --timeout MS ]\n"
		"       LIST := ADDR[,ADDR]... (default $LAMPORT_RAFT_SERVERS, else :7001)\n"
		"       ADDR := IPV4:PORT | [IPV6]:PORT | :PORT (127.0.0.1)\n"
		"       MS := how long to try one operation (default 5000)\n"
		"A lease of the key-value store lives TTL_MS (1..3600000) after its grant\n"
		"or its last keepalive, then expires, deleting the keys attached to it\n"
		"(lamport kv put KEY VALUE --lease ID); revoke ends it at once. grant\n"
		"prints the lease's id. keepalive keeps the lease alive every MS (by\n"
		"default a third of its ttl, as the first keepalive tells) until\n"
		"SIGINT or SIGTERM, or N times.\n"
		"Exit status: 0 done; 1 on error; 4 the lease does not exist (is gone);\n"
		"5 the store holds as many leases as it can (%u).\n",
		KV_LEASES_MAX);
}

static void lock_usage(FILE *out)
{
	fprintf(out,
		"Usage: lamport lock [ CLUSTER ] acquire NAME --ttl MS [ --wait MS ]\n"
		"                    [ -- COMMAND [ ARGS... ] ]\n"
		"       lamport lock [ CLUSTER ] release NAME --token TOKEN\n"
		"       lamport lock help\n"
		"where  CLUSTER := [ --server LIST ] [ --timeout MS ]\n"
		"       LIST := ADDR[,ADDR]... (default $LAMPORT_RAFT_SERVERS, else :7001)\n"
		"A lock is the key lock/NAME, held by a lease of --ttl MS: acquire\n"
		"creates the key if absent, with a new lease attached, and prints the\n"
		"holder's fencing token (the key's revision) and its lease, which\n"
		"must then be kept alive (lamport lease keepalive) or the lock goes\n"
		"when it expires. A lock held by another is waited for up to --wait MS\n"
		"(default 0: not at all). With a COMMAND, acquire runs it holding the\n"
		"lock, with LAMPORT_LOCK_NAME, LAMPORT_LOCK_TOKEN and LAMPORT_LOCK_LEASE\n"
		"in its environment, keeps the lease alive every third of the ttl and\n"
		"releases the lock when the command ends; should the lease be lost,\n"
		"the command gets SIGTERM. release deletes the lock if still held with\n"
		"TOKEN, and revokes its lease. Writes fenced by the token\n"
		"(lamport kv put KEY VALUE --fence lock/NAME=TOKEN) fail once the lock\n"
		"is another's.\n"
		"Exit status: 0 done; 1 on error; 2 the lock is held by another;\n"
		"3 release: not held with TOKEN, acquire: the lock was lost while the\n"
		"command ran and it exited 0; 5 no lease could be granted (too many);\n"
		"with a COMMAND, else, the command's status (128 + N: killed by\n"
		"signal N).\n");
}

static int lease_cmd_help(struct ctx *ctx, const struct raft_cli_args *a,
			  int argc, char **argv)
{
	(void)ctx, (void)a, (void)argc, (void)argv;
	lease_usage(stdout);
	return 0;
}

static int lock_cmd_help(struct ctx *ctx, const struct raft_cli_args *a,
			 int argc, char **argv)
{
	(void)ctx, (void)a, (void)argc, (void)argv;
	lock_usage(stdout);
	return 0;
}

/* Exactly the words named: 0, or -1 after naming the missing or extra one. */
static int words(int argc, char **argv, int want, const char *const names[],
		 const char *help)
{
	if (argc < want)
		return missarg(names[argc]);
	if (argc > want)
		return unknarg("argument", argv[want], help);
	return 0;
}

/* A result that is not ok nor one of those the caller handles: -1. */
static int store_answered(const char *cmd, const struct kv_result *r)
{
	fprintf(stderr, "Error: %s: the store answered \"%s\"\n", cmd,
		kv_status_name(r->status));
	return -1;
}

static int lease_cmd_grant(struct ctx *ctx, const struct raft_cli_args *a,
			   int argc, char **argv)
{
	static const char *const names[] = { "TTL_MS" };
	struct raft_client *c;
	struct kv_result res;
	uint64_t ttl;
	struct json j;
	int err, ret = 0;

	if (words(argc, argv, 1, names, LEASE_HELP) ||
	    cli_number("lease grant", argv[0], 1, KV_TTL_MAX, TTL_RANGE,
		       &ttl) ||
	    raft_cli_client(&c, a->servers, a->timeout_ms))
		return -1;
	err = raft_client_lease_grant(c, (uint32_t)ttl, &res);
	if (err) {
		ret = raft_cli_call_error(c, a->servers, a->timeout_ms, true,
					  err);
	} else if (res.status == KV_BUSY) {
		fprintf(stderr, "Error: lease grant: the store holds %u leases, as many as it can\n",
			KV_LEASES_MAX);
		ret = ctx_fail(ctx, LAMPORT_EXIT_BUSY);
	} else if (res.status != KV_OK) {
		ret = store_answered("lease grant", &res);
	} else if (ctx->json) {
		ctx_json(ctx, &j, stdout);
		json_obj_open(&j);
		json_kv_u64(&j, "lease", res.lease);
		json_kv_u32(&j, "ttl_ms", res.ttl_ms ?: (uint32_t)ttl);
		json_kv_str(&j, "leader", raft_client_leader(c));
		json_obj_close(&j);
	} else {
		printf("lease %" PRIu64 " granted: ttl %" PRIu32 " ms\n",
		       res.lease, res.ttl_ms ?: (uint32_t)ttl);
	}
	raft_client_free(c);
	return ret;
}

static int lease_cmd_revoke(struct ctx *ctx, const struct raft_cli_args *a,
			    int argc, char **argv)
{
	static const char *const names[] = { "ID" };
	struct raft_client *c;
	struct kv_result res;
	uint64_t id;
	struct json j;
	int err, ret = 0;

	if (words(argc, argv, 1, names, LEASE_HELP) ||
	    cli_number("lease revoke", argv[0], 1, UINT64_MAX, LEASE_ID_RANGE,
		       &id) ||
	    raft_cli_client(&c, a->servers, a->timeout_ms))
		return -1;
	err = raft_client_lease_revoke(c, id, &res);
	if (err) {
		ret = raft_cli_call_error(c, a->servers, a->timeout_ms, true,
					  err);
	} else if (res.status == KV_NO_LEASE) {
		fprintf(stderr, "Error: no such lease %" PRIu64 "\n", id);
		ret = ctx_fail(ctx, LAMPORT_EXIT_NO_LEASE);
	} else if (res.status != KV_OK) {
		ret = store_answered("lease revoke", &res);
	} else if (ctx->json) {
		ctx_json(ctx, &j, stdout);
		json_obj_open(&j);
		json_kv_u64(&j, "lease", id);
		json_kv_bool(&j, "revoked", true);
		json_obj_close(&j);
	} else {
		printf("lease %" PRIu64 " revoked\n", id);
	}
	raft_client_free(c);
	return ret;
}

struct keepalive_args {
	uint64_t id;
	uint64_t interval_ms;	/* 0: a third of the ttl */
	uint64_t count;		/* 0: until a signal */
};

static int keepalive_parse(struct keepalive_args *k, int argc, char **argv)
{
	static const char *const names[] = { "ID" };
	struct cli_opt opts[] = {
		{ .name = "--interval" }, { .name = "--count" },
	};
	int n;

	n = cli_take_opts(opts, 2, &argc, argv);
	if (n < 0 || words(argc, argv, 1, names, LEASE_HELP) ||
	    cli_number("lease keepalive", argv[0], 1, UINT64_MAX,
		       LEASE_ID_RANGE, &k->id))
		return -1;
	if (opts[0].value &&
	    cli_number("lease keepalive", opts[0].value, 1, WAIT_MAX_MS,
		       "an interval of 1..3600000 ms", &k->interval_ms))
		return -1;
	if (opts[1].value &&
	    cli_number("lease keepalive", opts[1].value, 1, UINT32_MAX,
		       "a count 1..4294967295", &k->count))
		return -1;
	return 0;
}

static void keepalive_print(struct ctx *ctx, struct json *j, uint64_t id,
			    const struct kv_result *r)
{
	if (ctx->json) {
		json_obj_open(j);
		json_kv_u64(j, "lease", id);
		json_kv_u32(j, "ttl_ms", r->ttl_ms);
		json_kv_u64(j, "index", r->index);
		json_obj_close(j);
	} else {
		printf("lease %" PRIu64 " kept alive: ttl %" PRIu32 " ms\n",
		       id, r->ttl_ms);
	}
	fflush(stdout);
}

static int lease_cmd_keepalive(struct ctx *ctx, const struct raft_cli_args *a,
			       int argc, char **argv)
{
	struct keepalive_args k = { 0 };
	uint64_t interval, next, done = 0;
	struct raft_client *c;
	sigset_t open, orig;
	struct kv_result res;
	int err = 0, ret = 0;
	struct json j;

	if (keepalive_parse(&k, argc, argv) ||
	    raft_cli_client(&c, a->servers, a->timeout_ms))
		return -1;
	catch_signals(&open, &orig);
	ctx_json(ctx, &j, stdout);
	interval = k.interval_ms ?: KEEPALIVE_MS;
	for (next = now_ns(); !got_signal; sleep_until(next, &open)) {
		if (now_ns() < next)
			continue;
		next = now_ns() + interval * NSEC_PER_MSEC;
		err = raft_client_lease_keepalive(c, k.id, &res);
		if (err) {
			/* The lease may live on: try again in time. */
			raft_cli_call_error(c, a->servers, a->timeout_ms,
					    true, err);
		} else if (res.status == KV_NO_LEASE) {
			fprintf(stderr, "Error: lease %" PRIu64 " is gone\n",
				k.id);
			ret = ctx_fail(ctx, LAMPORT_EXIT_NO_LEASE);
			break;
		} else if (res.status != KV_OK) {
			ret = store_answered("lease keepalive", &res);
			break;
		} else {
			keepalive_print(ctx, &j, k.id, &res);
			if (!k.interval_ms && res.ttl_ms)
				interval = res.ttl_ms / 3 ?: 1;
		}
		if (k.count && ++done == k.count)
			break;
	}
	raft_client_free(c);
	if (ctx->json && json_finish(&j))
		ret = -1;
	return ret ?: err ? -1 : 0;
}

/* The key of lock name, or -1 after the error. */
static int lock_key(const char *cmd, const char *name, char *key, size_t size)
{
	size_t len = strlen(name);

	if (!len || len > LOCK_NAME_MAX) {
		fprintf(stderr, "Error: %s: \"%s\" is not a lock name (1..%zu bytes)\n",
			cmd, name, LOCK_NAME_MAX);
		return -1;
	}
	snprintf(key, size, LOCK_PREFIX "%s", name);
	return 0;
}

struct lock_args {
	const struct raft_cli_args *cli;
	const char *name;
	char key[KV_KEY_MAX + 1];
	uint64_t ttl_ms;
	uint64_t wait_ms;
	char **command;		/* NULL: none */
	uint64_t lease;
	uint64_t token;
	uint32_t ttl;		/* the lease's, as granted */
};

static int acquire_parse(struct lock_args *l, int argc, char **argv)
{
	static const char *const names[] = { "NAME" };
	struct cli_opt opts[] = { { .name = "--ttl" }, { .name = "--wait" } };
	int n;

	n = cli_take_opts(opts, 2, &argc, argv);
	if (n < 0 || words(n, argv, 1, names, LOCK_HELP) ||
	    lock_key("lock acquire", argv[0], l->key, sizeof(l->key)))
		return -1;
	l->name = argv[0];
	if (!opts[0].value)
		return missarg("--ttl");
	if (cli_number("lock acquire", opts[0].value, 1, KV_TTL_MAX,
		       TTL_RANGE, &l->ttl_ms))
		return -1;
	if (opts[1].value &&
	    cli_number("lock acquire", opts[1].value, 0, WAIT_MAX_MS,
		       "a wait of 0..3600000 ms", &l->wait_ms))
		return -1;
	if (argc == n)
		return 0;
	/* argv[n] is the "--". */
	if (argc == n + 1)
		return missarg("COMMAND");
	l->command = argv + n + 1;
	argv[argc] = NULL;
	return 0;
}

/* What the lock's key holds: who took it. */
static void holder(char *buf, size_t size)
{
	char host[64];

	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, size, "%s pid %ld", host, (long)getpid());
}

static int lease_grant(struct ctx *ctx, struct raft_client *c,
		       struct lock_args *l)
{
	struct kv_result res;
	int err;

	err = raft_client_lease_grant(c, (uint32_t)l->ttl_ms, &res);
	if (err)
		return raft_cli_call_error(c, l->cli->servers,
					   l->cli->timeout_ms, true, err);
	if (res.status == KV_BUSY) {
		fprintf(stderr, "Error: lock %s: no lease: the store holds %u, as many as it can\n",
			l->name, KV_LEASES_MAX);
		return ctx_fail(ctx, LAMPORT_EXIT_BUSY);
	}
	if (res.status != KV_OK)
		return store_answered("lock acquire", &res);
	l->lease = res.lease;
	l->ttl = res.ttl_ms ?: (uint32_t)l->ttl_ms;
	return 0;
}

/* Best effort: a lease left behind expires anyway. */
static void lease_drop(struct raft_client *c, uint64_t lease)
{
	struct kv_result res;

	raft_client_lease_revoke(c, lease, &res);
}

static uint64_t keepalive_interval(const struct lock_args *l)
{
	return (l->ttl / 3 ?: 1) * NSEC_PER_MSEC;
}

/*
 * The cas that takes the lock, again every LOCK_RETRY_MS while another
 * holds it, until the wait is over, keeping the lease alive meanwhile.
 * 0 with l->token set, or -1 after the error (the lease revoked).
 */
static int acquire(struct ctx *ctx, struct raft_client *c, struct lock_args *l,
		   const sigset_t *open)
{
	struct raft_client_write_opts o = { 0 };
	uint64_t deadline = now_ns() + l->wait_ms * NSEC_PER_MSEC;
	uint64_t refresh = now_ns() + keepalive_interval(l);
	struct kv_result res;
	char value[128];
	int err;

	holder(value, sizeof(value));
	for (;;) {
		if (!l->lease && lease_grant(ctx, c, l))
			return -1;
		o.lease = l->lease;
		err = raft_client_cas_ex(c, l->key, strlen(l->key), NULL, 0,
					 value, strlen(value), &o, &res);
		if (err) {
			raft_cli_call_error(c, l->cli->servers,
					    l->cli->timeout_ms, true, err);
			break;
		}
		if (res.status == KV_OK) {
			l->token = res.revision;
			return 0;
		}
		if (res.status == KV_NO_LEASE && now_ns() >= deadline) {
			fprintf(stderr, "Error: lock %s: lease %" PRIu64
				" expired before the lock was taken\n",
				l->name, l->lease);
			return -1;
		}
		if (res.status == KV_NO_LEASE) {
			/* It expired as we waited: another. */
			l->lease = 0;
			continue;
		}
		if (res.status != KV_CAS_FAILED) {
			store_answered("lock acquire", &res);
			break;
		}
		if (now_ns() >= deadline || got_signal) {
			fprintf(stderr, "Error: lock %s is held (token %" PRIu64
				", lease %" PRIu64 ")\n", l->name,
				res.revision, res.lease);
			lease_drop(c, l->lease);
			return ctx_fail(ctx, got_signal ? LAMPORT_EXIT_ERROR :
					LAMPORT_EXIT_HELD);
		}
		sleep_until(deadline < now_ns() + LOCK_RETRY_MS * NSEC_PER_MSEC ?
			    deadline : now_ns() + LOCK_RETRY_MS * NSEC_PER_MSEC,
			    open);
		if (now_ns() >= refresh) {
			refresh = now_ns() + keepalive_interval(l);
			if (!raft_client_lease_keepalive(c, l->lease, &res) &&
			    res.status == KV_NO_LEASE)
				l->lease = 0;
		}
	}
	/* The cas may have been applied: the revoke deletes the key then. */
	if (l->lease)
		lease_drop(c, l->lease);
	return -1;
}

static void acquired_print(struct ctx *ctx, const struct lock_args *l)
{
	struct json j;

	if (!ctx->json) {
		printf("lock %s acquired: token %" PRIu64 ", lease %" PRIu64
		       " (expires in %" PRIu32 " ms unless kept alive)\n",
		       l->name, l->token, l->lease, l->ttl);
		return;
	}
	ctx_json(ctx, &j, stdout);
	json_obj_open(&j);
	json_kv_str(&j, "lock", l->name);
	json_kv_str(&j, "key", l->key);
	json_kv_u64(&j, "token", l->token);
	json_kv_u64(&j, "lease", l->lease);
	json_kv_u32(&j, "ttl_ms", l->ttl);
	json_obj_close(&j);
}

/* The fenced delete of the lock, then the revoke of its lease. */
static int release(struct raft_client *c, const char *key, uint64_t token,
		   uint64_t lease, struct kv_result *res)
{
	struct raft_client_write_opts o = {
		.fence_key = key, .fence_keylen = strlen(key),
		.fence_token = token,
	};
	struct kv_result rev;
	int err;

	err = raft_client_del_ex(c, key, strlen(key), &o, res);
	if (!err && res->status == KV_OK && lease)
		raft_client_lease_revoke(c, lease, &rev);
	return err;
}

static void keepalive_warning(struct raft_client *c, const struct lock_args *l,
			      int err)
{
	fprintf(stderr, "Warning: lock %s: keeping lease %" PRIu64 " alive: ",
		l->name, l->lease);
	if (err == -ETIMEDOUT)
		fprintf(stderr, "no answer within %u ms\n", l->cli->timeout_ms);
	else if (err == -EREMOTEIO)
		fprintf(stderr, "%s\n", raft_client_error(c));
	else
		fprintf(stderr, "%s\n", strerror(-err));
}

static void child_exec(const struct lock_args *l, const sigset_t *orig)
{
	char num[24];

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, orig, NULL);
	setenv("LAMPORT_LOCK_NAME", l->name, 1);
	snprintf(num, sizeof(num), "%" PRIu64, l->token);
	setenv("LAMPORT_LOCK_TOKEN", num, 1);
	snprintf(num, sizeof(num), "%" PRIu64, l->lease);
	setenv("LAMPORT_LOCK_LEASE", num, 1);
	execvp(l->command[0], l->command);
	fprintf(stderr, "Error: lock acquire: cannot run \"%s\": %s\n",
		l->command[0], strerror(errno));
	_exit(127);
}

/* Its exit status as a shell gives it. */
static int child_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/*
 * Runs the command holding the lock: keeps the lease alive, passes on a
 * SIGINT or SIGTERM sent to lamport alone, and after the command ends,
 * releases the lock.  The command's status, or -1 after an error.
 */
static int run_locked(struct raft_client *c, struct lock_args *l,
		      const sigset_t *open, const sigset_t *orig, bool *lost)
{
	uint64_t next = now_ns() + keepalive_interval(l);
	struct kv_result res;
	int status, err;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "Error: lock acquire: fork: %s\n",
			strerror(errno));
		return -1;
	}
	if (!pid)
		child_exec(l, orig);
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (got_signal && pass_signal) {
			pass_signal = 0;
			kill(pid, got_signal);
		}
		if (!*lost && now_ns() >= next) {
			next = now_ns() + keepalive_interval(l);
			err = raft_client_lease_keepalive(c, l->lease, &res);
			if (err)
				keepalive_warning(c, l, err);
			else if (res.status == KV_NO_LEASE) {
				fprintf(stderr, "lock %s lost: lease %" PRIu64
					" expired\n", l->name, l->lease);
				*lost = true;
				kill(pid, SIGTERM);
			}
			continue;
		}
		sleep_until(*lost ? UINT64_MAX : next, open);
	}
	if (!*lost) {
		err = release(c, l->key, l->token, l->lease, &res);
		if (err)
			raft_cli_call_error(c, l->cli->servers,
					    l->cli->timeout_ms, true, err);
		else if (res.status != KV_OK)
			fprintf(stderr, "lock %s was lost before its release (%s)\n",
				l->name, kv_status_name(res.status));
	}
	return child_status(status);
}

static int lock_cmd_acquire(struct ctx *ctx, const struct raft_cli_args *a,
			    int argc, char **argv)
{
	struct lock_args l = { .cli = a };
	struct raft_client *c;
	sigset_t open, orig;
	bool lost = false;
	int ret;

	if (acquire_parse(&l, argc, argv) ||
	    raft_cli_client(&c, a->servers, a->timeout_ms))
		return -1;
	catch_signals(&open, &orig);
	ret = acquire(ctx, c, &l, &open);
	if (!ret && !l.command) {
		acquired_print(ctx, &l);
	} else if (!ret) {
		ret = run_locked(c, &l, &open, &orig, &lost);
		if (ret > 0)
			ret = ctx_fail(ctx, ret);
		else if (!ret && lost)
			ret = ctx_fail(ctx, LAMPORT_EXIT_FENCED);
	}
	raft_client_free(c);
	return ret;
}

static int lock_cmd_release(struct ctx *ctx, const struct raft_cli_args *a,
			    int argc, char **argv)
{
	static const char *const names[] = { "NAME" };
	struct cli_opt opt = { .name = "--token" };
	char key[KV_KEY_MAX + 1];
	struct raft_client *c;
	struct kv_result res;
	uint64_t token, lease = 0;
	struct json j;
	bool wrote;
	int n, err;

	n = cli_take_opts(&opt, 1, &argc, argv);
	if (n < 0 || words(argc, argv, 1, names, LOCK_HELP) ||
	    lock_key("lock release", argv[0], key, sizeof(key)))
		return -1;
	if (!opt.value)
		return missarg("--token");
	if (cli_number("lock release", opt.value, 1, UINT64_MAX,
		       "a token 1..18446744073709551615", &token) ||
	    raft_cli_client(&c, a->servers, a->timeout_ms))
		return -1;
	/* The lease to revoke: the holder's, if the holder is token's. */
	err = raft_client_get(c, key, strlen(key), &res);
	if (!err && res.status == KV_OK && res.revision == token)
		lease = res.lease;
	wrote = !err;
	if (!err)
		err = release(c, key, token, lease, &res);
	if (err)
		raft_cli_call_error(c, a->servers, a->timeout_ms, wrote, err);
	raft_client_free(c);
	if (err)
		return -1;
	if (res.status == KV_FENCED || res.status == KV_NOT_FOUND) {
		fprintf(stderr, "Error: lock %s is no longer held with token %"
			PRIu64 "\n", argv[0], token);
		return ctx_fail(ctx, LAMPORT_EXIT_FENCED);
	}
	if (res.status != KV_OK)
		return store_answered("lock release", &res);
	if (!ctx->json) {
		printf("lock %s released (token %" PRIu64 ")\n", argv[0],
		       token);
		return 0;
	}
	ctx_json(ctx, &j, stdout);
	json_obj_open(&j);
	json_kv_str(&j, "lock", argv[0]);
	json_kv_u64(&j, "token", token);
	json_kv_bool(&j, "released", true);
	json_obj_close(&j);
	return 0;
}

/* The common options, then the verb. */
static int run_verb(struct ctx *ctx, const struct lease_verb *verbs,
		    const char *help, void (*usage)(FILE *out), int argc,
		    char **argv)
{
	struct raft_cli_args a;

	if (!argc) {
		usage(stderr);
		return -1;
	}
	if (matches(argv[0], "help")) {
		usage(stdout);
		return 0;
	}
	argc = raft_cli_common(&a, argc, argv);
	if (argc < 0)
		return -1;
	if (!argc || !strcmp(argv[0], "--"))
		return missarg("COMMAND");
	for (const struct lease_verb *v = verbs; v->name; v++)
		if (matches(argv[0], v->name))
			return v->run(ctx, &a, argc - 1, argv + 1);
	return unknarg("command", argv[0], help);
}

int do_lease(struct ctx *ctx, int argc, char **argv)
{
	static const struct lease_verb verbs[] = {
		{ "grant",	lease_cmd_grant },
		{ "keepalive",	lease_cmd_keepalive },
		{ "revoke",	lease_cmd_revoke },
		{ "help",	lease_cmd_help },
		{ NULL, NULL },
	};

	return run_verb(ctx, verbs, LEASE_HELP, lease_usage, argc, argv);
}

int do_lock(struct ctx *ctx, int argc, char **argv)
{
	static const struct lease_verb verbs[] = {
		{ "acquire",	lock_cmd_acquire },
		{ "release",	lock_cmd_release },
		{ "help",	lock_cmd_help },
		{ NULL, NULL },
	};

	return run_verb(ctx, verbs, LOCK_HELP, lock_usage, argc, argv);
}
