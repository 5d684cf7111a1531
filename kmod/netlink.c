// SPDX-License-Identifier: GPL-2.0
/*
 * The "lamport" generic netlink family: configuration and state of the
 * node of the caller's network namespace.
 */

#include <net/genetlink.h>
#include <linux/lamport.h>

#include "lamport.h"

static struct genl_family lamport_genl_family;

/* NODE_GET takes no attributes: strict validation rejects any. */
static const struct nla_policy lamport_node_get_policy[LAMPORT_A_MAX + 1] = {
};

static const struct nla_policy lamport_node_set_policy[LAMPORT_A_MAX + 1] = {
	[LAMPORT_A_NODE_ID] = { .type = NLA_U32 },
};

static int lamport_nl_node_get(struct sk_buff *skb, struct genl_info *info)
{
	struct lamport_net *ln = lamport_net(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &lamport_genl_family, 0,
				LAMPORT_CMD_NODE_GET);
	if (!hdr)
		goto err_msgsize;
	if (nla_put_u32(msg, LAMPORT_A_NODE_ID, lamport_node_id(ln)))
		goto err_msgsize;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_msgsize:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int lamport_nl_node_set(struct sk_buff *skb, struct genl_info *info)
{
	struct lamport_net *ln = lamport_net(genl_info_net(info));
	struct nlattr *id_attr = info->attrs[LAMPORT_A_NODE_ID];
	u32 id;

	if (!id_attr) {
		NL_SET_ERR_MSG(info->extack,
			       "missing node id (LAMPORT_A_NODE_ID)");
		return -EINVAL;
	}
	id = nla_get_u32(id_attr);
	if (!id) {
		NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
				    "node id must be non-zero (LAMPORT_A_NODE_ID)");
		return -EINVAL;
	}

	mutex_lock(&ln->lock);
	lamport_node_set_id(ln, id);
	mutex_unlock(&ln->lock);
	return 0;
}

static const struct genl_ops lamport_genl_ops[] = {
	{
		.cmd = LAMPORT_CMD_NODE_GET,
		.doit = lamport_nl_node_get,
		.policy = lamport_node_get_policy,
		.maxattr = LAMPORT_A_MAX,
	},
	{
		.cmd = LAMPORT_CMD_NODE_SET,
		.doit = lamport_nl_node_set,
		.policy = lamport_node_set_policy,
		.maxattr = LAMPORT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family lamport_genl_family __ro_after_init = {
	.name = LAMPORT_GENL_NAME,
	.version = LAMPORT_GENL_VERSION,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = lamport_genl_ops,
	.n_ops = ARRAY_SIZE(lamport_genl_ops),
};

int __init lamport_netlink_init(void)
{
	return genl_register_family(&lamport_genl_family);
}

void lamport_netlink_exit(void)
{
	genl_unregister_family(&lamport_genl_family);
}
