// SPDX-License-Identifier: GPL-2.0
/*
 * lamport raft: a node of the Raft key-value store (serve) and what one
 * says of itself (status); and the option parsing lamport kv shares.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "lamport.h"
#include "raft/client.h"
#include "raft/server.h"

#define RAFT_HELP		"lamport raft help"
#define STATUS_TIMEOUT_MS	1000
#define TIMEOUT_MAX_MS		3600000

const char *raft_cli_default_servers(void)
{
	const char *env = getenv("LAMPORT_RAFT_SERVERS");

	return env && *env ? env : ":7001";
}

int raft_cli_timeout(const char *arg, unsigned int *ms)
{
	uint32_t v;

	if (parse_u32(arg, &v) == -EINVAL)
		return invarg("timeout is not a number of milliseconds", arg);
	if (parse_u32(arg, &v) || !v || v > TIMEOUT_MAX_MS)
		return invarg("timeout is out of range (1..3600000 ms)", arg);
	*ms = v;
	return 0;
}

int raft_cli_servers(const char *list)
{
	struct raft_addr addrs[RAFT_CLIENT_MAX_SERVERS];
	char bad[WIRE_ADDR_MAX + 1];
	const char *why;

	if (raft_addr_list_parse(list, addrs, RAFT_CLIENT_MAX_SERVERS, bad,
				 sizeof(bad), &why) < 0)
		return invarg(why, bad);
	return 0;
}

void raft_cli_print_servers(FILE *out, const char *list)
{
	struct raft_addr addrs[RAFT_CLIENT_MAX_SERVERS];
	char bad[WIRE_ADDR_MAX], name[WIRE_ADDR_MAX];
	const char *why;
	int n;

	n = raft_addr_list_parse(list, addrs, RAFT_CLIENT_MAX_SERVERS, bad,
				 sizeof(bad), &why);
	for (int i = 0; i < n; i++) {
		raft_addr_format(&addrs[i], name, sizeof(name));
		fprintf(out, "%s%s", i ? ", " : "", name);
	}
}

int raft_cli_client(struct raft_client **c, const char *servers,
		    unsigned int timeout_ms)
{
	return raft_cli_client_as(c, servers, timeout_ms, 0);
}

int raft_cli_client_as(struct raft_client **c, const char *servers,
		       unsigned int timeout_ms, uint64_t id)
{
	struct raft_client_opts opts = { .deadline_ms = timeout_ms, .id = id };
	int err;

	err = raft_client_new(c, servers, &opts);
	if (err) {
		fprintf(stderr, "Error: cannot open a UDP socket: %s\n",
			strerror(-err));
		return -1;
	}
	return 0;
}

static void raft_usage(FILE *out)
{
	fprintf(out,
		"Usage: lamport raft status [ --server ADDR ] [ --timeout MS ]\n"
		"       lamport raft status --all [ --server LIST ] [ --timeout MS ]\n"
		"       lamport raft serve OPTIONS...\n"
		"       lamport raft help\n"
		"where  ADDR := IPV4:PORT | [IPV6]:PORT | :PORT (127.0.0.1), default :7001\n"
		"       LIST := ADDR[,ADDR]... (default $LAMPORT_RAFT_SERVERS, else :7001)\n"
		"       MS := how long to wait for an answer (default 1000)\n"
		"status asks one node of the key-value store (or, --all, every node of\n"
		"LIST in turn) for its Raft state: role, term, vote, the leader it\n"
		"knows, commit, applied and last index, what its storage has made\n"
		"durable, its Lamport clock, the keys it holds and their digest, equal\n"
		"on replicas at the same applied index; a leader adds, per peer, the\n"
		"index known to match, the next to send, how far it lags and the\n"
		"APPEND messages in flight. serve runs a node in the foreground: see\n"
		"\"lamport raft serve help\".\n");
}

static int raft_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx, (void)argc, (void)argv;
	raft_usage(stdout);
	return 0;
}

static const char *transport_name(uint8_t transport)
{
	switch (transport) {
	case WIRE_TRANSPORT_UDP:
		return "udp";
	case WIRE_TRANSPORT_LAMPORT:
		return "lamport";
	default:
		return "?";
	}
}

static uint64_t peer_lag(const struct raft_status *r,
			 const struct raft_peer_status *p)
{
	return r->last_index > p->match ? r->last_index - p->match : 0;
}

static void print_id(const char *what, uint32_t id)
{
	if (id)
		printf(" %s %" PRIu32, what, id);
	else
		printf(" %s none", what);
}

static void status_print_text(const struct wire_status *st)
{
	const struct raft_status *r = &st->raft;

	printf("node %" PRIu32 " %s term %" PRIu64, r->id,
	       raft_role_name(r->role), r->term);
	print_id("vote", r->vote);
	print_id("leader", r->leader);
	printf(" commit %" PRIu64 " applied %" PRIu64 " last %" PRIu64
	       " (term %" PRIu64 ") persisted %" PRIu64 " clock %" PRIu64
	       " transport %s keys %" PRIu64 " digest 0x%016" PRIx64 "\n",
	       r->commit, st->applied, r->last_index, r->last_term,
	       r->persisted, st->clock, transport_name(st->transport),
	       st->kv_keys, st->kv_digest);
	for (unsigned int i = 0; i < r->n_peers; i++) {
		const struct raft_peer_status *p = &r->peers[i];

		printf("  peer %" PRIu32 " match %" PRIu64 " next %" PRIu64
		       " lag %" PRIu64, p->id, p->match, p->next,
		       peer_lag(r, p));
		if (p->inflight)
			printf(" inflight %u", p->inflight);
		printf("%s%s\n", p->active ? " active" : "",
		       p->probing ? " probing" : "");
	}
}

static void status_print_peers(struct json *j, const struct raft_status *r)
{
	json_key(j, "peers");
	json_arr_open(j);
	for (unsigned int i = 0; i < r->n_peers; i++) {
		const struct raft_peer_status *p = &r->peers[i];

		json_obj_open(j);
		json_kv_u32(j, "id", p->id);
		json_kv_u64(j, "match", p->match);
		json_kv_u64(j, "next", p->next);
		json_kv_u64(j, "lag", peer_lag(r, p));
		json_kv_u32(j, "inflight", p->inflight);
		json_kv_bool(j, "active", p->active);
		json_kv_bool(j, "probing", p->probing);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void status_print_json(struct json *j, const char *server,
			      const struct wire_status *st)
{
	const struct raft_status *r = &st->raft;
	char digest[20];

	snprintf(digest, sizeof(digest), "0x%016" PRIx64, st->kv_digest);
	json_obj_open(j);
	json_kv_str(j, "server", server);
	json_kv_u32(j, "id", r->id);
	json_kv_str(j, "role", raft_role_name(r->role));
	json_kv_u64(j, "term", r->term);
	json_kv_u32(j, "vote", r->vote);
	json_kv_u32(j, "leader", r->leader);
	json_kv_u64(j, "commit", r->commit);
	json_kv_u64(j, "applied", st->applied);
	json_kv_u64(j, "first", r->first_index);
	json_kv_u64(j, "last", r->last_index);
	json_kv_u64(j, "last_term", r->last_term);
	json_kv_u64(j, "persisted", r->persisted);
	json_kv_u64(j, "clock", st->clock);
	json_kv_str(j, "transport", transport_name(st->transport));
	json_kv_u64(j, "keys", st->kv_keys);
	json_kv_str(j, "digest", digest);
	status_print_peers(j, r);
	json_obj_close(j);
}

static const char *status_error_text(struct raft_client *c, int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "no answer";
	case -EREMOTEIO:
		return raft_client_error(c);
	case -EBADMSG:
		return "a status that cannot be read";
	default:
		return strerror(-err);
	}
}

/* The error of a failed status call, in words; returns -1. */
static int status_error(struct raft_client *c, const char *server, int err,
			unsigned int timeout_ms)
{
	if (err == -ETIMEDOUT)
		fprintf(stderr, "Error: no answer from %s within %u ms\n",
			server, timeout_ms);
	else if (err == -EREMOTEIO)
		fprintf(stderr, "Error: %s answered: %s\n", server,
			raft_client_error(c));
	else
		fprintf(stderr, "Error: asking %s: %s\n", server,
			status_error_text(c, err));
	return -1;
}

struct status_args {
	const char *servers;
	unsigned int timeout_ms;
	bool all;
};

static int status_parse(struct status_args *a, int argc, char **argv)
{
	bool has_server = false, has_timeout = false;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--all")) {
			a->all = true;
			continue;
		}
		if (strcmp(arg, "--server") && strcmp(arg, "--timeout"))
			return unknarg("argument", arg, RAFT_HELP);
		if (i + 1 == argc)
			return needarg(arg);
		if (!strcmp(arg, "--server")) {
			if (has_server)
				return duparg(arg, argv[i + 1]);
			has_server = true;
			a->servers = argv[++i];
		} else {
			if (has_timeout)
				return duparg(arg, argv[i + 1]);
			has_timeout = true;
			if (raft_cli_timeout(argv[++i], &a->timeout_ms))
				return -1;
		}
	}
	if (!has_server)
		a->servers = a->all ? raft_cli_default_servers() : ":7001";
	if (!a->all && strchr(a->servers, ','))
		return invarg("one address, or --all for a list", a->servers);
	return raft_cli_servers(a->servers);
}

/* Asks one node and prints its status: 0, or -1 after the error. */
static int status_one(struct raft_client *c, const char *server,
		      const struct status_args *a, struct json *j)
{
	struct wire_status st;
	int err;

	err = raft_client_status(c, server, &st);
	if (err) {
		if (j && a->all) {
			json_obj_open(j);
			json_kv_str(j, "server", server);
			json_kv_str(j, "error", status_error_text(c, err));
			json_obj_close(j);
		}
		return status_error(c, server, err, a->timeout_ms);
	}
	if (j)
		status_print_json(j, server, &st);
	else
		status_print_text(&st);
	return 0;
}

static int status_all(struct raft_client *c, const struct status_args *a,
		      struct json *j)
{
	struct raft_addr addrs[RAFT_CLIENT_MAX_SERVERS];
	char bad[WIRE_ADDR_MAX], name[WIRE_ADDR_MAX];
	const char *why;
	int n, ret = 0;

	n = raft_addr_list_parse(a->servers, addrs, RAFT_CLIENT_MAX_SERVERS,
				 bad, sizeof(bad), &why);
	if (j)
		json_arr_open(j);
	for (int i = 0; i < n; i++) {
		raft_addr_format(&addrs[i], name, sizeof(name));
		ret |= status_one(c, name, a, j);
	}
	if (j)
		json_arr_close(j);
	return ret;
}

static int raft_status_cmd(struct ctx *ctx, int argc, char **argv)
{
	struct status_args a = { .timeout_ms = STATUS_TIMEOUT_MS };
	char name[WIRE_ADDR_MAX];
	struct raft_client *c;
	struct raft_addr addr;
	const char *why;
	struct json j;
	int ret;

	if (argc && matches(argv[0], "help"))
		return raft_help(ctx, 0, argv);
	if (status_parse(&a, argc, argv) ||
	    raft_cli_client(&c, a.servers, a.timeout_ms))
		return -1;
	ctx_json(ctx, &j, stdout);
	if (a.all) {
		ret = status_all(c, &a, ctx->json ? &j : NULL);
	} else {
		raft_addr_parse(a.servers, &addr, &why);
		raft_addr_format(&addr, name, sizeof(name));
		ret = status_one(c, name, &a, ctx->json ? &j : NULL);
	}
	raft_client_free(c);
	if (ctx->json && json_finish(&j))
		ret = -1;
	return ret;
}

/* run_cmd() passes the words after "serve"; getopt wants "serve" too. */
static int raft_serve_cmd(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	return raft_serve(argc + 1, argv - 1) ? -1 : 0;
}

int do_raft(struct ctx *ctx, int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "status",	raft_status_cmd },
		{ "serve",	raft_serve_cmd },
		{ "help",	raft_help },
		{ NULL, NULL },
	};

	if (!argc) {
		raft_usage(stderr);
		return -1;
	}
	return run_cmd(ctx, cmds, "command", RAFT_HELP, argc, argv);
}
