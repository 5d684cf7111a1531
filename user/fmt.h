/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsing and printing of the values the lamport command deals in:
 * addresses and UDP endpoints, durations, milli-unit decimals (phi), and
 * the names of the peer states, detector modes and event reasons.  Pure
 * functions, free of netlink, so that the host tests cover them.
 *
 * The parsers take a whole string: no blank, sign or trailing character.
 * They return 0 or a negative errno and write *out only on success.
 */
#ifndef LAMPORT_USER_FMT_H
#define LAMPORT_USER_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for any fmt_addr() and fmt_duration() result. */
#define FMT_ADDR_SIZE		46	/* INET6_ADDRSTRLEN */
#define FMT_VALUE_SIZE		32
#define FMT_NAME_SIZE		12

/* An IPv4 (len 4) or IPv6 (len 16) address in network order; len 0: none. */
struct lp_addr {
	uint8_t len;
	uint8_t bytes[16];
};

/*
 * A dotted IPv4 or an IPv6 address, without brackets, port or scope.
 * Returns 0 or -EINVAL.
 */
int parse_addr(const char *s, struct lp_addr *addr);

/* A UDP port, 1..65535 (decimal or 0x hex).  Returns 0, -EINVAL or -ERANGE. */
int parse_port(const char *s, uint16_t *port);

/*
 * ADDR[:PORT]: "198.18.0.2", "198.18.0.2:2000", "[fd00::2]:2000",
 * "[fd00::2]" or "fd00::2"; a bare IPv6 address takes no port, brackets
 * hold IPv6 addresses only.  *port is left alone when none is given.
 * Returns 0, or -EINVAL/-ERANGE with *why set to the reason in words
 * ("port is out of range").
 */
int parse_endpoint(const char *s, struct lp_addr *addr, uint16_t *port,
		   const char **why);

/*
 * A duration into microseconds: a decimal number ("10", "1.5", "0.25")
 * with an optional unit, s/sec/secs, ms/msec/msecs or us/usec/usecs; no
 * unit means milliseconds.  Returns -EINVAL for anything else, -ERANGE
 * when the value exceeds UINT32_MAX microseconds, -EDOM when it is not a
 * whole number of microseconds ("0.5us").
 */
int parse_duration_us(const char *s, uint32_t *us);

/*
 * A decimal with up to 3 decimals in thousandths: "8" is 8000, "12.25"
 * is 12250.  Returns -EINVAL for junk, -ERANGE above UINT32_MAX
 * thousandths, -EDOM for a 4th non-zero decimal.
 */
int parse_milli(const char *s, uint32_t *milli);

/*
 * Nanoseconds for people, in the largest unit (ns, us, ms, s) not above
 * the value, rounded to 3 decimals, trailing zeros dropped: "10ms",
 * "1.52s", "210us", "800ns", and "0" for nothing.  Returns buf.
 */
char *fmt_duration(uint64_t ns, char *buf, size_t size);

/*
 * The same without rounding, for settings: the largest unit in which 3
 * decimals are exact, so 1000001us is "1000.001ms" and parses back.
 */
char *fmt_duration_exact(uint64_t ns, char *buf, size_t size);

/* Thousandths as a decimal: 8500 is "8.5", 520 is "0.52".  Returns buf. */
char *fmt_milli(uint64_t milli, char *buf, size_t size);

/* inet_ntop() of the address; "any" when it has none.  Returns buf. */
char *fmt_addr(const struct lp_addr *addr, char *buf, size_t size);

/* The names of the values of a UAPI enum. */
struct fmt_names {
	const char *const *names;
	unsigned int count;
};

extern const struct fmt_names state_names;	/* enum lamport_peer_state */
extern const struct fmt_names mode_names;	/* enum lamport_fd_mode */
extern const struct fmt_names reason_names;	/* enum lamport_event_reason */

/* The name of v, or v in decimal (into buf) when it has none. */
const char *fmt_name(const struct fmt_names *t, unsigned int v, char *buf,
		     size_t size);

/* The value named s exactly, or -EINVAL. */
int parse_name(const struct fmt_names *t, const char *s);

#endif /* LAMPORT_USER_FMT_H */
