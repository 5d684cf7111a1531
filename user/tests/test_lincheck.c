// SPDX-License-Identifier: GPL-2.0
/*
 * raft/lincheck.c: hand-made histories with a known verdict and window,
 * parser errors, small random histories against a brute-force checker,
 * histories of a simulated linearizable register (thousands of ops, then
 * one result changed), and a 64-client run for timing.  The same for
 * locks: hand-made histories with the sentence saying why, histories of
 * simulated clients taking locks whose leases expire at random, their
 * mutants, tiny ones against a brute force that expires leases as a move
 * of its own, and a 64-client run.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "raft/lincheck.h"

#define OP(c, op, k, args, s, end, res)					\
	"{\"client\":" #c ",\"op\":\"" op "\",\"key\":\"" k "\"" args	\
	",\"start\":" #s end ",\"result\":\"" res "\"}\n"
#define AT(e)			",\"end\":" #e
#define VAL(v)			",\"value\":\"" v "\""
#define PUT(c, k, v, s, e)	OP(c, "put", k, VAL(v), s, AT(e), "ok")
#define GET(c, k, v, s, e)	OP(c, "get", k, VAL(v), s, AT(e), "ok")
#define GET_NF(c, k, s, e)	OP(c, "get", k, ",\"found\":false", s, AT(e), "not-found")
#define DEL(c, k, s, e, res)	OP(c, "del", k, "", s, AT(e), res)
#define CAS(c, k, x, v, s, e, res) \
	OP(c, "cas", k, ",\"expect\":\"" x "\"" VAL(v), s, AT(e), res)
#define CAS_ABSENT(c, k, v, s, e, res) \
	OP(c, "cas", k, ",\"expect_absent\":true" VAL(v), s, AT(e), res)
#define PUT_UNK(c, k, v, s)	OP(c, "put", k, VAL(v), s, "", "unknown")
#define CAS_UNK(c, k, x, v, s)	\
	OP(c, "cas", k, ",\"expect\":\"" x "\"" VAL(v), s, "", "unknown")
#define DEL_UNK(c, k, s)	OP(c, "del", k, "", s, "", "unknown")
#define GET_UNK(c, k, s)	OP(c, "get", k, "", s, "", "unknown")

enum { LIN = LINCHECK_LINEARIZABLE, NOT = LINCHECK_NOT_LINEARIZABLE };

/* A linearizable case: no window to compare. */
#define LIN_CASE	LIN, NULL, 0, false, NULL

struct checked {
	struct lincheck *lc;
	struct lincheck_report rep;
	int load, verdict;
	char err[256];
};

static void check_text(struct checked *c, const char *text)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");

	memset(c, 0, sizeof(*c));
	c->lc = lincheck_new();
	c->verdict = -1;
	c->load = in ? lincheck_load(c->lc, in, c->err, sizeof(c->err)) : -errno;
	if (in)
		fclose(in);
	if (!c->load)
		c->verdict = lincheck_run(c->lc, &c->rep);
}

static void checked_free(struct checked *c)
{
	lincheck_report_free(&c->rep);
	lincheck_free(c->lc);
}

static unsigned int line_of(const struct checked *c, size_t i)
{
	struct lincheck_op op;

	lincheck_get(c->lc, i, &op);
	return op.line;
}

/* "2 ?3 4": the window's lines, optional ones marked. */
static void window_lines(const struct checked *c, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < c->rep.window_len && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s%u", i ? " " : "",
				 c->rep.window[i].optional ? "?" : "",
				 line_of(c, c->rep.window[i].op));
}

struct hand_case {
	const char *name;
	const char *text;
	int verdict;
	const char *window;	/* NULL: not checked */
	unsigned int culprit;	/* line */
	bool from_start;
	const char *key;
};

static const struct hand_case hand_cases[] = {
	{ "sequential ops, each as the model says",
	  PUT(1, "k", "a", 0, 10) GET(1, "k", "a", 20, 30)
	  CAS(1, "k", "a", "b", 40, 50, "ok") GET(2, "k", "b", 60, 70)
	  CAS(2, "k", "a", "c", 80, 90, "cas-failed")
	  DEL(1, "k", 100, 110, "ok") GET_NF(2, "k", 120, 130)
	  DEL(2, "k", 140, 150, "not-found")
	  CAS_ABSENT(1, "k", "c", 160, 170, "ok")
	  CAS_ABSENT(2, "k", "d", 180, 190, "cas-failed")
	  GET(1, "k", "c", 200, 210), LIN_CASE },
	{ "sequential read of a value never written",
	  PUT(1, "k", "a", 0, 10) GET(2, "k", "b", 20, 30),
	  NOT, "2", 2, false, "k" },
	{ "stale read after a completed write",
	  PUT(1, "k", "a", 0, 10) PUT(1, "k", "b", 20, 30)
	  GET(2, "k", "a", 40, 50),
	  NOT, "2 3", 3, false, "k" },
	{ "reads overlapping a put may see the old or the new value",
	  PUT(1, "k", "a", 0, 10) PUT(1, "k", "b", 20, 100)
	  GET(2, "k", "a", 30, 40) GET(3, "k", "b", 50, 60)
	  GET(2, "k", "b", 110, 120), LIN_CASE },
	{ "a read overlapping a put may see the key absent",
	  PUT(1, "k", "a", 0, 100) GET_NF(2, "k", 10, 20)
	  GET(2, "k", "a", 30, 40), LIN_CASE },
	{ "reads overlapping a put see the new value, then the old",
	  PUT(1, "k", "a", 0, 10) PUT(1, "k", "b", 20, 100)
	  GET(2, "k", "b", 30, 40) GET(3, "k", "a", 50, 60),
	  NOT, "?2 3 4", 4, false, "k" },
	{ "concurrent puts: readers agree on the last",
	  PUT(1, "k", "a", 0, 50) PUT(2, "k", "b", 10, 60)
	  GET(3, "k", "a", 70, 80) GET(1, "k", "a", 90, 100), LIN_CASE },
	{ "concurrent puts: readers disagree on the last",
	  PUT(1, "k", "a", 0, 50) PUT(2, "k", "b", 10, 60)
	  GET(3, "k", "a", 70, 80) GET(1, "k", "b", 90, 100),
	  NOT, "1 2 3 4", 4, true, "k" },
	{ "a read of a value only a later put writes",
	  GET(1, "k", "a", 0, 10) PUT(2, "k", "a", 20, 30),
	  NOT, "1", 1, true, "k" },
	{ "ops touching at one instant overlap",
	  PUT(1, "k", "a", 0, 10) GET_NF(2, "k", 5, 10)
	  PUT(1, "k", "b", 10, 20) GET(2, "k", "a", 20, 30), LIN_CASE },
	{ "two concurrent cas with the same expect both succeed",
	  PUT(1, "k", "e", 0, 1) CAS(2, "k", "e", "x", 2, 5, "ok")
	  CAS(3, "k", "e", "y", 3, 6, "ok"),
	  NOT, "2 3", 3, false, "k" },
	{ "two concurrent cas with the same expect: one succeeds",
	  PUT(1, "k", "e", 0, 1) CAS(2, "k", "e", "x", 2, 5, "ok")
	  CAS(3, "k", "e", "y", 3, 6, "cas-failed") GET(1, "k", "x", 7, 8),
	  LIN_CASE },
	{ "two concurrent cas chained: e to x to y",
	  PUT(1, "k", "e", 0, 1) CAS(2, "k", "x", "y", 2, 5, "ok")
	  CAS(3, "k", "e", "x", 3, 6, "ok") GET(1, "k", "y", 7, 8), LIN_CASE },
	{ "cas succeeding on a key never written",
	  CAS(1, "k", "a", "b", 0, 10, "ok"), NOT, "1", 1, true, "k" },
	{ "cas failing although the value matched",
	  PUT(1, "k", "a", 0, 10) CAS(2, "k", "a", "b", 20, 30, "cas-failed"),
	  NOT, "1 2", 2, true, "k" },
	{ "cas expecting absent succeeds on a present key",
	  PUT(1, "k", "a", 0, 10) CAS_ABSENT(2, "k", "b", 20, 30, "ok"),
	  NOT, "1 2", 2, true, "k" },
	{ "cas expecting absent: the first wins, the second fails",
	  CAS_ABSENT(1, "k", "a", 0, 10, "ok")
	  CAS_ABSENT(2, "k", "b", 5, 15, "cas-failed")
	  GET(1, "k", "a", 20, 30), LIN_CASE },
	{ "del of an absent key, put, del, del again",
	  DEL(1, "k", 0, 10, "not-found") PUT(1, "k", "a", 20, 30)
	  DEL(2, "k", 40, 50, "ok") DEL(1, "k", 60, 70, "not-found")
	  GET_NF(2, "k", 80, 90), LIN_CASE },
	{ "del ok on a key never written",
	  DEL(1, "k", 0, 10, "ok"), NOT, "1", 1, true, "k" },
	{ "del not-found after a completed put",
	  PUT(1, "k", "a", 0, 10) DEL(2, "k", 20, 30, "not-found"),
	  NOT, "1 2", 2, true, "k" },
	{ "two concurrent dels of one value both ok",
	  PUT(1, "k", "a", 0, 10) DEL(2, "k", 20, 40, "ok")
	  DEL(3, "k", 25, 45, "ok"),
	  NOT, "2 3", 3, false, "k" },
	{ "a read overlapping a del and a put sees either",
	  PUT(1, "k", "a", 0, 10) DEL(2, "k", 20, 60, "ok")
	  PUT(3, "k", "b", 30, 70) GET(1, "k", "b", 40, 50)
	  GET(1, "k", "b", 80, 90), LIN_CASE },
	{ "an unknown put that took effect",
	  PUT_UNK(1, "k", "a", 0) GET(2, "k", "a", 100, 110), LIN_CASE },
	{ "an unknown put that never took effect",
	  PUT_UNK(1, "k", "a", 0) GET_NF(2, "k", 100, 110), LIN_CASE },
	{ "an unknown put that took effect late",
	  PUT_UNK(1, "k", "a", 0) GET_NF(2, "k", 10, 20)
	  GET(2, "k", "a", 1000, 1010) GET_NF(3, "k", 30, 40), LIN_CASE },
	{ "an unknown put seen, then unseen",
	  PUT_UNK(1, "k", "a", 0) GET(2, "k", "a", 10, 20)
	  GET_NF(2, "k", 30, 40),
	  NOT, "?1 2 3", 3, true, "k" },
	{ "an unknown put cannot take effect before it starts",
	  GET(1, "k", "a", 0, 10) PUT_UNK(2, "k", "a", 20),
	  NOT, "1", 1, true, "k" },
	{ "unknown puts overwritten before anyone looks",
	  PUT_UNK(1, "k", "u1", 0) PUT_UNK(2, "k", "u2", 1)
	  PUT_UNK(3, "k", "u3", 2) PUT_UNK(4, "k", "u4", 3)
	  PUT(5, "k", "a", 10, 20) GET(5, "k", "a", 30, 40)
	  PUT(5, "k", "b", 50, 60) GET(5, "k", "a", 70, 80),
	  NOT, "?1 ?2 ?3 ?4 7 8", 8, false, "k" },
	{ "an unknown cas, then an unknown del that takes effect late",
	  PUT(1, "k", "a", 0, 10) CAS_UNK(2, "k", "a", "b", 20)
	  GET(1, "k", "b", 100, 110) DEL_UNK(3, "k", 120)
	  GET(1, "k", "b", 200, 210) GET_NF(1, "k", 300, 310), LIN_CASE },
	{ "an unknown cas whose expect never held changes nothing",
	  PUT(1, "k", "a", 0, 10) CAS_UNK(2, "k", "z", "b", 20)
	  GET(1, "k", "b", 100, 110),
	  NOT, "?2 3", 3, false, "k" },
	{ "unknown gets are dropped",
	  PUT(1, "k", "a", 0, 10) GET_UNK(2, "k", 20)
	  GET_UNK(2, "other", 30), LIN_CASE },
	{ "three keys, only k2 has a stale read",
	  PUT(1, "k1", "a", 0, 10) PUT(2, "k2", "a", 0, 10)
	  PUT(3, "k3", "a", 0, 10) PUT(1, "k2", "b", 20, 30)
	  GET(1, "k1", "a", 40, 50) GET(2, "k2", "a", 40, 50)
	  GET(3, "k3", "a", 40, 50),
	  NOT, "4 6", 6, false, "k2" },
	{ "escaped quotes and backslashes",
	  PUT(1, "a\\\"b", "c\\\\d", 0, 10) GET(2, "a\\\"b", "c\\\\d", 20, 30),
	  LIN_CASE },
	{ "an escaped backslash is one character",
	  PUT(1, "a\\\"b", "c\\\\d", 0, 10)
	  GET(2, "a\\\"b", "c\\\\\\\\d", 20, 30),
	  NOT, "2", 2, false, "a\"b" },
};

static void check_hand_case(const struct hand_case *hc)
{
	struct checked c;
	char got[256];
	bool pass;

	check_text(&c, hc->text);
	if (!tap_ok(c.verdict == hc->verdict, "%s: %s", hc->name,
		    hc->verdict == LIN ? "linearizable" : "not linearizable"))
		tap_diag("load %d (%s), verdict %d", c.load, c.err, c.verdict);
	if (hc->window && c.verdict == NOT) {
		window_lines(&c, got, sizeof(got));
		pass = !strcmp(got, hc->window) &&
		       line_of(&c, c.rep.culprit) == hc->culprit &&
		       c.rep.from_start == hc->from_start && c.rep.minimal &&
		       !strcmp(c.rep.key, hc->key);
		if (!tap_ok(pass, "%s: window %s%s, culprit line %u, key %s",
			    hc->name, hc->window,
			    hc->from_start ? " from the start" : "",
			    hc->culprit, hc->key))
			tap_diag("got window %s%s, culprit line %u, key %s",
				 got, c.rep.from_start ? " from the start" : "",
				 line_of(&c, c.rep.culprit), c.rep.key);
	}
	checked_free(&c);
}

static void test_counts(void)
{
	struct checked c;

	check_text(&c, PUT(1, "k", "a", 0, 10) PUT_UNK(2, "j", "b", 5)
		   GET_UNK(3, "k", 20) GET(4, "k", "a", 30, 40));
	tap_ok(c.verdict == LIN && c.rep.ops == 4 && c.rep.keys == 2 &&
	       c.rep.unknown == 2, "report counts ops, keys and unknowns");
	checked_free(&c);
}

struct parse_case {
	const char *text;
	const char *err;	/* expected in the message */
};

#define OK_PUT	PUT(1, "k", "a", 0, 10)

static const struct parse_case parse_cases[] = {
	{ OK_PUT "{\"client\":1,\"op\":\"put\",\"value\":\"a\",\"start\":0,"
	  "\"end\":1,\"result\":\"ok\"}\n", "line 2: no \"key\"" },
	{ "{\"client\":1", "line 1, column 12: expected ',' or '}'" },
	{ OK_PUT OK_PUT OP(1, "inc", "k", "", 0, AT(1), "ok"),
	  "line 3: unknown op \"inc\"" },
	{ OP(1, "put", "k", VAL("a"), 0, AT(1), "done"),
	  "line 1: unknown result \"done\"" },
	{ "{\"client\":1,\"client\":2}", "line 1: \"client\" twice" },
	{ OP(1, "put", "k", VAL("a"), -5, AT(1), "ok"),
	  "line 1: \"start\" must be a non-negative integer" },
	{ "{\"client\":1,\"start\":\"7\"}",
	  "line 1: \"start\" must be a non-negative integer" },
	{ "{\"client\":1,\"start\":18446744073709551616}",
	  "line 1: \"start\" must be a non-negative integer" },
	{ "{\"client\":4294967296,\"op\":\"del\",\"key\":\"k\",\"start\":0,"
	  "\"end\":1,\"result\":\"ok\"}", "line 1: \"client\" above" },
	{ "{\"client\":1} x", "line 1, column 14: text after the object" },
	{ "{\"client\":1,\"key\":\"a\\nb\"}",
	  "line 1, column 22: unsupported escape" },
	{ "{\"client\":1,\"key\":\"ab", "line 1, column 22: unterminated string" },
	{ "{\"client\":1,\"x\":tru}", "line 1, column 17: expected a value" },
	{ "\n  \n" "{client:1}", "line 3, column 2: expected a string" },
	{ OP(1, "put", "k", VAL("a"), 0, "", "ok"), "line 1: no \"end\"" },
	{ OP(1, "put", "k", VAL("a"), 10, AT(5), "ok"),
	  "line 1: ends (5) before it starts (10)" },
	{ OP(1, "get", "k", "", 0, AT(1), "ok"),
	  "line 1: get returning ok needs \"value\" or \"found\":false" },
	{ OP(1, "get", "k", ",\"found\":false" VAL("a"), 0, AT(1), "ok"),
	  "\"found\":false and a \"value\"" },
	{ OP(1, "get", "k", VAL("a"), 0, AT(1), "not-found"),
	  "line 1: get returning not-found with a value" },
	{ OP(1, "put", "k", VAL("a"), 0, AT(1), "not-found"),
	  "line 1: put cannot return not-found" },
	{ OP(1, "put", "k", "", 0, AT(1), "ok"),
	  "line 1: put returning ok without a value" },
	{ OP(1, "cas", "k", VAL("a"), 0, AT(1), "ok"),
	  "line 1: cas needs \"expect\" or \"expect_absent\":true" },
	{ OP(1, "cas", "k", ",\"expect\":\"b\",\"expect_absent\":true" VAL("a"),
	     0, AT(1), "ok"), "both \"expect\" and \"expect_absent\"" },
	{ OP(1, "del", "k", "", 0, AT(1), "cas-failed"),
	  "line 1: del cannot return cas-failed" },
	{ "{\"client\":1,\"x\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}",
	  "nested too deep" },
};

static void test_parse_errors(void)
{
	const struct parse_case *pc;
	struct checked c;
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		pc = &parse_cases[i];
		check_text(&c, pc->text);
		if (!tap_ok(c.load == -EINVAL && strstr(c.err, pc->err),
			    "parse error: %s", pc->err))
			tap_diag("got %d: %s", c.load, c.err);
		checked_free(&c);
	}
}

static void test_parse_lenient(void)
{
	struct checked c;

	check_text(&c,
		   "{\"note\":{\"a\":[1,-2.5e-3,{\"b\":\"c\"}],\"d\":null},"
		   "\"client\":1,\"op\":\"put\",\"key\":\"k\",\"value\":\"a\","
		   "\"start\":0,\"end\":10,\"result\":\"ok\",\"ok\":true}\r\n"
		   "\t{ \"client\" : 2 , \"op\" : \"get\" , \"key\" : \"k\" ,"
		   " \"found\" : false , \"start\" : 20 , \"end\" : 30 ,"
		   " \"result\" : \"ok\" , \"empty\" : [ ] , \"o\" : { } }\n"
		   "{\"client\":3,\"op\":\"del\",\"key\":\"k\",\"value\":\"x\","
		   "\"start\":5,\"end\":25,\"result\":\"ok\"}");
	tap_ok(c.load == 0 && c.verdict == LIN && c.rep.ops == 3,
	       "unknown fields, spaces, CRLF and found:false are accepted");
	if (c.load)
		tap_diag("%s", c.err);
	checked_free(&c);
}

static void test_api(void)
{
	struct lincheck *lc = lincheck_new();
	struct lincheck_op op = {
		.client = 1, .type = LINCHECK_PUT, .result = LINCHECK_OK,
		.key = "k", .value = "a", .start = 0, .end = 10,
	};
	struct lincheck_op back;
	struct lincheck_report rep;
	char err[128];
	bool pass;

	pass = lincheck_add(lc, &op, err, sizeof(err)) == 0;
	op.value = NULL;
	pass &= lincheck_add(lc, &op, err, sizeof(err)) == -EINVAL;
	op.type = 9;
	pass &= lincheck_add(lc, &op, NULL, 0) == -EINVAL;
	op = (struct lincheck_op){
		.client = 2, .type = LINCHECK_CAS, .result = LINCHECK_OK,
		.key = "k", .value = "b", .expect = "a", .start = 20, .end = 30,
	};
	pass &= lincheck_add(lc, &op, err, sizeof(err)) == 0;
	lincheck_get(lc, 1, &back);
	pass &= lincheck_count(lc) == 2 && back.client == 2 &&
		!strcmp(back.expect, "a") && !strcmp(back.value, "b") &&
		back.end == 30;
	pass &= lincheck_run(lc, &rep) == LIN;
	tap_ok(pass, "the C API adds, rejects, returns ops and checks");
	lincheck_report_free(&rep);
	lincheck_free(lc);
}

/* ---- printing ---- */

static char *printed(const struct checked *c, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	if (json)
		lincheck_print_json(out, c->lc, &c->rep);
	else
		lincheck_print(out, c->lc, &c->rep);
	fclose(out);
	return buf;
}

static void test_print(void)
{
	struct checked c;
	char *text, *json;

	check_text(&c, hand_cases[2].text);
	text = printed(&c, false);
	json = printed(&c, true);
	tap_ok(text && strstr(text, "not linearizable: key \"k\" (3 ops on 1 keys, 0 unknown)") &&
	       strstr(text, "no valid place for client 2's get -> \"a\" (line 3):\n"
		      "the 2 ops below have no linearization from any state "
		      "the key may have held at t0-10\n") &&
	       strstr(text, "*          +20          +30       2      3  get -> \"a\""),
	       "text report names the key, the culprit and the window");
	tap_ok(json && strstr(json, "{\"verdict\":\"not-linearizable\",\"ops\":3,") &&
	       strstr(json, "\"key\":\"k\",\"culprit\":2,\"minimal\":true,"
		      "\"from_start\":false,\"cut\":10,\"t0\":20,\"window\":[{\"index\":1,"
		      "\"line\":2,\"client\":1,\"op\":\"put\",\"value\":\"b\","
		      "\"result\":\"ok\",\"start\":0,\"end\":10,\"optional\":false}"),
	       "JSON report holds the same");
	free(text);
	free(json);
	checked_free(&c);

	check_text(&c, hand_cases[0].text);
	text = printed(&c, false);
	json = printed(&c, true);
	tap_ok(text && !strcmp(text, "linearizable: 11 ops on 1 keys (0 unknown)\n") &&
	       json && !strncmp(json, "{\"verdict\":\"linearizable\",\"ops\":11,"
				"\"keys\":1,\"unknown\":0,", 52),
	       "linearizable: one line, or one JSON object");
	free(text);
	free(json);
	checked_free(&c);
}

/* ---- random histories ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned int below(unsigned int n)
{
	return rnd() % n;
}

static void seed(uint64_t s)
{
	rng_state = s * 0x9e3779b97f4a7c15ULL + 1;
}

static const char *const keys[] = { "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7" };

struct gen {
	struct lincheck_op *ops;
	uint64_t *point;	/* when it takes effect; unknown: maybe never */
	bool *applied;
	char (*names)[16];
	size_t n;
};

struct gen_params {
	unsigned int clients, keys, ops;
	unsigned int unknown_pct;
	unsigned int max_len, max_gap;	/* ns */
	unsigned int values;		/* 0: a fresh value per write */
};

static const char *gen_value(struct gen *g, const struct gen_params *p, size_t i)
{
	if (!p->values)
		return g->names[i];
	return g->names[below(p->values)];
}

/* An op of client c at its clock *t, with what it wants to do. */
static void gen_op(struct gen *g, const struct gen_params *p, size_t i,
		   uint64_t *t, const char **last)
{
	struct lincheck_op *op = &g->ops[i];
	unsigned int len = 1 + below(p->max_len), kind = below(100), k;

	k = below(p->keys);
	*op = (struct lincheck_op){
		.client = i % p->clients, .key = keys[k],
		.start = *t + below(p->max_gap + 1),
	};
	op->end = op->start + len;
	*t = op->end;
	g->point[i] = op->start + below(len + 1);
	op->type = kind < 40 ? LINCHECK_GET : kind < 65 ? LINCHECK_PUT :
		   kind < 75 ? LINCHECK_DEL : LINCHECK_CAS;
	if (op->type == LINCHECK_PUT || op->type == LINCHECK_CAS) {
		op->value = gen_value(g, p, i);
		op->expect = below(10) ? last[k] : NULL;
		last[k] = op->value;
	}
	if (below(100) < p->unknown_pct) {
		op->result = LINCHECK_UNKNOWN;
		g->applied[i] = below(2);
		g->point[i] += below(3 * len);
	}
}

static int point_cmp(const void *a, const void *b, void *arg)
{
	const struct gen *g = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (g->point[x] != g->point[y])
		return g->point[x] < g->point[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* What a register does to op at its point; fills in the result. */
static void gen_apply(struct lincheck_op *op, const char **state, bool applied)
{
	bool unknown = op->result == LINCHECK_UNKNOWN;
	bool match;

	if (unknown && !applied)
		return;
	switch (op->type) {
	case LINCHECK_GET:
		op->value = *state;
		op->result = unknown ? op->result :
			     *state ? LINCHECK_OK : LINCHECK_NOT_FOUND;
		break;
	case LINCHECK_PUT:
		*state = op->value;
		break;
	case LINCHECK_DEL:
		if (!unknown)
			op->result = *state ? LINCHECK_OK : LINCHECK_NOT_FOUND;
		*state = NULL;
		break;
	default:
		match = op->expect ? *state && !strcmp(*state, op->expect) : !*state;
		if (!unknown)
			op->result = match ? LINCHECK_OK : LINCHECK_CAS_FAILED;
		if (match)
			*state = op->value;
	}
}

static void gen_free(struct gen *g)
{
	free(g->ops);
	free(g->point);
	free(g->applied);
	free(g->names);
}

/* A history of a linearizable register: each op acts at its point. */
static bool gen_history(struct gen *g, const struct gen_params *p)
{
	const char *state[8] = { NULL }, *last[8] = { NULL };
	uint64_t *clock = calloc(p->clients, sizeof(*clock));
	size_t *order = calloc(p->ops, sizeof(*order)), i;

	g->n = p->ops;
	g->ops = calloc(p->ops, sizeof(*g->ops));
	g->point = calloc(p->ops, sizeof(*g->point));
	g->applied = calloc(p->ops, sizeof(*g->applied));
	g->names = calloc(p->ops, sizeof(*g->names));
	if (!clock || !order || !g->ops || !g->point || !g->applied || !g->names) {
		free(clock);
		free(order);
		gen_free(g);
		return false;
	}
	for (i = 0; i < p->clients; i++)
		clock[i] = below(1000);
	for (i = 0; i < p->ops; i++) {
		snprintf(g->names[i], sizeof(g->names[i]), "v%zu", i);
		order[i] = i;
	}
	for (i = 0; i < p->ops; i++)
		gen_op(g, p, i, &clock[i % p->clients], last);
	qsort_r(order, p->ops, sizeof(*order), point_cmp, g);
	for (i = 0; i < p->ops; i++) {
		struct lincheck_op *op = &g->ops[order[i]];

		gen_apply(op, &state[op->key[1] - '0'], g->applied[order[i]]);
	}
	free(clock);
	free(order);
	return true;
}

/*
 * The verdict on g with op i replaced by *mut (if mut); when the verdict
 * is not linearizable, *culprit is the culprit with key and values NULL;
 * *key is the key reported, NULL if none.
 */
static int gen_check(const struct gen *g, size_t i,
		     const struct lincheck_op *mut, uint64_t budget,
		     struct lincheck_op *culprit, const char **key)
{
	struct lincheck *lc = lincheck_new();
	struct lincheck_report rep;
	size_t j;
	int r = -ENOMEM;

	if (!lc)
		return r;
	lincheck_set_budget(lc, budget);
	for (j = 0; j < g->n; j++) {
		if (lincheck_add(lc, mut && j == i ? mut : &g->ops[j], NULL, 0))
			goto out;
	}
	r = lincheck_run(lc, &rep);
	if (r == NOT && culprit) {
		lincheck_get(lc, rep.culprit, culprit);
		culprit->key = keys[culprit->key[1] - '0'];
		culprit->value = culprit->expect = NULL;
	}
	if (key)
		*key = rep.key ? keys[rep.key[1] - '0'] : NULL;
	lincheck_report_free(&rep);
out:
	lincheck_free(lc);
	return r;
}

static const struct gen_params small_params[] = {
	{ .clients = 4, .keys = 1, .ops = 1500, .unknown_pct = 0,
	  .max_len = 100, .max_gap = 50 },
	{ .clients = 16, .keys = 2, .ops = 2000, .unknown_pct = 0,
	  .max_len = 300, .max_gap = 20 },
	{ .clients = 8, .keys = 3, .ops = 2000, .unknown_pct = 3,
	  .max_len = 100, .max_gap = 100 },
	{ .clients = 32, .keys = 4, .ops = 3000, .unknown_pct = 1,
	  .max_len = 1000, .max_gap = 10 },
	{ .clients = 8, .keys = 1, .ops = 1500, .unknown_pct = 2,
	  .max_len = 100, .max_gap = 30, .values = 4 },
};

#define SEEDS	12

static void test_generated_linearizable(void)
{
	const struct gen_params *p;
	struct gen g;
	size_t k, s;
	int bad, r;

	for (k = 0; k < sizeof(small_params) / sizeof(small_params[0]); k++) {
		p = &small_params[k];
		for (s = 0, bad = 0; s < SEEDS; s++) {
			seed(1000 * k + s);
			if (!gen_history(&g, p))
				break;
			r = gen_check(&g, 0, NULL, LINCHECK_DEFAULT_BUDGET, NULL, NULL);
			if (r != LIN && !bad++)
				tap_diag("seed %zu: verdict %d", s, r);
			gen_free(&g);
		}
		tap_ok(s == SEEDS && !bad,
		       "%d seeds, %u clients on %u keys, %u ops, %u%% unknown%s: linearizable",
		       SEEDS, p->clients, p->keys, p->ops, p->unknown_pct,
		       p->values ? ", few values" : "");
	}
}

/* A random op of the wanted kind with an answer; -1 if none. */
static long pick(const struct gen *g, enum lincheck_type type,
		 enum lincheck_result result)
{
	size_t from = below(g->n), i, j;

	for (i = 0; i < g->n; i++) {
		j = (from + i) % g->n;
		if (g->ops[j].type == type && g->ops[j].result == result)
			return j;
	}
	return -1;
}

/* A put starting after op i answered, on its key; -1 if none. */
static long later_writer(const struct gen *g, size_t i)
{
	size_t j;

	for (j = 0; j < g->n; j++) {
		if (g->ops[j].type == LINCHECK_PUT &&
		    g->ops[j].result != LINCHECK_CAS_FAILED &&
		    g->ops[j].key == g->ops[i].key &&
		    g->ops[j].start > g->ops[i].end)
			return j;
	}
	return -1;
}

enum mutation { NEVER_WRITTEN, FUTURE_READ, CAS_NEVER_WRITTEN, MUTATIONS };

static const char *const mutation_names[] = {
	[NEVER_WRITTEN] = "a read of a value never written",
	[FUTURE_READ] = "a read of a value only written after it answered",
	[CAS_NEVER_WRITTEN] = "a successful cas expecting a value never written",
};

/*
 * Provably wrong: caught, on the mutant's key, and the culprit answered
 * when the mutant did, or before if it is a reader of what the mutated cas
 * wrote in the original history (which nobody writes any more).
 */
static bool mutate_provable(struct gen *g, enum mutation m, bool *skipped)
{
	struct lincheck_op mut, culprit = { 0 };
	long i, w = -1;
	int r;

	i = m == CAS_NEVER_WRITTEN ? pick(g, LINCHECK_CAS, LINCHECK_OK) :
	    pick(g, LINCHECK_GET, LINCHECK_OK);
	if (i >= 0 && m == FUTURE_READ)
		w = later_writer(g, i);
	*skipped = i < 0 || (m == FUTURE_READ && w < 0);
	if (*skipped)
		return true;
	mut = g->ops[i];
	if (m == NEVER_WRITTEN)
		mut.value = "never written";
	else if (m == FUTURE_READ)
		mut.value = g->ops[w].value;
	else
		mut.expect = "never written";
	r = gen_check(g, i, &mut, LINCHECK_DEFAULT_BUDGET, &culprit, NULL);
	if (r == NOT && culprit.key == mut.key &&
	    (culprit.end == mut.end ||
	     (m == CAS_NEVER_WRITTEN && culprit.end < mut.end)))
		return true;
	tap_diag("%s, op %ld: verdict %d, culprit ends at %" PRIu64
		 " on %s, the mutant at %" PRIu64 " on %s", mutation_names[m],
		 i, r, culprit.end, culprit.key, mut.end, mut.key);
	return false;
}

/* Another plausible answer; false if op has none. */
static bool mutate_any(const struct gen *g, struct lincheck_op *op)
{
	switch (op->type) {
	case LINCHECK_GET:
		op->value = g->ops[below(g->n)].value;
		op->result = op->value ? LINCHECK_OK : LINCHECK_NOT_FOUND;
		return true;
	case LINCHECK_DEL:
		op->result = op->result == LINCHECK_OK ? LINCHECK_NOT_FOUND :
			     LINCHECK_OK;
		return true;
	case LINCHECK_CAS:
		op->result = op->result == LINCHECK_OK ? LINCHECK_CAS_FAILED :
			     LINCHECK_OK;
		return true;
	default:
		return false;
	}
}

static bool same_answer(const struct lincheck_op *a, const struct lincheck_op *b)
{
	if (a->result != b->result)
		return false;
	return a->value == b->value ||
	       (a->value && b->value && !strcmp(a->value, b->value));
}

static void test_mutations(void)
{
	int caught[MUTATIONS] = { 0 }, tried[MUTATIONS] = { 0 };
	int any_tried = 0, any_caught = 0, too_hard = 0, m, r;
	struct lincheck_op mut;
	bool skipped, ok;
	struct gen g;
	size_t s, i;

	for (s = 0; s < 40; s++) {
		seed(77 + s);
		if (!gen_history(&g, &small_params[s % 4]))
			break;
		for (m = 0; m < MUTATIONS; m++) {
			ok = mutate_provable(&g, m, &skipped);
			tried[m] += !skipped;
			caught[m] += !skipped && ok;
		}
		for (int t = 0; t < 5; t++) {
			i = below(g.n);
			mut = g.ops[i];
			if (mut.result == LINCHECK_UNKNOWN || !mutate_any(&g, &mut) ||
			    same_answer(&mut, &g.ops[i]))
				continue;
			r = gen_check(&g, i, &mut, LINCHECK_DEFAULT_BUDGET, NULL, NULL);
			any_tried++;
			any_caught += r == NOT;
			too_hard += r == LINCHECK_TOO_HARD;
		}
		gen_free(&g);
	}
	for (m = 0; m < MUTATIONS; m++)
		tap_ok(tried[m] >= 20 && caught[m] == tried[m],
		       "mutant caught at the right time: %s (%d/%d)",
		       mutation_names[m], caught[m], tried[m]);
	tap_diag("any other answer: %d of %d mutants caught (%d too hard)",
		 any_caught, any_tried, too_hard);
	tap_ok(too_hard == 0, "no mutant is too hard for the default budget");
}

/* ---- small random histories against brute force ---- */

#define TINY	9

/*
 * Can the ops outside done follow them, from state?  Optional ops (and
 * unknown ones) need not be placed; if placed, they return what they did.
 */
static bool brute(const struct lincheck_op *ops, const bool *optional, int n,
		  unsigned int done, const char *state)
{
	struct lincheck_op op;
	const char *next;
	bool pending = false, blocked;
	int i, j;

	for (i = 0; i < n; i++)
		pending |= !(done >> i & 1) && !optional[i];
	if (!pending)
		return true;
	for (i = 0; i < n; i++) {
		if (done >> i & 1)
			continue;
		for (j = 0, blocked = false; j < n; j++)
			blocked |= j != i && !(done >> j & 1) && !optional[j] &&
				   ops[j].end < ops[i].start;
		op = ops[i];
		next = state;
		gen_apply(&op, &next, true);
		if (blocked || (op.result != LINCHECK_UNKNOWN &&
				!same_answer(&op, &ops[i])))
			continue;
		if (brute(ops, optional, n, done | 1u << i, next))
			return true;
	}
	return false;
}

/* Random intervals and ops on one key, a third with a random answer. */
static void tiny_history(struct lincheck_op *ops, int n, unsigned int unknown,
			 unsigned int nvals)
{
	static const char *const vals[] = { "a", "b", "c", "d" };
	struct gen_params p = { .clients = n, .keys = 1, .ops = n,
				.unknown_pct = unknown, .max_len = 8,
				.max_gap = 6 };
	struct gen g;
	int i;

	if (!gen_history(&g, &p))
		return;
	for (i = 0; i < n; i++) {
		ops[i] = g.ops[i];
		if (ops[i].value)
			ops[i].value = vals[below(nvals)];
		if (ops[i].expect)
			ops[i].expect = vals[below(nvals)];
		if (ops[i].result != LINCHECK_UNKNOWN && below(3) == 0)
			mutate_any(&g, &ops[i]);
		if (ops[i].type == LINCHECK_GET && ops[i].value)
			ops[i].value = vals[below(nvals)];
		if (ops[i].type == LINCHECK_GET &&
		    ops[i].result != LINCHECK_OK)
			ops[i].value = NULL;
	}
	gen_free(&g);
}

/*
 * The window has no linearization from absent nor, after a cut, from what
 * a write started by the cut wrote.
 */
static bool window_holds(const struct lincheck_op *ops, int n,
			 const struct lincheck_report *rep)
{
	struct lincheck_op w[TINY];
	bool optional[TINY];
	size_t i;
	int j;

	for (i = 0; i < rep->window_len; i++) {
		w[i] = ops[rep->window[i].op];
		optional[i] = rep->window[i].optional;
	}
	if (brute(w, optional, rep->window_len, 0, NULL))
		return false;
	for (j = 0; j < n && !rep->from_start; j++) {
		if (ops[j].start <= rep->cut && ops[j].value &&
		    ops[j].type != LINCHECK_GET &&
		    ops[j].result != LINCHECK_CAS_FAILED &&
		    brute(w, optional, rep->window_len, 0, ops[j].value))
			return false;
	}
	return true;
}

static void test_brute_force(void)
{
	int runs = 20000, agree = 0, lin = 0, windows = 0, held = 0;
	struct lincheck_op ops[TINY];
	struct lincheck_report rep;
	bool unknown[TINY], want;
	struct lincheck *lc;
	int i, j, n, r;

	for (i = 0; i < runs; i++) {
		seed(5000 + i);
		n = 2 + below(TINY - 1);
		tiny_history(ops, n, (unsigned int[]){ 0, 15, 40 }[i % 3],
			     2 + i % 3);
		lc = lincheck_new();
		for (j = 0; j < n; j++) {
			lincheck_add(lc, &ops[j], NULL, 0);
			unknown[j] = ops[j].result == LINCHECK_UNKNOWN;
		}
		r = lincheck_run(lc, &rep);
		want = brute(ops, unknown, n, 0, NULL);
		lin += want;
		if ((r == LIN && want) || (r == NOT && !want))
			agree++;
		else if (agree == i)
			tap_diag("seed %d: brute force %d, lincheck %d",
				 5000 + i, want, r);
		if (r == NOT) {
			windows++;
			held += window_holds(ops, n, &rep);
		}
		lincheck_report_free(&rep);
		lincheck_free(lc);
	}
	tap_ok(agree == runs,
	       "%d random histories of 2-%d ops agree with brute force (%d linearizable)",
	       runs, TINY, lin);
	tap_ok(held == windows,
	       "their %d windows have no linearization by brute force either (%d)",
	       windows, held);
}

/* ---- budget and performance ---- */

static void test_budget(void)
{
	struct gen_params p = { .clients = 16, .keys = 2, .ops = 2000,
				.max_len = 300, .max_gap = 20 };
	const char *key = NULL;
	struct gen g;
	int r;

	seed(99);
	if (!gen_history(&g, &p)) {
		tap_ok(false, "generate a history");
		return;
	}
	r = gen_check(&g, 0, NULL, 100, NULL, &key);
	tap_ok(r == LINCHECK_TOO_HARD && key,
	       "past the budget: too hard, naming a key");
	gen_free(&g);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_performance(unsigned int unknown_pct)
{
	struct gen_params p = { .clients = 64, .keys = 8, .ops = 64 * 3000,
				.unknown_pct = unknown_pct,
				.max_len = 100000, .max_gap = 20000 };
	double t;
	struct gen g;
	int r;

	seed(4242 + unknown_pct);
	if (!gen_history(&g, &p)) {
		tap_ok(false, "generate a history");
		return;
	}
	t = now();
	r = gen_check(&g, 0, NULL, LINCHECK_DEFAULT_BUDGET, NULL, NULL);
	t = now() - t;
	tap_ok(r == LIN, "64 clients x 3000 ops on 8 keys, %u%% unknown: linearizable",
	       unknown_pct);
	tap_diag("64 x 3000 ops, %u%% unknown: checked in %.3f s", unknown_pct, t);
	gen_free(&g);
}

/* ---- locks: hand-made histories ---- */

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

#define TOK(t)		",\"token\":" #t
#define HOLDER(h)	",\"holder\":" #h
#define FENCE(l)	",\"fence\":\"" l "\""
#define ACQ(c, l, t, s, e)	OP(c, "acquire", l, TOK(t), s, AT(e), "ok")
#define ACQ_HELD(c, l, h, s, e)	OP(c, "acquire", l, HOLDER(h), s, AT(e), "held")
#define ACQ_BUSY(c, l, s, e)	OP(c, "acquire", l, "", s, AT(e), "held")
#define ACQ_UNK(c, l, s)	OP(c, "acquire", l, "", s, "", "unknown")
#define ACQ_NO_LEASE(c, l, s, e) OP(c, "acquire", l, "", s, AT(e), "no-lease")
#define FPUT(c, k, l, t, v, s, e) \
	OP(c, "fput", k, FENCE(l) TOK(t) VAL(v), s, AT(e), "ok")
#define FPUT_FENCED(c, k, l, t, v, h, s, e) \
	OP(c, "fput", k, FENCE(l) TOK(t) VAL(v) HOLDER(h), s, AT(e), "fenced")
#define FPUT_REFUSED(c, k, l, t, v, s, e) \
	OP(c, "fput", k, FENCE(l) TOK(t) VAL(v), s, AT(e), "fenced")
#define FPUT_UNK(c, k, l, t, v, s) \
	OP(c, "fput", k, FENCE(l) TOK(t) VAL(v), s, "", "unknown")
#define REL(c, l, t, s, e)	OP(c, "release", l, TOK(t), s, AT(e), "ok")
#define REL_FENCED(c, l, t, h, s, e) \
	OP(c, "release", l, TOK(t) HOLDER(h), s, AT(e), "fenced")
#define REL_UNK(c, l, t, s)	OP(c, "release", l, TOK(t), s, "", "unknown")

/* A linearizable lock case: no culprit, no sentence. */
#define LIN_LOCK	LIN, 0, NULL

struct lock_case {
	const char *name;
	const char *text;
	int verdict;
	unsigned int culprit;	/* line; 0: not checked */
	const char *why;	/* a part of the sentence; NULL: not checked */
};

static const struct lock_case lock_cases[] = {
	{ "contention: held while another holds, then taken in turn",
	  ACQ(1, "lock/l0", 10, 0, 10) ACQ_HELD(2, "lock/l0", 10, 5, 15)
	  FPUT(1, "g0", "lock/l0", 10, "a", 20, 30) GET(2, "g0", "a", 35, 40)
	  REL(1, "lock/l0", 10, 40, 50) ACQ(2, "lock/l0", 20, 55, 65)
	  FPUT(2, "g0", "lock/l0", 20, "b", 70, 80)
	  ACQ_HELD(1, "lock/l0", 20, 72, 82) GET(1, "g0", "b", 85, 90)
	  REL(2, "lock/l0", 20, 90, 100) ACQ_BUSY(3, "lock/l0", 95, 96)
	  GET_NF(3, "g1", 0, 1), LIN_LOCK },
	{ "contention: acquires racing, the lower token first",
	  ACQ(1, "lock/l0", 10, 0, 100) ACQ(2, "lock/l0", 20, 10, 90)
	  ACQ_HELD(3, "lock/l0", 10, 20, 30) ACQ_HELD(3, "lock/l0", 20, 40, 50)
	  FPUT(2, "g0", "lock/l0", 20, "b", 95, 105)
	  FPUT_FENCED(1, "g0", "lock/l0", 10, "a", 20, 101, 110), LIN_LOCK },
	{ "a paused holder is fenced once another acquired",
	  ACQ(1, "lock/l0", 10, 0, 10) FPUT(1, "g0", "lock/l0", 10, "a", 10, 20)
	  ACQ_HELD(2, "lock/l0", 10, 30, 40) ACQ(2, "lock/l0", 20, 600, 610)
	  FPUT(2, "g0", "lock/l0", 20, "b", 620, 630)
	  FPUT_FENCED(1, "g0", "lock/l0", 10, "a2", 20, 640, 650)
	  REL_FENCED(1, "lock/l0", 10, 20, 660, 670) GET(1, "g0", "b", 680, 690)
	  REL(2, "lock/l0", 20, 700, 710), LIN_LOCK },
	{ "a paused holder's write may still land before the other's acquire",
	  ACQ(1, "lock/l0", 10, 0, 10)
	  FPUT(1, "g0", "lock/l0", 10, "a", 500, 650)
	  ACQ(2, "lock/l0", 20, 600, 610) GET(3, "g0", "a", 655, 660)
	  FPUT(2, "g0", "lock/l0", 20, "b", 670, 680), LIN_LOCK },
	{ "expiry, then the same client and another acquire again",
	  ACQ(1, "lock/l0", 10, 0, 10) FPUT(1, "g0", "lock/l0", 10, "a", 10, 20)
	  FPUT_FENCED(1, "g0", "lock/l0", 10, "x", 0, 600, 610)
	  REL_FENCED(1, "lock/l0", 10, 0, 620, 630)
	  ACQ(1, "lock/l0", 30, 640, 650) ACQ_HELD(2, "lock/l0", 30, 660, 670)
	  GET(2, "g0", "a", 680, 690) ACQ(2, "lock/l0", 40, 1300, 1310)
	  FPUT(2, "g0", "lock/l0", 40, "b", 1320, 1330), LIN_LOCK },
	{ "expiry needs no witness: acquires without releases",
	  ACQ(1, "lock/l0", 10, 0, 10) ACQ(2, "lock/l0", 20, 20, 30)
	  ACQ(3, "lock/l0", 35, 40, 50) FPUT(3, "g0", "lock/l0", 35, "c", 60, 70)
	  FPUT_REFUSED(1, "g0", "lock/l0", 10, "a", 80, 90), LIN_LOCK },
	{ "unknown results: an acquire, a stranger holding, fputs, a release",
	  ACQ_UNK(1, "lock/l0", 0) ACQ_HELD(2, "lock/l0", 15, 10, 20)
	  ACQ(2, "lock/l0", 30, 600, 610) FPUT_UNK(2, "g0", "lock/l0", 30, "b", 620)
	  GET(2, "g0", "b", 700, 710) REL_UNK(2, "lock/l0", 30, 720)
	  ACQ(1, "lock/l0", 40, 800, 810)
	  FPUT_UNK(1, "g0", "lock/l0", 40, "c", 820) GET(1, "g0", "b", 900, 910)
	  GET(3, "g0", "c", 950, 960) REL(1, "lock/l0", 40, 1000, 1010)
	  ACQ_NO_LEASE(3, "lock/l0", 1020, 1030), LIN_LOCK },
	{ "an unknown release may free the lock, or the lease expires",
	  ACQ(1, "lock/l0", 10, 0, 10) REL_UNK(1, "lock/l0", 10, 20)
	  ACQ_BUSY(2, "lock/l0", 30, 40) ACQ(2, "lock/l0", 20, 50, 60), LIN_LOCK },
	{ "a lock and a plain key side by side",
	  ACQ(1, "lock/l0", 10, 0, 10) PUT(2, "k", "a", 0, 10)
	  FPUT(1, "g0", "lock/l0", 10, "a", 20, 30) GET(2, "k", "a", 20, 30)
	  GET(2, "g0", "a", 40, 50), LIN_LOCK },

	{ "two holders write, one acquired before the other's write started",
	  ACQ(1, "lock/l0", 10, 0, 10) ACQ(2, "lock/l0", 20, 20, 30)
	  FPUT(2, "g0", "lock/l0", 20, "b", 35, 45)
	  FPUT(1, "g0", "lock/l0", 10, "a", 40, 50),
	  NOT, 4, "fput of token 10 succeeded after acquire returned token 20 (line 2)" },
	{ "a token going backwards",
	  ACQ(1, "lock/l0", 20, 0, 10) REL(1, "lock/l0", 20, 20, 30)
	  ACQ(2, "lock/l0", 10, 40, 50),
	  NOT, 3, "acquire returned token 10 after acquire returned token 20 (line 1): tokens only grow" },
	{ "a token issued twice",
	  ACQ(1, "lock/l0", 10, 0, 10) REL(1, "lock/l0", 10, 20, 30)
	  ACQ(2, "lock/l0", 10, 40, 50),
	  NOT, 3, "acquire returned token 10, as an earlier acquire did (line 1)" },
	{ "a fenced write accepted for a token never issued",
	  ACQ(1, "lock/l0", 10, 0, 10) FPUT(2, "g0", "lock/l0", 15, "x", 20, 30),
	  NOT, 2, "fput of token 15 succeeded, but no acquire returned token 15" },
	{ "a get of a fenced-out holder's unknown write, after the new holder's",
	  ACQ(1, "lock/l0", 10, 0, 10) FPUT(1, "g0", "lock/l0", 10, "a", 10, 20)
	  ACQ(2, "lock/l0", 20, 600, 610) FPUT(2, "g0", "lock/l0", 20, "b", 620, 630)
	  FPUT_UNK(1, "g0", "lock/l0", 10, "c", 640) GET(3, "g0", "c", 700, 710),
	  NOT, 6, "get returned \"c\", written by an fput of token 10 (line 5) after acquire returned token 20 (line 3)" },
	{ "a get of a value only a refused fput carried",
	  ACQ(1, "lock/l0", 10, 0, 10) ACQ(2, "lock/l0", 20, 600, 610)
	  FPUT(2, "g0", "lock/l0", 20, "b", 620, 630)
	  FPUT_FENCED(1, "g0", "lock/l0", 10, "c", 20, 640, 650)
	  GET(3, "g0", "c", 700, 710),
	  NOT, 5, "get returned \"c\", which only a refused fput carried (line 4)" },
	{ "a stale get of the guarded key",
	  ACQ(1, "lock/l0", 10, 0, 10) FPUT(1, "g0", "lock/l0", 10, "a", 20, 30)
	  FPUT(1, "g0", "lock/l0", 10, "b", 40, 50) GET(2, "g0", "a", 60, 70),
	  NOT, 4, "get returned \"a\" (written at line 2) after \"b\" was written (line 3)" },
	{ "a write succeeding after the lock was found free",
	  ACQ(1, "lock/l0", 10, 0, 10)
	  FPUT_FENCED(2, "g0", "lock/l0", 3, "a", 0, 20, 30)
	  FPUT(1, "g0", "lock/l0", 10, "b", 40, 50),
	  NOT, 3, "fput of token 10 succeeded after an fput found the lock free (line 2)" },
	{ "a release succeeding twice",
	  ACQ(1, "lock/l0", 10, 0, 10) REL(1, "lock/l0", 10, 20, 30)
	  REL(1, "lock/l0", 10, 40, 50),
	  NOT, 3, "release of token 10 succeeded after the release of token 10 (line 2)" },
	{ "a write fenced by its own token, then accepted",
	  ACQ(1, "lock/l0", 10, 0, 10) FPUT_REFUSED(1, "g0", "lock/l0", 10, "a", 20, 30)
	  FPUT(1, "g0", "lock/l0", 10, "b", 40, 50),
	  NOT, 3, "fput of token 10 succeeded after an fput fenced by token 10 was refused (line 2)" },
	{ "held after the release, with no acquire since",
	  ACQ(1, "lock/l0", 10, 0, 10) REL(1, "lock/l0", 10, 20, 30)
	  ACQ_BUSY(2, "lock/l0", 40, 50),
	  NOT, 3, "acquire found the lock held after the release of token 10 (line 2), with no acquire since" },
	{ "held by a token whose release had completed",
	  ACQ(1, "lock/l0", 10, 0, 10) REL(1, "lock/l0", 10, 20, 30)
	  ACQ(3, "lock/l0", 20, 25, 100) ACQ_HELD(2, "lock/l0", 10, 40, 50),
	  NOT, 4, "acquire found the lock held by token 10 after the release of token 10 (line 2)" },
	{ "held by a token no acquire returned, and none unknown",
	  ACQ(1, "lock/l0", 10, 0, 10) ACQ_HELD(2, "lock/l0", 15, 20, 30),
	  NOT, 2, "acquire found the lock held by token 15, which no acquire returned" },
	{ "a write refused naming a holder that had released",
	  ACQ(1, "lock/l0", 10, 0, 10) ACQ(2, "lock/l0", 20, 20, 30)
	  REL(2, "lock/l0", 20, 40, 50)
	  FPUT_FENCED(1, "g0", "lock/l0", 10, "a", 20, 60, 70),
	  NOT, 4, "fput of token 10 was refused, naming holder 20 after the release of token 20 (line 3)" },
	{ "a write refused naming its own token",
	  ACQ(1, "lock/l0", 10, 0, 10)
	  FPUT_FENCED(1, "g0", "lock/l0", 10, "a", 10, 20, 30),
	  NOT, 2, "yet token 10 is its own" },
	{ "an acquire ok while another's write still succeeds",
	  ACQ(1, "lock/l0", 10, 0, 10) ACQ(2, "lock/l0", 20, 20, 30)
	  REL(1, "lock/l0", 10, 40, 50),
	  NOT, 3, "release of token 10 succeeded after acquire returned token 20 (line 2)" },
};

static void check_lock_case(const struct lock_case *lk)
{
	struct checked c;
	bool pass;

	check_text(&c, lk->text);
	if (!tap_ok(c.verdict == lk->verdict, "lock: %s: %s", lk->name,
		    lk->verdict == LIN ? "linearizable" : "not linearizable"))
		tap_diag("load %d (%s), verdict %d, why \"%s\"", c.load, c.err,
			 c.verdict, c.rep.why);
	if (c.verdict == NOT && lk->verdict == NOT) {
		pass = line_of(&c, c.rep.culprit) == lk->culprit &&
		       c.rep.lock && !strcmp(c.rep.key, "lock/l0") &&
		       (!c.rep.guarded || !strcmp(c.rep.guarded, "g0")) &&
		       strstr(c.rep.why, lk->why);
		if (!tap_ok(pass, "lock: %s: culprit line %u, why", lk->name,
			    lk->culprit))
			tap_diag("culprit line %u, key %s, why \"%s\"",
				 line_of(&c, c.rep.culprit), c.rep.key,
				 c.rep.why);
	}
	checked_free(&c);
}

static const struct parse_case lock_parse_cases[] = {
	{ OP(1, "acquire", "lock/l0", "", 0, AT(1), "ok"),
	  "line 1: acquire returning ok without a token" },
	{ OP(1, "fput", "g0", TOK(3) VAL("a"), 0, AT(1), "ok"),
	  "line 1: fput without a fence" },
	{ OP(1, "fput", "g0", FENCE("lock/l0") VAL("a"), 0, AT(1), "ok"),
	  "line 1: fput returning ok without a token" },
	{ OP(1, "fput", "g0", FENCE("lock/l0") TOK(3), 0, AT(1), "ok"),
	  "line 1: fput returning ok without a value" },
	{ OP(1, "fput", "g0", FENCE("g0") TOK(3) VAL("a"), 0, AT(1), "ok"),
	  "line 1: fput fenced by its own key" },
	{ OP(1, "release", "lock/l0", TOK(3), 0, AT(1), "held"),
	  "line 1: release cannot return held" },
	{ OP(1, "acquire", "lock/l0", "", 0, AT(1), "fenced"),
	  "line 1: acquire cannot return fenced" },
	{ ACQ_HELD(1, "lock/l0", 0, 0, 1), "line 1: acquire returning held by holder 0" },
	{ OP(1, "acquire", "lock/l0", TOK(3), 0, AT(1), "locked"),
	  "line 1: unknown result \"locked\"" },
	{ ACQ(1, "lock/l0", 3, 0, 1) GET_NF(1, "lock/l0", 2, 3),
	  "line 2: get of \"lock/l0\", a lock key" },
	{ PUT(1, "k", "a", 0, 1) ACQ(1, "k", 3, 2, 3),
	  "line 2: acquire of \"k\", a key that other ops read or write" },
	{ PUT(1, "k", "a", 0, 1) FPUT(1, "g0", "k", 3, "b", 2, 3),
	  "line 2: fput fenced by \"k\", a key that other ops read or write" },
	{ FPUT(1, "g0", "lock/l0", 3, "b", 2, 3)
	  FPUT(1, "g0", "lock/l1", 3, "b", 2, 3),
	  "line 2: fput of \"g0\" fenced by \"lock/l1\": other fputs of it are fenced by \"lock/l0\"" },
	{ FPUT(1, "g0", "lock/l0", 3, "b", 2, 3)
	  FPUT(1, "g1", "lock/l0", 3, "b", 2, 3),
	  "line 2: fput of \"g1\" fenced by \"lock/l0\": that lock guards \"g0\"" },
	{ FPUT(1, "g0", "lock/l0", 3, "b", 2, 3)
	  FPUT(1, "lock/l0", "lock/l1", 3, "b", 2, 3),
	  "line 2: fput of \"lock/l0\", a lock key" },
};

static void test_lock_parse(void)
{
	const struct parse_case *pc;
	struct checked c;
	size_t i;

	for (i = 0; i < ARRAY_LEN(lock_parse_cases); i++) {
		pc = &lock_parse_cases[i];
		check_text(&c, pc->text);
		if (!tap_ok(c.load == -EINVAL && strstr(c.err, pc->err),
			    "lock parse error: %s", pc->err))
			tap_diag("got %d: %s", c.load, c.err);
		checked_free(&c);
	}
}

static void test_lock_print(void)
{
	struct checked c;
	char *text, *json;

	check_text(&c, lock_cases[9].text);
	text = printed(&c, false);
	json = printed(&c, true);
	tap_ok(text && strstr(text, "not linearizable: lock \"lock/l0\" guarding \"g0\" (4 ops on 2 keys, 0 unknown)\n"
			      "why: fput of token 10 succeeded after acquire returned token 20 (line 2)\n"
			      "no valid place for client 1's fput \"a\" token 10 -> ok (line 4):\n") &&
	       strstr(text, "the lock and key may have held") &&
	       strstr(text, "fput \"b\" token 20 -> ok\n"),
	       "lock report: the lock, its key, why, the culprit");
	tap_ok(json && strstr(json, "\"key\":\"lock/l0\",\"lock\":true,\"guarded\":\"g0\","
			      "\"why\":\"fput of token 10 succeeded after acquire returned token 20 (line 2)\"") &&
	       strstr(json, "\"op\":\"fput\",\"fence\":\"lock/l0\",\"value\":\"a\",\"token\":10,"
		      "\"result\":\"ok\""),
	       "lock report in JSON: lock, guarded, why, fence and token");
	if (text && json && !strstr(json, "\"why\""))
		tap_diag("%s%s", text, json);
	free(text);
	free(json);
	checked_free(&c);

	check_text(&c, ACQ_HELD(1, "lock/l0", 7, 0, 10));
	text = printed(&c, false);
	tap_ok(text && strstr(text, "client 1's acquire -> held (holder 7) (line 1)"),
	       "held prints the holder");
	free(text);
	checked_free(&c);
	check_text(&c, ACQ(1, "lock/l0", 10, 0, 10)
		   FPUT_FENCED(2, "g0", "lock/l0", 3, "a", 0, 20, 30)
		   FPUT(1, "g0", "lock/l0", 10, "b", 40, 50));
	text = printed(&c, false);
	tap_ok(text && strstr(text, "fput \"a\" token 3 -> fenced (lock free)\n") &&
	       strstr(text, "why: fput of token 10 succeeded after an fput found the lock free (line 2)\n"),
	       "fenced prints a free lock");
	if (text && !strstr(text, "(lock free)\n"))
		tap_diag("%s", text);
	free(text);
	checked_free(&c);
}

/* ---- locks: simulated histories, mutants, brute force ---- */

#define NEVER_AT	UINT64_MAX

static const char *const lock_keys[] = { "lock/l0", "lock/l1", "lock/l2", "lock/l3" };
static const char *const guarded_keys[] = { "g0", "g1", "g2", "g3" };

struct lsim_params {
	unsigned int clients, locks, ops;
	unsigned int unknown_pct;	/* of the ops */
	unsigned int expire_pct;	/* at each point, a holder's lease */
	unsigned int holder_pct;	/* held and fenced name the holder */
	unsigned int max_len, max_gap;	/* ns */
};

/* What the store holds for one lock and its key. */
struct lsim_lock {
	uint64_t holder;	/* 0: free */
	const char *value;
};

enum lsim_phase { IDLE, HOLDING };

struct lsim_client {
	enum lsim_phase phase;
	unsigned int lock, puts;
	uint64_t token;
	long op;		/* the one under way, -1 if none */
	uint64_t clock;
	unsigned int done;
};

struct lsim {
	struct lincheck_op *ops;
	uint64_t *point;
	bool *applied, *pending;	/* pending: its point is to come */
	size_t *pend, npend;		/* the pending ones */
	char (*names)[16];
	size_t n;
	struct lsim_lock locks[4];
	uint64_t revision;		/* the store's, tokens come from it */
};

static void lsim_free(struct lsim *g)
{
	free(g->ops);
	free(g->point);
	free(g->applied);
	free(g->pending);
	free(g->pend);
	free(g->names);
}

/* The op's effect at its point, and its result unless unknown. */
static void lsim_apply(struct lsim *g, const struct lsim_params *p, size_t i)
{
	struct lincheck_op *op = &g->ops[i];
	bool unknown = op->result == LINCHECK_UNKNOWN;
	struct lsim_lock *l = NULL;
	unsigned int k;

	for (k = 0; k < 4; k++) {
		if (op->key == lock_keys[k] || op->key == guarded_keys[k])
			l = &g->locks[k];
	}
	if (l->holder && below(100) < p->expire_pct)
		l->holder = 0;
	if (unknown && !g->applied[i])
		return;
	switch (op->type) {
	case LINCHECK_GET:
		op->value = l->value;
		if (!unknown)
			op->result = l->value ? LINCHECK_OK :
				     LINCHECK_NOT_FOUND;
		break;
	case LINCHECK_ACQUIRE:
		if (!l->holder) {
			l->holder = ++g->revision;
			op->token = unknown ? 0 : l->holder;
			op->result = unknown ? op->result : LINCHECK_OK;
			break;
		}
		if (unknown)
			break;
		op->result = LINCHECK_HELD;
		op->holder = l->holder;
		op->has_holder = below(100) < p->holder_pct;
		break;
	default:
		if (l->holder == op->token) {
			if (op->type == LINCHECK_FPUT)
				l->value = op->value;
			else
				l->holder = 0;
			if (!unknown)
				op->result = LINCHECK_OK;
			break;
		}
		if (unknown)
			break;
		op->result = LINCHECK_FENCED;
		op->holder = l->holder;
		op->has_holder = below(100) < p->holder_pct;
	}
}

/* What client c does next, given what it learnt from its last op. */
static void lsim_next(struct lsim *g, const struct lsim_params *p,
		      struct lsim_client *c, unsigned int id)
{
	const struct lincheck_op *last = c->op >= 0 ? &g->ops[c->op] : NULL;
	size_t i = g->n++;
	struct lincheck_op *op = &g->ops[i];
	unsigned int len = 1 + below(p->max_len);

	if (last && last->type == LINCHECK_ACQUIRE &&
	    last->result == LINCHECK_OK) {
		c->phase = HOLDING;
		c->token = last->token;
		c->puts = 1 + below(3);
	} else if (last && (last->type == LINCHECK_ACQUIRE ||
			    last->type == LINCHECK_RELEASE)) {
		c->phase = IDLE;
	}
	*op = (struct lincheck_op){ .client = id };
	/* Now and then a pause, as long as many ops. */
	op->start = c->clock + below(p->max_gap + 1) +
		    (below(20) ? 0 : below(10 * p->max_len));
	op->end = op->start + len;
	if (c->phase == HOLDING && c->puts) {
		c->puts--;
		op->type = below(4) ? LINCHECK_FPUT : LINCHECK_GET;
		op->key = guarded_keys[c->lock];
		op->fence = lock_keys[c->lock];
		op->token = c->token;
		op->value = g->names[i];
		if (op->type == LINCHECK_GET) {
			op->fence = NULL;
			op->token = 0;
		}
	} else if (c->phase == HOLDING) {
		op->type = LINCHECK_RELEASE;
		op->key = lock_keys[c->lock];
		op->token = c->token;
	} else if (below(4) == 0) {
		op->type = LINCHECK_GET;
		op->key = guarded_keys[below(p->locks)];
	} else {
		c->lock = below(p->locks);
		op->type = LINCHECK_ACQUIRE;
		op->key = lock_keys[c->lock];
	}
	g->point[i] = op->start + below(len + 1);
	g->pending[i] = true;
	g->pend[g->npend++] = i;
	if (below(100) < p->unknown_pct) {
		op->result = LINCHECK_UNKNOWN;
		g->applied[i] = below(2);
		g->point[i] += below(3 * len);
	}
	c->op = i;
	c->clock = op->end;
}

/*
 * The next event: a point (*is_point, which indexes g->pend) or a
 * client's end; false if none.
 */
static bool lsim_event(const struct lsim *g, struct lsim_client *cl,
		       unsigned int nc, const struct lsim_params *p,
		       size_t *which, bool *is_point)
{
	uint64_t best = NEVER_AT;
	size_t i;

	for (i = 0; i < g->npend; i++) {
		if (g->point[g->pend[i]] < best) {
			best = g->point[g->pend[i]];
			*which = i;
			*is_point = true;
		}
	}
	for (i = 0; i < nc; i++) {
		const struct lincheck_op *op = &g->ops[cl[i].op];

		if (cl[i].done >= p->ops / nc || op->end >= best)
			continue;
		if (g->pending[cl[i].op] && op->result != LINCHECK_UNKNOWN)
			continue;
		best = op->end;
		*which = i;
		*is_point = false;
	}
	return best != NEVER_AT;
}

/*
 * A history of clients taking locks, writing their keys fenced and
 * releasing, each op acting at a point of its interval, the holders'
 * leases expiring at random: linearizable.
 */
static bool lsim_history(struct lsim *g, const struct lsim_params *p)
{
	struct lsim_client cl[64];
	unsigned int nc = p->clients, i;
	size_t which;
	bool is_point;

	memset(g, 0, sizeof(*g));
	g->ops = calloc(p->ops + nc, sizeof(*g->ops));
	g->point = calloc(p->ops + nc, sizeof(*g->point));
	g->applied = calloc(p->ops + nc, sizeof(*g->applied));
	g->pending = calloc(p->ops + nc, sizeof(*g->pending));
	g->pend = calloc(p->ops + nc, sizeof(*g->pend));
	g->names = calloc(p->ops + nc, sizeof(*g->names));
	g->revision = below(100);
	if (!g->ops || !g->point || !g->applied || !g->pending || !g->pend ||
	    !g->names) {
		lsim_free(g);
		return false;
	}
	for (i = 0; i < p->ops + nc; i++)
		snprintf(g->names[i], sizeof(g->names[i]), "v%u", i);
	for (i = 0; i < nc; i++) {
		cl[i] = (struct lsim_client){ .op = -1, .clock = below(1000) };
		lsim_next(g, p, &cl[i], i + 1);
	}
	while (lsim_event(g, cl, nc, p, &which, &is_point)) {
		if (is_point) {
			i = g->pend[which];
			g->pend[which] = g->pend[--g->npend];
			g->pending[i] = false;
			lsim_apply(g, p, i);
		} else if (++cl[which].done < p->ops / nc) {
			lsim_next(g, p, &cl[which], which + 1);
		}
	}
	return true;
}

/* The verdict on g with op i replaced by *mut (if mut). */
static int lsim_check(const struct lsim *g, size_t i,
		      const struct lincheck_op *mut,
		      struct lincheck_report *out)
{
	struct lincheck *lc = lincheck_new();
	struct lincheck_report rep;
	char err[160];
	size_t j;
	int r = -ENOMEM;

	if (!lc)
		return r;
	for (j = 0; j < g->n; j++) {
		r = lincheck_add(lc, mut && j == i ? mut : &g->ops[j], err,
				 sizeof(err));
		if (r) {
			tap_diag("op %zu: %s", j, err);
			goto out;
		}
	}
	r = lincheck_run(lc, &rep);
	if (out)
		*out = rep;
	else
		lincheck_report_free(&rep);
out:
	lincheck_free(lc);
	return r;
}

static const struct lsim_params lsim_params[] = {
	{ .clients = 4, .locks = 1, .ops = 1500, .expire_pct = 3,
	  .holder_pct = 70, .max_len = 100, .max_gap = 50 },
	{ .clients = 8, .locks = 2, .ops = 2000, .unknown_pct = 3,
	  .expire_pct = 2, .holder_pct = 50, .max_len = 200, .max_gap = 30 },
	{ .clients = 16, .locks = 3, .ops = 3000, .unknown_pct = 1,
	  .expire_pct = 5, .holder_pct = 100, .max_len = 1000, .max_gap = 10 },
	{ .clients = 6, .locks = 1, .ops = 2000, .unknown_pct = 10,
	  .expire_pct = 10, .holder_pct = 0, .max_len = 100, .max_gap = 100 },
};

static void test_lock_generated(void)
{
	const struct lsim_params *p;
	size_t k, s, acquired, fenced, held;
	struct lsim g;
	int bad, r;

	for (k = 0; k < sizeof(lsim_params) / sizeof(lsim_params[0]); k++) {
		p = &lsim_params[k];
		acquired = fenced = held = 0;
		for (s = 0, bad = 0; s < SEEDS; s++) {
			seed(9000 + 100 * k + s);
			if (!lsim_history(&g, p))
				break;
			for (size_t i = 0; i < g.n; i++) {
				acquired += g.ops[i].type == LINCHECK_ACQUIRE &&
					    g.ops[i].result == LINCHECK_OK;
				held += g.ops[i].result == LINCHECK_HELD;
				fenced += g.ops[i].result == LINCHECK_FENCED;
			}
			r = lsim_check(&g, 0, NULL, NULL);
			if (r != LIN && !bad++)
				tap_diag("seed %zu: verdict %d", s, r);
			lsim_free(&g);
		}
		tap_ok(s == SEEDS && !bad && acquired && fenced && held,
		       "locks: %d seeds, %u clients on %u locks, %u ops, %u%% unknown, "
		       "%u%% expiring: linearizable (%zu acquired, %zu held, %zu fenced)",
		       SEEDS, p->clients, p->locks, p->ops, p->unknown_pct,
		       p->expire_pct, acquired, held, fenced);
	}
}

/* Another plausible answer; false if op has none. */
static bool lock_mutate(const struct lsim *g, struct lincheck_op *op)
{
	const struct lincheck_op *other = &g->ops[below(g->n)];

	switch (op->type) {
	case LINCHECK_GET:
		op->value = other->type == LINCHECK_FPUT ? other->value : NULL;
		op->result = op->value ? LINCHECK_OK : LINCHECK_NOT_FOUND;
		return true;
	case LINCHECK_ACQUIRE:
		if (op->result == LINCHECK_OK && below(2)) {
			op->result = LINCHECK_HELD;
			op->has_holder = false;
		} else if (op->result == LINCHECK_OK) {
			op->token = other->token ?: op->token + 1;
		} else {
			op->result = LINCHECK_OK;
			op->token = g->revision + 1 + below(3);
		}
		return true;
	default:
		if (op->result == LINCHECK_OK) {
			op->result = LINCHECK_FENCED;
			op->holder = other->token;
			op->has_holder = below(2);
		} else {
			op->result = LINCHECK_OK;
		}
		return true;
	}
}

static bool lock_same(const struct lincheck_op *a, const struct lincheck_op *b)
{
	return same_answer(a, b) && a->token == b->token &&
	       a->has_holder == b->has_holder &&
	       (!a->has_holder || a->holder == b->holder);
}

static void test_lock_mutations(void)
{
	int tried = 0, caught = 0, too_hard = 0, why = 0, r;
	struct lincheck_report rep;
	struct lincheck_op mut;
	struct lsim g;
	size_t s, i;

	for (s = 0; s < 40; s++) {
		seed(333 + s);
		if (!lsim_history(&g, &lsim_params[s % 4]))
			break;
		for (int t = 0; t < 10; t++) {
			i = below(g.n);
			mut = g.ops[i];
			if (mut.result == LINCHECK_UNKNOWN ||
			    !lock_mutate(&g, &mut) ||
			    lock_same(&mut, &g.ops[i]))
				continue;
			r = lsim_check(&g, i, &mut, &rep);
			tried++;
			caught += r == NOT;
			too_hard += r == LINCHECK_TOO_HARD;
			why += r == NOT && rep.lock && rep.why[0] &&
			       !strstr(rep.why, "no order");
			if (r >= 0)
				lincheck_report_free(&rep);
		}
		lsim_free(&g);
	}
	tap_diag("locks: %d of %d mutants caught (%d too hard), %d with a precise why",
		 caught, tried, too_hard, why);
	tap_ok(tried >= 300 && caught >= tried / 4 && !too_hard,
	       "locks: mutants of simulated histories checked, many caught, none too hard");
}

/* Brute force: the model with the holder's expiry a move of its own. */

#define STRANGER_TOKEN	UINT64_MAX

struct bstate {
	const char *value;
	uint64_t holder;	/* 0 free, STRANGER_TOKEN: unknown */
	uint64_t max;
};

struct btokens {
	uint64_t issued[TINY];
	int n;
};

static bool issued(const struct btokens *bt, uint64_t token)
{
	for (int i = 0; i < bt->n; i++) {
		if (bt->issued[i] == token)
			return true;
	}
	return false;
}

/* Is the holder the one op names? */
static bool names_holder(const struct btokens *bt,
			 const struct lincheck_op *op, uint64_t holder)
{
	if (!op->has_holder)
		return true;
	if (!op->holder)
		return !holder;
	if (!issued(bt, op->holder))
		return holder == STRANGER_TOKEN;
	return holder == op->holder;
}

static bool same_value(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* op's step from *st, as the store does it; false if its result cannot be. */
static bool bstep(const struct btokens *bt, const struct lincheck_op *op,
		  struct bstate *st)
{
	bool unknown = op->result == LINCHECK_UNKNOWN;

	switch (op->type) {
	case LINCHECK_GET:
		return same_value(st->value, op->value);
	case LINCHECK_ACQUIRE:
		if (op->result == LINCHECK_NO_LEASE)
			return true;
		if (op->result == LINCHECK_HELD)
			return st->holder && names_holder(bt, op, st->holder);
		if (st->holder)
			return unknown;
		if (unknown) {
			st->holder = STRANGER_TOKEN;
			return true;
		}
		if (op->token <= st->max)
			return false;
		st->holder = st->max = op->token;
		return true;
	default:
		if (st->holder != op->token)
			return unknown || (op->result == LINCHECK_FENCED &&
					   names_holder(bt, op, st->holder));
		if (op->result == LINCHECK_FENCED)
			return false;
		if (op->type == LINCHECK_FPUT)
			st->value = op->value;
		else
			st->holder = 0;
		return true;
	}
}

/*
 * Can the ops outside done follow, from st?  Before each op the holder's
 * lease may expire; optional and unknown ops need not be placed.
 */
static bool brute_lock(const struct btokens *bt,
		       const struct lincheck_op *ops, const bool *optional,
		       int n, unsigned int done, struct bstate st)
{
	struct bstate next;
	bool pending = false, blocked;
	int i, j, expire;

	for (i = 0; i < n; i++)
		pending |= !(done >> i & 1) && !optional[i];
	if (!pending)
		return true;
	for (i = 0; i < n; i++) {
		if (done >> i & 1)
			continue;
		for (j = 0, blocked = false; j < n; j++)
			blocked |= j != i && !(done >> j & 1) && !optional[j] &&
				   ops[j].end < ops[i].start;
		if (blocked)
			continue;
		for (expire = 0; expire < 1 + !!st.holder; expire++) {
			next = st;
			if (expire)
				next.holder = 0;
			if (bstep(bt, &ops[i], &next) &&
			    brute_lock(bt, ops, optional, n, done | 1u << i,
				       next))
				return true;
		}
	}
	return false;
}

static void btokens_of(const struct lincheck_op *ops, int n,
		       struct btokens *bt)
{
	bt->n = 0;
	for (int i = 0; i < n; i++) {
		if (ops[i].type == LINCHECK_ACQUIRE &&
		    ops[i].result == LINCHECK_OK)
			bt->issued[bt->n++] = ops[i].token;
	}
}

/* Random ops on one lock, from the simulation, a third given another answer. */
static int tiny_lock_history(struct lincheck_op *ops, int max)
{
	static const char *const vals[] = { "a", "b", "c" };
	struct lsim_params p = { .clients = 1 + below(3), .locks = 1,
				 .ops = 12, .unknown_pct = below(3) * 15,
				 .expire_pct = 20, .holder_pct = 50,
				 .max_len = 8, .max_gap = 6 };
	struct lsim g;
	int i, n;

	if (!lsim_history(&g, &p))
		return 0;
	n = g.n < (size_t)max ? (int)g.n : max;
	n = 2 + below(n - 1);
	for (i = 0; i < n; i++) {
		ops[i] = g.ops[i];
		if (ops[i].result != LINCHECK_UNKNOWN && below(3) == 0)
			lock_mutate(&g, &ops[i]);
		/* g's names go with it: values from a few, all alike. */
		if (ops[i].value)
			ops[i].value = vals[below(3)];
	}
	lsim_free(&g);
	return n;
}

/*
 * The window has no linearization from any state the lock may have been
 * in at the cut: free, held by a stranger (if an acquire started by then)
 * or by any token an acquire started by then returned; the key absent,
 * unknown, or holding what a write started by then wrote with a token
 * some acquire returned.
 */
static bool lock_window_holds(const struct lincheck_op *ops, int n,
			      const struct lincheck_report *rep)
{
	struct lincheck_op w[TINY];
	bool optional[TINY];
	const char *values[2 * TINY + 2];
	uint64_t holders[2 * TINY + 2];
	int i, nv = 0, nh = 0, stranger = 0, foreign = 0;
	struct btokens bt;

	btokens_of(ops, n, &bt);
	for (size_t k = 0; k < rep->window_len; k++) {
		w[k] = ops[rep->window[k].op];
		optional[k] = rep->window[k].optional;
	}
	if (rep->from_start)
		return !brute_lock(&bt, w, optional, rep->window_len, 0,
				   (struct bstate){ NULL, 0, 0 });
	values[nv++] = NULL;
	holders[nh++] = 0;
	for (i = 0; i < n; i++) {
		bool writes = ops[i].type == LINCHECK_FPUT &&
			      ops[i].result != LINCHECK_FENCED &&
			      issued(&bt, ops[i].token);

		if (ops[i].start > rep->cut)
			continue;
		if (writes)
			values[nv++] = ops[i].value;
		if (ops[i].type == LINCHECK_ACQUIRE &&
		    ops[i].result == LINCHECK_OK)
			holders[nh++] = ops[i].token;
		if (ops[i].type == LINCHECK_ACQUIRE &&
		    ops[i].result != LINCHECK_HELD && !stranger++)
			holders[nh++] = STRANGER_TOKEN;
		if (writes && !foreign++)
			values[nv++] = "\x01foreign";
	}
	for (i = 0; i < nh; i++) {
		for (int j = 0; j < nv; j++) {
			struct bstate st = {
				values[j], holders[i],
				holders[i] == STRANGER_TOKEN ? 0 : holders[i],
			};

			if (brute_lock(&bt, w, optional, rep->window_len, 0,
				       st))
				return false;
		}
	}
	return true;
}

static void test_lock_brute_force(void)
{
	int runs = 20000, agree = 0, lin = 0, windows = 0, held = 0, n, r;
	struct lincheck_op ops[TINY];
	struct lincheck_report rep;
	bool unknown[TINY], want;
	struct btokens bt;
	struct lincheck *lc;

	for (int i = 0; i < runs; i++) {
		seed(70000 + i);
		n = tiny_lock_history(ops, TINY - 1);
		lc = lincheck_new();
		for (int j = 0; j < n; j++) {
			lincheck_add(lc, &ops[j], NULL, 0);
			unknown[j] = ops[j].result == LINCHECK_UNKNOWN;
		}
		r = lincheck_run(lc, &rep);
		btokens_of(ops, n, &bt);
		want = brute_lock(&bt, ops, unknown, n, 0,
				  (struct bstate){ NULL, 0, 0 });
		lin += want;
		if ((r == LIN && want) || (r == NOT && !want))
			agree++;
		else if (agree == i)
			tap_diag("seed %d: brute force %d, lincheck %d",
				 70000 + i, want, r);
		if (r == NOT) {
			windows++;
			held += lock_window_holds(ops, n, &rep);
		}
		lincheck_report_free(&rep);
		lincheck_free(lc);
	}
	tap_ok(agree == runs,
	       "locks: %d random histories of 2-%d ops agree with brute force (%d linearizable)",
	       runs, TINY - 1, lin);
	tap_ok(held == windows,
	       "locks: their %d windows have no linearization by brute force either (%d)",
	       windows, held);
}

static void test_lock_performance(void)
{
	struct lsim_params p = { .clients = 64, .locks = 4, .ops = 64 * 3000,
				 .unknown_pct = 1, .expire_pct = 2,
				 .holder_pct = 80, .max_len = 100000,
				 .max_gap = 20000 };
	double t;
	struct lsim g;
	int r;

	seed(4343);
	if (!lsim_history(&g, &p)) {
		tap_ok(false, "generate a history");
		return;
	}
	t = now();
	r = lsim_check(&g, 0, NULL, NULL);
	t = now() - t;
	tap_ok(r == LIN, "locks: 64 clients x 3000 ops on 4 locks, 1%% unknown: linearizable");
	tap_diag("locks: 64 x 3000 ops, 1%% unknown: checked in %.3f s", t);
	lsim_free(&g);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(hand_cases) / sizeof(hand_cases[0]); i++)
		check_hand_case(&hand_cases[i]);
	test_counts();
	test_parse_errors();
	test_parse_lenient();
	test_api();
	test_print();
	test_brute_force();
	test_generated_linearizable();
	test_mutations();
	test_budget();
	test_performance(0);
	test_performance(1);
	for (i = 0; i < ARRAY_LEN(lock_cases); i++)
		check_lock_case(&lock_cases[i]);
	test_lock_parse();
	test_lock_print();
	test_lock_generated();
	test_lock_mutations();
	test_lock_brute_force();
	test_lock_performance();
	return tap_done();
}
