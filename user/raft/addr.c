// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing and printing node addresses (see addr.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

static int parse_port(const char *s, uint16_t *port, const char **why)
{
	uint32_t v = 0;

	if (!*s) {
		*why = "port is missing (ADDR:PORT)";
		return -EINVAL;
	}
	if (strspn(s, "0123456789") != strlen(s)) {
		*why = "port is not a number";
		return -EINVAL;
	}
	for (; *s && v <= 65535; s++)
		v = v * 10 + (uint32_t)(*s - '0');
	if (!v || v > 65535) {
		*why = "port is out of range";
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

static void set_v4(struct raft_addr *a, const void *addr, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->sa;

	memset(a, 0, sizeof(*a));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	memcpy(&sin->sin_addr, addr, 4);
	a->len = sizeof(*sin);
}

void raft_addr_canon(struct raft_addr *a)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->sa;
	struct in6_addr addr;

	if (a->sa.ss_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return;
	addr = sin6->sin6_addr;
	set_v4(a, &addr.s6_addr[12], ntohs(sin6->sin6_port));
}

static int split_addr(const char *text, char *host, size_t size,
		      const char **port, bool *v6, const char **why)
{
	const char *start = text, *end;

	*v6 = text[0] == '[';
	if (*v6) {
		start = text + 1;
		end = strchr(start, ']');
		if (!end) {
			*why = "no \"]\" after the IPv6 address";
			return -EINVAL;
		}
		*port = end + 1;
		if (**port && **port != ':') {
			*why = "\":PORT\" must follow \"]\"";
			return -EINVAL;
		}
	} else {
		end = strrchr(text, ':');
		if (end && strchr(text, ':') != end) {
			*why = "an IPv6 address goes in brackets: [ADDR]:PORT";
			return -EINVAL;
		}
		if (!end)
			end = text + strlen(text);
		*port = end;
	}
	if (**port == ':')
		(*port)++;
	if ((size_t)(end - start) >= size) {
		*why = "address is not IPv4 or [IPv6]";
		return -EINVAL;
	}
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	return 0;
}

int raft_addr_parse(const char *text, struct raft_addr *a, const char **why)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->sa;
	char host[INET6_ADDRSTRLEN];
	const char *port_text;
	uint8_t bytes[16];
	uint16_t port;
	bool v6;

	if (split_addr(text, host, sizeof(host), &port_text, &v6, why) ||
	    parse_port(port_text, &port, why))
		return -EINVAL;
	if (!v6 && !host[0]) {
		set_v4(a, (const uint8_t[]){ 127, 0, 0, 1 }, port);
		return 0;
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, bytes) != 1) {
		*why = v6 ? "address is not IPv6" :
			    "address is not IPv4 or [IPv6]";
		return -EINVAL;
	}
	if (!v6) {
		set_v4(a, bytes, port);
		return 0;
	}
	memset(a, 0, sizeof(*a));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, bytes, 16);
	a->len = sizeof(*sin6);
	raft_addr_canon(a);
	return 0;
}

void raft_addr_format(const struct raft_addr *a, char *buf, size_t size)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->sa;
	char host[INET6_ADDRSTRLEN] = "?";

	if (a->sa.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
		return;
	}
	inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
	snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
}

bool raft_addr_equal(const struct raft_addr *a, const struct raft_addr *b)
{
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a->sa;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&b->sa;
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a->sa;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)&b->sa;

	if (a->sa.ss_family != b->sa.ss_family)
		return false;
	if (a->sa.ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a->sa.ss_family == AF_INET6 && a6->sin6_port == b6->sin6_port &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
}

static void copy_item(char *dst, size_t size, const char *src, size_t len)
{
	if (!size)
		return;
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

int raft_addr_list_parse(const char *list, struct raft_addr *addrs, size_t max,
			 char *bad, size_t badlen, const char **why)
{
	char item[RAFT_ADDR_MAX];
	const char *p = list;
	size_t n = 0, len;

	for (;;) {
		len = strcspn(p, ",");
		copy_item(bad, badlen, p, len);
		if (!len) {
			*why = "an address is empty";
			return -EINVAL;
		}
		if (n == max) {
			*why = "too many addresses";
			return -E2BIG;
		}
		if (len >= sizeof(item)) {
			*why = "address is too long";
			return -EINVAL;
		}
		copy_item(item, sizeof(item), p, len);
		if (raft_addr_parse(item, &addrs[n++], why))
			return -EINVAL;
		if (!p[len])
			break;
		p += len + 1;
	}
	copy_item(bad, badlen, "", 0);
	return (int)n;
}

uint16_t raft_addr_port(const struct raft_addr *a)
{
	if (a->sa.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->sa)->sin_port);
}

void raft_addr_set_port(struct raft_addr *a, uint16_t port)
{
	if (a->sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->sa)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&a->sa)->sin_port = htons(port);
}
