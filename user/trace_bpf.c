// SPDX-License-Identifier: GPL-2.0
/*
 * Loading bpf/trace.bpf.c: what the kernel offers, which programs a
 * command needs, and reading what they produce.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "tracer.h"
#include "trace.skel.h"

#define BTF_DEFAULT	"/sys/kernel/btf/vmlinux"
#define TRACEFS		"/sys/kernel/tracing"

const char *const trace_tp_names[TP_COUNT] = {
	[TP_SET_STATE]		= "sock:inet_sock_set_state",
	[TP_RETRANSMIT]		= "tcp:tcp_retransmit_skb",
	[TP_RETRANSMIT_SYNACK]	= "tcp:tcp_retransmit_synack",
	[TP_PROBE]		= "tcp:tcp_probe",
	[TP_CONG_STATE]		= "tcp:tcp_cong_state_set",
	[TP_RECEIVE_RESET]	= "tcp:tcp_receive_reset",
	[TP_ACCEPT]		= "syscalls:sys_exit_accept4",
};

const char *const trace_kp_names[KP_COUNT] = {
	[KP_TIME_WAIT]	= "tcp_time_wait",
	[KP_TWSK_KILL]	= "inet_twsk_kill",
	[KP_CLONE]	= "inet_csk_clone_lock",
	[KP_TW_SCHEDULE] = "__inet_twsk_schedule",
};

struct tracer {
	struct trace_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[16];
	int nlinks;
	trace_event_fn fn;
	void *arg;
};

/* libbpf's complaints, kept to explain a failure rather than printed. */
static char libbpf_log[4096];

static int libbpf_keep(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	size_t used = strlen(libbpf_log);

	if (level == LIBBPF_DEBUG)
		return 0;
	if (getenv("LAMPORT_TRACE_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	if (used + 256 >= sizeof(libbpf_log))
		used = 0;
	vsnprintf(libbpf_log + used, sizeof(libbpf_log) - used, fmt, ap);
	return 0;
}

static void libbpf_log_dump(void)
{
	char *line, *save = NULL;

	for (line = strtok_r(libbpf_log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "  libbpf: %s\n", line);
	libbpf_log[0] = '\0';
}

/* libbpf finds tracepoints in tracefs: mount it if nobody did. */
static int mount_tracefs(bool verbose)
{
	if (access(TRACEFS "/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY) {
		if (verbose)
			fprintf(stderr, "Error: tracefs is not mounted on %s and mounting it failed: %s\n",
				TRACEFS, strerror(errno));
		return -1;
	}
	return 0;
}

static bool btf_has_tracepoint(const struct btf *btf, const char *name)
{
	char type[128];

	/* Every tracepoint has a "btf_trace_<event>" typedef. */
	snprintf(type, sizeof(type), "btf_trace_%s", strchr(name, ':') + 1);
	return btf__find_by_name_kind(btf, type, BTF_KIND_TYPEDEF) > 0;
}

static void probe_kallsyms(struct trace_features *f)
{
	char line[256], name[128], kind;
	unsigned long long addr;
	FILE *fp = fopen("/proc/kallsyms", "r");
	int i;

	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%llx %c %127s", &addr, &kind, name) != 3)
			continue;
		for (i = 0; i < KP_COUNT; i++)
			if (!strcmp(name, trace_kp_names[i]))
				f->kp[i] = true;
	}
	fclose(fp);
}

void trace_features_probe(struct trace_features *f)
{
	const char *path = getenv("LAMPORT_BTF");
	const char *mode = getenv("LAMPORT_TRACE_MODE");
	struct btf *btf;
	int i;

	memset(f, 0, sizeof(*f));
	snprintf(f->btf_path, sizeof(f->btf_path), "%s", path ? path : BTF_DEFAULT);
	btf = btf__parse(f->btf_path, NULL);
	f->btf = btf != NULL;
	if (btf) {
		for (i = 0; i < TP_COUNT; i++)
			f->tp[i] = i == TP_ACCEPT || btf_has_tracepoint(btf, trace_tp_names[i]);
		btf__free(btf);
	}
	/* Syscall tracepoints have no BTF type: ask tracefs if it is there. */
	f->tracefs = mount_tracefs(false) == 0;
	if (f->tracefs)
		f->tp[TP_ACCEPT] = access(TRACEFS "/events/syscalls/sys_exit_accept4", F_OK) == 0;
	f->kprobe_pmu = access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0;
	if (f->kprobe_pmu)
		probe_kallsyms(f);
	f->full = f->kprobe_pmu;
	for (i = 0; i < KP_COUNT; i++)
		f->full = f->full && f->kp[i];
	if (mode && !strcmp(mode, "tracepoint")) {
		f->full = false;
		f->forced = true;
	}
}

/* Effective capabilities from /proc/self/status. */
static uint64_t effective_caps(void)
{
	unsigned long long caps = 0;
	char line[256];
	FILE *fp = fopen("/proc/self/status", "r");

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(fp);
	return caps;
}

const char *trace_missing_privilege(void)
{
	const uint64_t sys_admin = 1ull << 21, perfmon = 1ull << 38,
		       bpf = 1ull << 39;
	uint64_t caps = effective_caps();

	if ((caps & sys_admin) || ((caps & perfmon) && (caps & bpf)))
		return NULL;
	return "lamport trace loads eBPF programs: run it as root "
	       "(or with CAP_BPF and CAP_PERFMON)";
}

int trace_netns_inode(const char *name, uint32_t *inum)
{
	char path[256];
	struct stat st;

	if (name)
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	if (stat(path, &st))
		return -errno;
	*inum = st.st_ino;
	return 0;
}

int trace_enter_netns(const char *name)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		ret = -errno;
	close(fd);
	return ret;
}

static bool wanted(const struct bpf_program *prog, const struct trace_opts *o,
		   const struct trace_features *f)
{
	const char *name = bpf_program__name(prog);
	uint32_t feat = o->features;

	if (!strcmp(name, "lt_set_state"))
		return f->tp[TP_SET_STATE];
	if (!strcmp(name, "lt_accept4") || !strcmp(name, "lt_accept"))
		return f->tp[TP_ACCEPT] &&
		       ((feat & (LT_FEAT_HANDSHAKE | LT_FEAT_CONN)) || o->pid);
	if (!strcmp(name, "lt_retransmit"))
		return feat & (LT_FEAT_HANDSHAKE | LT_FEAT_CONG | LT_FEAT_CONN);
	if (!strcmp(name, "lt_receive_reset"))
		return f->tp[TP_RECEIVE_RESET] &&
		       (feat & (LT_FEAT_HANDSHAKE | LT_FEAT_CONN));
	if (!strcmp(name, "lt_retransmit_synack"))
		return f->tp[TP_RETRANSMIT_SYNACK] && (feat & LT_FEAT_HANDSHAKE);
	if (!strcmp(name, "lt_cong_state"))
		return f->tp[TP_CONG_STATE] && (feat & LT_FEAT_CONG);
	if (!strcmp(name, "lt_probe"))
		return f->tp[TP_PROBE] && (feat & LT_FEAT_CONG);
	if (!strcmp(name, "lt_clone"))
		return f->full && (feat & (LT_FEAT_HANDSHAKE | LT_FEAT_CONN));
	if (!strcmp(name, "lt_time_wait"))
		return f->full && (feat & (LT_FEAT_TIMEWAIT | LT_FEAT_CONN));
	if (!strcmp(name, "lt_tw_schedule"))
		return f->full && (feat & LT_FEAT_TIMEWAIT);
	if (!strcmp(name, "lt_twsk_kill"))
		return f->full && (feat & LT_FEAT_TIMEWAIT);
	return false;
}

static void configure(struct trace_bpf *skel, const struct trace_opts *o,
		      const struct trace_features *f, uint32_t netns)
{
	skel->rodata->features = o->features;
	skel->rodata->full_mode = f->full;
	skel->rodata->emit_events = !o->hist;
	skel->rodata->filter_netns = netns;
	skel->rodata->filter_family = o->family;
	skel->rodata->filter_port = o->port;
	skel->rodata->filter_pid = o->pid;
	if (o->addr.len) {
		skel->rodata->filter_addr = true;
		skel->rodata->filter_family = o->addr.len == 4 ? 2 : 10;
		memcpy((void *)skel->rodata->filter_addr_bytes, o->addr.bytes,
		       o->addr.len);
	}
}


static int ring_event(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	if (size >= sizeof(struct lt_event))
		t->fn(data, t->arg);
	return 0;
}

static int tracer_attach(struct tracer *t)
{
	struct bpf_program *prog;
	struct bpf_link *link;

	bpf_object__for_each_program(prog, t->skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			fprintf(stderr, "Error: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			libbpf_log_dump();
			return -1;
		}
		if (t->nlinks < (int)(sizeof(t->links) / sizeof(t->links[0])))
			t->links[t->nlinks++] = link;
	}
	return 0;
}

struct tracer *tracer_open(const struct trace_opts *o,
			   const struct trace_features *f, uint32_t netns)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_program *prog;
	struct tracer *t;
	int err;

	libbpf_set_print(libbpf_keep);
	if (!f->btf) {
		fprintf(stderr, "Error: this kernel has no BTF (%s is missing): "
			"lamport trace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n",
			f->btf_path);
		return NULL;
	}
	if (mount_tracefs(true))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (getenv("LAMPORT_BTF"))
		opts.btf_custom_path = f->btf_path;
	t->skel = trace_bpf__open_opts(&opts);
	if (!t->skel) {
		fprintf(stderr, "Error: cannot open the eBPF object: %s\n", strerror(errno));
		goto fail;
	}
	configure(t->skel, o, f, netns);
	bpf_object__for_each_program(prog, t->skel->obj)
		bpf_program__set_autoload(prog, wanted(prog, o, f));
	err = trace_bpf__load(t->skel);
	if (err) {
		fprintf(stderr, "Error: the kernel refused the eBPF programs: %s\n",
			strerror(-err));
		libbpf_log_dump();
		goto fail;
	}
	if (tracer_attach(t))
		goto fail;
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), ring_event, t, NULL);
	if (!t->rb) {
		fprintf(stderr, "Error: cannot map the ring buffer: %s\n", strerror(errno));
		goto fail;
	}
	return t;
fail:
	tracer_close(t);
	return NULL;
}

int tracer_poll(struct tracer *t, int timeout_ms, trace_event_fn fn, void *arg)
{
	int n;

	t->fn = fn;
	t->arg = arg;
	/* Producers rarely wake us (BPF_RB_NO_WAKEUP): poll, then drain. */
	n = ring_buffer__poll(t->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	n = ring_buffer__consume(t->rb);
	return n < 0 && n != -EINTR ? n : 0;
}

static void percpu_sum(int fd, uint32_t key, uint64_t *sum)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	uint64_t vals[ncpu > 0 ? ncpu : 1];

	*sum = 0;
	if (ncpu <= 0 || bpf_map_lookup_elem(fd, &key, vals))
		return;
	for (i = 0; i < ncpu; i++)
		*sum += vals[i];
}

void tracer_counters(struct tracer *t, uint64_t out[LT_COUNTERS])
{
	int fd = bpf_map__fd(t->skel->maps.counters);
	uint32_t i;

	for (i = 0; i < LT_COUNTERS; i++)
		percpu_sum(fd, i, &out[i]);
}

void tracer_hists(struct tracer *t, uint64_t out[LT_HISTS][LT_HIST_SLOTS])
{
	int fd = bpf_map__fd(t->skel->maps.hists);
	uint32_t h, s;

	for (h = 0; h < LT_HISTS; h++)
		for (s = 0; s < LT_HIST_SLOTS; s++)
			percpu_sum(fd, h * LT_HIST_SLOTS + s, &out[h][s]);
}

uint64_t tracer_missed(struct tracer *t)
{
	struct bpf_program *prog;
	uint64_t missed = 0;

	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_prog_info info = { 0 };
		uint32_t len = sizeof(info);

		if (bpf_program__autoload(prog) &&
		    !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			missed += info.recursion_misses;
	}
	return missed;
}

void tracer_close(struct tracer *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	while (t->nlinks)
		bpf_link__destroy(t->links[--t->nlinks]);
	trace_bpf__destroy(t->skel);
	free(t);
}
