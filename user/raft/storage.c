// SPDX-License-Identifier: GPL-2.0
/*
 * Raft storage: the meta file and the log segments of one node.
 *
 * Every integer is little-endian.
 *
 * meta, 40 bytes, replaced whole: written to meta.tmp, fsync'd, renamed
 * over meta, then the directory fsync'd.
 *	 0  8  "LRAFTMET"
 *	 8  4  version, 1
 *	12  8  cluster_id
 *	20  4  node_id
 *	24  8  term
 *	32  4  vote (0 = none)
 *	36  4  crc32c of bytes 0..35
 *
 * seg-<index of its first record, 16 lowercase hex digits>.log: records
 * back to back, no file header.  A record is a 24-byte header and a
 * payload of len bytes, 25 to 1305 bytes in all:
 *	 0  4  len: payload bytes, 1 + data bytes (1..1 + RAFT_ENTRY_DATA_MAX)
 *	 4  4  crc32c of bytes 8..24 + len - 1 (term, index, payload)
 *	 8  8  term
 *	16  8  index
 *	24  1  type                        (payload)
 *	25  len - 1  data                  (payload)
 * A zero len is never valid, so zeros never read as a record.
 *
 * snap-<index>-<term>.snap (each 16 lowercase hex digits): the state
 * machine at index, the entry of term.  No node id: the file goes verbatim
 * to other nodes of the cluster.  56 + conf_len + data_len bytes:
 *	 0  8  "LRAFTSNP"
 *	 8  4  version, 1
 *	12  8  cluster_id
 *	20  8  index
 *	28  8  term
 *	36  4  conf_len (at most RSTORE_SNAP_CONF_MAX)
 *	40  8  data_len (at most RSTORE_SNAP_DATA_MAX)
 *	48  4  crc32c of bytes 0..47 (checked before the lengths are trusted)
 *	52  conf_len  conf  (the membership, opaque here)
 *	..  data_len  data  (the state machine, opaque here)
 *	..  4  crc32c of every byte before it
 * Written to snap-<index>-<term>.tmp, fsync'd, renamed, the directory
 * fsync'd; only then are the segments it covers and the other snapshots
 * unlinked.  At open the newest valid one is loaded; the log must go on
 * from it: its first segment must start at or before index + 1.
 *
 * recv-<index>-<term>.part: a snapshot file being received, byte for
 * byte, its name saying which one (its header may not be there yet).  Not
 * fsync'd until whole; checked whole, then renamed to its snap-... name.
 *
 * At open, the first bad record of the last segment is a torn tail, cut
 * off, if the file ends inside it, or if nothing but zeros follows its end
 * (the end of the file included), or if it and all after it are zeros.
 * Any other bad record refuses the open: the log is damaged.
 *
 * Orderings that keep a crash harmless:
 * - a segment is fdatasync'd before the next one is created, so only the
 *   last segment can end in a half-written (torn) record;
 * - a truncation unlinks the later segments and fsyncs the directory before
 *   it cuts the segment it ends in, and makes that cut durable before
 *   anything is appended over it: after a crash the log is a prefix of the
 *   old one, never old records behind new ones;
 * - compaction unlinks segments only once the snapshot is durable, the
 *   oldest first, and keeps the last one: the first segment left says
 *   where the log starts, so that a snapshot lost later shows as a gap;
 * - a received snapshot replaces the log only once it is durable, the
 *   segments unlinked last first and a new empty one made: after a crash
 *   in between, what is left is a prefix of the old log, which the open
 *   drops if it does not go on from the snapshot (ends before its index,
 *   or has another term there).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "storage.h"

#define META_MAGIC	"LRAFTMET"
#define META_VERSION	1
#define META_BYTES	40

#define REC_HDR		24
#define REC_PAYLOAD_MAX	(1 + RAFT_ENTRY_DATA_MAX)
#define REC_MAX		(REC_HDR + REC_PAYLOAD_MAX)

#define SEG_NAME_LEN	sizeof("seg-0123456789abcdef.log")

#define SNAP_MAGIC	"LRAFTSNP"
#define SNAP_VERSION	1
#define SNAP_HDR	52
/* Header, conf, data and crc of the largest snapshot. */
#define SNAP_FILE_MAX	((uint64_t)SNAP_HDR + RSTORE_SNAP_CONF_MAX + \
			 RSTORE_SNAP_DATA_MAX + 4)
#define SNAP_PREFIX	"snap"
#define SNAP_SUFFIX	".snap"
#define TMP_SUFFIX	".tmp"
#define RECV_PREFIX	"recv"
#define PART_SUFFIX	".part"
/* Room for any snap-, recv- or seg- name. */
#define NAME_LEN	64
/* Records are written in chunks of at most this many bytes. */
#define WBUF_BYTES	65536

struct rseg {
	uint64_t first;		/* index of its first record */
	uint64_t size;		/* bytes, whole records only */
	int fd;			/* write end, -1 when closed */
	bool dirty;		/* written since its last fdatasync */
};

/* Where an entry is: its segment is the last one starting at or before it. */
struct rpos {
	uint64_t off;
	uint64_t term;
};

/* A snapshot file. */
struct rsnap {
	uint64_t index;		/* 0: none */
	uint64_t term;
	uint64_t size;		/* bytes of the file */
	int fd;			/* read end, -1 when closed */
};

/* The snapshot being received, into its part file. */
struct rrecv {
	uint64_t index;		/* 0: none */
	uint64_t term;
	uint64_t size;		/* bytes received */
	int fd;			/* -1 until written to or checked */
};

/* What a snapshot file holds past its header, read whole. */
struct snapbuf {
	uint32_t conf_len;
	uint64_t data_len;
	uint8_t *conf;		/* malloc'd, NULL if conf_len is 0 */
	uint8_t *data;		/* malloc'd, NULL if data_len is 0 */
};

struct rstore {
	char *dir;
	int dirfd;
	uint32_t segment_bytes;
	struct rstore_meta meta;
	struct rseg *segs;
	size_t nsegs;
	size_t segs_cap;
	struct rpos *pos;	/* pos[i] is entry base + 1 + i's */
	size_t pos_cap;
	uint64_t base;		/* the snapshot's index, once open */
	uint64_t base_term;	/* entry base's term */
	uint64_t last;		/* index of the last entry, else base */
	struct rsnap snap;
	struct rrecv recv;
	bool dir_dirty;		/* segments created since the last fsync */
	int broken;		/* the failure that broke the store, or 0 */
	uint8_t *wbuf;
	char *warn;		/* the caller's, during the open only */
	size_t warnlen;
	char errmsg[512];
};

static void put_le32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct rstore *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

/* op on file (NULL: the directory) failed with err; s stays whole. */
static int op_fail(struct rstore *s, const char *file, const char *op, int err)
{
	if (file)
		return fail(s, err, "%s/%s: %s: %s", s->dir, file, op,
			    strerror(-err));
	return fail(s, err, "%s: %s: %s", s->dir, op, strerror(-err));
}

/* op on file (NULL: the directory) failed with err, which breaks s. */
static int io_fail(struct rstore *s, const char *file, const char *op, int err)
{
	op_fail(s, file, op, err);
	s->broken = err;
	return err;
}

/* Adds a warning of the open to the caller's, after a "; ". */
__attribute__((format(printf, 2, 3)))
static void warn_add(struct rstore *s, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!s->warn || !s->warnlen)
		return;
	used = strlen(s->warn);
	if (used)
		used += snprintf(s->warn + used, s->warnlen - used, "; ");
	if (used + 1 >= s->warnlen)
		return;
	va_start(ap, fmt);
	vsnprintf(s->warn + used, s->warnlen - used, fmt, ap);
	va_end(ap);
}

static void seg_name(char *buf, uint64_t first)
{
	snprintf(buf, SEG_NAME_LEN, "seg-%016" PRIx64 ".log", first);
}

/* Only the canonical spelling counts: the name must round-trip. */
static bool seg_name_parse(const char *name, uint64_t *first)
{
	char canon[SEG_NAME_LEN];

	if (strlen(name) != SEG_NAME_LEN - 1 ||
	    sscanf(name, "seg-%16" SCNx64 ".log", first) != 1)
		return false;
	seg_name(canon, *first);
	return !strcmp(canon, name);
}

/* Bytes read, fewer than len only at end of file, or -errno. */
static ssize_t pread_upto(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (uint8_t *)buf + done, len - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static int pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, (const uint8_t *)buf + done, len - done,
			   off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += n;
	}
	return 0;
}

static int sync_dir(struct rstore *s)
{
	if (fsync(s->dirfd) < 0)
		return io_fail(s, NULL, "fsync", -errno);
	s->dir_dirty = false;
	return 0;
}

static struct rpos *pos_at(const struct rstore *s, uint64_t index)
{
	return &s->pos[index - s->base - 1];
}

static uint64_t last_term(const struct rstore *s)
{
	return s->last > s->base ? pos_at(s, s->last)->term : s->base_term;
}

/* Room for more entries after the last. */
static int pos_reserve(struct rstore *s, uint64_t more)
{
	uint64_t count = s->last - s->base + more;
	size_t cap = s->pos_cap ? s->pos_cap : 1024;
	struct rpos *pos;

	if (count <= s->pos_cap)
		return 0;
	while (cap < count)
		cap *= 2;
	pos = realloc(s->pos, cap * sizeof(*pos));
	if (!pos)
		return fail(s, -ENOMEM, "%s: out of memory for the log index",
			    s->dir);
	s->pos = pos;
	s->pos_cap = cap;
	return 0;
}

/* Records entry s->last + 1, with room already reserved. */
static void pos_add(struct rstore *s, uint64_t off, uint64_t term)
{
	s->pos[s->last - s->base].off = off;
	s->pos[s->last - s->base].term = term;
	s->last++;
}

/* Forgets the entries up to index (of term), which is at most the last. */
static void pos_trim(struct rstore *s, uint64_t index, uint64_t term)
{
	if (index != s->base)
		memmove(s->pos, s->pos + (index - s->base),
			(s->last - index) * sizeof(*s->pos));
	s->base = index;
	s->base_term = term;
}

static int segs_reserve(struct rstore *s, size_t count)
{
	size_t cap = s->segs_cap ? s->segs_cap * 2 : 16;
	struct rseg *segs;

	if (count <= s->segs_cap)
		return 0;
	if (cap < count)
		cap = count;
	segs = realloc(s->segs, cap * sizeof(*segs));
	if (!segs)
		return fail(s, -ENOMEM, "%s: out of memory for segments",
			    s->dir);
	s->segs = segs;
	s->segs_cap = cap;
	return 0;
}

/* The segment holding index: the last one starting at or before it. */
static size_t seg_find(const struct rstore *s, uint64_t index)
{
	size_t lo = 0, hi = s->nsegs;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->segs[mid].first <= index)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int seg_open(struct rstore *s, struct rseg *seg)
{
	char name[SEG_NAME_LEN];

	if (seg->fd >= 0)
		return 0;
	seg_name(name, seg->first);
	seg->fd = openat(s->dirfd, name, O_WRONLY | O_CLOEXEC);
	if (seg->fd < 0)
		return io_fail(s, name, "open", -errno);
	return 0;
}

static void seg_close(struct rseg *seg)
{
	if (seg->fd >= 0)
		close(seg->fd);
	seg->fd = -1;
}

static int seg_flush(struct rstore *s, struct rseg *seg)
{
	char name[SEG_NAME_LEN];

	if (!seg->dirty)
		return 0;
	if (fdatasync(seg->fd) < 0) {
		seg_name(name, seg->first);
		return io_fail(s, name, "fdatasync", -errno);
	}
	seg->dirty = false;
	return 0;
}

/* Cuts off a partial write; if this fails, a reopen cuts it as torn. */
static bool seg_untear(struct rseg *seg)
{
	return ftruncate(seg->fd, seg->size) == 0;
}

/* Cuts seg to size bytes, durably. */
static int seg_cut(struct rstore *s, struct rseg *seg, uint64_t size)
{
	char name[SEG_NAME_LEN];
	int err = seg_open(s, seg);

	if (err)
		return err;
	seg_name(name, seg->first);
	if (ftruncate(seg->fd, size) < 0)
		return io_fail(s, name, "ftruncate", -errno);
	seg->dirty = true;
	seg->size = size;
	return seg_flush(s, seg);
}

/* ---- meta ---- */

static void meta_encode(uint8_t *p, const struct rstore_meta *m)
{
	memcpy(p, META_MAGIC, 8);
	put_le32(p + 8, META_VERSION);
	put_le64(p + 12, m->cluster_id);
	put_le32(p + 20, m->node_id);
	put_le64(p + 24, m->term);
	put_le32(p + 32, m->vote);
	put_le32(p + 36, crc32c(0, p, 36));
}

static int meta_decode(struct rstore *s, const uint8_t *p, ssize_t len)
{
	if (len > META_BYTES)
		return fail(s, -EUCLEAN, "%s/meta: longer than %d bytes; refusing to start",
			    s->dir, META_BYTES);
	if (len < META_BYTES)
		return fail(s, -EUCLEAN, "%s/meta: %zd bytes, not %d; refusing to start",
			    s->dir, len, META_BYTES);
	if (memcmp(p, META_MAGIC, 8) || get_le32(p + 36) != crc32c(0, p, 36))
		return fail(s, -EUCLEAN, "%s/meta: corrupt (%s); refusing to start",
			    s->dir, memcmp(p, META_MAGIC, 8) ? "bad magic" :
			    "crc mismatch");
	if (get_le32(p + 8) != META_VERSION)
		return fail(s, -EPROTONOSUPPORT, "%s/meta: version %" PRIu32 ", this program knows %d",
			    s->dir, get_le32(p + 8), META_VERSION);
	s->meta.cluster_id = get_le64(p + 12);
	s->meta.node_id = get_le32(p + 20);
	s->meta.term = get_le64(p + 24);
	s->meta.vote = get_le32(p + 32);
	return 0;
}

/* Reads meta into s->meta: 1 if read, 0 if there is none, or an error. */
static int meta_load(struct rstore *s)
{
	uint8_t buf[META_BYTES + 1];
	ssize_t len;
	int fd, err;

	fd = openat(s->dirfd, "meta", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return io_fail(s, "meta", "open", -errno);
	len = pread_upto(fd, buf, sizeof(buf), 0);
	close(fd);
	if (len < 0)
		return io_fail(s, "meta", "read", (int)len);
	err = meta_decode(s, buf, len);
	return err ? err : 1;
}

static int meta_store(struct rstore *s, const struct rstore_meta *m)
{
	uint8_t buf[META_BYTES];
	const char *op = "write";
	int fd, err;

	meta_encode(buf, m);
	fd = openat(s->dirfd, "meta.tmp",
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return io_fail(s, "meta.tmp", "open", -errno);
	err = pwrite_full(fd, buf, sizeof(buf), 0);
	if (!err && fsync(fd) < 0) {
		op = "fsync";
		err = -errno;
	}
	close(fd);
	if (err) {
		unlinkat(s->dirfd, "meta.tmp", 0);
		return io_fail(s, "meta.tmp", op, err);
	}
	if (renameat(s->dirfd, "meta.tmp", s->dirfd, "meta") < 0)
		return io_fail(s, "meta", "rename", -errno);
	err = sync_dir(s);
	if (!err)
		s->meta = *m;
	return err;
}

/* ---- snapshot files ---- */

/* "<prefix>-<index>-<term><suffix>": snapshots, their tmp files, parts. */
static void snap_name(char *buf, const char *prefix, uint64_t index,
		      uint64_t term, const char *suffix)
{
	snprintf(buf, NAME_LEN, "%s-%016" PRIx64 "-%016" PRIx64 "%s", prefix,
		 index, term, suffix);
}

/* Only the canonical spelling counts, and never index 0. */
static bool snap_name_parse(const char *name, const char *prefix,
			    const char *suffix, uint64_t *index,
			    uint64_t *term)
{
	size_t plen = strlen(prefix);
	char canon[NAME_LEN];

	if (strncmp(name, prefix, plen) ||
	    sscanf(name + plen, "-%16" SCNx64 "-%16" SCNx64, index, term) != 2)
		return false;
	snap_name(canon, prefix, *index, *term, suffix);
	return *index && !strcmp(canon, name);
}

static void snap_header(uint8_t *p, uint64_t cluster_id, uint64_t index,
			uint64_t term, uint32_t conf_len, uint64_t data_len)
{
	memcpy(p, SNAP_MAGIC, 8);
	put_le32(p + 8, SNAP_VERSION);
	put_le64(p + 12, cluster_id);
	put_le64(p + 20, index);
	put_le64(p + 28, term);
	put_le32(p + 36, conf_len);
	put_le64(p + 40, data_len);
	put_le32(p + 48, crc32c(0, p, 48));
}

/* Checks the header p of a file of size bytes that should hold index, term. */
static bool snap_header_ok(const struct rstore *s, const uint8_t *p,
			   uint64_t size, uint64_t index, uint64_t term,
			   char *why, size_t whylen)
{
	uint32_t conf_len = get_le32(p + 36);
	uint64_t data_len = get_le64(p + 40);

	if (memcmp(p, SNAP_MAGIC, 8))
		snprintf(why, whylen, "bad magic");
	else if (get_le32(p + 48) != crc32c(0, p, 48))
		snprintf(why, whylen, "header crc mismatch");
	else if (get_le32(p + 8) != SNAP_VERSION)
		snprintf(why, whylen, "version %" PRIu32 ", this program knows %d",
			 get_le32(p + 8), SNAP_VERSION);
	else if (get_le64(p + 12) != s->meta.cluster_id)
		snprintf(why, whylen, "of cluster 0x%" PRIx64 ", not 0x%" PRIx64,
			 get_le64(p + 12), s->meta.cluster_id);
	else if (get_le64(p + 20) != index || get_le64(p + 28) != term)
		snprintf(why, whylen, "the header says index %" PRIu64 " term %" PRIu64 ", the name %" PRIu64 " %" PRIu64,
			 get_le64(p + 20), get_le64(p + 28), index, term);
	else if (conf_len > RSTORE_SNAP_CONF_MAX ||
		 data_len > RSTORE_SNAP_DATA_MAX)
		snprintf(why, whylen, "%" PRIu32 " bytes of conf, %" PRIu64 " of data: more than allowed",
			 conf_len, data_len);
	else if (size != SNAP_HDR + conf_len + data_len + 4)
		snprintf(why, whylen, "%" PRIu64 " bytes, the header says %" PRIu64,
			 size, SNAP_HDR + conf_len + data_len + 4);
	else
		return true;
	return false;
}

static void snapbuf_free(struct snapbuf *sb)
{
	free(sb->conf);
	free(sb->data);
	sb->conf = sb->data = NULL;
}

/*
 * len bytes at off of name (open at fd) into buf: 0, -EBADMSG (why says
 * it) if the file ends before.
 */
static int read_at(struct rstore *s, int fd, const char *name, uint64_t off,
		   void *buf, uint64_t len, char *why, size_t whylen)
{
	ssize_t n = pread_upto(fd, buf, len, off);

	if (n < 0)
		return op_fail(s, name, "read", (int)n);
	if ((uint64_t)n < len) {
		snprintf(why, whylen, "cut short while read");
		return -EBADMSG;
	}
	return 0;
}

/* read_at() into *out, malloc'd (NULL if len is 0). */
static int read_blob(struct rstore *s, int fd, const char *name, uint64_t off,
		     uint64_t len, uint8_t **out, char *why, size_t whylen)
{
	*out = NULL;
	if (!len)
		return 0;
	*out = malloc(len);
	if (!*out)
		return fail(s, -ENOMEM, "%s/%s: out of memory for %" PRIu64 " bytes",
			    s->dir, name, len);
	return read_at(s, fd, name, off, *out, len, why, whylen);
}

/*
 * Reads the snapshot file name, open at fd, which should hold index and
 * term, into sb (freed on failure) and its size into *size: 0, -EBADMSG
 * (why says what is wrong) if it is not a whole, valid snapshot of this
 * cluster, or the error of a system call.
 */
static int snap_read_all(struct rstore *s, int fd, const char *name,
			 uint64_t index, uint64_t term, struct snapbuf *sb,
			 uint64_t *size, char *why, size_t whylen)
{
	uint8_t hdr[SNAP_HDR], tail[4];
	struct stat st;
	uint32_t crc;
	ssize_t n;
	int err;

	if (fstat(fd, &st) < 0)
		return op_fail(s, name, "fstat", -errno);
	*size = st.st_size;
	n = pread_upto(fd, hdr, SNAP_HDR, 0);
	if (n < 0)
		return op_fail(s, name, "read", (int)n);
	if (n < SNAP_HDR) {
		snprintf(why, whylen, "%zd bytes, shorter than a header", n);
		return -EBADMSG;
	}
	if (!snap_header_ok(s, hdr, *size, index, term, why, whylen))
		return -EBADMSG;
	sb->conf_len = get_le32(hdr + 36);
	sb->data_len = get_le64(hdr + 40);
	err = read_blob(s, fd, name, SNAP_HDR, sb->conf_len, &sb->conf, why,
			whylen);
	if (!err)
		err = read_blob(s, fd, name, SNAP_HDR + sb->conf_len,
				sb->data_len, &sb->data, why, whylen);
	if (!err)
		err = read_at(s, fd, name, *size - 4, tail, 4, why, whylen);
	if (!err) {
		crc = crc32c(0, hdr, SNAP_HDR);
		crc = crc32c(crc, sb->conf, sb->conf_len);
		crc = crc32c(crc, sb->data, sb->data_len);
		if (crc != get_le32(tail)) {
			snprintf(why, whylen, "crc mismatch");
			err = -EBADMSG;
		}
	}
	if (err)
		snapbuf_free(sb);
	return err;
}

/* Makes the snapshot at index, of term, open at fd, the current one. */
static void snap_set(struct rstore *s, uint64_t index, uint64_t term,
		     uint64_t size, int fd)
{
	if (s->snap.fd >= 0)
		close(s->snap.fd);
	s->snap = (struct rsnap){ index, term, size, fd };
}

/* Hands sb, the current snapshot's, over to fn. */
static int snap_hand(struct rstore *s, rstore_snap_fn fn, void *arg,
		     struct snapbuf *sb)
{
	int err;

	if (!fn) {
		snapbuf_free(sb);
		return 0;
	}
	err = fn(arg, s->snap.index, s->snap.term, sb->conf, sb->conf_len,
		 sb->data, sb->data_len);
	sb->conf = sb->data = NULL;
	if (err)
		return fail(s, err, "%s: loading snapshot %" PRIu64 ": %s",
			    s->dir, s->snap.index, strerror(-err));
	return 0;
}

/* ---- open: the directory, its segments, their records ---- */

static int sync_parent(struct rstore *s)
{
	char *copy = strdup(s->dir);
	int fd, err = 0;

	if (!copy)
		return fail(s, -ENOMEM, "%s: out of memory", s->dir);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		err = fail(s, -errno, "%s: fsync of its parent: %s", s->dir,
			   strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return err;
}

static int dir_open(struct rstore *s)
{
	int err;

	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0 && errno == ENOENT) {
		if (mkdir(s->dir, 0755) < 0 && errno != EEXIST)
			return io_fail(s, NULL, "mkdir", -errno);
		err = sync_parent(s);
		if (err)
			return err;
		s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (s->dirfd < 0)
		return io_fail(s, NULL, "open", -errno);
	if (flock(s->dirfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return fail(s, -EBUSY, "%s: in use by another process",
				    s->dir);
		return io_fail(s, NULL, "flock", -errno);
	}
	return 0;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct rseg *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

typedef int (*name_fn)(struct rstore *s, const char *name, void *arg);

/* Calls fn for each name in the directory, until it returns an error. */
static int dir_scan(struct rstore *s, name_fn fn, void *arg)
{
	struct dirent *de;
	DIR *d;
	int fd, err = 0;

	fd = dup(s->dirfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		err = op_fail(s, NULL, "opendir", -errno);
		if (fd >= 0)
			close(fd);
		return err;
	}
	rewinddir(d);
	while (!err && (de = readdir(d)))
		err = fn(s, de->d_name, arg);
	closedir(d);
	return err;
}

static int seg_found(struct rstore *s, const char *name, void *arg)
{
	uint64_t first;
	int err;

	(void)arg;
	if (!seg_name_parse(name, &first))
		return 0;
	err = segs_reserve(s, s->nsegs + 1);
	if (!err)
		s->segs[s->nsegs++] = (struct rseg){ .first = first, .fd = -1 };
	return err;
}

/* Fills s->segs with the segments found, in index order. */
static int segs_list(struct rstore *s)
{
	int err = dir_scan(s, seg_found, NULL);

	if (!err && s->nsegs)
		qsort(s->segs, s->nsegs, sizeof(*s->segs), seg_cmp);
	return err;
}

static int seg_read(struct rstore *s, const char *name, uint8_t **buf,
		    uint64_t *size)
{
	struct stat st;
	ssize_t len;
	int fd;

	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_fail(s, name, "open", -errno);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return io_fail(s, name, "fstat", -errno);
	}
	*size = st.st_size;
	*buf = malloc(*size ? *size : 1);
	if (!*buf) {
		close(fd);
		return fail(s, -ENOMEM, "%s/%s: out of memory for %" PRIu64 " bytes",
			    s->dir, name, *size);
	}
	len = pread_upto(fd, *buf, *size, 0);
	close(fd);
	if (len < 0 || (uint64_t)len != *size) {
		free(*buf);
		return io_fail(s, name, "read", len < 0 ? (int)len : -EIO);
	}
	return 0;
}

static bool all_zero(const uint8_t *p, uint64_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/*
 * Checks the record at p, rem bytes before end of file.  If bad, says why
 * and sets *torn if a crash while appending it could explain it.
 */
static bool record_ok(const struct rstore *s, const uint8_t *p, uint64_t rem,
		      char *why, size_t whylen, bool *torn)
{
	uint32_t len;

	*torn = false;
	if (rem < REC_HDR) {
		*torn = true;
		snprintf(why, whylen, "header cut short");
		return false;
	}
	len = get_le32(p);
	if (len == 0 || len > REC_PAYLOAD_MAX) {
		snprintf(why, whylen, "bad length %" PRIu32, len);
		return false;
	}
	if (rem < REC_HDR + len) {
		*torn = true;
		snprintf(why, whylen, "cut short");
		return false;
	}
	if (get_le32(p + 4) != crc32c(0, p + 8, REC_HDR - 8 + len)) {
		/* Zeros after it: blocks allocated but never written. */
		*torn = all_zero(p + REC_HDR + len, rem - REC_HDR - len);
		snprintf(why, whylen, "crc mismatch");
		return false;
	}
	if (get_le64(p + 16) != s->last + 1) {
		snprintf(why, whylen, "index %" PRIu64 ", expected %" PRIu64,
			 get_le64(p + 16), s->last + 1);
		return false;
	}
	if (get_le64(p + 8) < last_term(s)) {
		snprintf(why, whylen, "term %" PRIu64 " after term %" PRIu64,
			 get_le64(p + 8), last_term(s));
		return false;
	}
	return true;
}

/*
 * Entry index, of term, is one the snapshot holds: not indexed, only
 * checked against the snapshot.  1 if it says the log does not go on from
 * the snapshot.
 */
static int record_skip(struct rstore *s, const char *name, uint64_t index,
		       uint64_t term)
{
	if (index == s->snap.index && term != s->snap.term) {
		warn_add(s, "%s/%s: entry %" PRIu64 " has term %" PRIu64 ", the snapshot's is %" PRIu64 ": the log does not go on from the snapshot (a crash in a snapshot install), dropped it",
			 s->dir, name, index, term, s->snap.term);
		return 1;
	}
	s->base = s->last = index;
	s->base_term = term;
	return 0;
}

/*
 * Indexes the valid record at p, offset off of segment name, and hands it
 * to load.  1 if the log does not go on from the snapshot.
 */
static int record_load(struct rstore *s, const char *name, const uint8_t *p,
		       uint64_t off, rstore_load_fn load, void *arg)
{
	struct raft_entry e = {
		.term = get_le64(p + 8),
		.index = get_le64(p + 16),
		.type = p[REC_HDR],
		.len = get_le32(p) - 1,
	};
	int err;

	if (e.index <= s->snap.index)
		return record_skip(s, name, e.index, e.term);
	err = pos_reserve(s, 1);
	if (err)
		return err;
	pos_add(s, off, e.term);
	if (!load)
		return 0;
	if (e.len) {
		e.data = malloc(e.len);
		if (!e.data)
			return fail(s, -ENOMEM, "%s: out of memory", s->dir);
		memcpy(e.data, p + REC_HDR + 1, e.len);
	}
	err = load(arg, &e);
	if (err)
		return fail(s, err, "%s: loading entry %" PRIu64 ": %s",
			    s->dir, e.index, strerror(-err));
	return 0;
}

/* The record at off of seg, the last segment, is torn: cut it off. */
static int record_cut(struct rstore *s, struct rseg *seg, const char *name,
		      uint64_t off, uint64_t size, const char *why)
{
	int err = seg_cut(s, seg, off);

	seg_close(seg);
	if (err)
		return err;
	warn_add(s, "%s/%s: torn record at offset %" PRIu64 " (%s), truncated %" PRIu64 " bytes",
		 s->dir, name, off, why, size - off);
	return 0;
}

/* Loads segment k: 0, 1 if the log does not go on from the snapshot. */
static int seg_load(struct rstore *s, size_t k, rstore_load_fn load,
		    void *arg)
{
	struct rseg *seg = &s->segs[k];
	char name[SEG_NAME_LEN], why[96];
	uint64_t size = 0, off = 0;
	uint8_t *buf = NULL;
	bool torn;
	int err;

	seg_name(name, seg->first);
	if (seg->first != s->last + 1)
		return fail(s, -EUCLEAN, "%s/%s: starts at index %" PRIu64 " but the log before it ends at %" PRIu64 "; refusing to start",
			    s->dir, name, seg->first, s->last);
	err = seg_read(s, name, &buf, &size);
	if (err)
		return err;
	while (off < size) {
		if (!record_ok(s, buf + off, size - off, why, sizeof(why),
			       &torn))
			break;
		err = record_load(s, name, buf + off, off, load, arg);
		if (err)
			goto out;
		off += REC_HDR + get_le32(buf + off);
	}
	seg->size = off;
	if (off == size)
		goto out;
	if (!torn && all_zero(buf + off, size - off)) {
		torn = true;
		snprintf(why, sizeof(why), "zeros to the end of the file");
	}
	if (torn && k + 1 == s->nsegs)
		err = record_cut(s, seg, name, off, size, why);
	else
		err = fail(s, -EUCLEAN, "%s/%s: corrupt record at offset %" PRIu64 " (%s); the log before it is intact, refusing to start",
			   s->dir, name, off, why);
out:
	free(buf);
	return err;
}

/* Loads the log: 0, 1 if it does not go on from the snapshot. */
static int log_load(struct rstore *s, rstore_load_fn load, void *arg)
{
	size_t k;
	int err;

	s->base = s->nsegs ? s->segs[0].first - 1 : s->snap.index;
	s->base_term = s->base == s->snap.index ? s->snap.term : 0;
	s->last = s->base;
	for (k = 0; k < s->nsegs; k++) {
		err = seg_load(s, k, load, arg);
		if (err)
			return err;
	}
	return 0;
}

/* The snapshot files found, newest first once sorted. */
struct snaplist {
	struct rsnap *v;
	size_t n;
	size_t cap;
};

static int snap_found(struct rstore *s, const char *name, void *arg)
{
	struct snaplist *l = arg;
	uint64_t index, term;
	size_t cap;
	void *v;

	if (!snap_name_parse(name, SNAP_PREFIX, SNAP_SUFFIX, &index, &term))
		return 0;
	if (l->n == l->cap) {
		cap = l->cap ? 2 * l->cap : 8;
		v = realloc(l->v, cap * sizeof(*l->v));
		if (!v)
			return fail(s, -ENOMEM, "%s: out of memory", s->dir);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct rsnap){ .index = index, .term = term,
				       .fd = -1 };
	return 0;
}

static int snap_cmp_newest(const void *a, const void *b)
{
	const struct rsnap *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? 1 : -1;
	return x->term < y->term ? 1 : x->term > y->term ? -1 : 0;
}

/* Reads the newest valid snapshot of l into s->snap and sb, if any. */
static int snap_pick(struct rstore *s, struct snaplist *l,
		     struct snapbuf *sb)
{
	char name[NAME_LEN], why[160];
	struct rsnap *c;
	size_t i;
	int fd, err;

	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), snap_cmp_newest);
	for (i = 0; i < l->n; i++) {
		c = &l->v[i];
		snap_name(name, SNAP_PREFIX, c->index, c->term, SNAP_SUFFIX);
		fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return op_fail(s, name, "open", -errno);
		err = snap_read_all(s, fd, name, c->index, c->term, sb,
				    &c->size, why, sizeof(why));
		if (!err) {
			snap_set(s, c->index, c->term, c->size, fd);
			return 0;
		}
		close(fd);
		if (err != -EBADMSG)
			return err;
		warn_add(s, "%s/%s: %s; skipped this snapshot", s->dir, name,
			 why);
	}
	return 0;
}

/* The log must go on from the snapshot, or from index 1 without one. */
static int log_gap_check(struct rstore *s)
{
	char name[SEG_NAME_LEN];
	uint64_t first;

	if (!s->nsegs || s->segs[0].first <= s->snap.index + 1)
		return 0;
	first = s->segs[0].first;
	seg_name(name, first);
	if (!s->snap.index)
		return fail(s, -EUCLEAN, "%s/%s: entries 1..%" PRIu64 " are missing: the log starts at index %" PRIu64 " and there is no valid snapshot; refusing to start",
			    s->dir, name, first - 1, first);
	return fail(s, -EUCLEAN, "%s/%s: entries %" PRIu64 "..%" PRIu64 " are missing: the log starts at index %" PRIu64 " and the snapshot ends at %" PRIu64 "; refusing to start",
		    s->dir, name, s->snap.index + 1, first - 1, first,
		    s->snap.index);
}

static int log_replace(struct rstore *s, uint64_t index, uint64_t term);

/*
 * After the log was loaded (stale if it does not go on from the snapshot):
 * drops it if it does not, or if it ends before the snapshot; makes it a
 * segment if it has none.
 */
static int log_settle(struct rstore *s, bool stale)
{
	char name[NAME_LEN];

	if (!s->snap.index)
		return 0;
	if (!stale && s->nsegs && s->last < s->snap.index) {
		snap_name(name, SNAP_PREFIX, s->snap.index, s->snap.term,
			  SNAP_SUFFIX);
		warn_add(s, "%s: the log ends at index %" PRIu64 ", before snapshot %s (a crash in a snapshot install, or before the log was synced): dropped the log",
			 s->dir, s->last, name);
		stale = true;
	}
	if (stale || !s->nsegs)
		return log_replace(s, s->snap.index, s->snap.term);
	return 0;
}

/*
 * A part left by a reception: the newest one is resumed; older ones, and
 * those the snapshot made useless, are unlinked.
 */
static int part_found(struct rstore *s, const char *name, void *arg)
{
	struct rrecv *r = &s->recv;
	uint64_t index, term;
	char old[NAME_LEN];
	struct stat st;

	(void)arg;
	if (!snap_name_parse(name, RECV_PREFIX, PART_SUFFIX, &index, &term))
		return 0;
	if (index <= s->snap.index || index < r->index ||
	    (index == r->index && term < r->term)) {
		unlinkat(s->dirfd, name, 0);
		return 0;
	}
	if (fstatat(s->dirfd, name, &st, 0) < 0)
		return op_fail(s, name, "stat", -errno);
	if (r->index) {
		snap_name(old, RECV_PREFIX, r->index, r->term, PART_SUFFIX);
		unlinkat(s->dirfd, old, 0);
	}
	*r = (struct rrecv){ index, term, st.st_size, -1 };
	return 0;
}

/* Unlinks snapshot tmp files, and if arg is true other snapshots too. */
static int stale_found(struct rstore *s, const char *name, void *arg)
{
	bool *others = arg;
	uint64_t index, term;

	if (snap_name_parse(name, SNAP_PREFIX, TMP_SUFFIX, &index, &term) ||
	    (*others &&
	     snap_name_parse(name, SNAP_PREFIX, SNAP_SUFFIX, &index, &term) &&
	     (index != s->snap.index || term != s->snap.term)))
		unlinkat(s->dirfd, name, 0);
	return 0;
}

/* Unlinks what a crash left behind, or what a new snapshot replaced. */
static void snaps_prune(struct rstore *s, bool others)
{
	dir_scan(s, stale_found, &others);
}

static int check_identity(struct rstore *s, uint64_t cluster_id,
			  uint32_t node_id)
{
	if (s->meta.cluster_id == cluster_id && s->meta.node_id == node_id)
		return 0;
	return fail(s, -EEXIST, "%s belongs to cluster 0x%" PRIx64 " node %" PRIu32 ", not cluster 0x%" PRIx64 " node %" PRIu32 "; refusing to touch it",
		    s->dir, s->meta.cluster_id, s->meta.node_id, cluster_id,
		    node_id);
}

/* Reads the snapshot files; hands the newest valid one over to snap. */
static int snap_load(struct rstore *s, bool have_meta, rstore_snap_fn snap,
		     void *arg)
{
	struct snaplist l = { NULL, 0, 0 };
	struct snapbuf sb = { 0 };
	int err;

	err = dir_scan(s, snap_found, &l);
	if (!err && !have_meta && (s->nsegs || l.n))
		err = fail(s, -EUCLEAN, "%s has %s but no meta; refusing to start",
			   s->dir, s->nsegs ? "log segments" : "snapshots");
	if (!err)
		err = snap_pick(s, &l, &sb);
	free(l.v);
	if (!err)
		err = log_gap_check(s);
	if (!err && s->snap.index)
		err = snap_hand(s, snap, arg, &sb);
	snapbuf_free(&sb);
	return err;
}

static int store_load(struct rstore *s, uint64_t cluster_id, uint32_t node_id,
		      rstore_snap_fn snap, rstore_load_fn load, void *arg)
{
	struct rstore_meta fresh = { cluster_id, node_id, 0, 0 };
	int err, have_meta;

	err = dir_open(s);
	if (err)
		return err;
	have_meta = meta_load(s);
	if (have_meta < 0)
		return have_meta;
	if (have_meta) {
		err = check_identity(s, cluster_id, node_id);
		if (err)
			return err;
	}
	err = segs_list(s);
	if (!err)
		err = snap_load(s, have_meta, snap, arg);
	if (!err)
		err = log_load(s, load, arg);
	if (err >= 0)
		err = log_settle(s, err > 0);
	if (!err)
		err = dir_scan(s, part_found, NULL);
	if (err)
		return err;
	snaps_prune(s, false);
	return have_meta ? 0 : meta_store(s, &fresh);
}

int rstore_open2(const char *dir, uint64_t cluster_id, uint32_t node_id,
		 uint32_t segment_bytes, rstore_snap_fn snap,
		 rstore_load_fn load, void *arg, struct rstore **out,
		 struct rstore_meta *meta, char *err, size_t errlen,
		 char *warn, size_t warnlen)
{
	struct rstore *s = calloc(1, sizeof(*s));
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (warn && warnlen)
		warn[0] = '\0';
	if (s) {
		s->dirfd = -1;
		s->snap.fd = -1;
		s->recv.fd = -1;
		s->segment_bytes = segment_bytes ? segment_bytes :
						   RSTORE_SEGMENT_BYTES;
		s->dir = strdup(dir);
		s->wbuf = malloc(WBUF_BYTES);
		s->warn = warn;
		s->warnlen = warnlen;
	}
	if (!s || !s->dir || !s->wbuf) {
		rstore_close(s);
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", dir);
		return -ENOMEM;
	}
	ret = store_load(s, cluster_id, node_id, snap, load, arg);
	s->warn = NULL;
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s", s->errmsg);
		rstore_close(s);
		return ret;
	}
	*meta = s->meta;
	*out = s;
	return 0;
}

int rstore_open(const char *dir, uint64_t cluster_id, uint32_t node_id,
		uint32_t segment_bytes, rstore_load_fn load, void *arg,
		struct rstore **out, struct rstore_meta *meta,
		char *err, size_t errlen, char *warn, size_t warnlen)
{
	return rstore_open2(dir, cluster_id, node_id, segment_bytes, NULL,
			    load, arg, out, meta, err, errlen, warn, warnlen);
}

void rstore_close(struct rstore *s)
{
	size_t k;

	if (!s)
		return;
	for (k = 0; k < s->nsegs; k++)
		seg_close(&s->segs[k]);
	if (s->snap.fd >= 0)
		close(s->snap.fd);
	if (s->recv.fd >= 0)
		close(s->recv.fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->segs);
	free(s->pos);
	free(s->wbuf);
	free(s->dir);
	free(s);
}

/* ---- writing ---- */

int rstore_save_meta(struct rstore *s, uint64_t term, uint32_t vote)
{
	struct rstore_meta m = s->meta;

	if (s->broken)
		return s->broken;
	m.term = term;
	m.vote = vote;
	return meta_store(s, &m);
}

static int append_check(struct rstore *s, const struct raft_entry *e,
			size_t n)
{
	uint64_t term = last_term(s);
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i].index != s->last + 1 + i)
			return fail(s, -EINVAL, "append: entry %zu has index %" PRIu64 ", expected %" PRIu64,
				    i, e[i].index, s->last + 1 + i);
		if (e[i].term < term)
			return fail(s, -EINVAL, "append: entry %" PRIu64 " has term %" PRIu64 ", after term %" PRIu64,
				    e[i].index, e[i].term, term);
		if (e[i].len > RAFT_ENTRY_DATA_MAX || (e[i].len && !e[i].data))
			return fail(s, -EINVAL, "append: entry %" PRIu64 " has %" PRIu32 " bytes of data%s",
				    e[i].index, e[i].len,
				    e[i].len > RAFT_ENTRY_DATA_MAX ?
				    ", more than allowed" : " at NULL");
		term = e[i].term;
	}
	return 0;
}

static size_t record_encode(uint8_t *p, const struct raft_entry *e)
{
	uint32_t len = 1 + e->len;

	put_le32(p, len);
	put_le64(p + 8, e->term);
	put_le64(p + 16, e->index);
	p[REC_HDR] = e->type;
	if (e->len)
		memcpy(p + REC_HDR + 1, e->data, e->len);
	put_le32(p + 4, crc32c(0, p + 8, REC_HDR - 8 + len));
	return REC_HDR + len;
}

/* Makes a new last segment for entries from first on. */
static int seg_roll(struct rstore *s, uint64_t first)
{
	char name[SEG_NAME_LEN];
	struct rseg *tail;
	int fd, err;

	if (s->nsegs) {
		tail = &s->segs[s->nsegs - 1];
		err = seg_flush(s, tail);
		if (err)
			return err;
		seg_close(tail);
	}
	err = segs_reserve(s, s->nsegs + 1);
	if (err)
		return err;
	seg_name(name, first);
	fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return io_fail(s, name, "create", -errno);
	s->segs[s->nsegs++] = (struct rseg){ .first = first, .fd = fd };
	s->dir_dirty = true;
	return 0;
}

/* The segment to append entry index to, open for writing. */
static int tail_get(struct rstore *s, uint64_t index, struct rseg **tail)
{
	int err;

	if (!s->nsegs || s->segs[s->nsegs - 1].size >= s->segment_bytes) {
		err = seg_roll(s, index);
		if (err)
			return err;
	}
	*tail = &s->segs[s->nsegs - 1];
	return seg_open(s, *tail);
}

/*
 * Writes e[*i], e[*i + 1]... to the tail while they fit in the write buffer
 * and the segment is not full; advances *i past them.
 */
static int append_chunk(struct rstore *s, struct rseg *tail,
			const struct raft_entry *e, size_t n, size_t *i)
{
	char name[SEG_NAME_LEN];
	uint64_t off = tail->size;
	size_t k, used = 0;
	int err;

	for (k = *i; k < n; k++) {
		if (tail->size + used >= s->segment_bytes ||
		    used + REC_MAX > WBUF_BYTES)
			break;
		used += record_encode(s->wbuf + used, &e[k]);
	}
	err = pwrite_full(tail->fd, s->wbuf, used, tail->size);
	if (err) {
		seg_untear(tail);
		seg_name(name, tail->first);
		return io_fail(s, name, "write", err);
	}
	for (; *i < k; (*i)++) {
		pos_add(s, off, e[*i].term);
		off += REC_HDR + 1 + e[*i].len;
	}
	tail->size = off;
	tail->dirty = true;
	return 0;
}

int rstore_append(struct rstore *s, const struct raft_entry *e, size_t n)
{
	struct rseg *tail = NULL;
	size_t i = 0;
	int err;

	if (s->broken)
		return s->broken;
	err = append_check(s, e, n);
	if (!err)
		err = pos_reserve(s, n);
	while (!err && i < n) {
		err = tail_get(s, e[i].index, &tail);
		if (!err)
			err = append_chunk(s, tail, e, n, &i);
	}
	return err;
}

/* Unlinks the segments from k on, the last first, durably. */
static int segs_unlink_from(struct rstore *s, size_t k)
{
	char name[SEG_NAME_LEN];
	struct rseg *seg;

	if (k >= s->nsegs)
		return 0;
	while (s->nsegs > k) {
		seg = &s->segs[s->nsegs - 1];
		seg_close(seg);
		seg_name(name, seg->first);
		if (unlinkat(s->dirfd, name, 0) < 0)
			return io_fail(s, name, "unlink", -errno);
		s->nsegs--;
	}
	return sync_dir(s);
}

int rstore_truncate(struct rstore *s, uint64_t from_index)
{
	size_t k;
	int err;

	if (s->broken)
		return s->broken;
	if (!from_index)
		return fail(s, -EINVAL, "truncate: index 0 does not exist");
	if (from_index <= s->snap.index)
		return fail(s, -EINVAL, "truncate: entries up to %" PRIu64 " are in the snapshot",
			    s->snap.index);
	if (from_index > s->last)
		return 0;
	k = seg_find(s, from_index);
	/* The first segment stays, if empty, to say where the log starts. */
	if (k && s->segs[k].first == from_index) {
		err = segs_unlink_from(s, k);
	} else {
		err = segs_unlink_from(s, k + 1);
		if (!err)
			err = seg_cut(s, &s->segs[k],
				      pos_at(s, from_index)->off);
	}
	if (err)
		return err;
	s->last = from_index - 1;
	return 0;
}

int rstore_sync(struct rstore *s)
{
	size_t k;
	int err;

	if (s->broken)
		return s->broken;
	for (k = 0; k < s->nsegs; k++) {
		err = seg_flush(s, &s->segs[k]);
		if (err)
			return err;
	}
	return s->dir_dirty ? sync_dir(s) : 0;
}

uint64_t rstore_last_index(const struct rstore *s)
{
	return s->last;
}

const char *rstore_error(const struct rstore *s)
{
	return s->errmsg;
}

/* ---- snapshots ---- */

/* Replaces the log by an empty one going on from index, of term; durably. */
static int log_replace(struct rstore *s, uint64_t index, uint64_t term)
{
	int err = segs_unlink_from(s, 0);

	if (!err)
		err = seg_roll(s, index + 1);
	if (!err)
		err = sync_dir(s);
	if (err)
		return err;
	s->base = s->last = index;
	s->base_term = term;
	return 0;
}

/*
 * Unlinks the segments, oldest first, all of whose entries the snapshot
 * holds: those followed by one starting at or before its index + 1.  A
 * failure leaves the rest for the next snapshot.
 */
static void segs_compact(struct rstore *s)
{
	char name[SEG_NAME_LEN];
	size_t k = 0;

	while (k + 1 < s->nsegs && s->segs[k + 1].first <= s->snap.index + 1) {
		seg_close(&s->segs[k]);
		seg_name(name, s->segs[k].first);
		if (unlinkat(s->dirfd, name, 0) < 0)
			break;
		k++;
	}
	if (!k)
		return;
	s->nsegs -= k;
	memmove(s->segs, s->segs + k, s->nsegs * sizeof(*s->segs));
}

static int snap_save_check(struct rstore *s, uint64_t index, uint64_t term,
			   const void *conf, uint32_t conf_len,
			   const void *data, size_t data_len)
{
	if (index <= s->snap.index || index > s->last)
		return fail(s, -EINVAL, "snapshot: index %" PRIu64 " is not past the snapshot (%" PRIu64 ") and in the log (up to %" PRIu64 ")",
			    index, s->snap.index, s->last);
	if (pos_at(s, index)->term != term)
		return fail(s, -EINVAL, "snapshot: entry %" PRIu64 " has term %" PRIu64 ", not %" PRIu64,
			    index, pos_at(s, index)->term, term);
	if (conf_len > RSTORE_SNAP_CONF_MAX || data_len > RSTORE_SNAP_DATA_MAX)
		return fail(s, -EINVAL, "snapshot: %" PRIu32 " bytes of conf, %zu of data: more than allowed",
			    conf_len, data_len);
	if ((conf_len && !conf) || (data_len && !data))
		return fail(s, -EINVAL, "snapshot: conf or data at NULL");
	return 0;
}

/* Writes the snapshot file name, open at fd, and fsyncs it. */
static int snap_write(struct rstore *s, int fd, const char *name,
		      uint64_t index, uint64_t term, const void *conf,
		      uint32_t conf_len, const void *data, size_t data_len)
{
	uint64_t off = SNAP_HDR + conf_len;
	uint8_t hdr[SNAP_HDR], tail[4];
	uint32_t crc;
	int err;

	snap_header(hdr, s->meta.cluster_id, index, term, conf_len, data_len);
	crc = crc32c(0, hdr, SNAP_HDR);
	crc = crc32c(crc, conf, conf_len);
	put_le32(tail, crc32c(crc, data, data_len));
	err = pwrite_full(fd, hdr, SNAP_HDR, 0);
	if (!err)
		err = pwrite_full(fd, conf, conf_len, SNAP_HDR);
	if (!err)
		err = pwrite_full(fd, data, data_len, off);
	if (!err)
		err = pwrite_full(fd, tail, 4, off + data_len);
	if (err)
		return op_fail(s, name, "write", err);
	if (fsync(fd) < 0)
		return op_fail(s, name, "fsync", -errno);
	return 0;
}

int rstore_snapshot_save(struct rstore *s, uint64_t index, uint64_t term,
			 const void *conf, uint32_t conf_len,
			 const void *data, size_t data_len)
{
	char tmp[NAME_LEN], name[NAME_LEN];
	int fd, err;

	if (s->broken)
		return s->broken;
	err = snap_save_check(s, index, term, conf, conf_len, data, data_len);
	if (err)
		return err;
	snap_name(tmp, SNAP_PREFIX, index, term, TMP_SUFFIX);
	snap_name(name, SNAP_PREFIX, index, term, SNAP_SUFFIX);
	fd = openat(s->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return op_fail(s, tmp, "create", -errno);
	err = snap_write(s, fd, tmp, index, term, conf, conf_len, data,
			 data_len);
	if (!err && renameat(s->dirfd, tmp, s->dirfd, name) < 0)
		err = op_fail(s, name, "rename", -errno);
	if (!err)
		err = sync_dir(s);
	if (err) {
		close(fd);
		unlinkat(s->dirfd, tmp, 0);
		return err;
	}
	snap_set(s, index, term, SNAP_HDR + conf_len + data_len + 4, fd);
	pos_trim(s, index, term);
	segs_compact(s);
	snaps_prune(s, true);
	return 0;
}

int rstore_snapshot_info(const struct rstore *s, uint64_t *index,
			 uint64_t *term, uint64_t *file_size)
{
	if (!s->snap.index)
		return -ENOENT;
	if (index)
		*index = s->snap.index;
	if (term)
		*term = s->snap.term;
	if (file_size)
		*file_size = s->snap.size;
	return 0;
}

ssize_t rstore_snapshot_read(struct rstore *s, uint64_t index,
			     uint64_t offset, void *buf, size_t len)
{
	char name[NAME_LEN];
	ssize_t n;

	if (!s->snap.index)
		return fail(s, -ENOENT, "snapshot read: there is no snapshot");
	if (index != s->snap.index)
		return fail(s, -ESTALE, "snapshot read: snapshot %" PRIu64 " is gone, the snapshot is %" PRIu64,
			    index, s->snap.index);
	if (offset >= s->snap.size)
		return 0;
	if (len > s->snap.size - offset)
		len = s->snap.size - offset;
	n = pread_upto(s->snap.fd, buf, len, offset);
	if (n < 0) {
		snap_name(name, SNAP_PREFIX, s->snap.index, s->snap.term,
			  SNAP_SUFFIX);
		return op_fail(s, name, "read", (int)n);
	}
	return n;
}

/* ---- receiving a snapshot ---- */

/* Unlinks the part being received, if any. */
static void recv_drop(struct rstore *s)
{
	char name[NAME_LEN];

	if (!s->recv.index)
		return;
	if (s->recv.fd >= 0)
		close(s->recv.fd);
	snap_name(name, RECV_PREFIX, s->recv.index, s->recv.term, PART_SUFFIX);
	unlinkat(s->dirfd, name, 0);
	s->recv = (struct rrecv){ .fd = -1 };
}

/* Makes the part of index and term the one being received, open. */
static int recv_open(struct rstore *s, uint64_t index, uint64_t term)
{
	int flags = O_RDWR | O_CLOEXEC;
	char name[NAME_LEN];
	int fd;

	if (s->recv.index != index || s->recv.term != term) {
		recv_drop(s);
		flags |= O_CREAT | O_TRUNC;
	} else if (s->recv.fd >= 0) {
		return 0;
	}
	snap_name(name, RECV_PREFIX, index, term, PART_SUFFIX);
	fd = openat(s->dirfd, name, flags, 0644);
	if (fd < 0)
		return op_fail(s, name, "open", -errno);
	if (flags & O_CREAT)
		s->recv = (struct rrecv){ index, term, 0, fd };
	else
		s->recv.fd = fd;
	return 0;
}

int rstore_recv_write(struct rstore *s, uint64_t index, uint64_t term,
		      uint64_t offset, const void *data, size_t len)
{
	char name[NAME_LEN];
	int err;

	if (index <= s->snap.index)
		return fail(s, -ESTALE, "recv: snapshot %" PRIu64 " is not past this store's, %" PRIu64,
			    index, s->snap.index);
	if (len && !data)
		return fail(s, -EINVAL, "recv: data at NULL");
	err = recv_open(s, index, term);
	if (err)
		return err;
	/* Offset 0 starts over: two leaders' files of one index may differ. */
	if (!offset && s->recv.size) {
		if (ftruncate(s->recv.fd, 0) < 0) {
			err = errno;
			recv_drop(s);
			return fail(s, -err, "recv: cannot empty the part: %s",
				    strerror(err));
		}
		s->recv.size = 0;
	}
	if (offset != s->recv.size)
		return fail(s, -ERANGE, "recv: a chunk at offset %" PRIu64 ", but %" PRIu64 " bytes are received",
			    offset, s->recv.size);
	if (len > SNAP_FILE_MAX || offset > SNAP_FILE_MAX - len)
		return fail(s, -EFBIG, "recv: %" PRIu64 " bytes and %zu more: more than a snapshot can be",
			    offset, len);
	snap_name(name, RECV_PREFIX, index, term, PART_SUFFIX);
	err = pwrite_full(s->recv.fd, data, len, offset);
	if (err) {
		/* Either the part is as before, or it starts over. */
		if (ftruncate(s->recv.fd, offset) < 0)
			recv_drop(s);
		return op_fail(s, name, "write", err);
	}
	s->recv.size += len;
	return 0;
}

int rstore_recv_state(const struct rstore *s, uint64_t *index,
		      uint64_t *term, uint64_t *offset)
{
	if (!s->recv.index)
		return -ENOENT;
	if (index)
		*index = s->recv.index;
	if (term)
		*term = s->recv.term;
	if (offset)
		*offset = s->recv.size;
	return 0;
}

/*
 * The part, whole at total bytes: fsync'd, checked, read into sb.  If it
 * is not valid, or not past the snapshot, unlinks it.
 */
static int recv_check(struct rstore *s, const char *part, uint64_t total,
		      struct snapbuf *sb)
{
	char why[160];
	uint64_t size;
	int err;

	if (s->recv.index <= s->snap.index) {
		err = fail(s, -ESTALE, "%s/%s: not past the snapshot, %" PRIu64 "; unlinked it",
			   s->dir, part, s->snap.index);
		recv_drop(s);
		return err;
	}
	err = recv_open(s, s->recv.index, s->recv.term);
	if (!err && fsync(s->recv.fd) < 0)
		err = op_fail(s, part, "fsync", -errno);
	if (err) {
		recv_drop(s);
		return err;
	}
	if (s->recv.size != total) {
		snprintf(why, sizeof(why), "%" PRIu64 " bytes, not %" PRIu64,
			 s->recv.size, total);
		err = -EBADMSG;
	} else {
		err = snap_read_all(s, s->recv.fd, part, s->recv.index,
				    s->recv.term, sb, &size, why, sizeof(why));
	}
	if (err == -EBADMSG)
		fail(s, err, "%s/%s: %s; unlinked it", s->dir, part, why);
	if (err)
		recv_drop(s);
	return err;
}

int rstore_recv_finish(struct rstore *s, uint64_t total, rstore_snap_fn snap,
		       void *arg)
{
	char part[NAME_LEN], name[NAME_LEN];
	struct snapbuf sb = { 0 };
	struct rrecv r = s->recv;
	int err;

	if (s->broken)
		return s->broken;
	if (!r.index)
		return fail(s, -ENOENT, "recv: no snapshot is being received");
	snap_name(part, RECV_PREFIX, r.index, r.term, PART_SUFFIX);
	if (r.size < total)
		return fail(s, -ERANGE, "%s/%s: %" PRIu64 " bytes of %" PRIu64 " received",
			    s->dir, part, r.size, total);
	err = recv_check(s, part, total, &sb);
	if (err)
		return err;
	r = s->recv;
	snap_name(name, SNAP_PREFIX, r.index, r.term, SNAP_SUFFIX);
	if (renameat(s->dirfd, part, s->dirfd, name) < 0) {
		err = op_fail(s, name, "rename", -errno);
		goto out;
	}
	/* The part's fd is the snapshot's now. */
	s->recv = (struct rrecv){ .fd = -1 };
	err = sync_dir(s);
	if (err) {
		close(r.fd);
		goto out;
	}
	snap_set(s, r.index, r.term, r.size, r.fd);
	err = log_replace(s, r.index, r.term);
	if (err)
		goto out;
	snaps_prune(s, true);
	return snap_hand(s, snap, arg, &sb);
out:
	snapbuf_free(&sb);
	return err;
}
