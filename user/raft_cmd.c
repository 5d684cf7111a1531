// SPDX-License-Identifier: GPL-2.0
/*
 * lamport raft: a node of the Raft key-value store (serve), what one says
 * of itself (status) and changes of the cluster (add, remove, transfer);
 * and the option parsing lamport kv, lease and lock share.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "lamport.h"
#include "raft/client.h"
#include "raft/server.h"

#define RAFT_HELP		"lamport raft help"
#define STATUS_TIMEOUT_MS	1000
#define TIMEOUT_MAX_MS		3600000
#define TRANSFER_WAIT_MS	5000
#define POLL_MS			50	/* between two looks at a transfer */
#define PROBE_MS		300	/* the wait for one node's status */
#define MAX_NODES		(RAFT_CLIENT_MAX_SERVERS + RAFT_MAX_NODES)
#define NODE_ID_RANGE		"a node id 1..4294967295"

int ctx_fail(struct ctx *ctx, int status)
{
	ctx->exit = status;
	return -1;
}

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

int raft_cli_common(struct raft_cli_args *a, int argc, char **argv)
{
	bool has_server = false, has_timeout = false;
	int i, n = 0;

	a->servers = raft_cli_default_servers();
	a->timeout_ms = RAFT_CLIENT_DEADLINE_MS;
	for (i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		bool server = !strcmp(argv[i], "--server");

		if (!server && strcmp(argv[i], "--timeout")) {
			argv[n++] = argv[i];
			continue;
		}
		if (i + 1 == argc)
			return needarg(argv[i]);
		if (server ? has_server : has_timeout)
			return duparg(argv[i], argv[i + 1]);
		i++;
		if (server) {
			has_server = true;
			a->servers = argv[i];
		} else {
			has_timeout = true;
			if (raft_cli_timeout(argv[i], &a->timeout_ms))
				return -1;
		}
	}
	while (i < argc)
		argv[n++] = argv[i++];
	return raft_cli_servers(a->servers) ?: n;
}

int cli_take_opts(struct cli_opt *opts, unsigned int n, int *argc,
		  char **argv)
{
	int i, words = 0, left;

	for (i = 0; i < *argc && strcmp(argv[i], "--"); i++) {
		unsigned int o = 0;

		while (o < n && strcmp(argv[i], opts[o].name))
			o++;
		if (o == n) {
			argv[words++] = argv[i];
			continue;
		}
		if (i + 1 == *argc || !strcmp(argv[i + 1], "--"))
			return needarg(argv[i]);
		if (opts[o].value)
			return duparg(argv[i], argv[i + 1]);
		opts[o].value = argv[++i];
	}
	left = words;
	while (i < *argc)
		argv[left++] = argv[i++];
	*argc = left;
	return words;
}

int cli_badarg(const char *cmd, const char *arg, const char *what)
{
	fprintf(stderr, "Error: %s: \"%s\" is not %s\n", cmd, arg, what);
	return -1;
}

int cli_number(const char *cmd, const char *arg, uint64_t min, uint64_t max,
	       const char *what, uint64_t *out)
{
	uint64_t v;

	if (parse_u64(arg, &v) || v < min || v > max)
		return cli_badarg(cmd, arg, what);
	*out = v;
	return 0;
}

int raft_cli_call_error(struct raft_client *c, const char *servers,
			unsigned int timeout_ms, bool write, int err)
{
	const char *leader = raft_client_leader(c);

	fprintf(stderr, "Error: ");
	if (err == -ETIMEDOUT) {
		fprintf(stderr, "no answer from ");
		raft_cli_print_servers(stderr, servers);
		fprintf(stderr, " within %u ms%s\n", timeout_ms,
			write ? " (the write may or may not have happened)" :
				"");
	} else if (err == -EREMOTEIO) {
		fprintf(stderr, "%s refused the request: %s\n", leader,
			raft_client_error(c));
	} else if (err == -EBADMSG) {
		fprintf(stderr, "%s sent an answer that cannot be read\n",
			leader);
	} else {
		fprintf(stderr, "%s\n", strerror(-err));
	}
	return -1;
}

static void raft_usage(FILE *out)
{
	fprintf(out,
		"Usage: lamport raft status [ --server ADDR ] [ --timeout MS ]\n"
		"       lamport raft status --all [ --server LIST ] [ --timeout MS ]\n"
		"       lamport raft add ID RAFT_ADDR [ CLUSTER ]\n"
		"       lamport raft remove ID [ CLUSTER ]\n"
		"       lamport raft transfer ID [ --wait MS ] [ CLUSTER ]\n"
		"       lamport raft serve OPTIONS...\n"
		"       lamport raft help\n"
		"where  ADDR := IPV4:PORT | [IPV6]:PORT | :PORT (127.0.0.1), default :7001\n"
		"       LIST := ADDR[,ADDR]... (default $LAMPORT_RAFT_SERVERS, else :7001)\n"
		"       CLUSTER := [ --server LIST ] [ --timeout MS ]\n"
		"       MS := how long to wait for an answer (status: default 1000,\n"
		"             add, remove, transfer: 5000)\n"
		"status asks one node of the key-value store (or, --all, every node of\n"
		"LIST in turn, then the other members the first answer names) for its\n"
		"Raft state: role, term, vote, the leader it knows, commit, applied and\n"
		"last index, what its storage has made durable, its Lamport clock, the\n"
		"keys it holds and their digest, equal on replicas at the same applied\n"
		"index; whether it votes, its snapshot, the log index of the membership\n"
		"in force, a leadership transfer under way, whether the failure\n"
		"detector's hints are on and the leases it holds; the members (id,\n"
		"voter or not, Raft address: a node's clients use PORT + 1). A leader\n"
		"adds, per peer, whether it votes, the index known to match, the next\n"
		"to send, how far it lags, the APPEND messages in flight and the bytes\n"
		"of a snapshot being sent.\n"
		"add makes node ID, taking Raft messages on RAFT_ADDR (as in its\n"
		"--peers), a member of the cluster: a non-voter first, which the leader\n"
		"catches up. remove takes node ID out. transfer hands the leadership to\n"
		"node ID, a voter, then waits up to --wait MS (default 5000, 0: not at\n"
		"all) for it to lead. Each goes to the leader, is retried while another\n"
		"change is under way until --timeout, and prints what the leader says.\n"
		"serve runs a node in the foreground: see \"lamport raft serve help\".\n");
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

/*
 * The client address of a member: its Raft address with PORT + 1.  0, or
 * -1 when it has no address that allows one.
 */
static int member_client(const struct raft_member *m, struct raft_addr *a)
{
	const char *why;
	uint16_t port;

	if (!m->addr[0] || raft_addr_parse(m->addr, a, &why))
		return -1;
	port = raft_addr_port(a);
	if (port == UINT16_MAX)
		return -1;
	raft_addr_set_port(a, port + 1);
	return 0;
}

static void print_id(const char *what, uint32_t id)
{
	if (id)
		printf(" %s %" PRIu32, what, id);
	else
		printf(" %s none", what);
}

static const char *voter_name(bool voter)
{
	return voter ? "voter" : "non-voter";
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
	printf("  %s", voter_name(r->voter));
	if (r->snap_index)
		printf(" snapshot %" PRIu64 " (term %" PRIu64 ")",
		       r->snap_index, r->snap_term);
	else
		printf(" snapshot none");
	if (r->conf_index)
		printf(" membership of index %" PRIu64, r->conf_index);
	else
		printf(" membership of --peers");
	print_id("transfer to", r->transfer_to);
	if (r->removed_by)
		printf(" removed (node %" PRIu32 " says so)", r->removed_by);
	printf(" hints %s leases %" PRIu64 "\n", st->hints ? "on" : "off",
	       st->kv_leases);
	for (unsigned int i = 0; i < st->members.n; i++) {
		const struct raft_member *m = &st->members.m[i];

		printf("  member %" PRIu32 " %s %s\n", m->id,
		       voter_name(m->voter), m->addr[0] ? m->addr : "?");
	}
	for (unsigned int i = 0; i < r->n_peers; i++) {
		const struct raft_peer_status *p = &r->peers[i];

		printf("  peer %" PRIu32 " %s match %" PRIu64 " next %" PRIu64
		       " lag %" PRIu64, p->id, voter_name(p->voter), p->match,
		       p->next, peer_lag(r, p));
		if (p->inflight)
			printf(" inflight %u", p->inflight);
		if (p->snapshot)
			printf(" snapshot %" PRIu64 " bytes sent",
			       p->snap_offset);
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
		json_kv_bool(j, "voter", p->voter);
		json_kv_bool(j, "snapshot", p->snapshot);
		json_kv_u64(j, "snap_offset", p->snap_offset);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void status_print_members(struct json *j, const struct raft_conf *c)
{
	char client[WIRE_ADDR_MAX];
	struct raft_addr a;

	json_key(j, "members");
	json_arr_open(j);
	for (unsigned int i = 0; i < c->n; i++) {
		const struct raft_member *m = &c->m[i];
		bool known = !member_client(m, &a);

		if (known)
			raft_addr_format(&a, client, sizeof(client));
		json_obj_open(j);
		json_kv_u32(j, "id", m->id);
		json_kv_bool(j, "voter", m->voter);
		json_kv_str(j, "addr", m->addr);
		json_kv_str(j, "client", known ? client : NULL);
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
	json_kv_bool(j, "voter", r->voter);
	json_kv_u64(j, "snap_index", r->snap_index);
	json_kv_u64(j, "snap_term", r->snap_term);
	json_kv_u64(j, "conf_index", r->conf_index);
	json_kv_u32(j, "transfer_to", r->transfer_to);
	json_kv_u32(j, "removed_by", r->removed_by);
	json_kv_bool(j, "hints", st->hints);
	json_kv_u64(j, "leases", st->kv_leases);
	status_print_members(j, &st->members);
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

/* Asks one node and prints its status into st: 0, or -1 after the error. */
static int status_one(struct raft_client *c, const char *server,
		      const struct status_args *a, struct json *j,
		      struct wire_status *st)
{
	int err;

	err = raft_client_status(c, server, st);
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
		status_print_json(j, server, st);
	else
		status_print_text(st);
	return 0;
}

/* Adds a to the n addresses unless it is one of them: the new count. */
static int add_addr(struct raft_addr *addrs, int n, int max,
		    const struct raft_addr *a)
{
	for (int i = 0; i < n; i++)
		if (raft_addr_equal(&addrs[i], a))
			return n;
	if (n == max)
		return n;
	addrs[n] = *a;
	return n + 1;
}

/* The members that the first status names are asked after those listed. */
static int status_all(struct raft_client *c, const struct status_args *a,
		      struct json *j)
{
	struct raft_addr addrs[MAX_NODES], member;
	char bad[WIRE_ADDR_MAX], name[WIRE_ADDR_MAX];
	struct wire_status st;
	bool learnt = false;
	const char *why;
	int n, ret = 0;

	n = raft_addr_list_parse(a->servers, addrs, RAFT_CLIENT_MAX_SERVERS,
				 bad, sizeof(bad), &why);
	if (j)
		json_arr_open(j);
	for (int i = 0; i < n; i++) {
		raft_addr_format(&addrs[i], name, sizeof(name));
		if (status_one(c, name, a, j, &st)) {
			ret = -1;
			continue;
		}
		if (learnt || !st.members.n)
			continue;
		learnt = true;
		for (unsigned int m = 0; m < st.members.n; m++)
			if (!member_client(&st.members.m[m], &member))
				n = add_addr(addrs, n, MAX_NODES, &member);
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
	struct wire_status st;
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
		ret = status_one(c, name, &a, ctx->json ? &j : NULL, &st);
	}
	raft_client_free(c);
	if (ctx->json && json_finish(&j))
		ret = -1;
	return ret;
}

/* A change of the cluster, as given and as answered. */
struct admin_args {
	const char *cmd;		/* "raft add", for the errors */
	struct raft_cli_args cli;
	struct wire_admin req;
	unsigned int wait_ms;		/* transfer */
	char msg[256];
};

static const char *const admin_names[] = {
	[WIRE_ADMIN_ADD]	= "add",
	[WIRE_ADMIN_REMOVE]	= "remove",
	[WIRE_ADMIN_TRANSFER]	= "transfer",
};

/*
 * The words of lamport raft add, remove and transfer: ID, an address for
 * add, and the options.  0, or -1 after the error.
 */
static int admin_parse(struct admin_args *a, int argc, char **argv)
{
	static const char *const add_names[] = { "ID", "RAFT_ADDR" };
	struct cli_opt wait = { .name = "--wait" };
	int want = a->req.op == WIRE_ADMIN_ADD ? 2 : 1, n;
	struct raft_addr addr;
	const char *why;
	uint64_t v;

	argc = raft_cli_common(&a->cli, argc, argv);
	if (argc < 0)
		return -1;
	n = cli_take_opts(&wait, a->req.op == WIRE_ADMIN_TRANSFER, &argc,
			  argv);
	if (n < 0)
		return -1;
	if (n < want)
		return missarg(add_names[n]);
	if (argc > want)
		return unknarg("argument", argv[want], RAFT_HELP);
	if (cli_number(a->cmd, argv[0], 1, UINT32_MAX, NODE_ID_RANGE, &v))
		return -1;
	a->req.id = (uint32_t)v;
	if (wait.value) {
		if (cli_number(a->cmd, wait.value, 0, TIMEOUT_MAX_MS,
			       "a wait of 0..3600000 ms", &v))
			return -1;
		a->wait_ms = (unsigned int)v;
	}
	if (a->req.op != WIRE_ADMIN_ADD)
		return 0;
	if (raft_addr_parse(argv[1], &addr, &why)) {
		fprintf(stderr, "Error: %s: \"%s\" is not a Raft address: %s\n",
			a->cmd, argv[1], why);
		return -1;
	}
	if (raft_addr_port(&addr) == UINT16_MAX)
		return cli_badarg(a->cmd, argv[1],
				  "a Raft address: port 65535 leaves no port for clients (PORT + 1)");
	raft_addr_format(&addr, a->req.addr, sizeof(a->req.addr));
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	nanosleep(&ts, NULL);
}

/* What the wait for a transfer learns of the cluster. */
struct transfer_view {
	struct raft_addr addrs[MAX_NODES];	/* the nodes to ask */
	int n;
	struct raft_conf members;
	uint32_t leader;	/* the leader heard of last; 0: none */
	uint64_t term;
};

/*
 * Asks the node at a: 1 when it is the target and leads, 0 when it
 * answered something else, -1 when it did not answer.
 */
static int transfer_look(struct raft_client *c, struct transfer_view *v,
			 const struct raft_addr *a, uint32_t target)
{
	char name[WIRE_ADDR_MAX];
	struct wire_status st;
	struct raft_addr ma;

	raft_addr_format(a, name, sizeof(name));
	if (raft_client_status(c, name, &st))
		return -1;
	if (st.members.n) {
		v->members = st.members;
		for (unsigned int i = 0; i < st.members.n; i++)
			if (!member_client(&st.members.m[i], &ma))
				v->n = add_addr(v->addrs, v->n, MAX_NODES, &ma);
	}
	if (st.raft.leader && st.raft.term >= v->term) {
		v->leader = st.raft.leader;
		v->term = st.raft.term;
	}
	return st.raft.id == target && st.raft.role == RAFT_LEADER;
}

/* The client address of member id, when the membership gives one. */
static const struct raft_addr *member_addr(const struct transfer_view *v,
					   uint32_t id, struct raft_addr *a)
{
	const struct raft_member *m = raft_conf_get(&v->members, id);

	return m && !member_client(m, a) ? a : NULL;
}

static int transfer_timeout(const struct admin_args *a,
			    const struct transfer_view *v)
{
	char name[WIRE_ADDR_MAX];
	struct raft_addr addr;

	fprintf(stderr, "Error: %s: node %" PRIu32 " does not lead after %u ms",
		a->cmd, a->req.id, a->wait_ms);
	if (!v->leader) {
		fprintf(stderr, "; no leader is known\n");
		return -1;
	}
	fprintf(stderr, "; node %" PRIu32, v->leader);
	if (member_addr(v, v->leader, &addr)) {
		raft_addr_format(&addr, name, sizeof(name));
		fprintf(stderr, " (%s)", name);
	}
	fprintf(stderr, " leads in term %" PRIu64 "\n", v->term);
	return -1;
}

/*
 * After a transfer began: the statuses of the target, or while it does
 * not answer of the other nodes in turn (the one that began it first),
 * until the target says it leads.  0, or -1 after the error.
 */
static int transfer_wait(struct raft_client *c, const struct admin_args *a,
			 struct transfer_view *v)
{
	struct raft_addr list[RAFT_CLIENT_MAX_SERVERS], addr;
	uint64_t deadline = now_ms() + a->wait_ms, now;
	const struct raft_addr *target;
	char bad[WIRE_ADDR_MAX];
	int n, next = 0, led = 0;
	const char *why;

	if (raft_client_leader(c) &&
	    !raft_addr_parse(raft_client_leader(c), &addr, &why))
		v->n = add_addr(v->addrs, v->n, MAX_NODES, &addr);
	n = raft_addr_list_parse(a->cli.servers, list, RAFT_CLIENT_MAX_SERVERS,
				 bad, sizeof(bad), &why);
	for (int i = 0; i < n; i++)
		v->n = add_addr(v->addrs, v->n, MAX_NODES, &list[i]);
	while (led != 1 && (now = now_ms()) < deadline) {
		unsigned int left = (unsigned int)(deadline - now);

		raft_client_set_timeout(c, 100, left < PROBE_MS ? left :
								PROBE_MS);
		target = member_addr(v, a->req.id, &addr);
		led = target ? transfer_look(c, v, target, a->req.id) : -1;
		if (led < 0 && v->n)
			led = transfer_look(c, v, &v->addrs[next++ % v->n],
					    a->req.id);
		if (led != 1)
			sleep_ms(POLL_MS);
	}
	raft_client_set_timeout(c, 0, a->cli.timeout_ms);
	return led == 1 ? 0 : transfer_timeout(a, v);
}

static void admin_print_json(struct ctx *ctx, struct raft_client *c,
			     const struct admin_args *a,
			     const struct transfer_view *v, int waited,
			     uint64_t took)
{
	struct json j;

	ctx_json(ctx, &j, stdout);
	json_obj_open(&j);
	json_kv_str(&j, "op", admin_names[a->req.op]);
	json_kv_u32(&j, "id", a->req.id);
	if (a->req.op == WIRE_ADMIN_ADD)
		json_kv_str(&j, "addr", a->req.addr);
	json_kv_str(&j, "message", a->msg);
	json_kv_str(&j, "server", raft_client_leader(c));
	if (waited >= 0) {
		json_kv_bool(&j, "leads", !waited);
		json_kv_u32(&j, "leader", v->leader);
		json_kv_u64(&j, "term", v->term);
		json_kv_u64(&j, "waited_ms", took);
	}
	json_obj_close(&j);
}

static int raft_admin(struct ctx *ctx, uint8_t op, int argc, char **argv)
{
	struct admin_args a = {
		.req.op = op, .wait_ms = TRANSFER_WAIT_MS,
	};
	struct transfer_view v = { .n = 0 };
	char cmd[32];
	struct raft_client *c;
	int err, waited = -1;
	uint64_t start;

	if (argc && matches(argv[0], "help"))
		return raft_help(ctx, 0, argv);
	snprintf(cmd, sizeof(cmd), "raft %s", admin_names[op]);
	a.cmd = cmd;
	if (admin_parse(&a, argc, argv) ||
	    raft_cli_client(&c, a.cli.servers, a.cli.timeout_ms))
		return -1;
	err = raft_client_admin(c, &a.req, a.msg, sizeof(a.msg));
	if (err) {
		fprintf(stderr, "Error: %s: %s", cmd, a.msg);
		if (err == -ETIMEDOUT) {
			fprintf(stderr, " (asking ");
			raft_cli_print_servers(stderr, a.cli.servers);
			fputc(')', stderr);
		}
		fputc('\n', stderr);
		raft_client_free(c);
		return -1;
	}
	if (!a.msg[0])
		snprintf(a.msg, sizeof(a.msg), "done");
	if (!ctx->json) {
		printf("%s\n", a.msg);
		fflush(stdout);
	}
	start = now_ms();
	if (op == WIRE_ADMIN_TRANSFER && a.wait_ms)
		waited = transfer_wait(c, &a, &v) ? 1 : 0;
	if (ctx->json)
		admin_print_json(ctx, c, &a, &v, waited, now_ms() - start);
	else if (!waited)
		printf("node %" PRIu32 " leads in term %" PRIu64
		       " (after %" PRIu64 " ms)\n", a.req.id, v.term,
		       now_ms() - start);
	raft_client_free(c);
	return waited > 0 ? -1 : 0;
}

static int raft_add_cmd(struct ctx *ctx, int argc, char **argv)
{
	return raft_admin(ctx, WIRE_ADMIN_ADD, argc, argv);
}

static int raft_remove_cmd(struct ctx *ctx, int argc, char **argv)
{
	return raft_admin(ctx, WIRE_ADMIN_REMOVE, argc, argv);
}

static int raft_transfer_cmd(struct ctx *ctx, int argc, char **argv)
{
	return raft_admin(ctx, WIRE_ADMIN_TRANSFER, argc, argv);
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
		{ "add",	raft_add_cmd },
		{ "remove",	raft_remove_cmd },
		{ "transfer",	raft_transfer_cmd },
		{ "help",	raft_help },
		{ NULL, NULL },
	};

	if (!argc) {
		raft_usage(stderr);
		return -1;
	}
	return run_cmd(ctx, cmds, "command", RAFT_HELP, argc, argv);
}
