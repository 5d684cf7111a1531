/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Streaming JSON writer.  Commas, and in pretty mode indentation, are
 * placed automatically; each complete top-level value ends with a newline,
 * so a sequence of values is JSON Lines (one event per line for monitors).
 *
 *	struct json j;
 *
 *	json_init(&j, stdout, false);
 *	json_obj_open(&j);
 *	json_kv_u32(&j, "id", 7);
 *	json_obj_close(&j);		prints {"id":7}
 */
#ifndef LAMPORT_USER_JSON_H
#define LAMPORT_USER_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	32

struct json_level {
	bool is_object;
	bool empty;
};

struct json {
	FILE *out;
	bool pretty;		/* indent by 4, one member per line */
	bool misused;		/* unbalanced, too deep, or key/value out of place */
	bool want_value;	/* a key was written, its value comes next */
	unsigned int depth;
	struct json_level level[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *out, bool pretty);

void json_obj_open(struct json *j);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j);
void json_arr_close(struct json *j);

/* Inside an object every value is preceded by its key. */
void json_key(struct json *j, const char *key);

/* Strings are NUL-terminated UTF-8, written as is apart from escapes; NULL writes null. */
void json_str(struct json *j, const char *s);
void json_u32(struct json *j, uint32_t v);
void json_u64(struct json *j, uint64_t v);
void json_s64(struct json *j, int64_t v);
/* Finite numbers with 6 significant digits; NaN and infinities as null. */
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* json_key() followed by the value. */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_u32(struct json *j, const char *key, uint32_t v);
void json_kv_u64(struct json *j, const char *key, uint64_t v);
void json_kv_s64(struct json *j, const char *key, int64_t v);
void json_kv_double(struct json *j, const char *key, double v);
void json_kv_bool(struct json *j, const char *key, bool v);

/*
 * 0 when every container was closed, the writer was used correctly and the
 * stream had no error; -1 otherwise.
 */
int json_finish(const struct json *j);

#endif /* LAMPORT_USER_JSON_H */
