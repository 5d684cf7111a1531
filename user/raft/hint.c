// SPDX-License-Identifier: GPL-2.0
/*
 * The failure detector's hints (hint.h): a generic netlink socket of the
 * "lamport" family that joined its "events" group and is only read from.
 * Depends on nl.c and libmnl, nothing of the lamport command.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/lamport.h>
#include <linux/netlink.h>

#include "hint.h"
#include "nl.h"

/* A batch of events fits many times over (one is about 100 bytes). */
#define HINT_RECV_SIZE	32768
/* Asked of the socket, best effort: every peer of a node may die at once. */
#define HINT_SOCK_BUF	(256 * 1024)
/* Datagrams read per call at most: the daemon's loop comes back soon. */
#define HINT_READS_MAX	64

struct raft_hints {
	struct lnl nl;
	int fd;
	struct raft_hints_stats stats;
	alignas(struct nlmsghdr) char buf[HINT_RECV_SIZE];
};

__attribute__((format(printf, 3, 4)))
static void hint_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int raft_hints_open(struct raft_hints **out, char *err, size_t errlen)
{
	struct raft_hints *h;
	int ret, size = HINT_SOCK_BUF;

	*out = NULL;
	hint_err(err, errlen, "%s", "");
	h = calloc(1, sizeof(*h));
	if (!h) {
		hint_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = lnl_open(&h->nl);
	if (ret == -ENOENT) {
		hint_err(err, errlen,
			 "lamport.ko is not loaded: no \"%s\" generic netlink family",
			 LAMPORT_GENL_NAME);
		goto fail;
	}
	if (ret) {
		hint_err(err, errlen, "generic netlink family \"%s\": %s",
			 LAMPORT_GENL_NAME, strerror(-ret));
		goto fail;
	}
	ret = lnl_join_group(&h->nl, LAMPORT_MCGRP_EVENTS);
	if (ret == -ENOENT) {
		hint_err(err, errlen,
			 "lamport.ko has no \"%s\" multicast group (another version?)",
			 LAMPORT_MCGRP_EVENTS);
		ret = -EOPNOTSUPP;
		goto fail;
	}
	if (ret) {
		hint_err(err, errlen, "joining the \"%s\" multicast group: %s",
			 LAMPORT_MCGRP_EVENTS, strerror(-ret));
		goto fail;
	}
	h->fd = mnl_socket_get_fd(h->nl.sock);
	/* The kernel caps it at net.core.rmem_max; the default does too. */
	setsockopt(h->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	*out = h;
	return 0;

fail:
	lnl_close(&h->nl);
	free(h);
	return ret;
}

int raft_hints_fd(const struct raft_hints *h)
{
	return h->fd;
}

/* One event: 0 and its fields, or -EPROTO when it is not a well-formed one. */
static int hint_decode(const struct nlmsghdr *nlh, uint32_t *peer,
		       uint8_t *old_state, uint8_t *new_state)
{
	struct event_info ev;

	if (event_decode(nlh, &ev) != MNL_CB_OK)
		return -EPROTO;
	*peer = ev.peer;
	*old_state = ev.old_state;	/* 0 (unknown) when not said */
	*new_state = ev.new_state;
	return 0;
}

/* The events of one datagram: how many were handed to fn. */
static int hint_batch(struct raft_hints *h, int len, raft_hint_fn *fn,
		      void *arg)
{
	const struct nlmsghdr *nlh;
	uint8_t old_state, new_state;
	uint32_t peer;
	int n = 0;

	for (nlh = (const struct nlmsghdr *)h->buf; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		/* The socket sends nothing: control messages are not ours. */
		if (nlh->nlmsg_type != h->nl.family)
			continue;
		if (hint_decode(nlh, &peer, &old_state, &new_state)) {
			h->stats.malformed++;
			continue;
		}
		h->stats.events++;
		n++;
		fn(arg, peer, old_state, new_state);
	}
	return n;
}

int raft_hints_read(struct raft_hints *h, raft_hint_fn *fn, void *arg)
{
	bool overrun = false;
	int handed = 0;
	ssize_t len;

	for (int i = 0; i < HINT_READS_MAX; i++) {
		len = recv(h->fd, h->buf, sizeof(h->buf), MSG_DONTWAIT);
		if (len > 0) {
			handed += hint_batch(h, (int)len, fn, arg);
			continue;
		}
		if (!len)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (errno == ENOBUFS) {
			/* Reported once; what arrived after it is still there. */
			h->stats.overruns++;
			overrun = true;
			continue;
		}
		return -errno;
	}
	return overrun ? -ENOBUFS : handed;
}

void raft_hints_get_stats(const struct raft_hints *h,
			  struct raft_hints_stats *st)
{
	*st = h->stats;
}

void raft_hints_close(struct raft_hints *h)
{
	if (!h)
		return;
	lnl_close(&h->nl);
	free(h);
}
