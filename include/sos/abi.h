/*
 * abi.h - the system-call ABI between SOS apps and the node kernel, v1.
 *
 * This header is the one thing the host (src/kernel) and the guest SDK
 * (sdk/) share.  It must stay plain C that compiles for wasm32 and for the
 * host alike: only constants, no functions, no host types.  docs/abi.md is
 * its guide and states each call's contract in prose.
 *
 * Every import lives in module "sos" (SOS_ABI_MODULE).  Pointers are i32
 * offsets into the calling instance's memory 0; lengths are i32 byte
 * counts.  Any range outside the instance's memory traps ("out of bounds
 * memory access") in the calling instance only.
 *
 * Versioning: an app exports `sos_abi_version` () -> i32 returning the ABI
 * version it was built for.  The kernel refuses versions it does not know
 * and keeps every released version working: a later ABI adds imports
 * under new names and never changes the meaning of an existing one.
 *
 * The imports of v1, as WebAssembly signatures:
 *
 *   request(method_buf, req_buf) -> ()          copy the current request in
 *   respond(ptr, len) -> ()                     set the current response
 *   respond_now(ptr, len) -> ()                 answer the request at once with
 *                                               status OK; the handler goes on
 *   respond_part(ptr, len) -> i32               send part of the answer now (a
 *                                               stream): 0, or INVALID when the
 *                                               caller takes answers whole
 *   next(status) -> i64                         end the request with status and
 *                                               take the next one ready for this
 *                                               instance: more << 62 |
 *                                               method_len << 32 | req_len, or
 *                                               -1 (return status as usual)
 *   call(svc, svc_len, method, method_len, req, req_len, timeout_ms) -> i32
 *                                               start a call; handle > 0 or -status
 *   await(handles, n, mode, timeout_ms) -> i32  suspend until one/all done:
 *                                               ANY: index of a finished one,
 *                                               ALL: 0; or -status (TIMEOUT,
 *                                               INVALID).  timeout 0: look
 *                                               only; negative: no limit
 *   result(handle, buf, cap, len_out) -> i32    status of a finished call,
 *                                               PENDING if unfinished,
 *                                               -INVALID for a bad handle
 *   call_plan(plan, plan_len, timeout_ms) -> i32
 *                                               start a plan of dependent
 *                                               calls (time travel): one
 *                                               handle, or -status
 *   close(handle) -> ()                         forget (and cancel) a call
 *   log(level, ptr, len) -> ()                  a line in the service's log
 *   now() -> i64                                wall clock, ns since 1970
 *   monotonic() -> i64                          monotonic clock, ns
 *   sleep(ms: i64) -> ()                        suspend for ms milliseconds
 *   random(ptr, len) -> ()                      fill with random bytes
 *   param(name, name_len, buf, cap) -> i32      an `env` parameter's length
 *                                               (bytes copied: min(len, cap)),
 *                                               or -SOS_STATUS_NOT_FOUND
 *   exit(code) -> ()                            end the instance
 *
 * Storage (kv stores declared in app.sos with `store NAME: kv`; every
 * key is confined to the calling service's own copy of the store):
 *
 *   kv_get(store, store_len, key, key_len, buf, cap, len_out) -> i32
 *       OK or NOT_FOUND; copies min(len, cap) bytes, writes len at len_out.
 *       Never suspends (a read transaction).
 *   kv_put(store, store_len, key, key_len, val, val_len) -> i32
 *   kv_del(store, store_len, key, key_len) -> i32
 *   kv_cas(store, store_len, key, key_len, old, old_len, new, new_len,
 *          flags) -> i32   SOS_KV_OLD_ABSENT: expect no value;
 *                          SOS_KV_NEW_ABSENT: delete instead of put
 *   kv_add(store, store_len, key, key_len, delta: i64, wait) -> i32
 *       adds delta to the decimal integer at key (absent: 0); never a
 *       CONFLICT.  wait 1: suspends until durable; wait 0: returns once
 *       queued (committed with the next group; lost only by a crash
 *       before that commit)
 *   kv_batch(store, store_len, ops, ops_len) -> i32
 *       ops: records of u8 kind (SOS_KV_OP_*), u32 key_len, u32 val_len
 *       (little-endian), key bytes, value bytes; all or nothing.
 *       Writes suspend the instance until the write is durable (group
 *       commit) and return OK, CONFLICT (cas, check), QUOTA, TOO_BIG or
 *       INVALID (no such store, empty or long key, malformed ops).
 *   kv_scan(store, store_len, start, start_len, end, end_len, limit, buf,
 *           cap, len_out) -> i32
 *       the keys k with start <= k < end (end_len 0: no end), in order, at
 *       most limit, as records u32 key_len, u32 val_len, key, value in
 *       buf while they fit; returns how many (>= 0) or -status; len_out
 *       gets the bytes written, or, when not even the first fits, the
 *       bytes it needs (with -TOO_BIG).  Never suspends.
 *
 * Logs (`store NAME: log`): records numbered 0, 1, 2... in append order.
 *
 *   log_append(store, store_len, rec, rec_len) -> i64
 *       the record's offset once it is durable (suspends), or -status
 *   log_read(store, store_len, from: i64, limit, buf, cap, len_out) -> i32
 *       records with offset >= from, in order, at most limit, as u64
 *       offset, u32 length, bytes, while they fit; count or -status, with
 *       len_out as for kv_scan.  Never suspends.
 *   log_tail(store, store_len, from: i64, timeout_ms) -> i32
 *       suspends until the log holds a record at offset >= from (woken by
 *       the append, no polling): OK, or -TIMEOUT (timeout 0: look only;
 *       negative: no limit but the request's deadline)
 *   log_trim(store, store_len, before: i64) -> i32
 *       deletes the records below offset before (suspends until durable)
 *   log_end(store, store_len) -> i64    the next offset to be appended
 *
 * Tables (`store NAME: table STRUCT key FIELD index FIELD, ...`): a row
 * is a value of the struct in the SOS wire format (docs/wire.md), checked
 * against the struct before it is stored (malformed: INVALID).  A field
 * the row leaves out holds its zero value, the key's included (a row
 * without its key field has key 0 or "").  A key, and a bound of
 * table_query, is a message holding the key or indexed field.
 *
 *   table_put(store, store_len, row, row_len) -> i32
 *       inserts or replaces the row with that key and updates the indexes
 *       (suspends until durable): OK, INVALID, QUOTA, TOO_BIG, or
 *       CONFLICT when another writer changed that key meanwhile (retry)
 *   table_get(store, store_len, key, key_len, buf, cap, len_out) -> i32
 *       key: a row holding the key field; OK, NOT_FOUND or INVALID,
 *       copying the row as kv_get copies a value.  Never suspends.
 *   table_del(store, store_len, key, key_len) -> i32     (suspends)
 *   table_query(store, store_len, field, lo, lo_len, hi, hi_len, limit,
 *               buf, cap, len_out) -> i32
 *       the rows whose field (the key's tag, or an indexed field's) is
 *       >= lo's and < hi's (messages holding that field; a bound of 0
 *       bytes: no bound, so write a zero bound's field explicitly), in
 *       that field's order then the key's, at most limit, as records u32
 *       row_len, row while they fit; a count or -status, len_out as for
 *       kv_scan.  Never suspends.
 *
 * Exports the kernel looks for:
 *
 *   sos_abi_version () -> i32        required for reactors
 *   _initialize () -> ()             run once after instantiation (wasi-libc)
 *   sos_init () -> ()                run once after _initialize
 *   sos_handle (method_len, req_len [, flags]) -> i32
 *                                    one request: the guest copies the
 *                                    method name and request in with
 *                                    `request`, answers with `respond` and
 *                                    returns a status (0 ok, else an error
 *                                    whose message is the response bytes);
 *                                    with SOS_HANDLE_MORE in flags it may
 *                                    end it with `next` and take another
 *   _start () -> ()                  a command module: runs once as a job
 */
#ifndef SOS_ABI_H
#define SOS_ABI_H

#define SOS_ABI_VERSION 1
#define SOS_ABI_MODULE "sos"

/* Call statuses: what `result` returns, what `sos call` prints on failure.
 * X(name, value, words).  Values are stable across ABI versions. */
#define SOS_STATUS_MAP(X)                                              \
  X(OK, 0, "ok")                                                       \
  X(ERROR, 1, "the service answered with an error")                    \
  X(NOT_FOUND, 2, "not found")                                         \
  X(NO_METHOD, 3, "no such method")                                    \
  X(DENIED, 4, "denied: the caller's definition does not list it in uses") \
  X(BUSY, 5, "busy: the service's request queue is full")              \
  X(TIMEOUT, 6, "timed out")                                           \
  X(TRAPPED, 7, "the instance trapped")                                \
  X(UNAVAILABLE, 8, "unavailable: the service is crashing and backing off") \
  X(TOO_BIG, 9, "message too large")                                   \
  X(CANCELLED, 10, "cancelled")                                        \
  X(INVALID, 11, "invalid request")                                    \
  X(PENDING, 12, "not finished yet")                                   \
  X(SHUTDOWN, 13, "the node is shutting down")                         \
  X(CONFLICT, 14, "conflict: the value changed (compare-and-swap)")      \
  X(QUOTA, 15, "the service's storage quota is exceeded")

enum {
#define SOS__STATUS_ENUM(name, val, words) SOS_STATUS_##name = (val),
  SOS_STATUS_MAP(SOS__STATUS_ENUM)
#undef SOS__STATUS_ENUM
  SOS_STATUS_LAST = SOS_STATUS_QUOTA /* the highest status of this ABI */
};

/* sos_handle's optional third argument, flags: SOS_HANDLE_MORE says that
 * another request may be ready for the instance when this one ends (a
 * plan's next step, a queued call): ending it with `next` takes that one
 * without leaving the instance. */
#define SOS_HANDLE_MORE 1

/* await modes */
#define SOS_AWAIT_ANY 0
#define SOS_AWAIT_ALL 1

/* log levels */
#define SOS_LOG_DEBUG 0
#define SOS_LOG_INFO 1
#define SOS_LOG_WARN 2
#define SOS_LOG_ERROR 3

/* Largest request or response the kernel moves in one call. */
#define SOS_ABI_MAX_MESSAGE (16u << 20)
/* Longest service or method name. */
#define SOS_ABI_MAX_NAME 128
/* Most calls one instance may have open at once. */
#define SOS_ABI_MAX_HANDLES 256
/* Longest key and value of a kv store, and longest store name. */
#define SOS_ABI_MAX_KEY 256
#define SOS_ABI_MAX_VALUE (1u << 20)
/* Most ops in one kv_batch, and its largest encoding. */
#define SOS_ABI_MAX_BATCH_OPS 256
#define SOS_ABI_MAX_BATCH_BYTES (4u << 20)

/* kv_cas flags and kv_batch op kinds. */
#define SOS_KV_OLD_ABSENT 1
#define SOS_KV_NEW_ABSENT 2
#define SOS_KV_OP_PUT 1
#define SOS_KV_OP_DEL 2
#define SOS_KV_OP_CHECK 3        /* the key must hold exactly the value */
#define SOS_KV_OP_CHECK_ABSENT 4 /* the key must have no value */

#endif
