// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of fmt.c: addresses and endpoints, durations, milli-unit
 * decimals, and the names of states, modes and reasons, both ways.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <linux/lamport.h>

#include "../fmt.h"
#include "tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct endpoint_case {
	const char *in;
	int err;
	const char *why;	/* on error */
	const char *addr;	/* on success, as fmt_addr() prints it */
	uint8_t len;
	uint16_t port;		/* 0: none given */
};

#define NOT_ADDR	"address is not an IPv4 or IPv6 address"

static const struct endpoint_case endpoint_cases[] = {
	{ "198.18.0.2",		0, NULL, "198.18.0.2", 4, 0 },
	{ "198.18.0.2:2000",	0, NULL, "198.18.0.2", 4, 2000 },
	{ "198.18.0.2:1",	0, NULL, "198.18.0.2", 4, 1 },
	{ "198.18.0.2:65535",	0, NULL, "198.18.0.2", 4, 65535 },
	{ "198.18.0.2:0x7d0",	0, NULL, "198.18.0.2", 4, 2000 },
	{ "[fd00::2]:2000",	0, NULL, "fd00::2", 16, 2000 },
	{ "[fd00::2]",		0, NULL, "fd00::2", 16, 0 },
	{ "fd00::2",		0, NULL, "fd00::2", 16, 0 },
	{ "::1",		0, NULL, "::1", 16, 0 },
	{ "[::]:7",		0, NULL, "::", 16, 7 },
	{ "::ffff:1.2.3.4",	0, NULL, "::ffff:1.2.3.4", 16, 0 },
	/* A bare IPv6 address never has a port: this is an address. */
	{ "fd00::2:2000",	0, NULL, "fd00::2:2000", 16, 0 },
	{ "198.18.0.2:0",	-ERANGE, "port is out of range", NULL, 0, 0 },
	{ "198.18.0.2:65536",	-ERANGE, "port is out of range", NULL, 0, 0 },
	{ "[fd00::2]:99999999999", -ERANGE, "port is out of range", NULL, 0, 0 },
	{ "198.18.0.2:",	-EINVAL, "port is not a number", NULL, 0, 0 },
	{ "198.18.0.2:x",	-EINVAL, "port is not a number", NULL, 0, 0 },
	{ "198.18.0.2:-1",	-EINVAL, "port is not a number", NULL, 0, 0 },
	{ "198.18.0.2: 1",	-EINVAL, "port is not a number", NULL, 0, 0 },
	{ "[fd00::2]:",		-EINVAL, "port is not a number", NULL, 0, 0 },
	{ "[fd00::2]:20x",	-EINVAL, "port is not a number", NULL, 0, 0 },
	{ "",			-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ ":2000",		-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "198.18.0",		-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "198.18.0.256",	-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "198.18.0.2 ",	-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "host:2000",		-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "localhost",		-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "[198.18.0.2]:2000",	-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "[fd00::2",		-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "[fd00::2]2000",	-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "[fd00::2]]:1",	-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "[]:1",		-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "fd00::2%eth0",	-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "fd00:::2",		-EINVAL, NOT_ADDR, NULL, 0, 0 },
	{ "[fd00:0000:0000:0000:0000:0000:0000:0000:0002]:1", -EINVAL, NOT_ADDR, NULL, 0, 0 },
};

static void test_endpoint(void)
{
	const struct endpoint_case *c;
	char buf[FMT_ADDR_SIZE];
	struct lp_addr addr;
	const char *why;
	uint16_t port;
	int err;

	for (c = endpoint_cases; c < endpoint_cases + ARRAY_SIZE(endpoint_cases); c++) {
		memset(&addr, 0xaa, sizeof(addr));
		port = 4242;
		why = "unset";
		err = parse_endpoint(c->in, &addr, &port, &why);
		if (c->err) {
			if (!tap_ok(err == c->err && why && !strcmp(why, c->why) &&
				    port == 4242 && addr.len == 0xaa,
				    "parse_endpoint(\"%s\") fails: %s", c->in, c->why))
				tap_diag("got %d \"%s\"", err, why ? why : "(null)");
			continue;
		}
		fmt_addr(&addr, buf, sizeof(buf));
		if (!tap_ok(!err && !why && addr.len == c->len &&
			    !strcmp(buf, c->addr) &&
			    port == (c->port ? c->port : 4242),
			    "parse_endpoint(\"%s\") is %s port %u", c->in, c->addr,
			    c->port))
			tap_diag("got %d len %u \"%s\" port %u", err, addr.len, buf,
				 port);
	}
}

static void test_addr(void)
{
	static const uint8_t v4[4] = { 198, 18, 0, 1 };
	static const uint8_t v6[16] = { 0xfd, 0, [15] = 1 };
	struct lp_addr addr = { 0 };
	char buf[FMT_ADDR_SIZE];

	tap_ok(!parse_addr("198.18.0.1", &addr) && addr.len == 4 &&
	       !memcmp(addr.bytes, v4, 4), "parse_addr: IPv4 in network order");
	tap_ok(!parse_addr("fd00::1", &addr) && addr.len == 16 &&
	       !memcmp(addr.bytes, v6, 16), "parse_addr: IPv6 in network order");
	addr.len = 7;
	tap_ok(parse_addr("198.18.0.1:1", &addr) == -EINVAL && addr.len == 7,
	       "parse_addr: no port, *addr untouched on failure");
	tap_ok(parse_addr("[fd00::1]", &addr) == -EINVAL,
	       "parse_addr: no brackets");
	tap_ok(parse_addr("", &addr) == -EINVAL, "parse_addr: empty");

	addr.len = 0;
	tap_ok(!strcmp(fmt_addr(&addr, buf, sizeof(buf)), "any"),
	       "fmt_addr: no address is \"any\"");
	addr.len = 5;
	tap_ok(!strcmp(fmt_addr(&addr, buf, sizeof(buf)), "any"),
	       "fmt_addr: a bad length is \"any\"");
	parse_addr("fd00:0:0:0:0:0:0:1", &addr);
	tap_ok(!strcmp(fmt_addr(&addr, buf, sizeof(buf)), "fd00::1"),
	       "fmt_addr: IPv6 in its short form");
}

struct port_case {
	const char *in;
	int err;
	uint16_t port;
};

static const struct port_case port_cases[] = {
	{ "1",		0,	1 },
	{ "1978",	0,	1978 },
	{ "65535",	0,	65535 },
	{ "0xffff",	0,	65535 },
	{ "0",		-ERANGE, 0 },
	{ "65536",	-ERANGE, 0 },
	{ "4294967296",	-ERANGE, 0 },
	{ "",		-EINVAL, 0 },
	{ "-1",		-EINVAL, 0 },
	{ "80x",	-EINVAL, 0 },
};

static void test_port(void)
{
	const struct port_case *c;
	uint16_t port;
	int err;

	for (c = port_cases; c < port_cases + ARRAY_SIZE(port_cases); c++) {
		port = 4242;
		err = parse_port(c->in, &port);
		tap_ok(err == c->err && port == (c->err ? 4242 : c->port),
		       "parse_port(\"%s\") is %d/%u (got %d/%u)", c->in, c->err,
		       c->port, err, port);
	}
}

struct u32_case {
	const char *in;
	int err;
	uint32_t val;
};

static const struct u32_case duration_cases[] = {
	{ "10ms",	0,	10000 },
	{ "10",		0,	10000 },	/* bare: milliseconds */
	{ "1s",		0,	1000000 },
	{ "250us",	0,	250 },
	{ "1.5ms",	0,	1500 },
	{ "1.5",	0,	1500 },
	{ "0.25s",	0,	250000 },
	{ "0.000001s",	0,	1 },
	{ "1.000000s",	0,	1000000 },
	{ "1.0000000000s", 0,	1000000 },	/* zeros past 1us are fine */
	{ "0",		0,	0 },		/* the kernel says why not */
	{ "0us",	0,	0 },
	{ "007ms",	0,	7000 },
	{ "60s",	0,	60000000 },
	{ "2sec",	0,	2000000 },
	{ "2secs",	0,	2000000 },
	{ "3msec",	0,	3000 },
	{ "3msecs",	0,	3000 },
	{ "4usec",	0,	4 },
	{ "4usecs",	0,	4 },
	{ "4294967295us", 0,	UINT32_MAX },
	{ "4294.967295s", 0,	UINT32_MAX },
	{ "4294967.295", 0,	UINT32_MAX },
	{ "4294967296us", -ERANGE, 0 },
	{ "4294.967296s", -ERANGE, 0 },
	{ "4295s",	-ERANGE, 0 },
	{ "99999999999999999999999s", -ERANGE, 0 },
	{ "0.5us",	-EDOM,	0 },
	{ "1.0000001s", -EDOM,	0 },
	{ "0.0001ms",	-EDOM,	0 },
	{ "",		-EINVAL, 0 },
	{ "ms",		-EINVAL, 0 },
	{ "-1ms",	-EINVAL, 0 },
	{ "+1ms",	-EINVAL, 0 },
	{ " 1ms",	-EINVAL, 0 },
	{ "1ms ",	-EINVAL, 0 },
	{ "1 ms",	-EINVAL, 0 },
	{ "1m",		-EINVAL, 0 },
	{ "1ns",	-EINVAL, 0 },
	{ "1S",		-EINVAL, 0 },
	{ "1min",	-EINVAL, 0 },
	{ "1.",		-EINVAL, 0 },
	{ ".5ms",	-EINVAL, 0 },
	{ "1.2.3ms",	-EINVAL, 0 },
	{ "1..2",	-EINVAL, 0 },
	{ "0x10ms",	-EINVAL, 0 },
	{ "1e3us",	-EINVAL, 0 },
	{ "10msms",	-EINVAL, 0 },
	{ "99999999999999999999x", -EINVAL, 0 },	/* junk beats overflow */
};

static const struct u32_case milli_cases[] = {
	{ "8",		0,	8000 },
	{ "8.5",	0,	8500 },
	{ "12.25",	0,	12250 },
	{ "0.001",	0,	1 },
	{ "1.000",	0,	1000 },
	{ "1.2500000",	0,	1250 },
	{ "0",		0,	0 },
	{ "100",	0,	100000 },
	{ "4294967.295", 0,	UINT32_MAX },
	{ "4294967.296", -ERANGE, 0 },
	{ "4294968",	-ERANGE, 0 },
	{ "8.0005",	-EDOM,	0 },
	{ "",		-EINVAL, 0 },
	{ "-8",		-EINVAL, 0 },
	{ "8.",		-EINVAL, 0 },
	{ ".5",		-EINVAL, 0 },
	{ "8,5",	-EINVAL, 0 },
	{ "8.5x",	-EINVAL, 0 },
	{ "8ms",	-EINVAL, 0 },
	{ "0x8",	-EINVAL, 0 },
	{ "nan",	-EINVAL, 0 },
};

static void test_duration(void)
{
	const struct u32_case *c;
	uint32_t val;
	int err;

	for (c = duration_cases; c < duration_cases + ARRAY_SIZE(duration_cases); c++) {
		val = 0xdeadbeef;
		err = parse_duration_us(c->in, &val);
		if (c->err)
			tap_ok(err == c->err && val == 0xdeadbeef,
			       "parse_duration_us(\"%s\") fails with %d (got %d)",
			       c->in, c->err, err);
		else
			tap_ok(!err && val == c->val,
			       "parse_duration_us(\"%s\") = %" PRIu32 "us (got %d, %" PRIu32 ")",
			       c->in, c->val, err, val);
	}
	tap_ok(parse_duration_us(NULL, &val) == -EINVAL,
	       "parse_duration_us(NULL) fails");
}

static void test_milli(void)
{
	const struct u32_case *c;
	uint32_t val;
	int err;

	for (c = milli_cases; c < milli_cases + ARRAY_SIZE(milli_cases); c++) {
		val = 0xdeadbeef;
		err = parse_milli(c->in, &val);
		if (c->err)
			tap_ok(err == c->err && val == 0xdeadbeef,
			       "parse_milli(\"%s\") fails with %d (got %d)",
			       c->in, c->err, err);
		else
			tap_ok(!err && val == c->val,
			       "parse_milli(\"%s\") = %" PRIu32 " (got %d, %" PRIu32 ")",
			       c->in, c->val, err, val);
	}
}

struct fmt_case {
	uint64_t in;
	const char *out;
};

static const struct fmt_case duration_fmt_cases[] = {
	{ 0,			"0" },
	{ 1,			"1ns" },
	{ 999,			"999ns" },
	{ 1000,			"1us" },
	{ 1500,			"1.5us" },
	{ 210000,		"210us" },
	{ 999999,		"999.999us" },
	{ 1000000,		"1ms" },
	{ 1000499,		"1ms" },	/* rounded to 3 decimals */
	{ 1000500,		"1.001ms" },	/* half up */
	{ 3200000,		"3.2ms" },
	{ 10000000,		"10ms" },
	{ 30200000,		"30.2ms" },
	{ 12345678,		"12.346ms" },
	{ 999999499,		"999.999ms" },
	{ 999999500,		"1s" },		/* not "1000ms" */
	{ 1000000000,		"1s" },
	{ 1520000000,		"1.52s" },
	{ 60000000000ULL,	"60s" },
	{ 3600000000000ULL,	"3600s" },
	{ UINT64_MAX,		"18446744073.71s" },
};

static const struct fmt_case exact_fmt_cases[] = {
	{ 0,			"0" },
	{ 999,			"999ns" },
	{ 1000,			"1us" },
	{ 1001,			"1.001us" },
	{ 1000001,		"1000.001us" },
	{ 10000000,		"10ms" },
	{ 12345000,		"12.345ms" },
	{ 12345678,		"12345.678us" },
	{ 1000001000,		"1000.001ms" },
	{ 1520000000,		"1.52s" },
	{ 1000000001,		"1000000.001us" },
	{ 60000000000ULL,	"60s" },
};

static const struct fmt_case milli_fmt_cases[] = {
	{ 0,		"0" },
	{ 1,		"0.001" },
	{ 520,		"0.52" },
	{ 8000,		"8" },
	{ 8500,		"8.5" },
	{ 12250,	"12.25" },
	{ 100000,	"100" },
	{ UINT64_MAX,	"18446744073709551.615" },
};

static void test_fmt(void)
{
	const struct fmt_case *c;
	char buf[FMT_VALUE_SIZE];
	char tiny[4];

	for (c = duration_fmt_cases; c < duration_fmt_cases + ARRAY_SIZE(duration_fmt_cases); c++) {
		fmt_duration(c->in, buf, sizeof(buf));
		tap_ok(!strcmp(buf, c->out), "fmt_duration(%" PRIu64 ") is %s (got %s)",
		       c->in, c->out, buf);
	}
	for (c = exact_fmt_cases; c < exact_fmt_cases + ARRAY_SIZE(exact_fmt_cases); c++) {
		fmt_duration_exact(c->in, buf, sizeof(buf));
		tap_ok(!strcmp(buf, c->out),
		       "fmt_duration_exact(%" PRIu64 ") is %s (got %s)",
		       c->in, c->out, buf);
	}
	for (c = milli_fmt_cases; c < milli_fmt_cases + ARRAY_SIZE(milli_fmt_cases); c++) {
		fmt_milli(c->in, buf, sizeof(buf));
		tap_ok(!strcmp(buf, c->out), "fmt_milli(%" PRIu64 ") is %s (got %s)",
		       c->in, c->out, buf);
	}
	tap_ok(fmt_duration(1520000000, tiny, sizeof(tiny)) == tiny &&
	       !strcmp(tiny, "1.5"), "fmt_duration truncates to the buffer");
}

/* Every interval the kernel takes prints as something that parses back. */
static void test_round_trip(void)
{
	static const uint32_t us[] = {
		LAMPORT_INTERVAL_MIN_US, LAMPORT_INTERVAL_DEFAULT_US,
		LAMPORT_INTERVAL_MAX_US, 1001, 1500, 12345, 999999, 1000001,
		59999999,
	};
	char buf[FMT_VALUE_SIZE];
	unsigned int i;
	uint32_t back;

	for (i = 0; i < ARRAY_SIZE(us); i++) {
		fmt_duration_exact((uint64_t)us[i] * 1000, buf, sizeof(buf));
		tap_ok(!parse_duration_us(buf, &back) && back == us[i],
		       "%" PRIu32 "us prints as %s, which parses back", us[i], buf);
	}
}

struct name_case {
	const struct fmt_names *t;
	const char *what;
	unsigned int v;
	const char *name;
};

static const struct name_case name_cases[] = {
	{ &state_names,	"state",	LAMPORT_PEER_UNKNOWN,	"unknown" },
	{ &state_names,	"state",	LAMPORT_PEER_ALIVE,	"alive" },
	{ &state_names,	"state",	LAMPORT_PEER_SUSPECT,	"suspect" },
	{ &state_names,	"state",	LAMPORT_PEER_DEAD,	"dead" },
	{ &mode_names,	"mode",		LAMPORT_FD_FIXED,	"fixed" },
	{ &mode_names,	"mode",		LAMPORT_FD_PHI,		"phi" },
	{ &reason_names, "reason",	LAMPORT_REASON_UNSPEC,	"unspec" },
	{ &reason_names, "reason",	LAMPORT_REASON_TIMEOUT,	"timeout" },
	{ &reason_names, "reason",	LAMPORT_REASON_PHI,	"phi" },
	{ &reason_names, "reason",	LAMPORT_REASON_HEARTBEAT, "heartbeat" },
	{ &reason_names, "reason",	LAMPORT_REASON_CONFIG,	"config" },
};

static void test_names(void)
{
	const struct name_case *c;
	char buf[FMT_NAME_SIZE];

	for (c = name_cases; c < name_cases + ARRAY_SIZE(name_cases); c++) {
		tap_ok(!strcmp(fmt_name(c->t, c->v, buf, sizeof(buf)), c->name),
		       "%s %u is named %s", c->what, c->v, c->name);
		tap_ok(parse_name(c->t, c->name) == (int)c->v,
		       "%s \"%s\" is %u", c->what, c->name, c->v);
	}
	tap_ok(state_names.count == LAMPORT_PEER_DEAD + 1 &&
	       mode_names.count == LAMPORT_FD_PHI + 1 &&
	       reason_names.count == LAMPORT_REASON_CONFIG + 1,
	       "every state, mode and reason has a name");
	tap_ok(!strcmp(fmt_name(&state_names, 4, buf, sizeof(buf)), "4") &&
	       !strcmp(fmt_name(&reason_names, 255, buf, sizeof(buf)), "255"),
	       "an unknown value is printed as its number");
	tap_ok(parse_name(&mode_names, "PHI") == -EINVAL &&
	       parse_name(&mode_names, "ph") == -EINVAL &&
	       parse_name(&mode_names, "") == -EINVAL &&
	       parse_name(&mode_names, "1") == -EINVAL,
	       "parse_name wants an exact name");
}

int main(void)
{
	test_endpoint();
	test_addr();
	test_port();
	test_duration();
	test_milli();
	test_fmt();
	test_round_trip();
	test_names();
	return tap_done();
}
