// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink client of the "lamport" family.  Kept to libc and libmnl:
 * the selftests build this file on its own.
 */

#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/lamport.h>
#include <linux/netlink.h>

#include "nl.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The kernel sizes dump skbs after the receive buffers we offer, so offer
 * enough for its largest (32 KiB) rather than libmnl's one page.
 */
#define LNL_RECV_SIZE	32768

/* Progress of one lnl_talk() exchange. */
struct lnl_rx {
	mnl_cb_t cb;
	void *data;
	bool done;		/* the ACK or NLMSG_DONE arrived */
	bool cb_stopped;	/* cb asked for no more messages */
	bool interrupted;	/* the dump saw NLM_F_DUMP_INTR */
	int kernel_err;
	int cb_err;
};

/* Destination and rules of lnl_parse(). */
struct lnl_policy_ctx {
	const enum mnl_attr_data_type *policy;
	const struct nlattr **tb;
	uint16_t maxtype;
};

/* What lnl_parse_ack() picks from an extended ACK. */
struct lnl_extack {
	const struct nlattr *msg;
	const struct nlattr *offs;
};

static const char *const lnl_attr_names[] = {
	[LAMPORT_A_UNSPEC]		= "LAMPORT_A_UNSPEC",
	[LAMPORT_A_PAD]			= "LAMPORT_A_PAD",
	[LAMPORT_A_NODE_ID]		= "LAMPORT_A_NODE_ID",
	[LAMPORT_A_NODE_PORT]		= "LAMPORT_A_NODE_PORT",
	[LAMPORT_A_NODE_ADDR]		= "LAMPORT_A_NODE_ADDR",
	[LAMPORT_A_NODE_STATS]		= "LAMPORT_A_NODE_STATS",
	[LAMPORT_A_PEER_ID]		= "LAMPORT_A_PEER_ID",
	[LAMPORT_A_PEER_ADDR]		= "LAMPORT_A_PEER_ADDR",
	[LAMPORT_A_PEER_PORT]		= "LAMPORT_A_PEER_PORT",
	[LAMPORT_A_PEER_INTERVAL_US]	= "LAMPORT_A_PEER_INTERVAL_US",
	[LAMPORT_A_PEER_MULT]		= "LAMPORT_A_PEER_MULT",
	[LAMPORT_A_PEER_MODE]		= "LAMPORT_A_PEER_MODE",
	[LAMPORT_A_PEER_THRESHOLD]	= "LAMPORT_A_PEER_THRESHOLD",
	[LAMPORT_A_PEER_STATE]		= "LAMPORT_A_PEER_STATE",
	[LAMPORT_A_PEER_STATS]		= "LAMPORT_A_PEER_STATS",
	[LAMPORT_A_EVENT_OLD_STATE]	= "LAMPORT_A_EVENT_OLD_STATE",
	[LAMPORT_A_EVENT_REASON]	= "LAMPORT_A_EVENT_REASON",
	[LAMPORT_A_EVENT_TIME_NS]	= "LAMPORT_A_EVENT_TIME_NS",
	[LAMPORT_A_EVENT_LAST_RX_NS]	= "LAMPORT_A_EVENT_LAST_RX_NS",
	[LAMPORT_A_EVENT_DETECT_NS]	= "LAMPORT_A_EVENT_DETECT_NS",
	[LAMPORT_A_SOCK_TYPE]		= "LAMPORT_A_SOCK_TYPE",
	[LAMPORT_A_SOCK_PORT]		= "LAMPORT_A_SOCK_PORT",
	[LAMPORT_A_SOCK_INODE]		= "LAMPORT_A_SOCK_INODE",
	[LAMPORT_A_SOCK_CLOCK]		= "LAMPORT_A_SOCK_CLOCK",
	[LAMPORT_A_SOCK_STATS]		= "LAMPORT_A_SOCK_STATS",
	[LAMPORT_A_SOCK_FLOW]		= "LAMPORT_A_SOCK_FLOW",
	[LAMPORT_A_FLOW_DIR]		= "LAMPORT_A_FLOW_DIR",
	[LAMPORT_A_FLOW_NODE]		= "LAMPORT_A_FLOW_NODE",
	[LAMPORT_A_FLOW_PORT]		= "LAMPORT_A_FLOW_PORT",
	[LAMPORT_A_FLOW_STATS]		= "LAMPORT_A_FLOW_STATS",
};

/* Every attribute of the UAPI has its name above. */
_Static_assert(ARRAY_SIZE(lnl_attr_names) == LAMPORT_A_MAX + 1, "lnl_attr_names misses an attribute");

static void lnl_err_reset(struct lnl *nl)
{
	nl->err_msg[0] = '\0';
	nl->err_off = -1;
	nl->err_attr = 0;
}

/*
 * The buffer is cleared first since libmnl before 1.0.5 leaves attribute
 * padding uninitialised, which would send stale stack bytes to the kernel.
 */
static struct nlmsghdr *lnl_put_header(struct lnl *nl, void *buf, size_t size,
				       uint16_t type, uint8_t cmd,
				       uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;

	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;

	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = LAMPORT_GENL_VERSION;
	return nlh;
}

struct nlmsghdr *lnl_msg(struct lnl *nl, void *buf, uint8_t cmd, uint16_t flags)
{
	return lnl_put_header(nl, buf, MNL_SOCKET_BUFFER_SIZE, nl->family, cmd,
			      flags);
}

uint16_t lnl_attr_at(const struct nlmsghdr *req, int off)
{
	const struct nlattr *attr;

	if (!req || off < 0 || req->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN ||
	    (unsigned int)off >= req->nlmsg_len)
		return 0;

	mnl_attr_for_each(attr, req, GENL_HDRLEN) {
		size_t start = (const char *)attr - (const char *)req;

		if ((size_t)off >= start && (size_t)off < start + attr->nla_len)
			return mnl_attr_get_type(attr);
	}
	return 0;
}

static int lnl_extack_attr_cb(const struct nlattr *attr, void *data)
{
	struct lnl_extack *ext = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
			ext->msg = attr;
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			ext->offs = attr;
		break;
	}
	return MNL_CB_OK;
}

static void lnl_copy_err_msg(struct lnl *nl, const struct nlattr *attr)
{
	const char *msg = mnl_attr_get_payload(attr);
	size_t len = mnl_attr_get_payload_len(attr);
	const char *nul = memchr(msg, '\0', len);

	if (nul)
		len = nul - msg;
	if (len >= sizeof(nl->err_msg))
		len = sizeof(nl->err_msg) - 1;
	memcpy(nl->err_msg, msg, len);
	nl->err_msg[len] = '\0';
}

static void lnl_parse_extack(struct lnl *nl, const struct nlmsghdr *req,
			     const struct nlmsghdr *ack, size_t tlv_off)
{
	struct lnl_extack ext = { 0 };
	uint32_t off;

	if (tlv_off > mnl_nlmsg_get_payload_len(ack))
		return;
	mnl_attr_parse(ack, tlv_off, lnl_extack_attr_cb, &ext);

	if (ext.msg)
		lnl_copy_err_msg(nl, ext.msg);
	if (ext.offs) {
		off = mnl_attr_get_u32(ext.offs);
		if (off <= INT_MAX) {
			nl->err_off = off;
			nl->err_attr = lnl_attr_at(req, off);
		}
	}
}

int lnl_parse_ack(struct lnl *nl, const struct nlmsghdr *req,
		  const struct nlmsghdr *ack)
{
	const struct nlmsgerr *nlerr;
	size_t len, tlv_off;
	int err;

	lnl_err_reset(nl);
	if (ack->nlmsg_len < NLMSG_HDRLEN)
		return -EBADMSG;
	len = mnl_nlmsg_get_payload_len(ack);

	if (ack->nlmsg_type == NLMSG_DONE) {
		/* Old kernels end dumps with an empty NLMSG_DONE. */
		if (len < sizeof(err))
			return 0;
		memcpy(&err, mnl_nlmsg_get_payload(ack), sizeof(err));
		tlv_off = sizeof(err);
	} else if (ack->nlmsg_type == NLMSG_ERROR) {
		if (len < sizeof(*nlerr))
			return -EBADMSG;
		nlerr = mnl_nlmsg_get_payload(ack);
		err = nlerr->error;
		tlv_off = sizeof(*nlerr);
		/* Without NETLINK_CAP_ACK the whole request is echoed back. */
		if (!(ack->nlmsg_flags & NLM_F_CAPPED) &&
		    nlerr->msg.nlmsg_len >= sizeof(nlerr->msg))
			tlv_off += nlerr->msg.nlmsg_len - sizeof(nlerr->msg);
	} else {
		return -EBADMSG;
	}

	if (err > 0)
		err = -err;
	if (err && (ack->nlmsg_flags & NLM_F_ACK_TLVS))
		lnl_parse_extack(nl, req, ack, tlv_off);
	return err;
}

static void lnl_rx_data(struct lnl_rx *rx, const struct nlmsghdr *nlh)
{
	int ret;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		rx->interrupted = true;
	if (!rx->cb || rx->cb_stopped)
		return;

	errno = 0;
	ret = rx->cb(nlh, rx->data);
	if (ret == MNL_CB_ERROR) {
		rx->cb_err = errno ? -errno : -EPROTO;
		rx->cb_stopped = true;
	} else if (ret == MNL_CB_STOP) {
		rx->cb_stopped = true;
	}
}

static void lnl_rx_batch(struct lnl *nl, const struct nlmsghdr *req,
			 struct lnl_rx *rx, const void *buf, int len)
{
	const struct nlmsghdr *nlh;

	for (nlh = buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		/* Leftovers of an earlier request that was abandoned. */
		if (nlh->nlmsg_seq != req->nlmsg_seq ||
		    nlh->nlmsg_pid != nl->portid)
			continue;

		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_OVERRUN:
			rx->kernel_err = -ENOBUFS;
			rx->done = true;
			return;
		case NLMSG_ERROR:
		case NLMSG_DONE:
			rx->kernel_err = lnl_parse_ack(nl, req, nlh);
			rx->done = true;
			return;
		default:
			lnl_rx_data(rx, nlh);
			break;
		}
	}
}

int lnl_talk(struct lnl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	alignas(struct nlmsghdr) char buf[LNL_RECV_SIZE];
	struct lnl_rx rx = { .cb = cb, .data = data };
	ssize_t len;

	lnl_err_reset(nl);
	if (!nl->sock)
		return -ENOTCONN;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;

	while (!rx.done) {
		len = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		lnl_rx_batch(nl, req, &rx, buf, len);
	}

	if (rx.kernel_err)
		return rx.kernel_err;
	if (rx.cb_err)
		return rx.cb_err;
	return rx.interrupted ? -EINTR : 0;
}

static int lnl_family_attr_cb(const struct nlattr *attr, void *data)
{
	uint16_t *family = data;

	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
		*family = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int lnl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, GENL_HDRLEN, lnl_family_attr_cb, data);
}

static int lnl_resolve_family(struct lnl *nl, const char *name)
{
	alignas(struct nlmsghdr) char buf[256];
	struct nlmsghdr *nlh;
	uint16_t family = 0;
	int err;

	nlh = lnl_put_header(nl, buf, sizeof(buf), GENL_ID_CTRL,
			     CTRL_CMD_GETFAMILY, 0);
	if (!mnl_attr_put_strz_check(nlh, sizeof(buf), CTRL_ATTR_FAMILY_NAME,
				     name))
		return -ENAMETOOLONG;

	err = lnl_talk(nl, nlh, lnl_family_cb, &family);
	if (err)
		return err;
	if (!family)
		return -EPROTO;
	nl->family = family;
	return 0;
}

/* What lnl_mcast_group() looks for, and finds. */
struct lnl_mcast {
	const char *name;
	uint32_t id;
	bool found;
};

static int lnl_mcast_grp_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type == CTRL_ATTR_MCAST_GRP_NAME &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		tb[type] = attr;
	else if (type == CTRL_ATTR_MCAST_GRP_ID &&
		 mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int lnl_mcast_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1];
	struct lnl_mcast *mc = data;
	const struct nlattr *grp;

	if (mnl_attr_get_type(attr) != CTRL_ATTR_MCAST_GROUPS ||
	    mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
		return MNL_CB_OK;

	/* An array: one nest per group, numbered from 1. */
	mnl_attr_for_each_nested(grp, attr) {
		memset(tb, 0, sizeof(tb));
		if (mnl_attr_validate(grp, MNL_TYPE_NESTED) < 0 ||
		    mnl_attr_parse_nested(grp, lnl_mcast_grp_attr_cb, tb) < 0)
			continue;
		if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
		    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
			    mc->name)) {
			mc->id = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
			mc->found = true;
		}
	}
	return MNL_CB_OK;
}

static int lnl_mcast_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, GENL_HDRLEN, lnl_mcast_attr_cb, data);
}

int lnl_mcast_group(struct lnl *nl, const char *name, uint32_t *id)
{
	alignas(struct nlmsghdr) char buf[256];
	struct lnl_mcast mc = { .name = name };
	struct nlmsghdr *nlh;
	int err;

	nlh = lnl_put_header(nl, buf, sizeof(buf), GENL_ID_CTRL,
			     CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, nl->family);
	err = lnl_talk(nl, nlh, lnl_mcast_cb, &mc);
	if (err)
		return err;
	if (!mc.found)
		return -ENOENT;
	*id = mc.id;
	return 0;
}

int lnl_join_group(struct lnl *nl, const char *name)
{
	uint32_t id;
	int err;

	err = lnl_mcast_group(nl, name, &id);
	if (err)
		return err;
	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &id,
				  sizeof(id)) < 0)
		return -errno;
	return 0;
}

static int lnl_enable(struct mnl_socket *sock, int option)
{
	int one = 1;

	if (mnl_socket_setsockopt(sock, option, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

static int lnl_open_socket(struct lnl *nl)
{
	int err;

	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	err = lnl_enable(nl->sock, NETLINK_EXT_ACK);
	if (err)
		return err;
	err = lnl_enable(nl->sock, NETLINK_CAP_ACK);
	if (err)
		return err;
	nl->portid = mnl_socket_get_portid(nl->sock);
	return 0;
}

int lnl_open_family(struct lnl *nl, const char *name)
{
	int err;

	memset(nl, 0, sizeof(*nl));
	lnl_err_reset(nl);

	err = lnl_open_socket(nl);
	if (!err)
		err = lnl_resolve_family(nl, name);
	if (err)
		lnl_close(nl);
	return err;
}

int lnl_open(struct lnl *nl)
{
	return lnl_open_family(nl, LAMPORT_GENL_NAME);
}

void lnl_close(struct lnl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static int lnl_policy_attr_cb(const struct nlattr *attr, void *data)
{
	const struct lnl_policy_ctx *ctx = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type > ctx->maxtype)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, ctx->policy[type]) < 0)
		return MNL_CB_ERROR;
	ctx->tb[type] = attr;
	return MNL_CB_OK;
}

int lnl_parse(const struct nlmsghdr *nlh, const enum mnl_attr_data_type *policy,
	      const struct nlattr **tb, uint16_t maxtype)
{
	struct lnl_policy_ctx ctx = { policy, tb, maxtype };

	memset(tb, 0, (maxtype + 1) * sizeof(*tb));
	return mnl_attr_parse(nlh, GENL_HDRLEN, lnl_policy_attr_cb, &ctx);
}

int lnl_parse_nested(const struct nlattr *nest,
		     const enum mnl_attr_data_type *policy,
		     const struct nlattr **tb, uint16_t maxtype)
{
	struct lnl_policy_ctx ctx = { policy, tb, maxtype };

	memset(tb, 0, (maxtype + 1) * sizeof(*tb));
	return mnl_attr_parse_nested(nest, lnl_policy_attr_cb, &ctx);
}

const char *lnl_attr_name(uint16_t type)
{
	static char fallback[sizeof("attribute 65535")];

	if (type < ARRAY_SIZE(lnl_attr_names) && lnl_attr_names[type])
		return lnl_attr_names[type];
	snprintf(fallback, sizeof(fallback), "attribute %u", type);
	return fallback;
}

static const enum mnl_attr_data_type event_policy[LAMPORT_A_MAX + 1] = {
	[LAMPORT_A_NODE_ID]		= MNL_TYPE_U32,
	[LAMPORT_A_PEER_ID]		= MNL_TYPE_U32,
	[LAMPORT_A_PEER_STATE]		= MNL_TYPE_U8,
	[LAMPORT_A_EVENT_OLD_STATE]	= MNL_TYPE_U8,
	[LAMPORT_A_EVENT_REASON]	= MNL_TYPE_U8,
	[LAMPORT_A_EVENT_TIME_NS]	= MNL_TYPE_U64,
	[LAMPORT_A_EVENT_LAST_RX_NS]	= MNL_TYPE_U64,
	[LAMPORT_A_EVENT_DETECT_NS]	= MNL_TYPE_U64,
};

int event_decode(const struct nlmsghdr *nlh, struct event_info *ev)
{
	const struct nlattr *tb[LAMPORT_A_MAX + 1];
	const struct genlmsghdr *genl;

	memset(ev, 0, sizeof(*ev));
	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		goto proto;
	genl = mnl_nlmsg_get_payload(nlh);
	if (genl->cmd != LAMPORT_CMD_PEER_EVENT)
		goto proto;
	if (lnl_parse(nlh, event_policy, tb, LAMPORT_A_MAX) != MNL_CB_OK)
		return MNL_CB_ERROR;
	if (!tb[LAMPORT_A_PEER_ID] || !tb[LAMPORT_A_PEER_STATE] ||
	    !tb[LAMPORT_A_EVENT_TIME_NS])
		goto proto;

	ev->peer = mnl_attr_get_u32(tb[LAMPORT_A_PEER_ID]);
	ev->new_state = mnl_attr_get_u8(tb[LAMPORT_A_PEER_STATE]);
	ev->time_ns = mnl_attr_get_u64(tb[LAMPORT_A_EVENT_TIME_NS]);
	if (tb[LAMPORT_A_NODE_ID])
		ev->node = mnl_attr_get_u32(tb[LAMPORT_A_NODE_ID]);
	if (tb[LAMPORT_A_EVENT_OLD_STATE])
		ev->old_state = mnl_attr_get_u8(tb[LAMPORT_A_EVENT_OLD_STATE]);
	if (tb[LAMPORT_A_EVENT_REASON])
		ev->reason = mnl_attr_get_u8(tb[LAMPORT_A_EVENT_REASON]);
	if (tb[LAMPORT_A_EVENT_LAST_RX_NS])
		ev->last_rx_ns = mnl_attr_get_u64(tb[LAMPORT_A_EVENT_LAST_RX_NS]);
	if (tb[LAMPORT_A_EVENT_DETECT_NS])
		ev->detect_ns = mnl_attr_get_u64(tb[LAMPORT_A_EVENT_DETECT_NS]);
	return MNL_CB_OK;

proto:
	errno = EPROTO;
	return MNL_CB_ERROR;
}
