// SPDX-License-Identifier: GPL-2.0
/*
 * The node object of the "lamport" generic netlink family: one node per
 * network namespace, configured only by CAP_NET_ADMIN in the netns' user
 * namespace, and strict about every attribute it is sent.
 *
 * Every test runs in a forked child (the harness does that) and first moves
 * into a fresh network namespace, so tests never see each other's state.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/lamport.h>
#include <libmnl/libmnl.h>

#include "kselftest_harness.h"
#include "nl.h"

#define TRACEFS "/sys/kernel/tracing"

static int node_id_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) == LAMPORT_A_NODE_ID &&
		    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			*(int64_t *)data = mnl_attr_get_u32(attr);
	}
	return MNL_CB_OK;
}

/* The node id of the socket's netns, or -errno. */
static int64_t node_get(struct lnl *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = lnl_msg(nl, buf, LAMPORT_CMD_NODE_GET, 0);
	int64_t id = -ENODATA;
	int err;

	err = lnl_talk(nl, nlh, node_id_cb, &id);
	return err ? err : id;
}

static int node_set(struct lnl *nl, uint32_t id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = lnl_msg(nl, buf, LAMPORT_CMD_NODE_SET, 0);

	mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, id);
	return lnl_talk(nl, nlh, NULL, NULL);
}

static int enter_new_netns(void)
{
	return unshare(CLONE_NEWNET);
}

static int drop_all_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};

	return syscall(SYS_capset, &hdr, data);
}

static unsigned long netns_inode(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return 0;
	return st.st_ino;
}

FIXTURE(node) {
	struct lnl nl;
};

FIXTURE_SETUP(node)
{
	ASSERT_EQ(0, enter_new_netns());
	ASSERT_EQ(0, lnl_open(&self->nl));
}

FIXTURE_TEARDOWN(node)
{
	lnl_close(&self->nl);
}

TEST(family_resolves)
{
	struct lnl nl;

	ASSERT_EQ(0, lnl_open(&nl));
	EXPECT_NE(0, nl.family);
	lnl_close(&nl);
}

TEST_F(node, starts_unset)
{
	EXPECT_EQ(0, node_get(&self->nl));
}

TEST_F(node, set_get_round_trip)
{
	ASSERT_EQ(0, node_set(&self->nl, 42));
	EXPECT_EQ(42, node_get(&self->nl));
	ASSERT_EQ(0, node_set(&self->nl, 0xffffffffu));
	EXPECT_EQ(0xffffffffu, node_get(&self->nl));
	ASSERT_EQ(0, node_set(&self->nl, 7));
	EXPECT_EQ(7, node_get(&self->nl));
}

TEST(netns_hold_independent_state)
{
	int home = open("/proc/self/ns/net", O_RDONLY);
	struct lnl a, b, h;

	ASSERT_LE(0, home);
	ASSERT_EQ(0, enter_new_netns());
	ASSERT_EQ(0, lnl_open(&a));
	ASSERT_EQ(0, enter_new_netns());
	ASSERT_EQ(0, lnl_open(&b));
	ASSERT_EQ(0, setns(home, CLONE_NEWNET));
	ASSERT_EQ(0, lnl_open(&h));

	/* Sockets stay bound to the netns they were created in. */
	int64_t home_id = node_get(&h);

	ASSERT_LE(0, home_id);
	ASSERT_EQ(0, node_set(&a, 1));
	ASSERT_EQ(0, node_set(&b, 2));
	EXPECT_EQ(1, node_get(&a));
	EXPECT_EQ(2, node_get(&b));
	EXPECT_EQ(home_id, node_get(&h));
	ASSERT_EQ(0, node_set(&b, 3));
	EXPECT_EQ(1, node_get(&a));
	EXPECT_EQ(3, node_get(&b));

	lnl_close(&a);
	lnl_close(&b);
	lnl_close(&h);
	close(home);
}

TEST_F(node, rejects_zero_id)
{
	ASSERT_EQ(0, node_set(&self->nl, 5));
	EXPECT_EQ(-EINVAL, node_set(&self->nl, 0));
	EXPECT_NE(NULL, strstr(self->nl.err_msg, "non-zero"));
	EXPECT_EQ(LAMPORT_A_NODE_ID, self->nl.err_attr);
	EXPECT_EQ(5, node_get(&self->nl));
}

TEST_F(node, rejects_missing_id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = lnl_msg(&self->nl, buf, LAMPORT_CMD_NODE_SET, 0);

	EXPECT_EQ(-EINVAL, lnl_talk(&self->nl, nlh, NULL, NULL));
	EXPECT_NE(NULL, strstr(self->nl.err_msg, "LAMPORT_A_NODE_ID"));
	EXPECT_EQ(0, node_get(&self->nl));
}

TEST_F(node, rejects_unknown_attribute)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = lnl_msg(&self->nl, buf, LAMPORT_CMD_NODE_SET, 0);

	mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, 9);
	mnl_attr_put_u32(nlh, LAMPORT_A_MAX + 1, 1);
	EXPECT_EQ(-EINVAL, lnl_talk(&self->nl, nlh, NULL, NULL));
	EXPECT_NE(0, strlen(self->nl.err_msg));
	EXPECT_EQ(LAMPORT_A_MAX + 1, self->nl.err_attr);
	/* Nothing of a rejected request is applied. */
	EXPECT_EQ(0, node_get(&self->nl));
}

TEST_F(node, rejects_short_id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = lnl_msg(&self->nl, buf, LAMPORT_CMD_NODE_SET, 0);
	int err;

	mnl_attr_put_u16(nlh, LAMPORT_A_NODE_ID, 9);
	err = lnl_talk(&self->nl, nlh, NULL, NULL);
	EXPECT_TRUE(err == -EINVAL || err == -ERANGE) {
		TH_LOG("err %d", err);
	}
	EXPECT_NE(0, strlen(self->nl.err_msg));
	EXPECT_EQ(LAMPORT_A_NODE_ID, self->nl.err_attr);
	EXPECT_EQ(0, node_get(&self->nl));
}

TEST_F(node, rejects_oversized_id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = lnl_msg(&self->nl, buf, LAMPORT_CMD_NODE_SET, 0);
	int err;

	mnl_attr_put_u64(nlh, LAMPORT_A_NODE_ID, 9);
	err = lnl_talk(&self->nl, nlh, NULL, NULL);
	EXPECT_TRUE(err == -EINVAL || err == -ERANGE) {
		TH_LOG("err %d", err);
	}
	EXPECT_EQ(LAMPORT_A_NODE_ID, self->nl.err_attr);
	EXPECT_EQ(0, node_get(&self->nl));
}

/* An attribute header that claims more bytes than the message holds. */
TEST_F(node, rejects_truncated_attribute)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = lnl_msg(&self->nl, buf, LAMPORT_CMD_NODE_SET, 0);
	struct nlattr *attr = mnl_nlmsg_get_payload_tail(nlh);

	mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, 9);
	attr->nla_len = 64;
	EXPECT_EQ(-EINVAL, lnl_talk(&self->nl, nlh, NULL, NULL));
	EXPECT_EQ(0, node_get(&self->nl));
}

TEST_F(node, get_rejects_attributes)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = lnl_msg(&self->nl, buf, LAMPORT_CMD_NODE_GET, 0);

	mnl_attr_put_u32(nlh, LAMPORT_A_NODE_ID, 9);
	EXPECT_EQ(-EINVAL, lnl_talk(&self->nl, nlh, NULL, NULL));
	EXPECT_NE(0, strlen(self->nl.err_msg));
	EXPECT_EQ(LAMPORT_A_NODE_ID, self->nl.err_attr);
	EXPECT_EQ(0, node_get(&self->nl));
}

TEST_F(node, rejects_unknown_command)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = lnl_msg(&self->nl, buf, LAMPORT_CMD_MAX + 1, 0);

	EXPECT_EQ(-EOPNOTSUPP, lnl_talk(&self->nl, nlh, NULL, NULL));
}

TEST_F(node, unprivileged_set_refused)
{
	ASSERT_EQ(0, node_set(&self->nl, 11));
	ASSERT_EQ(0, drop_all_capabilities());
	EXPECT_EQ(-EPERM, node_set(&self->nl, 12));
	/* Reading needs no privilege. */
	EXPECT_EQ(11, node_get(&self->nl));
}

/*
 * CAP_NET_ADMIN must be held in the user namespace that owns the netns:
 * a new user namespace grants full capabilities, but only over what it owns.
 */
TEST(userns_needs_to_own_the_netns)
{
	struct lnl outer, owned;

	ASSERT_EQ(0, enter_new_netns());
	ASSERT_EQ(0, unshare(CLONE_NEWUSER));
	ASSERT_EQ(0, lnl_open(&outer));
	EXPECT_EQ(-EPERM, node_set(&outer, 21));
	EXPECT_EQ(0, node_get(&outer));

	ASSERT_EQ(0, enter_new_netns());
	ASSERT_EQ(0, lnl_open(&owned));
	EXPECT_EQ(0, node_set(&owned, 22));
	EXPECT_EQ(22, node_get(&owned));
	EXPECT_EQ(0, node_get(&outer));

	lnl_close(&outer);
	lnl_close(&owned);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static int trace_contains(const char *needle)
{
	static char text[1 << 16];
	int fd = open(TRACEFS "/trace", O_RDONLY);
	ssize_t n, len = 0;

	if (fd < 0)
		return -errno;
	while (len < (ssize_t)sizeof(text) - 1 &&
	       (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += n;
	close(fd);
	text[len] = '\0';
	return strstr(text, needle) != NULL;
}

/*
 * A node's state dies with its netns: the destroy tracepoint names the
 * netns and the id it held.
 */
TEST(netns_delete_frees_state)
{
	char created[64], destroyed[64];
	unsigned long ino;
	struct lnl nl;
	pid_t pid;
	int status, i;

	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_file(TRACEFS "/events/lamport/enable", "1"));

	int pipefd[2];

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (enter_new_netns() || lnl_open(&nl) || node_set(&nl, 99))
			_exit(1);
		ino = netns_inode();
		if (write(pipefd[1], &ino, sizeof(ino)) != sizeof(ino))
			_exit(1);
		lnl_close(&nl);
		_exit(0);
	}
	ASSERT_EQ((ssize_t)sizeof(ino), read(pipefd[0], &ino, sizeof(ino)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_NE(0UL, ino);

	snprintf(created, sizeof(created), "lamport_node_create: netns=%lu", ino);
	snprintf(destroyed, sizeof(destroyed),
		 "lamport_node_destroy: netns=%lu id=99", ino);
	EXPECT_EQ(1, trace_contains(created));

	/* Namespaces are cleaned up by a workqueue: give it time. */
	for (i = 0; i < 200 && trace_contains(destroyed) != 1; i++)
		usleep(50 * 1000);
	EXPECT_EQ(1, trace_contains(destroyed)) {
		TH_LOG("no \"%s\" in the trace after %d ms", destroyed, i * 50);
	}
	write_file(TRACEFS "/events/lamport/enable", "0");
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_HARNESS_MAIN
