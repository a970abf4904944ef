/*
 * store.h - typed storage over LMDB: one environment per node.
 *
 * The store layer knows keys and values, not services: the kernel gives
 * every key its namespace prefix (service, store; see src/kernel/kv.c)
 * and names the quota owner of every write.  So no call here can reach a
 * key the kernel did not build, and the cluster issue can put a
 * replicated implementation behind the same write path.
 *
 * Reads run on the caller's thread in a read transaction (LMDB MVCC: they
 * never wait for writers) and copy the value out.  Writes are batches:
 * sos_store_submit copies a batch and queues it; one committer thread
 * takes every batch waiting, applies each in a nested transaction (so a
 * batch is atomic and a failed one leaves no trace), commits them all in
 * one LMDB transaction with one sync, and only then tells each submitter
 * its outcome.  That is group commit: many writes per fsync, and a write
 * is acknowledged only when it is durable.
 *
 * Quotas: each owner has a byte count (keys plus values) and a key count,
 * kept in the same transactions as the data, so they are exact after any
 * crash.  A batch that would pass its owner's limits fails with
 * SOS_EQUOTA and changes nothing.
 */
#ifndef SOS_STORE_H
#define SOS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sos_store sos_store;

/* LMDB's limit on key length (mdb_env_get_maxkeysize with default build). */
#define SOS_STORE_MAX_KEY 511
/* Largest value the store accepts. */
#define SOS_STORE_MAX_VALUE (4u << 20)

struct sos_store_config {
  uint64_t map_size; /* bytes of address space for the file; default 4 GiB */
};

/* Opens (creating) the environment in folder dir (created, mode 0700).
 * cfg may be NULL.  Starts the committer thread.  Errors: SOS_EIO with
 * LMDB's or errno's words in err, SOS_ENOMEM. */
int sos_store_open(const char *dir, const struct sos_store_config *cfg, sos_store **out,
                   char *err, size_t errlen);

/* Commits what is queued, stops the committer and closes.  Accepts NULL.
 * No read or submit may be in progress or come later. */
void sos_store_close(sos_store *st);

/* ---- reading ------------------------------------------------------------ */

/* Copies min(len, cap) bytes of the value of key to buf and sets *len to
 * its full length.  Returns 0, SOS_ENOENT (not there: *len is 0), SOS_EIO. */
int sos_store_get(sos_store *st, const void *key, size_t klen, void *buf, size_t cap,
                  size_t *len);

/* Calls each(user, key, klen, value, vlen) for the keys k with
 * start <= k < end in order (end NULL: no upper bound), at most limit of
 * them; each returns 0 to go on or non-zero to stop (that value is
 * returned).  The pointers are valid only during the call.  Returns 0,
 * each's value, or SOS_EIO. */
int sos_store_scan(sos_store *st, const void *start, size_t slen, const void *end, size_t elen,
                   uint32_t limit,
                   int (*each)(void *user, const void *k, size_t kl, const void *v, size_t vl),
                   void *user);

/* An owner's usage: bytes of keys and values, and keys. */
int sos_store_usage(sos_store *st, const char *owner, uint64_t *bytes, uint64_t *keys);

/* ---- writing ------------------------------------------------------------ */

enum {
  SOS_STORE_PUT = 1, /* key = val */
  SOS_STORE_DEL,     /* remove key (absent: no error) */
  SOS_STORE_CHECK,   /* the batch fails with SOS_ECONFLICT unless key's value
                        equals val, or unless key is absent when absent is set */
  SOS_STORE_APPEND,  /* log append: key is the log's key L, which holds the
                        next offset (u64, 0 when absent); the record val is
                        written at L + the offset as 8 big-endian bytes and
                        the offset advances by one */
  SOS_STORE_TRIM,    /* log trim: deletes the records of log key L whose
                        offsets are below val (8 big-endian bytes) */
  SOS_STORE_ADD,     /* counter: key holds a decimal integer (absent or
                        empty: 0); adds the signed delta in val (8
                        big-endian bytes, two's complement) and writes the
                        sum back in decimal.  The batch fails with
                        SOS_EINVAL when the value is not such a number or
                        the sum leaves the range of an i64.  Never
                        conflicts: concurrent adds all count */
};

struct sos_store_op {
  uint8_t kind;
  bool absent; /* CHECK only */
  const void *key;
  uint32_t klen;
  const void *val;
  uint32_t vlen;
};

/* Limits for the owner of a batch (0: none). */
struct sos_store_quota {
  const char *owner; /* NUL-terminated, at most 63 bytes */
  uint64_t max_bytes, max_keys;
};

/* The outcome of a batch, on the committer thread: rc is 0, SOS_ECONFLICT,
 * SOS_EQUOTA, SOS_EINVAL (a key or value over the limits) or SOS_EIO.
 * info: when rc is SOS_ECONFLICT the index of the CHECK that failed; when
 * rc is 0 the offset given to the batch's first APPEND (else 0). */
typedef void (*sos_store_done_fn)(void *user, int rc, uint64_t info);

/* Queues a batch of n ops (all copied at once) for the owner q and returns
 * at once; done is called exactly once, from the committer thread, after
 * the batch is durable or has failed.  Errors (done is then not called):
 * SOS_EINVAL (n is 0 or over 4096, an empty key, a key over
 * SOS_STORE_MAX_KEY bytes or a value over SOS_STORE_MAX_VALUE),
 * SOS_ESTATE (closing), SOS_ENOMEM. */
int sos_store_submit(sos_store *st, const struct sos_store_quota *q, const struct sos_store_op *ops,
                     uint32_t n, sos_store_done_fn done, void *user);

/* Deletes every key starting with prefix (empty: every key), durably, and subtracts them from
 * owner's usage.  Blocks the caller until done.  Returns the keys deleted
 * (>= 0) or SOS_EIO. */
int64_t sos_store_purge(sos_store *st, const void *prefix, size_t plen, const char *owner);

/* ---- snapshots ------------------------------------------------------------ */

/* A snapshot file holds every key under one prefix, without the prefix,
 * at one point in time.  Integers are little-endian:
 *
 *   header   8 bytes "SOSSNAP\0", u32 version (1), u32 flags (0)
 *   records  u32 key_len, u32 val_len, key, value; keys strictly
 *            increasing in byte order (LMDB's order), so none repeats
 *   trailer  u64 record count, then 32 bytes: the sha-256 of every byte
 *            before them (header, records and count)
 *
 * The records run from byte 16 to 40 bytes before the end. */
#define SOS_STORE_SNAP_VERSION 1

/* Writes every key starting with prefix (plen bytes; 0: every key) and its
 * value to a new snapshot file at path, from one read transaction (so the
 * file is one point in time, while writes go on).  The file is written to
 * a temporary name beside path, fsynced, renamed to path (never replacing
 * an existing file) and its folder fsynced: when this returns 0 the file
 * is complete and durable; otherwise no file is left at path.  *keys gets
 * the records written.  Blocks the caller for the whole copy.  Errors:
 * SOS_ECONFLICT (path exists), SOS_EIO, SOS_ENOMEM, each with a sentence
 * in err. */
int sos_store_snapshot(sos_store *st, const void *prefix, size_t plen, const char *path,
                       uint64_t *keys, char *err, size_t errlen);

/* Replaces every key starting with prefix by the records of the snapshot
 * file at path (each put back as prefix + key).  The whole file is checked
 * first (format, version, lengths, key order, count, sha-256); then one
 * write transaction deletes the prefix's keys, puts the records and sets
 * owner's usage to exactly the bytes and keys written, and commits (synced:
 * durable when this returns 0).  Quotas are not checked: a restore brings
 * back what was there.  *keys gets the records restored.  On any error
 * nothing changes.  Errors: SOS_ENOENT (no file at path), SOS_EINVAL (not
 * a valid snapshot for this prefix: err says why), SOS_EQUOTA (the store's
 * map is full), SOS_EIO, SOS_ENOMEM. */
int sos_store_restore(sos_store *st, const void *prefix, size_t plen, const char *owner,
                      const char *path, uint64_t *keys, char *err, size_t errlen);

/* Figures since open, for tests and `make bench`: transactions committed
 * and batches in them. */
void sos_store_stats(sos_store *st, uint64_t *commits, uint64_t *batches);

#endif
