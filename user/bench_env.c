// SPDX-License-Identifier: GPL-2.0
/*
 * The testbed of lamport bench fd: two network namespaces joined by a veth
 * pair, netem on their egress driven over rtnetlink (a tc process would take
 * far longer than the detection times measured), and child processes.
 */

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "bench.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Runs a shell command with its output discarded; returns its status. */
int run_quiet(const char *fmt, ...)
{
	char cmd[1024], full[1100];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
	st = system(full);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

void topo_destroy(void)
{
	run_quiet("ip netns del " BENCH_NS_A);
	run_quiet("ip netns del " BENCH_NS_B);
}

int topo_create(void)
{
	static const char *const steps[] = {
		"ip netns add " BENCH_NS_A,
		"ip netns add " BENCH_NS_B,
		"ip link add " BENCH_DEV_A " netns " BENCH_NS_A
			" type veth peer name " BENCH_DEV_B " netns " BENCH_NS_B,
		"ip -n " BENCH_NS_A " addr add " BENCH_ADDR_A "/24 dev " BENCH_DEV_A,
		"ip -n " BENCH_NS_B " addr add " BENCH_ADDR_B "/24 dev " BENCH_DEV_B,
		"ip -n " BENCH_NS_A " link set lo up",
		"ip -n " BENCH_NS_B " link set lo up",
		"ip -n " BENCH_NS_A " link set " BENCH_DEV_A " up",
		"ip -n " BENCH_NS_B " link set " BENCH_DEV_B " up",
	};
	size_t i;

	topo_destroy();
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		if (run_quiet("%s", steps[i])) {
			fprintf(stderr, "Error: bench: \"%s\" failed\n", steps[i]);
			topo_destroy();
			return -1;
		}
	}
	return 0;
}

/* Runs fn(arg) inside the named netns and comes back. */
int netns_run(const char *ns, int (*fn)(void *), void *arg)
{
	char path[128];
	int self, target, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0 || setns(target, CLONE_NEWNET)) {
		ret = -errno;
		goto out;
	}
	ret = fn(arg);
	if (setns(self, CLONE_NEWNET)) {
		perror("setns back");
		abort();
	}
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return ret;
}

struct sock_args {
	int domain, type, protocol;
};

static int open_socket(void *p)
{
	struct sock_args *a = p;
	int fd = socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);

	return fd < 0 ? -errno : fd;
}

int netns_socket(const char *ns, int domain, int type, int protocol)
{
	struct sock_args a = { domain, type, protocol };

	return netns_run(ns, open_socket, &a);
}

static int lookup_ifindex(void *dev)
{
	int idx = (int)if_nametoindex(dev);

	return idx ? idx : -ENODEV;
}

int netns_ifindex(const char *ns, const char *dev)
{
	return netns_run(ns, lookup_ifindex, (void *)dev);
}

int netem_open(struct netem *n, const char *ns, const char *dev)
{
	int fd;

	memset(n, 0, sizeof(*n));
	n->ifindex = netns_ifindex(ns, dev);
	if (n->ifindex < 0)
		return n->ifindex;
	fd = netns_socket(ns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	n->nl = mnl_socket_fdopen(fd);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID)) {
		close(fd);
		return -errno;
	}
	return 0;
}

void netem_close(struct netem *n)
{
	if (n->nl)
		mnl_socket_close(n->nl);
	n->nl = NULL;
}

static int netem_talk(struct netem *n, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlmsgerr *err;
	ssize_t len;

	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	len = mnl_socket_recvfrom(n->nl, buf, sizeof(buf));
	if (len < 0)
		return -errno;
	nlh = (struct nlmsghdr *)buf;
	if (!mnl_nlmsg_ok(nlh, (int)len) || nlh->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	err = mnl_nlmsg_get_payload(nlh);
	return err->error;
}

static struct nlmsghdr *qdisc_msg(struct netem *n, char *buf, uint16_t type,
				  uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++n->seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = n->ifindex;
	tcm->tcm_handle = 1U << 16;
	tcm->tcm_parent = TC_H_ROOT;
	return nlh;
}

int netem_set(struct netem *n, bool create, uint32_t delay_us,
	      uint32_t jitter_us, uint32_t loss_ppm)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct tc_netem_qopt qopt = { .limit = 1000 };
	struct nlmsghdr *nlh;
	struct nlattr *opt;

	nlh = qdisc_msg(n, buf, RTM_NEWQDISC,
			create ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	mnl_attr_put_strz(nlh, TCA_KIND, "netem");
	if (loss_ppm >= 1000000)
		qopt.loss = UINT32_MAX;
	else
		qopt.loss = (uint32_t)((uint64_t)loss_ppm * UINT32_MAX / 1000000);
	/*
	 * netem's options are its struct followed by attributes, inside one
	 * TCA_OPTIONS that is not flagged nested: its length is fixed last.
	 */
	opt = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put(nlh, TCA_OPTIONS, sizeof(qopt), &qopt);
	mnl_attr_put_u64(nlh, TCA_NETEM_LATENCY64, (uint64_t)delay_us * 1000);
	mnl_attr_put_u64(nlh, TCA_NETEM_JITTER64, (uint64_t)jitter_us * 1000);
	opt->nla_len = (uint16_t)((char *)mnl_nlmsg_get_payload_tail(nlh) -
				  (char *)opt);
	return netem_talk(n, nlh);
}

int netem_del(struct netem *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int err = netem_talk(n, qdisc_msg(n, buf, RTM_DELQDISC, 0));

	return err == -ENOENT || err == -EINVAL ? 0 : err;
}

pid_t spawn(char *const argv[], int out_fd, const char *log)
{
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	setpgid(0, 0);
	fd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)
		 : open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		dup2(out_fd >= 0 ? out_fd : fd, STDOUT_FILENO);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, STDIN_FILENO);
	execvp(argv[0], argv);
	fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void reap(pid_t pid)
{
	int i;

	if (pid <= 0)
		return;
	kill(-pid, SIGCONT);
	kill(-pid, SIGTERM);
	for (i = 0; i < 300; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void reap_all_children(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/*
 * Idle time is measured exactly on NOHZ kernels (only rounded to USER_HZ
 * when printed), while busy ticks are sampled, and a heartbeat is far
 * shorter than a tick: busy time is what the CPUs did not idle.
 */
int cpu_idle_ns(uint64_t *ns)
{
	unsigned long long v[5] = { 0 };
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4]);
	fclose(f);
	if (n != 5 || hz <= 0)
		return -EPROTO;
	*ns = (v[3] + v[4]) * (NSEC_PER_SEC / (unsigned long long)hz);
	return 0;
}

void sys_info_read(struct sys_info *s)
{
	struct utsname u;
	char line[256];
	FILE *f;

	memset(s, 0, sizeof(*s));
	if (!uname(&u)) {
		snprintf(s->kernel, sizeof(s->kernel), "%s", u.release);
		snprintf(s->machine, sizeof(s->machine), "%s", u.machine);
	}
	s->cpus = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(s->machine, sizeof(s->machine), "%s", colon + 2);
		break;
	}
	if (f)
		fclose(f);
}

/* The namespace ns, with a veth pair (dev, pDEV) to the bridge in sw. */
static int star_attach(const char *sw, const char *ns, const char *dev,
		       const char *addr)
{
	return run_quiet("ip netns add %s", ns) ||
	       run_quiet("ip link add %s netns %s type veth peer name p%s netns %s",
			 dev, ns, dev, sw) ||
	       run_quiet("ip -n %s link set p%s master br0 up", sw, dev) ||
	       run_quiet("ip -n %s addr add %s/24 dev %s", ns, addr, dev) ||
	       run_quiet("ip -n %s link set %s up", ns, dev) ||
	       run_quiet("ip -n %s link set lo up", ns);
}

void bench_star_down(const char *prefix, int nodes)
{
	run_quiet("ip netns del %ssw", prefix);
	run_quiet("ip netns del %sc", prefix);
	for (int i = 1; i <= nodes; i++)
		run_quiet("ip netns del %s%d", prefix, i);
}

int bench_star_up(const char *prefix, const char *net, int nodes)
{
	char sw[32], ns[32], dev[16], addr[32];

	bench_star_down(prefix, nodes);
	snprintf(sw, sizeof(sw), "%ssw", prefix);
	snprintf(ns, sizeof(ns), "%sc", prefix);
	snprintf(addr, sizeof(addr), "%s100", net);
	if (run_quiet("ip netns add %s", sw) ||
	    run_quiet("ip -n %s link add br0 type bridge", sw) ||
	    run_quiet("ip -n %s link set br0 up", sw) ||
	    star_attach(sw, ns, "v0", addr))
		return -1;
	for (int i = 1; i <= nodes; i++) {
		snprintf(ns, sizeof(ns), "%s%d", prefix, i);
		snprintf(dev, sizeof(dev), "v%d", i);
		snprintf(addr, sizeof(addr), "%s%d", net, i);
		if (star_attach(sw, ns, dev, addr))
			return -1;
	}
	return 0;
}
