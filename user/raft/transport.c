// SPDX-License-Identifier: GPL-2.0
/*
 * A Raft node's datagram socket, on AF_LAMPORT or UDP, and the faults a
 * test asks it to inject (see transport.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../af_lamport.h"
#include "transport.h"

struct delayed {
	uint64_t due;
	struct raft_addr to;
	size_t len;
	uint8_t *buf;
};

static int parse_pct(const char *v, unsigned int *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (end == v || *end || n > 100)
		return -EINVAL;
	*out = (unsigned int)n;
	return 0;
}

static int parse_delay(const char *v, struct faults *f)
{
	char *end;
	unsigned long lo = strtoul(v, &end, 10), hi = lo;

	if (end == v)
		return -EINVAL;
	if (*end == '-') {
		const char *h = end + 1;

		hi = strtoul(h, &end, 10);
		if (end == h)
			return -EINVAL;
	}
	if (*end || lo > hi || hi > 10000)
		return -EINVAL;
	f->delay_min_ms = (unsigned int)lo;
	f->delay_max_ms = (unsigned int)hi;
	return 0;
}

int faults_parse(const char *text, struct faults *f, char *err, size_t errlen)
{
	char *copy = strdup(text), *save = NULL;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	memset(f, 0, sizeof(*f));
	for (char *kv = strtok_r(copy, ",", &save); kv && !rc;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq) {
			rc = -EINVAL;
		} else {
			*eq = '\0';
			if (!strcmp(kv, "drop"))
				rc = parse_pct(eq + 1, &f->drop_pct);
			else if (!strcmp(kv, "dup"))
				rc = parse_pct(eq + 1, &f->dup_pct);
			else if (!strcmp(kv, "delay"))
				rc = parse_delay(eq + 1, f);
			else
				rc = -EINVAL;
			*eq = '=';
		}
		if (rc)
			snprintf(err, errlen, "\"%s\": expected drop=PERCENT, dup=PERCENT or delay=MS[-MS] (at most 10000)",
				 kv);
	}
	free(copy);
	return rc;
}

static void transport_init(struct transport *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (getrandom(&t->rng, sizeof(t->rng), 0) != sizeof(t->rng) || !t->rng)
		t->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
}

int transport_open_udp(struct transport *t, const struct raft_addr *bind_to,
		       char *err, size_t errlen)
{
	char name[80];

	transport_init(t);
	t->fd = socket(bind_to->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0 || bind(t->fd, (const struct sockaddr *)&bind_to->sa, bind_to->len)) {
		int e = errno;

		raft_addr_format(bind_to, name, sizeof(name));
		snprintf(err, errlen, "UDP %s: %s", name, strerror(e));
		transport_close(t);
		return -e;
	}
	return 0;
}

int transport_open_lamport(struct transport *t, uint32_t node, uint16_t port,
			   char *err, size_t errlen)
{
	struct sockaddr_lamport a = { .slam_port = port, .slam_node = node };
	int family = lamport_af_family();

	transport_init(t);
	if (family < 0) {
		snprintf(err, errlen, "AF_LAMPORT: %s", lamport_af_strerror(family));
		return family;
	}
	t->lamport = true;
	t->family = family;
	a.slam_family = (sa_family_t)family;
	t->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0 || bind(t->fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;

		if (e == EADDRNOTAVAIL)
			snprintf(err, errlen, "AF_LAMPORT: node id %u port %u is not this node's (is \"lamport node set id %u\" done here?)",
				 node, port, node);
		else
			snprintf(err, errlen, "AF_LAMPORT node %u port %u: %s",
				 node, port, strerror(e));
		transport_close(t);
		return -e;
	}
	return 0;
}

void transport_close(struct transport *t)
{
	for (size_t i = 0; i < t->n_queued; i++)
		free(t->queue[i].buf);
	free(t->queue);
	t->queue = NULL;
	t->n_queued = t->queue_cap = 0;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

void transport_peer_addr(const struct transport *t, uint32_t node,
			 uint16_t port, const struct raft_addr *ip,
			 struct raft_addr *out)
{
	struct sockaddr_lamport a = {
		.slam_family = (sa_family_t)t->family,
		.slam_port = port,
		.slam_node = node,
	};

	if (!t->lamport) {
		*out = *ip;
		return;
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->sa, &a, sizeof(a));
	out->len = sizeof(a);
}

static unsigned int rnd_below(struct transport *t, unsigned int n)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return n ? (unsigned int)((t->rng * 0x2545F4914F6CDD1DULL >> 33) % n) : 0;
}

static int send_now(struct transport *t, const struct raft_addr *to,
		    const void *buf, size_t len)
{
	if (sendto(t->fd, buf, len, 0, (const struct sockaddr *)&to->sa, to->len) < 0) {
		t->send_errors++;
		return -errno;
	}
	t->sent++;
	return 0;
}

static int queue(struct transport *t, const struct raft_addr *to,
		 const void *buf, size_t len, uint64_t due)
{
	struct delayed *d;

	if (t->n_queued == t->queue_cap) {
		size_t cap = t->queue_cap ? t->queue_cap * 2 : 64;
		void *q = realloc(t->queue, cap * sizeof(*t->queue));

		if (!q)
			return -ENOMEM;
		t->queue = q;
		t->queue_cap = cap;
	}
	d = &t->queue[t->n_queued];
	d->buf = malloc(len);
	if (!d->buf)
		return -ENOMEM;
	memcpy(d->buf, buf, len);
	d->len = len;
	d->to = *to;
	d->due = due;
	t->n_queued++;
	return 0;
}

int transport_send(struct transport *t, const struct raft_addr *to,
		   const void *buf, size_t len, uint64_t now_ms)
{
	const struct faults *f = &t->faults;
	int copies = 1, rc = 0;

	if (f->drop_pct && rnd_below(t, 100) < f->drop_pct) {
		t->fault_drops++;
		return 0;
	}
	if (f->dup_pct && rnd_below(t, 100) < f->dup_pct) {
		t->fault_dups++;
		copies = 2;
	}
	while (copies--) {
		unsigned int delay = f->delay_min_ms +
			rnd_below(t, f->delay_max_ms - f->delay_min_ms + 1);

		if (f->delay_max_ms && delay)
			rc = queue(t, to, buf, len, now_ms + delay);
		else
			rc = send_now(t, to, buf, len);
	}
	return rc;
}

int transport_flush(struct transport *t, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;
	size_t i = 0;

	while (i < t->n_queued) {
		struct delayed *d = &t->queue[i];

		if (d->due > now_ms) {
			if (d->due < next)
				next = d->due;
			i++;
			continue;
		}
		send_now(t, &d->to, d->buf, d->len);
		free(d->buf);
		*d = t->queue[--t->n_queued];
	}
	return next == UINT64_MAX ? -1 : (int)(next - now_ms);
}
