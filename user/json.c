// SPDX-License-Identifier: GPL-2.0
/*
 * Streaming JSON writer.
 */

#include <inttypes.h>
#include <math.h>

#include "json.h"

void json_init(struct json *j, FILE *out, bool pretty)
{
	*j = (struct json){ .out = out, .pretty = pretty };
}

static struct json_level *json_top(struct json *j)
{
	return j->depth ? &j->level[j->depth - 1] : NULL;
}

static void json_indent(struct json *j)
{
	unsigned int i;

	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (i = 0; i < j->depth; i++)
		fputs("    ", j->out);
}

/* Separates a new member or element from the previous one. */
static void json_next_item(struct json *j, struct json_level *top)
{
	if (!top->empty)
		fputc(',', j->out);
	top->empty = false;
	json_indent(j);
}

static void json_begin_value(struct json *j)
{
	struct json_level *top = json_top(j);

	if (j->want_value) {
		j->want_value = false;
		return;
	}
	if (!top)
		return;
	if (top->is_object)
		j->misused = true;
	json_next_item(j, top);
}

static void json_end_value(struct json *j)
{
	if (!j->depth)
		fputc('\n', j->out);
}

static void json_write_string(FILE *out, const char *s)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

static void json_open(struct json *j, bool is_object)
{
	if (j->depth == JSON_MAX_DEPTH) {
		j->misused = true;
		return;
	}
	json_begin_value(j);
	fputc(is_object ? '{' : '[', j->out);
	j->level[j->depth++] = (struct json_level){
		.is_object = is_object,
		.empty = true,
	};
}

static void json_close(struct json *j, bool is_object)
{
	struct json_level *top = json_top(j);

	if (!top || top->is_object != is_object || j->want_value) {
		j->misused = true;
		return;
	}
	j->depth--;
	if (!top->empty)
		json_indent(j);
	fputc(is_object ? '}' : ']', j->out);
	json_end_value(j);
}

void json_obj_open(struct json *j)
{
	json_open(j, true);
}

void json_obj_close(struct json *j)
{
	json_close(j, true);
}

void json_arr_open(struct json *j)
{
	json_open(j, false);
}

void json_arr_close(struct json *j)
{
	json_close(j, false);
}

void json_key(struct json *j, const char *key)
{
	struct json_level *top = json_top(j);

	if (!top || !top->is_object || j->want_value) {
		j->misused = true;
		return;
	}
	json_next_item(j, top);
	json_write_string(j->out, key);
	fputs(j->pretty ? ": " : ":", j->out);
	j->want_value = true;
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_begin_value(j);
	json_write_string(j->out, s);
	json_end_value(j);
}

void json_u32(struct json *j, uint32_t v)
{
	json_begin_value(j);
	fprintf(j->out, "%" PRIu32, v);
	json_end_value(j);
}

void json_u64(struct json *j, uint64_t v)
{
	json_begin_value(j);
	fprintf(j->out, "%" PRIu64, v);
	json_end_value(j);
}

void json_double(struct json *j, double v)
{
	json_begin_value(j);
	if (isfinite(v))
		fprintf(j->out, "%.6g", v);
	else
		fputs("null", j->out);
	json_end_value(j);
}

void json_kv_double(struct json *j, const char *key, double v)
{
	json_key(j, key);
	json_double(j, v);
}

void json_s64(struct json *j, int64_t v)
{
	json_begin_value(j);
	fprintf(j->out, "%" PRId64, v);
	json_end_value(j);
}

void json_bool(struct json *j, bool v)
{
	json_begin_value(j);
	fputs(v ? "true" : "false", j->out);
	json_end_value(j);
}

void json_null(struct json *j)
{
	json_begin_value(j);
	fputs("null", j->out);
	json_end_value(j);
}

void json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_u32(struct json *j, const char *key, uint32_t v)
{
	json_key(j, key);
	json_u32(j, v);
}

void json_kv_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kv_s64(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_s64(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

int json_finish(const struct json *j)
{
	if (j->misused || j->depth || j->want_value || ferror(j->out))
		return -1;
	return 0;
}
