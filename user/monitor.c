// SPDX-License-Identifier: GPL-2.0
/*
 * lamport monitor: the peer state changes of the node, as they happen,
 * from the "events" multicast group of the family.
 *
 * Only the events go to stdout, one per line (or one JSON value each), each
 * flushed at once, so that the output can be piped; anything else goes to
 * stderr.  SIGINT and SIGTERM end it with status 0.
 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/lamport.h>

#include "args.h"
#include "lamport.h"

#define MONITOR_HELP	"lamport monitor help"

/* Far above the size of an event; a batch of them fits. */
#define MONITOR_RECV_SIZE	32768
/* Asked of the socket for bursts (every peer of a node dying at once). */
#define MONITOR_SOCK_BUF	(1 << 20)


static volatile sig_atomic_t monitor_stop;

static int monitor_help(struct ctx *ctx, int argc, char **argv)
{
	(void)ctx, (void)argc, (void)argv;
	printf("Usage: lamport monitor [ count COUNT ]\n"
	       "       lamport monitor help\n"
	       "where  COUNT := 1..4294967295, the number of events after which to exit\n"
	       "Prints every peer state change of the node as it happens, until interrupted:\n"
	       "  [TIME] node ID peer ID OLD -> NEW reason REASON last-rx AGO before detect DETECT\n"
	       "TIME is the kernel's CLOCK_MONOTONIC in seconds; -j prints one JSON object a line.\n");
	return 0;
}

/* Time from the last heartbeat to the decision; never negative. */
static uint64_t event_since_rx(const struct event_info *ev)
{
	return ev->time_ns > ev->last_rx_ns ? ev->time_ns - ev->last_rx_ns : 0;
}

void event_print(const struct event_info *ev, const struct view *v)
{
	char old_buf[FMT_NAME_SIZE], new_buf[FMT_NAME_SIZE];
	char reason_buf[FMT_NAME_SIZE], val[FMT_VALUE_SIZE];
	const char *old, *new, *reason;
	struct json *j = v->json;

	old = fmt_name(&state_names, ev->old_state, old_buf, sizeof(old_buf));
	new = fmt_name(&state_names, ev->new_state, new_buf, sizeof(new_buf));
	reason = fmt_name(&reason_names, ev->reason, reason_buf, sizeof(reason_buf));

	if (!j) {
		fprintf(v->out, "[%llu.%09llu] node %u peer %u %s -> %s reason %s",
			(unsigned long long)(ev->time_ns / 1000000000),
			(unsigned long long)(ev->time_ns % 1000000000),
			ev->node, ev->peer, old, new, reason);
		if (ev->last_rx_ns)
			fprintf(v->out, " last-rx %s before",
				fmt_duration(event_since_rx(ev), val, sizeof(val)));
		else
			fputs(" last-rx never", v->out);
		fprintf(v->out, " detect %s\n", ev->detect_ns ?
			fmt_duration(ev->detect_ns, val, sizeof(val)) : "none");
		return;
	}

	json_obj_open(j);
	json_kv_u64(j, "time_ns", ev->time_ns);
	json_kv_u32(j, "node", ev->node);
	json_kv_u32(j, "peer", ev->peer);
	json_kv_str(j, "old", old);
	json_kv_str(j, "new", new);
	json_kv_str(j, "reason", reason);
	json_kv_u64(j, "last_rx_ns", ev->last_rx_ns);
	json_key(j, "since_last_rx_ns");
	if (ev->last_rx_ns)
		json_u64(j, event_since_rx(ev));
	else
		json_null(j);
	json_kv_u64(j, "detect_ns", ev->detect_ns);
	json_obj_close(j);
}

static void monitor_signal(int sig)
{
	(void)sig;
	monitor_stop = 1;
}

/*
 * SIGINT and SIGTERM are blocked but while waiting in ppoll(), so that
 * one arriving at any time ends the wait without being missed; one that
 * arrived even before, while blocked, counts too.  The handler stays: a
 * signal coming as the command ends after "count" must not kill it either.
 */
static int monitor_signals(sigset_t *old_mask, sigset_t *wait_mask)
{
	struct sigaction sa = { .sa_handler = monitor_signal };
	sigset_t stop;

	monitor_stop = 0;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &stop, old_mask) ||
	    sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		fprintf(stderr, "Error: cannot handle signals: %s\n", strerror(errno));
		return -1;
	}
	*wait_mask = *old_mask;
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGTERM);
	return 0;
}

/*
 * Prints the events of one read, counting *left down to 0 (no limit when
 * it starts at 0).  Returns -1 when writing failed.
 */
static int monitor_batch(uint16_t family, const struct view *v,
			 const void *buf, int len, uint32_t *left)
{
	const struct nlmsghdr *nlh;
	struct event_info ev;

	for (nlh = buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_type != family)
			continue;
		if (event_decode(nlh, &ev) != MNL_CB_OK) {
			fprintf(stderr, "Warning: a malformed event was skipped: %s\n",
				strerror(errno));
			continue;
		}
		event_print(&ev, v);
		if (fflush(v->out) || ferror(v->out))
			return -1;
		if (*left && !--*left)
			break;
	}
	return 0;
}

/* Waits for the next datagram: its length, 0 when stopped, -1 on error. */
static ssize_t monitor_recv(int fd, void *buf, size_t size,
			    const sigset_t *wait_mask)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t len;

	while (!monitor_stop) {
		if (ppoll(&pfd, 1, NULL, wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "Error: cannot wait for events: %s\n",
				strerror(errno));
			return -1;
		}
		len = recv(fd, buf, size, MSG_DONTWAIT);
		if (len > 0)
			return len;
		if (!len) {
			fprintf(stderr, "Error: the event socket was closed\n");
			return -1;
		}
		if (errno == EAGAIN || errno == EINTR)
			continue;
		if (errno == ENOBUFS) {
			fprintf(stderr, "Warning: events were lost, the receive buffer overran.\n");
			continue;
		}
		fprintf(stderr, "Error: cannot receive the events: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

int monitor_loop(int fd, uint16_t family, const struct view *v, uint32_t count)
{
	alignas(struct nlmsghdr) char buf[MONITOR_RECV_SIZE];
	sigset_t old_mask, wait_mask;
	uint32_t left = count;
	ssize_t len;
	int ret = 0;

	if (monitor_signals(&old_mask, &wait_mask))
		return -1;
	while (!count || left) {
		len = monitor_recv(fd, buf, sizeof(buf), &wait_mask);
		if (len <= 0) {
			ret = len;
			break;
		}
		/* A write error is main()'s to report, as for any command. */
		ret = monitor_batch(family, v, buf, len, &left);
		if (ret)
			break;
	}
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return ret;
}

int do_monitor(struct ctx *ctx, int argc, char **argv)
{
	struct view v = { .out = stdout };
	const char *count_arg = NULL;
	uint32_t count = 0;
	struct lnl *nl;
	struct json j;
	int err;

	if (argc > 0 && matches(argv[0], "help"))
		return monitor_help(ctx, 0, argv);
	for (; argc > 0; argc -= 2, argv += 2) {
		if (!matches(argv[0], "count"))
			return unknarg("argument", argv[0], MONITOR_HELP);
		if (argc < 2)
			return needarg("count");
		if (count_arg)
			return duparg("count", argv[1]);
		count_arg = argv[1];
		err = parse_u32(count_arg, &count);
		if (err == -ERANGE || (!err && !count))
			return invarg("count is out of range", count_arg);
		if (err)
			return invarg("count is not a number", count_arg);
	}

	nl = ctx_nl(ctx);
	if (!nl)
		return -1;
	err = lnl_join_group(nl, LAMPORT_MCGRP_EVENTS);
	if (err == -ENOENT) {
		fprintf(stderr, "Error: lamport.ko has no \"%s\" multicast group.\n",
			LAMPORT_MCGRP_EVENTS);
		return -1;
	}
	if (err) {
		fprintf(stderr, "Error: cannot join the \"%s\" multicast group: %s\n",
			LAMPORT_MCGRP_EVENTS, strerror(-err));
		return -1;
	}
	/* Best effort: the kernel caps it at net.core.rmem_max. */
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUF,
		   &(int){ MONITOR_SOCK_BUF }, sizeof(int));
	if (ctx->json) {
		ctx_json(ctx, &j, stdout);
		v.json = &j;
	}
	return monitor_loop(mnl_socket_get_fd(nl->sock), nl->family, &v, count);
}
