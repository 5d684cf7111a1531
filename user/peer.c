// SPDX-License-Identifier: GPL-2.0
/*
 * lamport peer: the nodes this one exchanges heartbeats with, and what its
 * failure detector makes of each.
 */

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/lamport.h>

#include "args.h"
#include "lamport.h"

#define PEER_HELP	"lamport peer help"

/* A dump the kernel marks as interrupted by a change is tried this often. */
#define PEER_DUMP_TRIES	3

static const enum mnl_attr_data_type peer_policy[LAMPORT_A_MAX + 1] = {
	[LAMPORT_A_PEER_ID]		= MNL_TYPE_U32,
	[LAMPORT_A_PEER_ADDR]		= MNL_TYPE_BINARY,
	[LAMPORT_A_PEER_PORT]		= MNL_TYPE_U16,
	[LAMPORT_A_PEER_INTERVAL_US]	= MNL_TYPE_U32,
	[LAMPORT_A_PEER_MULT]		= MNL_TYPE_U8,
	[LAMPORT_A_PEER_MODE]		= MNL_TYPE_U8,
	[LAMPORT_A_PEER_THRESHOLD]	= MNL_TYPE_U32,
	[LAMPORT_A_PEER_STATE]		= MNL_TYPE_U8,
	[LAMPORT_A_PEER_STATS]		= MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type peer_stat_policy[LAMPORT_PEER_STAT_MAX + 1] = {
	[LAMPORT_PEER_STAT_TX]			= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_RX]			= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_LOST]		= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_DUPLICATES]		= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_REORDERED]		= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_SRTT_NS]		= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_RTTVAR_NS]		= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_MIN_RTT_NS]		= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_LAST_RX_AGE_NS]	= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_PHI_MILLI]		= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_TRANSITIONS]		= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_RECOVERIES]		= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_STATE_AGE_NS]	= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_DETECT_NS]		= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_REMOTE_INTERVAL_US]	= MNL_TYPE_U64,
	[LAMPORT_PEER_STAT_REMOTE_MULT]		= MNL_TYPE_U64,
};

/* JSON keys of the counters: the enum names in lower case. */
static const char *const peer_stat_keys[LAMPORT_PEER_STAT_MAX + 1] = {
	[LAMPORT_PEER_STAT_TX]			= "tx",
	[LAMPORT_PEER_STAT_RX]			= "rx",
	[LAMPORT_PEER_STAT_LOST]		= "lost",
	[LAMPORT_PEER_STAT_DUPLICATES]		= "duplicates",
	[LAMPORT_PEER_STAT_REORDERED]		= "reordered",
	[LAMPORT_PEER_STAT_SRTT_NS]		= "srtt_ns",
	[LAMPORT_PEER_STAT_RTTVAR_NS]		= "rttvar_ns",
	[LAMPORT_PEER_STAT_MIN_RTT_NS]		= "min_rtt_ns",
	[LAMPORT_PEER_STAT_LAST_RX_AGE_NS]	= "last_rx_age_ns",
	[LAMPORT_PEER_STAT_PHI_MILLI]		= "phi_milli",
	[LAMPORT_PEER_STAT_TRANSITIONS]		= "transitions",
	[LAMPORT_PEER_STAT_RECOVERIES]		= "recoveries",
	[LAMPORT_PEER_STAT_STATE_AGE_NS]	= "state_age_ns",
	[LAMPORT_PEER_STAT_DETECT_NS]		= "detect_ns",
	[LAMPORT_PEER_STAT_REMOTE_INTERVAL_US]	= "remote_interval_us",
	[LAMPORT_PEER_STAT_REMOTE_MULT]		= "remote_mult",
};

static int peer_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx, (void)argc, (void)argv;
	printf("Usage: lamport peer [ show [ ID ] ]\n"
	       "       lamport peer add ID ENDPOINT [ OPTION ]...\n"
	       "       lamport peer set ID [ addr ENDPOINT ] [ OPTION ]...\n"
	       "       lamport peer del ID\n"
	       "       lamport peer help\n"
	       "where  ID := { 1..4294967295 | 0x1..0xffffffff }\n"
	       "       ENDPOINT := ADDR[:PORT], like 198.18.0.2, 198.18.0.2:2000, fd00::2\n"
	       "                   or [fd00::2]:2000; without a port, add takes %u and set\n"
	       "                   keeps the current one\n"
	       "       OPTION := { port PORT | interval DURATION | mult MULT |\n"
	       "                   mode { fixed | phi } | threshold PHI }\n"
	       "       DURATION := the heartbeat interval, 1ms..60s, like 10ms, 1.5s or\n"
	       "                   250us; a bare number is ms (default 10ms)\n"
	       "       MULT := 2..255, fixed mode detects a failure after MULT intervals\n"
	       "               without a heartbeat (default 3)\n"
	       "       PHI := 1..100, the phi mode threshold, like 8 or 12.25 (default 8)\n"
	       "\"show\" lists every peer, or the one given; -s adds the counters.\n"
	       "Adding, changing and deleting need CAP_NET_ADMIN.\n",
	       LAMPORT_DEFAULT_PORT);
	return 0;
}

/* The peer id word: syntax only, the kernel refuses 0 itself. */
static int parse_peer_id(const char *arg, uint32_t *id)
{
	int err = parse_u32(arg, id);

	if (err == -ERANGE)
		return invarg("peer id is out of range", arg);
	if (err)
		return invarg("peer id is not a number", arg);
	return 0;
}

/* ENDPOINT: the address, and a port if it has one. */
static int parse_peer_endpoint(const char *arg, struct peer_req *req)
{
	const char *why;
	uint16_t port = 0;

	if (parse_endpoint(arg, &req->addr, &port, &why))
		return invarg(why, arg);
	if (port) {
		if (req->has_port)
			return duparg("port", arg);
		req->port = port;
		req->has_port = true;
	}
	return 0;
}

/*
 * Explains a parse_duration_us() or parse_milli() error about key: what it
 * is not (-EINVAL), or how it is too precise (-EDOM).
 */
static int bad_value(const char *key, int err, const char *not_what,
		     const char *inexact, const char *arg)
{
	char msg[96];

	if (err == -ERANGE)
		snprintf(msg, sizeof(msg), "%s is out of range", key);
	else if (err == -EDOM)
		snprintf(msg, sizeof(msg), "%s %s", key, inexact);
	else
		snprintf(msg, sizeof(msg), "%s is not %s", key, not_what);
	return invarg(msg, arg);
}

enum peer_opt {
	PEER_OPT_ADDR,		/* set only: add takes it in second place */
	PEER_OPT_PORT,
	PEER_OPT_INTERVAL,
	PEER_OPT_MULT,
	PEER_OPT_MODE,
	PEER_OPT_THRESHOLD,
	PEER_OPT_COUNT,
};

/* In prefix-matching order. */
static const char *const peer_opt_names[PEER_OPT_COUNT] = {
	[PEER_OPT_ADDR]		= "addr",
	[PEER_OPT_PORT]		= "port",
	[PEER_OPT_INTERVAL]	= "interval",
	[PEER_OPT_MULT]		= "mult",
	[PEER_OPT_MODE]		= "mode",
	[PEER_OPT_THRESHOLD]	= "threshold",
};

/* "KEY VALUE": syntax only, the kernel checks the ranges it accepts. */
static int peer_parse_option(struct peer_req *req, enum peer_opt opt,
			     const char *arg)
{
	uint32_t val;
	int err, mode;

	switch (opt) {
	case PEER_OPT_ADDR:
		if (req->addr.len)
			return duparg("addr", arg);
		return parse_peer_endpoint(arg, req);
	case PEER_OPT_PORT:
		if (req->has_port)
			return duparg("port", arg);
		err = parse_port(arg, &req->port);
		if (err == -ERANGE)
			return invarg("port is out of range", arg);
		if (err)
			return invarg("port is not a number", arg);
		req->has_port = true;
		return 0;
	case PEER_OPT_INTERVAL:
		if (req->has_interval)
			return duparg("interval", arg);
		err = parse_duration_us(arg, &req->interval_us);
		if (err)
			return bad_value("interval", err, "a duration",
					 "is not a whole number of microseconds",
					 arg);
		req->has_interval = true;
		return 0;
	case PEER_OPT_MULT:
		if (req->has_mult)
			return duparg("mult", arg);
		/* 0 and 1 fit the u8: the kernel explains why they are wrong. */
		err = parse_u32(arg, &val);
		if (err == -ERANGE || (!err && val > UINT8_MAX))
			return invarg("mult is out of range", arg);
		if (err)
			return invarg("mult is not a number", arg);
		req->mult = val;
		req->has_mult = true;
		return 0;
	case PEER_OPT_MODE:
		if (req->has_mode)
			return duparg("mode", arg);
		mode = parse_name(&mode_names, arg);
		if (mode < 0)
			return invarg("mode is not \"fixed\" or \"phi\"", arg);
		req->mode = mode;
		req->has_mode = true;
		return 0;
	case PEER_OPT_THRESHOLD:
		if (req->has_threshold)
			return duparg("threshold", arg);
		err = parse_milli(arg, &req->threshold);
		if (err)
			return bad_value("threshold", err, "a number",
					 "has more than 3 decimals", arg);
		req->has_threshold = true;
		return 0;
	case PEER_OPT_COUNT:
		break;
	}
	return -1;
}

static int peer_opt_lookup(const char *key, bool add)
{
	int opt;

	for (opt = add ? PEER_OPT_PORT : PEER_OPT_ADDR; opt < PEER_OPT_COUNT; opt++)
		if (matches(key, peer_opt_names[opt]))
			return opt;
	return -1;
}

int peer_parse(struct peer_req *req, uint8_t cmd, int argc, char **argv)
{
	bool add = cmd == LAMPORT_CMD_PEER_ADD;
	int opt;

	memset(req, 0, sizeof(*req));
	if (argc < 1)
		return missarg("ID");
	if (parse_peer_id(argv[0], &req->id))
		return -1;
	argc--, argv++;

	if (add) {
		if (argc < 1)
			return missarg("ENDPOINT");
		if (parse_peer_endpoint(argv[0], req))
			return -1;
		argc--, argv++;
	}

	for (; argc > 0; argc -= 2, argv += 2) {
		opt = peer_opt_lookup(argv[0], add);
		if (opt < 0)
			return unknarg("argument", argv[0], PEER_HELP);
		if (argc < 2)
			return needarg(peer_opt_names[opt]);
		if (peer_parse_option(req, opt, argv[1]))
			return -1;
	}

	if (!add && !req->addr.len && !req->has_port && !req->has_interval &&
	    !req->has_mult && !req->has_mode && !req->has_threshold) {
		fprintf(stderr, "Error: nothing to set, try \"%s\".\n", PEER_HELP);
		return -1;
	}
	return 0;
}

void peer_put(struct nlmsghdr *nlh, const struct peer_req *req)
{
	mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, req->id);
	if (req->addr.len)
		mnl_attr_put(nlh, LAMPORT_A_PEER_ADDR, req->addr.len,
			     req->addr.bytes);
	if (req->has_port)
		mnl_attr_put_u16(nlh, LAMPORT_A_PEER_PORT, req->port);
	if (req->has_interval)
		mnl_attr_put_u32(nlh, LAMPORT_A_PEER_INTERVAL_US, req->interval_us);
	if (req->has_mult)
		mnl_attr_put_u8(nlh, LAMPORT_A_PEER_MULT, req->mult);
	if (req->has_mode)
		mnl_attr_put_u8(nlh, LAMPORT_A_PEER_MODE, req->mode);
	if (req->has_threshold)
		mnl_attr_put_u32(nlh, LAMPORT_A_PEER_THRESHOLD, req->threshold);
}

int peer_decode(const struct nlmsghdr *nlh, struct peer_info *peer)
{
	/* What every peer message carries besides its counters. */
	static const int required[] = {
		LAMPORT_A_PEER_ID, LAMPORT_A_PEER_ADDR, LAMPORT_A_PEER_PORT,
		LAMPORT_A_PEER_INTERVAL_US, LAMPORT_A_PEER_MULT,
		LAMPORT_A_PEER_MODE, LAMPORT_A_PEER_THRESHOLD,
		LAMPORT_A_PEER_STATE,
	};
	const struct nlattr *stats[LAMPORT_PEER_STAT_MAX + 1];
	const struct nlattr *tb[LAMPORT_A_MAX + 1];
	const struct nlattr *addr;
	unsigned int i;

	memset(peer, 0, sizeof(*peer));
	if (lnl_parse(nlh, peer_policy, tb, LAMPORT_A_MAX) != MNL_CB_OK)
		return MNL_CB_ERROR;
	for (i = 0; i < ARRAY_SIZE(required); i++)
		if (!tb[required[i]])
			goto proto;

	addr = tb[LAMPORT_A_PEER_ADDR];
	peer->addr.len = mnl_attr_get_payload_len(addr);
	if (peer->addr.len != 4 && peer->addr.len != 16)
		goto proto;
	memcpy(peer->addr.bytes, mnl_attr_get_payload(addr), peer->addr.len);
	peer->id = mnl_attr_get_u32(tb[LAMPORT_A_PEER_ID]);
	peer->port = mnl_attr_get_u16(tb[LAMPORT_A_PEER_PORT]);
	peer->interval_us = mnl_attr_get_u32(tb[LAMPORT_A_PEER_INTERVAL_US]);
	peer->mult = mnl_attr_get_u8(tb[LAMPORT_A_PEER_MULT]);
	peer->mode = mnl_attr_get_u8(tb[LAMPORT_A_PEER_MODE]);
	peer->threshold = mnl_attr_get_u32(tb[LAMPORT_A_PEER_THRESHOLD]);
	peer->state = mnl_attr_get_u8(tb[LAMPORT_A_PEER_STATE]);

	if (!tb[LAMPORT_A_PEER_STATS])
		return MNL_CB_OK;
	if (lnl_parse_nested(tb[LAMPORT_A_PEER_STATS], peer_stat_policy, stats,
			     LAMPORT_PEER_STAT_MAX) != MNL_CB_OK)
		return MNL_CB_ERROR;
	peer->has_stats = true;
	for (i = 0; i <= LAMPORT_PEER_STAT_MAX; i++) {
		if (!stats[i] || !peer_stat_keys[i])
			continue;
		peer->has_stat[i] = true;
		peer->stat[i] = mnl_attr_get_u64(stats[i]);
	}
	return MNL_CB_OK;

proto:
	errno = EPROTO;
	return MNL_CB_ERROR;
}

/* " KEY DURATION", or " KEY none" for 0. */
static void print_duration(FILE *out, const char *key, uint64_t ns)
{
	char buf[FMT_VALUE_SIZE];

	fprintf(out, " %s %s", key, ns ? fmt_duration(ns, buf, sizeof(buf)) : "none");
}

static void peer_print_stats_text(const struct peer_info *p, FILE *out)
{
	const uint64_t *s = p->stat;
	char buf[FMT_VALUE_SIZE];

	fprintf(out, "    tx %llu rx %llu lost %llu dup %llu reordered %llu\n",
		(unsigned long long)s[LAMPORT_PEER_STAT_TX],
		(unsigned long long)s[LAMPORT_PEER_STAT_RX],
		(unsigned long long)s[LAMPORT_PEER_STAT_LOST],
		(unsigned long long)s[LAMPORT_PEER_STAT_DUPLICATES],
		(unsigned long long)s[LAMPORT_PEER_STAT_REORDERED]);

	fputs("    rtt", out);
	if (!s[LAMPORT_PEER_STAT_SRTT_NS] && !s[LAMPORT_PEER_STAT_MIN_RTT_NS]) {
		fputs(" none", out);
	} else {
		fprintf(out, " srtt %s",
			fmt_duration(s[LAMPORT_PEER_STAT_SRTT_NS], buf, sizeof(buf)));
		fprintf(out, " rttvar %s",
			fmt_duration(s[LAMPORT_PEER_STAT_RTTVAR_NS], buf, sizeof(buf)));
		fprintf(out, " min %s",
			fmt_duration(s[LAMPORT_PEER_STAT_MIN_RTT_NS], buf, sizeof(buf)));
	}
	fputc('\n', out);

	if (p->has_stat[LAMPORT_PEER_STAT_LAST_RX_AGE_NS])
		fprintf(out, "    last-rx %s ago",
			fmt_duration(s[LAMPORT_PEER_STAT_LAST_RX_AGE_NS], buf,
				     sizeof(buf)));
	else
		fputs("    last-rx never", out);
	fprintf(out, " transitions %llu recoveries %llu in-state %s",
		(unsigned long long)s[LAMPORT_PEER_STAT_TRANSITIONS],
		(unsigned long long)s[LAMPORT_PEER_STAT_RECOVERIES],
		fmt_duration(s[LAMPORT_PEER_STAT_STATE_AGE_NS], buf, sizeof(buf)));
	if (s[LAMPORT_PEER_STAT_REMOTE_INTERVAL_US])
		fprintf(out, " remote interval %s mult %llu\n",
			fmt_duration_exact(s[LAMPORT_PEER_STAT_REMOTE_INTERVAL_US] * 1000,
				     buf, sizeof(buf)),
			(unsigned long long)s[LAMPORT_PEER_STAT_REMOTE_MULT]);
	else
		fputs(" remote unknown\n", out);
}

static void peer_print_text(const struct peer_info *p, const struct view *v)
{
	char addr[FMT_ADDR_SIZE], val[FMT_VALUE_SIZE], name[FMT_NAME_SIZE];
	FILE *out = v->out;

	fprintf(out, "peer %u addr %s port %u", p->id,
		fmt_addr(&p->addr, addr, sizeof(addr)), p->port);
	fprintf(out, " state %s",
		fmt_name(&state_names, p->state, name, sizeof(name)));
	fprintf(out, " mode %s", fmt_name(&mode_names, p->mode, name, sizeof(name)));
	fprintf(out, " interval %s mult %u",
		fmt_duration_exact((uint64_t)p->interval_us * 1000, val, sizeof(val)),
		p->mult);
	print_duration(out, "detect", p->stat[LAMPORT_PEER_STAT_DETECT_NS]);
	if (p->mode == LAMPORT_FD_PHI) {
		fprintf(out, " threshold %s",
			fmt_milli(p->threshold, val, sizeof(val)));
		if (v->stats && p->has_stat[LAMPORT_PEER_STAT_PHI_MILLI])
			fprintf(out, " phi %s",
				fmt_milli(p->stat[LAMPORT_PEER_STAT_PHI_MILLI],
					  val, sizeof(val)));
	}
	fputc('\n', out);
	if (v->stats && p->has_stats)
		peer_print_stats_text(p, out);
}

void peer_print(const struct peer_info *p, const struct view *v)
{
	char addr[FMT_ADDR_SIZE], name[FMT_NAME_SIZE];
	struct json *j = v->json;
	unsigned int i;

	if (!j) {
		peer_print_text(p, v);
		return;
	}

	json_obj_open(j);
	json_kv_u32(j, "id", p->id);
	json_kv_str(j, "addr", fmt_addr(&p->addr, addr, sizeof(addr)));
	json_kv_u32(j, "port", p->port);
	json_kv_str(j, "state", fmt_name(&state_names, p->state, name, sizeof(name)));
	json_kv_str(j, "mode", fmt_name(&mode_names, p->mode, name, sizeof(name)));
	json_kv_u32(j, "interval_us", p->interval_us);
	json_kv_u32(j, "mult", p->mult);
	json_kv_u32(j, "threshold_milli", p->threshold);
	if (p->has_stat[LAMPORT_PEER_STAT_DETECT_NS])
		json_kv_u64(j, "detect_ns", p->stat[LAMPORT_PEER_STAT_DETECT_NS]);
	if (v->stats && p->has_stats) {
		json_key(j, "stats");
		json_obj_open(j);
		for (i = 0; i <= LAMPORT_PEER_STAT_MAX; i++)
			if (p->has_stat[i])
				json_kv_u64(j, peer_stat_keys[i], p->stat[i]);
		json_obj_close(j);
	}
	json_obj_close(j);
}

/* The peers of a reply or dump, gathered to be sorted. */
struct peer_list {
	struct peer_info *peers;
	size_t count, size;
};

static int peer_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct peer_list *list = data;
	struct peer_info *more;
	size_t size;

	if (list->count == list->size) {
		size = list->size ? 2 * list->size : 16;
		more = realloc(list->peers, size * sizeof(*more));
		if (!more)
			return MNL_CB_ERROR;	/* errno is ENOMEM */
		list->peers = more;
		list->size = size;
	}
	if (peer_decode(nlh, &list->peers[list->count]) != MNL_CB_OK)
		return MNL_CB_ERROR;
	list->count++;
	return MNL_CB_OK;
}

static int peer_cmp(const void *a, const void *b)
{
	const struct peer_info *pa = a, *pb = b;

	return (pa->id > pb->id) - (pa->id < pb->id);
}

void peer_print_list(struct peer_info *peers, size_t count, bool all,
		     const struct view *v)
{
	size_t i;

	if (count > 1)
		qsort(peers, count, sizeof(*peers), peer_cmp);
	if (all && v->json)
		json_arr_open(v->json);
	for (i = 0; i < count; i++)
		peer_print(&peers[i], v);
	if (all && v->json)
		json_arr_close(v->json);
}

/*
 * One peer, or all of them in id order (the kernel dumps in hash order).
 * Nothing is printed unless the whole dump arrived; one interrupted by a
 * change of the peers is tried again.
 */
static int peer_get(struct ctx *ctx, struct lnl *nl, const uint32_t *id)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct view v = { .out = stdout, .stats = ctx->stats };
	struct peer_list list = { 0 };
	struct nlmsghdr *nlh;
	int err, tries = 0;
	struct json j;

	do {
		list.count = 0;
		nlh = lnl_msg(nl, buf, LAMPORT_CMD_PEER_GET, id ? 0 : NLM_F_DUMP);
		if (id)
			mnl_attr_put_u32(nlh, LAMPORT_A_PEER_ID, *id);
		err = lnl_talk(nl, nlh, peer_reply_cb, &list);
	} while (err == -EINTR && !id && ++tries < PEER_DUMP_TRIES);

	if (err == -EINTR) {
		fprintf(stderr, "Error: the peers kept changing during the dump, try again.\n");
		free(list.peers);
		return -1;
	}
	if (err) {
		free(list.peers);
		return nl_error(nl, err);
	}

	if (id && !list.count) {
		fprintf(stderr, "Error: the kernel sent no peer\n");
		return -1;
	}
	if (ctx->json) {
		ctx_json(ctx, &j, stdout);
		v.json = &j;
	}
	peer_print_list(list.peers, list.count, !id, &v);
	free(list.peers);
	return 0;
}

static int peer_show(struct ctx *ctx, int argc, char **argv)
{
	struct lnl *nl;
	uint32_t id;

	if (argc > 0 && matches(argv[0], "help"))
		return peer_help(ctx, 0, argv);
	if (argc > 1)
		return unknarg("argument", argv[1], PEER_HELP);
	if (argc == 1 && parse_peer_id(argv[0], &id))
		return -1;

	nl = ctx_nl(ctx);
	if (!nl)
		return -1;
	return peer_get(ctx, nl, argc ? &id : NULL);
}

/* add, set and del: one request, answered by an ACK. */
static int peer_change(struct ctx *ctx, uint8_t cmd, const struct peer_req *req)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh;
	struct lnl *nl;
	int err;

	nl = ctx_nl(ctx);
	if (!nl)
		return -1;
	nlh = lnl_msg(nl, buf, cmd, 0);
	peer_put(nlh, req);
	err = lnl_talk(nl, nlh, NULL, NULL);
	if (err)
		return nl_error(nl, err);
	return 0;
}

static int peer_add(struct ctx *ctx, int argc, char **argv)
{
	struct peer_req req;

	if (argc > 0 && matches(argv[0], "help"))
		return peer_help(ctx, 0, argv);
	if (peer_parse(&req, LAMPORT_CMD_PEER_ADD, argc, argv))
		return -1;
	return peer_change(ctx, LAMPORT_CMD_PEER_ADD, &req);
}

static int peer_set(struct ctx *ctx, int argc, char **argv)
{
	struct peer_req req;

	if (argc > 0 && matches(argv[0], "help"))
		return peer_help(ctx, 0, argv);
	if (peer_parse(&req, LAMPORT_CMD_PEER_SET, argc, argv))
		return -1;
	return peer_change(ctx, LAMPORT_CMD_PEER_SET, &req);
}

static int peer_del(struct ctx *ctx, int argc, char **argv)
{
	struct peer_req req = { 0 };

	if (argc > 0 && matches(argv[0], "help"))
		return peer_help(ctx, 0, argv);
	if (argc < 1)
		return missarg("ID");
	if (argc > 1)
		return unknarg("argument", argv[1], PEER_HELP);
	if (parse_peer_id(argv[0], &req.id))
		return -1;
	return peer_change(ctx, LAMPORT_CMD_PEER_DEL, &req);
}

static const struct cmd peer_cmds[] = {
	{ "show",	peer_show },
	{ "add",	peer_add },
	{ "set",	peer_set },
	{ "delete",	peer_del },
	{ "help",	peer_help },
	{ NULL, NULL },
};

int do_peer(struct ctx *ctx, int argc, char **argv)
{
	if (!argc)
		return peer_show(ctx, 0, argv);
	return run_cmd(ctx, peer_cmds, "command", PEER_HELP, argc, argv);
}
