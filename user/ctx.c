// SPDX-License-Identifier: GPL-2.0
/*
 * What the objects of the lamport command share: the dispatch of their
 * commands, the netlink link and the printing of its errors.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/lamport.h>

#include "args.h"
#include "lamport.h"

int run_cmd(struct ctx *ctx, const struct cmd *cmds, const char *what,
	    const char *help, int argc, char **argv)
{
	const struct cmd *cmd;

	for (cmd = cmds; cmd->name; cmd++)
		if (matches(argv[0], cmd->name))
			return cmd->run(ctx, argc - 1, argv + 1);
	return unknarg(what, argv[0], help);
}

struct lnl *ctx_nl(struct ctx *ctx)
{
	int err;

	if (ctx->nl_ready)
		return &ctx->nl;

	err = lnl_open(&ctx->nl);
	if (err == -ENOENT) {
		fprintf(stderr, "Error: lamport.ko is not loaded (generic netlink family \"%s\" not found).\n",
			LAMPORT_GENL_NAME);
		return NULL;
	}
	if (err) {
		fprintf(stderr, "Error: cannot open generic netlink: %s\n",
			strerror(-err));
		return NULL;
	}
	ctx->nl_ready = true;
	return &ctx->nl;
}

int nl_error(const struct lnl *nl, int err)
{
	const char *msg = nl->err_msg;

	if (!msg[0])
		msg = err == -EPERM ? "permission denied (CAP_NET_ADMIN needed)"
				    : strerror(-err);
	fprintf(stderr, "Error: %s", msg);
	if (nl->err_attr > LAMPORT_A_MAX)
		fprintf(stderr, " (attribute %u)", nl->err_attr);
	else if (nl->err_attr && !strstr(msg, lnl_attr_name(nl->err_attr)))
		fprintf(stderr, " (attribute %s)", lnl_attr_name(nl->err_attr));
	fputc('\n', stderr);
	return -1;
}

void ctx_json(const struct ctx *ctx, struct json *j, FILE *out)
{
	json_init(j, out, ctx->pretty);
}
