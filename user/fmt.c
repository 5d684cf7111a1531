// SPDX-License-Identifier: GPL-2.0
/*
 * Values of the lamport command: addresses, durations, decimals, names.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <linux/lamport.h>

#include "args.h"
#include "fmt.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int parse_addr(const char *s, struct lp_addr *addr)
{
	struct lp_addr a = { 0 };

	if (inet_pton(AF_INET, s, a.bytes) == 1)
		a.len = 4;
	else if (inet_pton(AF_INET6, s, a.bytes) == 1)
		a.len = 16;
	else
		return -EINVAL;
	*addr = a;
	return 0;
}

int parse_port(const char *s, uint16_t *port)
{
	uint32_t val;
	int err;

	err = parse_u32(s, &val);
	if (err)
		return err;
	if (!val || val > UINT16_MAX)
		return -ERANGE;
	*port = val;
	return 0;
}

/* Copies the host part [s, end) into buf, NUL-terminated; false if too long. */
static bool copy_host(char *buf, size_t size, const char *s, const char *end)
{
	size_t len = end - s;

	if (len >= size)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return true;
}

int parse_endpoint(const char *s, struct lp_addr *addr, uint16_t *port,
		   const char **why)
{
	const char *not_addr = "address is not an IPv4 or IPv6 address";
	const char *port_str = NULL, *close, *colon;
	char host[FMT_ADDR_SIZE];
	struct lp_addr a = { 0 };
	uint16_t p = 0;
	int err;

	*why = not_addr;
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (!close || !copy_host(host, sizeof(host), s + 1, close) ||
		    inet_pton(AF_INET6, host, a.bytes) != 1)
			return -EINVAL;
		a.len = 16;
		if (close[1] == ':')
			port_str = close + 2;
		else if (close[1])
			return -EINVAL;
	} else {
		colon = strchr(s, ':');
		/* One colon separates a port; more make an IPv6 address. */
		if (colon && !strchr(colon + 1, ':')) {
			if (!copy_host(host, sizeof(host), s, colon) ||
			    inet_pton(AF_INET, host, a.bytes) != 1)
				return -EINVAL;
			a.len = 4;
			port_str = colon + 1;
		} else if (parse_addr(s, &a)) {
			return -EINVAL;
		}
	}

	if (port_str) {
		err = parse_port(port_str, &p);
		if (err) {
			*why = err == -ERANGE ? "port is out of range"
					      : "port is not a number";
			return err;
		}
		*port = p;
	}
	*addr = a;
	*why = NULL;
	return 0;
}

/*
 * Parses [s, end), "I" or "I.F", into I * 10^scale plus F scaled alike.
 * Fraction digits beyond scale must be zeros (else -EDOM); a total above
 * max is -ERANGE; anything but digits around one inner dot is -EINVAL,
 * which takes precedence.  max must not exceed UINT32_MAX and scale 9.
 */
static int parse_decimal(const char *s, const char *end, unsigned int scale,
			 uint64_t max, uint64_t *out)
{
	bool overflow = false, inexact = false;
	uint64_t ipart = 0, fpart = 0, unit = 1;
	unsigned int i, ndec = 0;
	const char *p;

	for (i = 0; i < scale; i++)
		unit *= 10;

	for (p = s; p < end && is_digit(*p); p++) {
		if (overflow)
			continue;
		ipart = ipart * 10 + (*p - '0');
		if (ipart > max)
			overflow = true;
	}
	if (p == s)
		return -EINVAL;

	if (p < end && *p == '.') {
		const char *frac = ++p;

		for (; p < end && is_digit(*p); p++, ndec++) {
			if (ndec < scale)
				fpart = fpart * 10 + (*p - '0');
			else if (*p != '0')
				inexact = true;
		}
		if (p == frac)
			return -EINVAL;
	}
	if (p != end)
		return -EINVAL;

	for (; ndec < scale; ndec++)
		fpart *= 10;
	/* ipart <= max <= UINT32_MAX and unit <= 10^9: no overflow here. */
	if (overflow || ipart * unit + fpart > max)
		return -ERANGE;
	if (inexact)
		return -EDOM;
	*out = ipart * unit + fpart;
	return 0;
}

struct duration_unit {
	const char *name;
	unsigned int scale;	/* microseconds are 10^scale of it */
};

static const struct duration_unit duration_units[] = {
	{ "",		3 },	/* milliseconds */
	{ "s",		6 },
	{ "sec",	6 },
	{ "secs",	6 },
	{ "ms",		3 },
	{ "msec",	3 },
	{ "msecs",	3 },
	{ "us",		0 },
	{ "usec",	0 },
	{ "usecs",	0 },
};

int parse_duration_us(const char *s, uint32_t *us)
{
	const struct duration_unit *u;
	const char *unit = s;
	uint64_t val;
	int err;

	if (!s)
		return -EINVAL;
	while (is_digit(*unit) || *unit == '.')
		unit++;
	for (u = duration_units; u < duration_units + ARRAY_SIZE(duration_units); u++) {
		if (strcmp(unit, u->name))
			continue;
		err = parse_decimal(s, unit, u->scale, UINT32_MAX, &val);
		if (!err)
			*us = val;
		return err;
	}
	return -EINVAL;
}

int parse_milli(const char *s, uint32_t *milli)
{
	uint64_t val;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_decimal(s, s + strlen(s), 3, UINT32_MAX, &val);
	if (!err)
		*milli = val;
	return err;
}

/*
 * whole.frac with frac in thousandths (below 1000), trailing zeros (and
 * the dot) dropped.
 */
static char *fmt_thousandths(char *buf, size_t size, uint64_t whole,
			     unsigned int frac, const char *unit)
{
	char dec[5] = "";
	int i;

	if (frac) {
		dec[0] = '.';
		for (i = 3; i > 0; i--, frac /= 10)
			dec[i] = '0' + frac % 10;
		for (i = 3; dec[i] == '0'; i--)
			dec[i] = '\0';
	}
	snprintf(buf, size, "%" PRIu64 "%s%s", whole, dec, unit);
	return buf;
}

static const struct {
	uint64_t ns;
	const char *name;
} duration_units_out[] = {
	{ 1,		"ns" },
	{ 1000,		"us" },
	{ 1000000,	"ms" },
	{ 1000000000,	"s" },
};

#define OUT_UNITS	ARRAY_SIZE(duration_units_out)

/* The largest unit not above ns (which is not 0). */
static unsigned int duration_unit_of(uint64_t ns)
{
	unsigned int i;

	for (i = OUT_UNITS - 1; ns < duration_units_out[i].ns; i--)
		;
	return i;
}

/* ns in unit i, as whole.thousandths (val = thousandths of the unit). */
static char *fmt_in_unit(char *buf, size_t size, unsigned int i, uint64_t val)
{
	if (!i)		/* no fractions of a nanosecond */
		val *= 1000;
	return fmt_thousandths(buf, size, val / 1000, val % 1000,
			       duration_units_out[i].name);
}

char *fmt_duration(uint64_t ns, char *buf, size_t size)
{
	uint64_t step, val;
	unsigned int i;

	if (!ns) {
		snprintf(buf, size, "0");
		return buf;
	}
	if (ns < 1000)
		return fmt_in_unit(buf, size, 0, ns);

	for (i = duration_unit_of(ns);; i++) {
		/* The value in thousandths of the unit, rounded half up. */
		step = duration_units_out[i].ns / 1000;
		val = ns / step + (step > 1 && ns % step >= step / 2);
		/* 999.9996us rounds up to 1000us: say 1ms instead. */
		if (val < 1000000 || i == OUT_UNITS - 1)
			break;
	}
	return fmt_in_unit(buf, size, i, val);
}

char *fmt_duration_exact(uint64_t ns, char *buf, size_t size)
{
	unsigned int i;

	if (!ns) {
		snprintf(buf, size, "0");
		return buf;
	}
	/* The largest unit in which 3 decimals hold the value exactly. */
	for (i = duration_unit_of(ns); i; i--)
		if (!(ns % (duration_units_out[i].ns / 1000)))
			break;
	return fmt_in_unit(buf, size, i,
			   i ? ns / (duration_units_out[i].ns / 1000) : ns);
}

char *fmt_milli(uint64_t milli, char *buf, size_t size)
{
	return fmt_thousandths(buf, size, milli / 1000, milli % 1000, "");
}

char *fmt_addr(const struct lp_addr *addr, char *buf, size_t size)
{
	int family = addr->len == 4 ? AF_INET : AF_INET6;

	if ((addr->len != 4 && addr->len != 16) ||
	    !inet_ntop(family, addr->bytes, buf, size))
		snprintf(buf, size, "any");
	return buf;
}

static const char *const state_list[] = {
	[LAMPORT_PEER_UNKNOWN]	= "unknown",
	[LAMPORT_PEER_ALIVE]	= "alive",
	[LAMPORT_PEER_SUSPECT]	= "suspect",
	[LAMPORT_PEER_DEAD]	= "dead",
};

static const char *const mode_list[] = {
	[LAMPORT_FD_FIXED]	= "fixed",
	[LAMPORT_FD_PHI]	= "phi",
};

static const char *const reason_list[] = {
	[LAMPORT_REASON_UNSPEC]		= "unspec",
	[LAMPORT_REASON_TIMEOUT]	= "timeout",
	[LAMPORT_REASON_PHI]		= "phi",
	[LAMPORT_REASON_HEARTBEAT]	= "heartbeat",
	[LAMPORT_REASON_CONFIG]		= "config",
};

const struct fmt_names state_names = { state_list, ARRAY_SIZE(state_list) };
const struct fmt_names mode_names = { mode_list, ARRAY_SIZE(mode_list) };
const struct fmt_names reason_names = { reason_list, ARRAY_SIZE(reason_list) };

const char *fmt_name(const struct fmt_names *t, unsigned int v, char *buf,
		     size_t size)
{
	if (v < t->count && t->names[v])
		return t->names[v];
	snprintf(buf, size, "%u", v);
	return buf;
}

int parse_name(const struct fmt_names *t, const char *s)
{
	unsigned int v;

	for (v = 0; v < t->count; v++)
		if (t->names[v] && !strcmp(s, t->names[v]))
			return v;
	return -EINVAL;
}
