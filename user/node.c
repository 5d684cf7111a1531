// SPDX-License-Identifier: GPL-2.0
/*
 * lamport node: the identity of the node of the current network namespace.
 */

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>

#include <linux/lamport.h>

#include "args.h"
#include "lamport.h"

#define NODE_HELP	"lamport node help"

struct node_info {
	bool valid;
	uint32_t id;
};

static const enum mnl_attr_data_type node_policy[LAMPORT_A_MAX + 1] = {
	[LAMPORT_A_NODE_ID]	= MNL_TYPE_U32,
};

static int node_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx, (void)argc, (void)argv;
	printf("Usage: lamport node [ show ]\n"
	       "       lamport node set id ID\n"
	       "       lamport node help\n"
	       "where  ID := { 1..4294967295 | 0x1..0xffffffff }\n"
	       "Every namespace is one node, with id 0 until it is set; setting needs CAP_NET_ADMIN.\n");
	return 0;
}

static int node_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[LAMPORT_A_MAX + 1];
	struct node_info *node = data;

	if (lnl_parse(nlh, node_policy, tb, LAMPORT_A_MAX) != MNL_CB_OK)
		return MNL_CB_ERROR;
	if (!tb[LAMPORT_A_NODE_ID]) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	node->id = mnl_attr_get_u32(tb[LAMPORT_A_NODE_ID]);
	node->valid = true;
	return MNL_CB_OK;
}

static void node_print(const struct ctx *ctx, const struct node_info *node)
{
	struct json j;

	if (!ctx->json) {
		printf("node id %u%s\n", node->id, node->id ? "" : " (unset)");
		return;
	}
	ctx_json(ctx, &j);
	json_obj_open(&j);
	json_kv_u32(&j, "id", node->id);
	json_obj_close(&j);
}

static int node_show(struct ctx *ctx, int argc, char **argv)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	struct node_info node = { 0 };
	struct nlmsghdr *nlh;
	struct lnl *nl;
	int err;

	if (argc > 0)
		return unknarg("argument", argv[0], NODE_HELP);

	nl = ctx_nl(ctx);
	if (!nl)
		return -1;
	nlh = lnl_msg(nl, buf, LAMPORT_CMD_NODE_GET, 0);
	err = lnl_talk(nl, nlh, node_reply_cb, &node);
	if (err)
		return nl_error(nl, err);
	if (!node.valid) {
		fprintf(stderr, "Error: the kernel sent no node\n");
		return -1;
	}
	node_print(ctx, &node);
	return 0;
}

/* Syntax only: the kernel judges the value, and explains a refusal. */
static int node_set(struct ctx *ctx, int argc, char **argv)
{
	alignas(struct nlmsghdr) char buf[LNL_MSG_SIZE];
	const char *id_arg = NULL;
	struct nlmsghdr *nlh;
	struct lnl *nl;
	uint32_t id;
	int err;

	for (; argc > 0; argc -= 2, argv += 2) {
		if (!matches(argv[0], "id"))
			return unknarg("argument", argv[0], NODE_HELP);
		if (argc < 2)
			return needarg("id");
		if (id_arg)
			return duparg("id", argv[1]);
		id_arg = argv[1];
		err = parse_u32(id_arg, &id);
		if (err == -ERANGE)
			return invarg("node id is out of range", id_arg);
		if (err)
			return invarg("node id is not a number", id_arg);
	}
	if (!id_arg)
		return missarg("id");

	nl = ctx_nl(ctx);
	if (!nl)
		return -1;
	nlh = lnl_msg(nl, buf, LAMPORT_CMD_NODE_SET, 0);
	mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, id);
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
