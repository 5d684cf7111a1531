// SPDX-License-Identifier: GPL-2.0
/*
 * lamport node: the identity and UDP socket of the node of the current
 * network namespace.
 */

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include <linux/lamport.h>

#include "args.h"
#include "lamport.h"

#define NODE_HELP	"lamport node help"

static const enum mnl_attr_data_type node_policy[LAMPORT_A_MAX + 1] = {
	[LAMPORT_A_NODE_ID]	= MNL_TYPE_U32,
	[LAMPORT_A_NODE_PORT]	= MNL_TYPE_U16,
	[LAMPORT_A_NODE_ADDR]	= MNL_TYPE_BINARY,
	[LAMPORT_A_NODE_STATS]	= MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type node_stat_policy[LAMPORT_NODE_STAT_MAX + 1] = {
	[LAMPORT_NODE_STAT_RX]			= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_TX]			= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_TX_ERRORS]		= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_DROP_SHORT]		= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_DROP_MAGIC]		= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_DROP_VERSION]	= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_DROP_TYPE]		= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_DROP_LENGTH]		= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_DROP_SENDER]		= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_DROP_ADDR]		= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_DROP_RECEIVER]	= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_DROP_PORT]		= MNL_TYPE_U64,
	[LAMPORT_NODE_STAT_DROP_FLOW]		= MNL_TYPE_U64,
};

/* JSON keys of the counters; the text names the drops without "drop_". */
static const char *const node_stat_keys[LAMPORT_NODE_STAT_MAX + 1] = {
	[LAMPORT_NODE_STAT_RX]			= "rx",
	[LAMPORT_NODE_STAT_TX]			= "tx",
	[LAMPORT_NODE_STAT_TX_ERRORS]		= "tx_errors",
	[LAMPORT_NODE_STAT_DROP_SHORT]		= "drop_short",
	[LAMPORT_NODE_STAT_DROP_MAGIC]		= "drop_magic",
	[LAMPORT_NODE_STAT_DROP_VERSION]	= "drop_version",
	[LAMPORT_NODE_STAT_DROP_TYPE]		= "drop_type",
	[LAMPORT_NODE_STAT_DROP_LENGTH]		= "drop_length",
	[LAMPORT_NODE_STAT_DROP_SENDER]		= "drop_sender",
	[LAMPORT_NODE_STAT_DROP_ADDR]		= "drop_addr",
	[LAMPORT_NODE_STAT_DROP_RECEIVER]	= "drop_receiver",
	[LAMPORT_NODE_STAT_DROP_PORT]		= "drop_port",
	[LAMPORT_NODE_STAT_DROP_FLOW]		= "drop_flow",
};

static int node_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx, (void)argc, (void)argv;
	printf("Usage: lamport node [ show ]\n"
	       "       lamport node set [ id ID ] [ port PORT ] [ addr ADDR ]\n"
	       "       lamport node help\n"
	       "where  ID := { 1..4294967295 | 0x1..0xffffffff }\n"
	       "       PORT := 1..65535, the UDP port of the heartbeats (default %u)\n"
	       "       ADDR := an IPv4 or IPv6 address to bind to (default: any)\n"
	       "Every namespace is one node, with id 0 until it is set; setting needs CAP_NET_ADMIN.\n"
	       "The node opens its socket once it has an id; \"set\" changes only what it names.\n"
	       "\"show -s\" adds the counters of the socket.\n",
	       LAMPORT_DEFAULT_PORT);
	return 0;
}

/* An address attribute of 4 or 16 bytes into addr; false if malformed. */
static bool get_addr(const struct nlattr *attr, struct lp_addr *addr)
{
	uint16_t len = mnl_attr_get_payload_len(attr);

	if (len != 4 && len != 16)
		return false;
	addr->len = len;
	memcpy(addr->bytes, mnl_attr_get_payload(attr), len);
	return true;
}

int node_decode(const struct nlmsghdr *nlh, struct node_info *node)
{
	const struct nlattr *stats[LAMPORT_NODE_STAT_MAX + 1];
	const struct nlattr *tb[LAMPORT_A_MAX + 1];
	unsigned int i;

	memset(node, 0, sizeof(*node));
	if (lnl_parse(nlh, node_policy, tb, LAMPORT_A_MAX) != MNL_CB_OK)
		return MNL_CB_ERROR;
	if (!tb[LAMPORT_A_NODE_ID])
		goto proto;
	node->id = mnl_attr_get_u32(tb[LAMPORT_A_NODE_ID]);
	if (tb[LAMPORT_A_NODE_PORT])
		node->port = mnl_attr_get_u16(tb[LAMPORT_A_NODE_PORT]);
	if (tb[LAMPORT_A_NODE_ADDR] &&
	    !get_addr(tb[LAMPORT_A_NODE_ADDR], &node->addr))
		goto proto;

	if (tb[LAMPORT_A_NODE_STATS]) {
		if (lnl_parse_nested(tb[LAMPORT_A_NODE_STATS], node_stat_policy,
				     stats, LAMPORT_NODE_STAT_MAX) != MNL_CB_OK)
			return MNL_CB_ERROR;
		node->has_stats = true;
		for (i = 0; i <= LAMPORT_NODE_STAT_MAX; i++) {
			if (!stats[i] || !node_stat_keys[i])
				continue;
			node->has_stat[i] = true;
			node->stat[i] = mnl_attr_get_u64(stats[i]);
		}
	}
	return MNL_CB_OK;

proto:
	errno = EPROTO;
	return MNL_CB_ERROR;
}

static void node_print_stats_text(const struct node_info *node, FILE *out)
{
	static const struct {
		int stat;
		const char *name;
	} lines[] = {
		{ LAMPORT_NODE_STAT_RX,			"\n    rx" },
		{ LAMPORT_NODE_STAT_TX,			" tx" },
		{ LAMPORT_NODE_STAT_TX_ERRORS,		" tx-errors" },
		{ LAMPORT_NODE_STAT_DROP_SHORT,		"\n    dropped: short" },
		{ LAMPORT_NODE_STAT_DROP_MAGIC,		" magic" },
		{ LAMPORT_NODE_STAT_DROP_VERSION,	" version" },
		{ LAMPORT_NODE_STAT_DROP_TYPE,		" type" },
		{ LAMPORT_NODE_STAT_DROP_LENGTH,	" length" },
		{ LAMPORT_NODE_STAT_DROP_SENDER,	" sender" },
		{ LAMPORT_NODE_STAT_DROP_ADDR,		" addr" },
		{ LAMPORT_NODE_STAT_DROP_RECEIVER,	" receiver" },
		{ LAMPORT_NODE_STAT_DROP_PORT,		" port" },
		{ LAMPORT_NODE_STAT_DROP_FLOW,		" flow" },
	};
	unsigned int i;

	/* A counter the kernel did not send prints as 0. */
	for (i = 0; i < ARRAY_SIZE(lines); i++)
		fprintf(out, "%s %llu", lines[i].name,
			(unsigned long long)node->stat[lines[i].stat]);
}

void node_print(const struct node_info *node, const struct view *v)
{
	char addr[FMT_ADDR_SIZE];
	struct json *j = v->json;
	unsigned int i;

	if (!j) {
		fprintf(v->out, "node id %u%s", node->id, node->id ? "" : " (unset)");
		if (node->port)
			fprintf(v->out, " port %u addr %s", node->port,
				fmt_addr(&node->addr, addr, sizeof(addr)));
		if (v->stats && node->has_stats)
			node_print_stats_text(node, v->out);
		fputc('\n', v->out);
		return;
	}

	json_obj_open(j);
	json_kv_u32(j, "id", node->id);
	/* Without a socket, as before sockets existed: {"id":N}. */
	if (node->port) {
		json_kv_u32(j, "port", node->port);
		json_key(j, "addr");
		json_str(j, node->addr.len ? fmt_addr(&node->addr, addr, sizeof(addr))
					   : NULL);
	}
	if (v->stats && node->has_stats) {
		json_key(j, "stats");
		json_obj_open(j);
		for (i = 0; i <= LAMPORT_NODE_STAT_MAX; i++)
			if (node->has_stat[i])
				json_kv_u64(j, node_stat_keys[i], node->stat[i]);
		json_obj_close(j);
	}
	json_obj_close(j);
}

struct node_reply {
	bool valid;
	struct node_info info;
};

static int node_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct node_reply *reply = data;
	int ret;

	ret = node_decode(nlh, &reply->info);
	reply->valid = ret == MNL_CB_OK;
	return ret;
}

static int node_show(struct ctx *ctx, int argc, char **argv)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct node_reply reply = { 0 };
	struct view v = { .out = stdout, .stats = ctx->stats };
	struct nlmsghdr *nlh;
	struct json j;
	struct lnl *nl;
	int err;

	if (argc > 0 && matches(argv[0], "help"))
		return node_help(ctx, 0, argv);
	if (argc > 0)
		return unknarg("argument", argv[0], NODE_HELP);

	nl = ctx_nl(ctx);
	if (!nl)
		return -1;
	nlh = lnl_msg(nl, buf, LAMPORT_CMD_NODE_GET, 0);
	err = lnl_talk(nl, nlh, node_reply_cb, &reply);
	if (err)
		return nl_error(nl, err);
	if (!reply.valid) {
		fprintf(stderr, "Error: the kernel sent no node\n");
		return -1;
	}
	if (ctx->json) {
		ctx_json(ctx, &j, stdout);
		v.json = &j;
	}
	node_print(&reply.info, &v);
	return 0;
}

/* Syntax only: the kernel judges the values, and explains a refusal. */
int node_parse_set(struct node_req *req, int argc, char **argv)
{
	const char *id_arg = NULL, *port_arg = NULL, *addr_arg = NULL;
	int err;

	memset(req, 0, sizeof(*req));
	for (; argc > 0; argc -= 2, argv += 2) {
		if (matches(argv[0], "id")) {
			if (argc < 2)
				return needarg("id");
			if (id_arg)
				return duparg("id", argv[1]);
			id_arg = argv[1];
			err = parse_u32(id_arg, &req->id);
			if (err == -ERANGE)
				return invarg("node id is out of range", id_arg);
			if (err)
				return invarg("node id is not a number", id_arg);
			req->has_id = true;
		} else if (matches(argv[0], "port")) {
			if (argc < 2)
				return needarg("port");
			if (port_arg)
				return duparg("port", argv[1]);
			port_arg = argv[1];
			err = parse_port(port_arg, &req->port);
			if (err == -ERANGE)
				return invarg("port is out of range", port_arg);
			if (err)
				return invarg("port is not a number", port_arg);
			req->has_port = true;
		} else if (matches(argv[0], "addr")) {
			if (argc < 2)
				return needarg("addr");
			if (addr_arg)
				return duparg("addr", argv[1]);
			addr_arg = argv[1];
			if (parse_addr(addr_arg, &req->addr))
				return invarg("address is not an IPv4 or IPv6 address",
					      addr_arg);
		} else {
			return unknarg("argument", argv[0], NODE_HELP);
		}
	}
	if (!id_arg && !port_arg && !addr_arg) {
		fprintf(stderr, "Error: nothing to set, try \"%s\".\n", NODE_HELP);
		return -1;
	}
	return 0;
}

void node_put(struct nlmsghdr *nlh, const struct node_req *req)
{
	if (req->has_id)
		mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, req->id);
	if (req->has_port)
		mnl_attr_put_u16(nlh, LAMPORT_A_NODE_PORT, req->port);
	if (req->addr.len)
		mnl_attr_put(nlh, LAMPORT_A_NODE_ADDR, req->addr.len,
			     req->addr.bytes);
}

static int node_set(struct ctx *ctx, int argc, char **argv)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct nlmsghdr *nlh;
	struct node_req req;
	struct lnl *nl;
	int err;

	if (argc > 0 && matches(argv[0], "help"))
		return node_help(ctx, 0, argv);
	if (node_parse_set(&req, argc, argv))
		return -1;

	nl = ctx_nl(ctx);
	if (!nl)
		return -1;
	nlh = lnl_msg(nl, buf, LAMPORT_CMD_NODE_SET, 0);
	node_put(nlh, &req);
	err = lnl_talk(nl, nlh, NULL, NULL);
	if (err)
		return nl_error(nl, err);
	return 0;
}

static const struct cmd node_cmds[] = {
	{ "show",	node_show },
	{ "set",	node_set },
	{ "help",	node_help },
	{ NULL, NULL },
};

int do_node(struct ctx *ctx, int argc, char **argv)
{
	if (!argc)
		return node_show(ctx, 0, argv);
	return run_cmd(ctx, node_cmds, "command", NODE_HELP, argc, argv);
}
