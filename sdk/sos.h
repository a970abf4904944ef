/*
 * sos.h - the guest SDK: what a C service running on SOS includes.
 *
 * A service is a WebAssembly reactor built with
 *
 *   clang --target=wasm32-wasi -O2 -std=c11 -mexec-model=reactor -mbulk-memory \
 *         -ftls-model=local-exec -I sdk \
 *         -o out.wasm app.c sdk/sos.c
 *
 * (what `sos build` runs).  sdk/sos.c supplies the exports the kernel
 * looks for (sos_abi_version, sos_init, sos_handle) and wraps the imports
 * of module "sos" (sos/abi.h, docs/abi.md) in plain C calls.
 *
 * The shape of a service: define sos_main() and register one handler per
 * method in it; the SDK calls sos_main once when the instance starts and
 * then a handler per request.  An instance handles one request at a time
 * and keeps its memory between requests, so globals are per-instance
 * state.  A handler answers by returning what sos_respond* or sos_fail
 * returns:
 *
 *   static int greet(const struct sos_request *req) {
 *     return sos_respondf("hello, %s", req->body);
 *   }
 *   void sos_main(void) { sos_method("greet", greet); }
 *
 * Statuses are the SOS_STATUS_* values of sos/abi.h (0 is SOS_STATUS_OK).
 * A function that returns only success or failure returns the status
 * itself; one that returns a handle, an index or a length returns -status
 * on failure.  Waiting (sos_await_*, sos_sleep_ms, sos_call, sos_log_tail,
 * and kv, log and table writes until they are durable) suspends the
 * instance in the kernel and costs no thread; nothing else blocks.
 * printf to stdout and stderr works too: both go to the service's log.
 */
#ifndef SOS_H
#define SOS_H

#include <stddef.h>
#include <stdint.h>

#include "sos/abi.h"

#if defined(__GNUC__) || defined(__clang__)
#define SOS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SOS_PRINTF(f, a)
#endif

/* ---- handling requests ---------------------------------------------------- */

/* The request being handled.  Everything is owned by the SDK and valid
 * until the handler returns. */
struct sos_request {
  const char *method; /* the method name, NUL-terminated */
  const char *body;   /* the request bytes; body[len] is a NUL the SDK adds */
  size_t len;         /* the request's length in bytes */
};

/* A method handler: answers with sos_respond* or sos_fail and returns the
 * status that call returned.  Returning a status without either sends an
 * empty response (for 0) or an empty error message. */
typedef int sos_handler(const struct sos_request *req);

/* Defined by the app (optional): called once per instance, after the
 * C runtime has started, to register methods and set up state.  The SDK
 * provides an empty default. */
void sos_main(void);

/* Registers fn as the handler of method name (at most SOS_ABI_MAX_NAME
 * bytes; the name is copied).  Registering a name again replaces its
 * handler.  Requests for unregistered methods fail with
 * SOS_STATUS_NO_METHOD.  Returns 0, SOS_STATUS_INVALID for an empty or
 * too long name or a NULL fn, or SOS_STATUS_ERROR when out of memory. */
int sos_method(const char *name, sos_handler *fn);

/* Sets the current request's response to len bytes at p (copied at once;
 * a later call replaces it).  Returns SOS_STATUS_OK, or sets the message
 * "message too large" and returns SOS_STATUS_TOO_BIG when len exceeds
 * SOS_ABI_MAX_MESSAGE. */
int sos_respond(const void *p, size_t len);

/* Answers the current request at once, with status OK and len bytes at p,
 * and lets the handler go on: for slow work after an acknowledgement (a
 * webhook that must be answered within seconds).  The rest of the handler
 * still runs under the request's deadline, and what it responds or
 * returns later is dropped.  For a typed method, p is the encoded
 * response (RESP_encode).  Returns SOS_STATUS_OK, or SOS_STATUS_TOO_BIG
 * above SOS_ABI_MAX_MESSAGE. */
int sos_respond_now(const void *p, size_t len);

/* Sends part of the answer to the current request now, while the handler
 * goes on: a stream.  Only a caller that takes streams gets parts: the
 * HTTP gateway, for HTTP/1.1 requests other than HEAD, where the first
 * part is an encoded HttpResponse (status, headers, the body's start:
 * sos_HttpResponse_encode) and every later part more body bytes, each sent
 * as a chunk as it comes; the method's answer at its end is an
 * HttpResponse whose body is the last bytes (its status and headers are
 * not used).  Returns SOS_STATUS_OK when the part went out, or
 * SOS_STATUS_INVALID when the caller takes answers whole (an instance,
 * `sos call`, HEAD, HTTP/1.0), or there is no request, or it was already
 * answered: then build the whole answer instead.  SOS_STATUS_TOO_BIG above
 * SOS_ABI_MAX_MESSAGE. */
int sos_respond_part(const void *p, size_t len);

/* sos_respond with a NUL-terminated string. */
int sos_respond_str(const char *s);

/* sos_respond with printf-style formatted text.  Returns SOS_STATUS_OK,
 * or fails the request with SOS_STATUS_ERROR when out of memory. */
int sos_respondf(const char *fmt, ...) SOS_PRINTF(1, 2);

/* Fails the current request: sets the response to the formatted message
 * (or, with fmt NULL, to sos_status_text(status)) and returns status, so
 * a handler can `return sos_fail(SOS_STATUS_INVALID, "bad number %s", s);`.
 * A status of 0 becomes SOS_STATUS_ERROR: a failure is never "ok". */
int sos_fail(int status, const char *fmt, ...) SOS_PRINTF(2, 3);

/* ---- calling other services ----------------------------------------------- */

/* Calls service.method with len bytes at req and waits for the answer,
 * within the current request's deadline.  Returns the call's status.
 * *resp receives a copy of the response (for a failed call, its error
 * message), NUL-terminated after *resp_len bytes, which the caller frees
 * with free(); it is NULL when there is nothing to copy (the call never
 * started, e.g. SOS_STATUS_DENIED) or memory ran out (then the status is
 * SOS_STATUS_TOO_BIG).  resp and resp_len may be NULL to ignore them. */
int sos_call(const char *service, const char *method, const void *req, size_t len,
             char **resp, size_t *resp_len);

/* Starts a call without waiting.  timeout_ms 0 means "the rest of the
 * current request's deadline"; a call never outlives that deadline nor the
 * callee's own `timeout`.  Returns a handle (> 0) to pass to sos_await_*,
 * sos_result and sos_close, or -status: -SOS_STATUS_DENIED (not in
 * `uses`), -SOS_STATUS_NOT_FOUND, -SOS_STATUS_BUSY (SOS_ABI_MAX_HANDLES
 * calls open), -SOS_STATUS_INVALID (a bad name), -SOS_STATUS_TOO_BIG.
 * Handles belong to the current request: the kernel closes (and cancels)
 * any still open when the handler returns. */
int sos_call_async(const char *service, const char *method, const void *req,
                   size_t len, uint32_t timeout_ms);

/* Waits with no limit of its own (the calls' deadlines still apply). */
#define SOS_FOREVER (-1)

/* Suspends until at least one of the n calls has finished, or timeout_ms
 * passes (0: just look; SOS_FOREVER: no limit).  Returns the index in
 * handles of a finished call, -SOS_STATUS_TIMEOUT, or -SOS_STATUS_INVALID
 * for an unknown handle or n outside 1..SOS_ABI_MAX_HANDLES. */
int sos_await_any(const int *handles, size_t n, int timeout_ms);

/* Suspends until all n calls have finished.  Returns 0,
 * -SOS_STATUS_TIMEOUT or -SOS_STATUS_INVALID as sos_await_any. */
int sos_await_all(const int *handles, size_t n, int timeout_ms);

/* The outcome of a call: its status (SOS_STATUS_PENDING while it runs,
 * SOS_STATUS_INVALID with an empty response for an unknown handle), and
 * in *resp a copy of its response or error message as for sos_call
 * (caller frees with free(); NULL while pending).  May be called more
 * than once. */
int sos_result(int handle, char **resp, size_t *resp_len);

/* The outcome of a call as sos_result gives it, without allocating: copies
 * min(len, cap) bytes of the response into buf and sets *len to its whole
 * length (call again with a larger buffer when it exceeds cap; 0 while
 * pending).  Returns the status as sos_result does. */
int sos_result_into(int handle, void *buf, size_t cap, size_t *len);

/* Forgets a call, cancelling it if it is still running.  Unknown handles
 * are ignored. */
void sos_close(int handle);

/* ---- time travel: plans of dependent calls ----------------------------------- */

/* A plan is a graph of calls sent as ONE message and run by the kernel
 * next to the callees: a step's request may take fields of earlier steps'
 * results (sos_plan_bind), a step may run once per element of a list in
 * an earlier result (sos_plan_each) after a filter (sos_plan_where_*),
 * and only the steps marked with sos_plan_keep come back.  Steps run as
 * soon as what they read is ready, so independent ones run in parallel.
 * Binds and each need typed methods (an interface): the kernel checks
 * that source and target fields have the same type.  Field paths name
 * fields through nested structs with dots ("person.name").
 *
 *   sos_plan *p = sos_plan_new();
 *   int a = sos_plan_call(p, "users", "get", req, len);       step 0
 *   int b = sos_plan_call(p, "mail", "send", tmpl, tlen);     step 1
 *   sos_plan_bind(p, b, "to", a, "user.email");               mail.to := users.get's user.email
 *   sos_plan_keep(p, b);
 *   int h = sos_plan_start(p, 0);                             one message
 *   sos_plan_free(p);
 *   sos_await_all(&h, 1, SOS_FOREVER); sos_result(h, &res, &len);
 *   sos_plan_result(res, len, b, &body, &blen);
 *
 * Failure: the first step that fails stops the plan (steps not yet
 * started never start); the plan's status is that step's, and
 * sos_plan_failed names it.  Closing the handle cancels the plan. */
typedef struct sos_plan sos_plan;

#define SOS_PLAN_MAX_STEPS 256
enum { SOS_PLAN_EQ, SOS_PLAN_NE, SOS_PLAN_LT, SOS_PLAN_LE, SOS_PLAN_GT, SOS_PLAN_GE };

/* A new, empty plan (free with sos_plan_free), or NULL when out of memory. */
sos_plan *sos_plan_new(void);
void sos_plan_free(sos_plan *p);

/* Adds a step calling service.method with len bytes at req as its request
 * (copied; binds add to it).  Returns the step's index (0, 1, ...) or
 * -SOS_STATUS_INVALID / -SOS_STATUS_BUSY. */
int sos_plan_call(sos_plan *p, const char *service, const char *method, const void *req,
                  size_t len);

/* Sets request field `field` of step to the field at `path` of step from's
 * response (from < step).  Returns 0 or SOS_STATUS_INVALID. */
int sos_plan_bind(sos_plan *p, int step, const char *field, int from, const char *path);

/* Runs step once per element of the list at `path` in step from's
 * response, each element going into request field `field`. */
int sos_plan_each(sos_plan *p, int step, const char *field, int from, const char *path);

/* For an each step: only the elements whose field at path (empty for the
 * element itself) compares with value by op (SOS_PLAN_EQ ...). */
int sos_plan_where_int(sos_plan *p, int step, const char *path, int op, int64_t value);
int sos_plan_where_text(sos_plan *p, int step, const char *path, int op, const char *value);

/* Replaces step's request template (copied), so that one plan can be
 * built once and started many times with new inputs, as a prepared query.
 * Returns 0, SOS_STATUS_INVALID or SOS_STATUS_BUSY. */
int sos_plan_set_request(sos_plan *p, int step, const void *req, size_t len);

/* Returns step's result with the plan's. */
int sos_plan_keep(sos_plan *p, int step);

/* Sends the plan (it may be freed at once, or started again): a handle
 * (> 0) to await like a call's, whose response is the PlanResult read by
 * the calls below, or -status.  timeout_ms as for sos_call_async. */
int sos_plan_start(sos_plan *p, uint32_t timeout_ms);

/* In a plan's response res (len bytes): kept step's status, and its
 * response in *body (borrowed from res).  SOS_STATUS_NOT_FOUND for a step
 * that was not kept or did not run. */
int sos_plan_result(const void *res, size_t len, int step, const void **body, size_t *blen);

/* For a kept each step: how many calls it made, and call i's status and
 * response (-SOS_STATUS_NOT_FOUND past the end). */
size_t sos_plan_items(const void *res, size_t len, int step);
int sos_plan_item(const void *res, size_t len, int step, size_t i, const void **body,
                  size_t *blen);

/* The index of the step that failed, or -1. */
int sos_plan_failed(const void *res, size_t len);

/* ---- storage: kv stores ---------------------------------------------------- */

/* A kv store is declared in app.sos with `store NAME: kv` and named by
 * that NAME (a NUL-terminated string) in every call below.  Keys are 1 to
 * SOS_ABI_MAX_KEY bytes, values 0 to SOS_ABI_MAX_VALUE bytes; both are
 * any bytes, with a length.  Each service sees its own copy of its stores:
 * no key of another service is reachable.  Scans return keys in bytewise
 * order (as memcmp compares them; a key comes before the longer keys it
 * begins).
 *
 * Reads return at once.  Writes (put, del, cas, batch commit) suspend the
 * instance until the write is durable on disk; the kernel commits many
 * instances' writes together, so a write costs a share of one fsync.
 *
 * Statuses common to all: SOS_STATUS_INVALID for a store the app does not
 * declare or a key that is empty or longer than SOS_ABI_MAX_KEY;
 * SOS_STATUS_TOO_BIG for a value over SOS_ABI_MAX_VALUE (and, where the
 * SDK allocates, when memory runs out); SOS_STATUS_QUOTA when a write
 * would take the service past its `quota` (bytes of keys and values) or
 * `keys` limit, in which case nothing of it is written; SOS_STATUS_ERROR
 * when the node's store fails and SOS_STATUS_SHUTDOWN for a write while
 * the node stops. */

/* Reads the value of key.  *val receives a malloc'd copy, NUL-terminated
 * after *vlen bytes, which the caller frees with free(); it is NULL (and
 * *vlen 0) unless the status is SOS_STATUS_OK.  val and vlen may be NULL
 * to only test whether the key exists.  Returns SOS_STATUS_OK,
 * SOS_STATUS_NOT_FOUND, SOS_STATUS_INVALID or SOS_STATUS_TOO_BIG (out of
 * memory). */
int sos_kv_get(const char *store, const void *key, size_t klen, char **val, size_t *vlen);

/* Reads the value of key into the caller's buffer: copies min(length, cap)
 * bytes to buf (no NUL added) and sets *len (may be NULL) to the value's
 * full length, so *len > cap means the copy was cut.  Allocates nothing.
 * Returns SOS_STATUS_OK, SOS_STATUS_NOT_FOUND (*len 0) or
 * SOS_STATUS_INVALID. */
int sos_kv_get_buf(const char *store, const void *key, size_t klen, void *buf, size_t cap,
                   size_t *len);

/* Sets key to the vlen bytes at val (copied), creating or replacing it.
 * Suspends until durable.  Returns SOS_STATUS_OK, SOS_STATUS_QUOTA,
 * SOS_STATUS_TOO_BIG or SOS_STATUS_INVALID. */
int sos_kv_put(const char *store, const void *key, size_t klen, const void *val,
               size_t vlen);

/* sos_kv_put with a NUL-terminated key and value (the NULs not stored). */
int sos_kv_put_str(const char *store, const char *key, const char *value);

/* Removes key; removing a key that is not there succeeds.  Suspends until
 * durable.  Returns SOS_STATUS_OK or SOS_STATUS_INVALID. */
int sos_kv_del(const char *store, const void *key, size_t klen);

/* Compare-and-swap: if key holds exactly the olen bytes at old (old NULL:
 * if key has no value), sets it to the vlen bytes at val (val NULL:
 * deletes it), atomically; otherwise changes nothing.  Suspends until
 * durable.  Returns SOS_STATUS_OK, SOS_STATUS_CONFLICT (the value was
 * different: read it again and retry), SOS_STATUS_QUOTA,
 * SOS_STATUS_TOO_BIG or SOS_STATUS_INVALID.  An empty value (olen 0 with
 * old non-NULL) is a value, not absence. */
int sos_kv_cas(const char *store, const void *key, size_t klen, const void *old,
               size_t olen, const void *val, size_t vlen);

/* Adds delta to the counter at key: its value is a decimal integer (text
 * such as "42"; absent: 0), and the store adds in place, so concurrent
 * adds never conflict and all count.  With wait, suspends until the sum
 * is durable; without, returns once the add is queued: it is committed
 * with the next group (a clean stop of the node keeps it; a crash within
 * that moment loses it), and a kv_get may not see it yet.  For counters
 * that are read far more often than exactly (a page's visits).  Returns
 * SOS_STATUS_OK, SOS_STATUS_INVALID (no such store, a bad key; with wait,
 * a value that is not such a number or a sum past the i64 range),
 * SOS_STATUS_QUOTA. */
int sos_kv_add(const char *store, const void *key, size_t klen, int64_t delta, int wait);

/* A batch of writes and checks on one store, committed all or nothing.
 * Start from SOS_KV_BATCH_INIT (or all zeros), add ops with
 * sos_kv_batch_*, commit with sos_kv_batch_commit and release with
 * sos_kv_batch_free.  The SDK owns buf; the fields are for reading. */
struct sos_kv_batch {
  unsigned char *buf; /* the ops in kv_batch's encoding (docs/abi.md) */
  size_t len, cap;    /* bytes used and allocated */
  size_t n;           /* ops added */
  int status;         /* the first failure while adding, or 0 */
};
#define SOS_KV_BATCH_INIT {NULL, 0, 0, 0, 0}

/* Each appends one op to the batch, copying key and value, and returns
 * SOS_STATUS_OK, SOS_STATUS_INVALID (an empty or too long key),
 * SOS_STATUS_TOO_BIG (a value over SOS_ABI_MAX_VALUE, or out of memory).
 * A failure is kept in b->status: later adds do nothing and
 * sos_kv_batch_commit returns it without writing anything, so a caller
 * may add several ops and check only the commit's status. */
int sos_kv_batch_put(struct sos_kv_batch *b, const void *key, size_t klen,
                     const void *val, size_t vlen);
int sos_kv_batch_del(struct sos_kv_batch *b, const void *key, size_t klen);
/* The batch fails with SOS_STATUS_CONFLICT unless key holds exactly the
 * vlen bytes at val when the batch runs (after the batch's earlier ops). */
int sos_kv_batch_check(struct sos_kv_batch *b, const void *key, size_t klen,
                       const void *val, size_t vlen);
/* The batch fails with SOS_STATUS_CONFLICT unless key has no value. */
int sos_kv_batch_check_absent(struct sos_kv_batch *b, const void *key, size_t klen);

/* Applies the batch's ops in order to store, atomically: all of them or,
 * when any check fails or a limit is passed, none.  Suspends until
 * durable.  Returns SOS_STATUS_OK, SOS_STATUS_CONFLICT, SOS_STATUS_QUOTA,
 * SOS_STATUS_TOO_BIG, SOS_STATUS_INVALID (also for an empty batch or one
 * of more ops than the kernel takes, 256), or the failure kept in
 * b->status.  The batch is left as it was: commit it again, or free it. */
int sos_kv_batch_commit(struct sos_kv_batch *b, const char *store);

/* Releases the batch's memory and empties it for reuse.  Accepts an empty
 * batch. */
void sos_kv_batch_free(struct sos_kv_batch *b);

/* What a scan calls for each key, in key order.  key[klen] and val[vlen]
 * are NULs the SDK adds (keys and values may hold NULs themselves; use
 * the lengths).  The pointers are valid only during the call.  Returns 0
 * to go on, anything else to stop the scan. */
typedef int sos_kv_each(void *user, const char *key, size_t klen, const char *val,
                        size_t vlen);

/* Calls each(user, ...) for every key of store that starts with the plen
 * bytes at prefix (plen 0: every key), in order, fetching them from the
 * kernel a buffer at a time.  A scan is not a snapshot: keys written
 * while it runs may or may not be seen.  Returns how many keys each was
 * called for (counting the one that stopped it), or -status:
 * -SOS_STATUS_INVALID (no such store, a prefix over SOS_ABI_MAX_KEY),
 * -SOS_STATUS_TOO_BIG (out of memory). */
int sos_kv_scan_prefix(const char *store, const void *prefix, size_t plen,
                       sos_kv_each *each, void *user);

/* As sos_kv_scan_prefix, for the keys k with start <= k < end (start
 * NULL or slen 0: from the first key; end NULL or elen 0: to the last). */
int sos_kv_scan_range(const char *store, const void *start, size_t slen, const void *end,
                      size_t elen, sos_kv_each *each, void *user);

/* ---- storage: log stores -------------------------------------------------- */

/* A log store is declared in app.sos with `store NAME: log` and named by
 * that NAME in every call below.  It holds records (0 to
 * SOS_ABI_MAX_VALUE bytes each, any bytes) numbered 0, 1, 2... in the
 * order they were appended; offsets are never reused, also after a trim.
 * Each service sees its own copy of its logs.  Statuses as for kv stores:
 * SOS_STATUS_INVALID for a store the app does not declare as a log (or a
 * negative offset), SOS_STATUS_TOO_BIG, SOS_STATUS_QUOTA,
 * SOS_STATUS_ERROR, SOS_STATUS_SHUTDOWN.  (Not to be confused with
 * sos_log, which writes a line to the service's text log.) */

/* Appends the len bytes at rec as one record and suspends until it is
 * durable.  Returns its offset (>= 0), or -status: -SOS_STATUS_TOO_BIG,
 * -SOS_STATUS_QUOTA, -SOS_STATUS_INVALID. */
int64_t sos_log_append(const char *store, const void *rec, size_t len);

/* What sos_log_read calls for each record, in offset order.  rec[len] is
 * a NUL the SDK adds (records may hold NULs themselves; use len).  rec is
 * valid only during the call.  Returns 0 to go on, anything else to
 * stop. */
typedef int sos_log_each(void *user, int64_t offset, const char *rec, size_t len);

/* Calls each(user, ...) for every record at offset >= from (records
 * trimmed away are skipped), fetching them from the kernel a buffer at a
 * time.  Never suspends.  Records appended while it runs may or may not
 * be seen.  Returns how many records each was called for (counting the
 * one that stopped it), or -status: -SOS_STATUS_INVALID (no such log, a
 * negative from), -SOS_STATUS_TOO_BIG (out of memory). */
int sos_log_read(const char *store, int64_t from, sos_log_each *each, void *user);

/* Suspends until the log holds a record at offset >= from, or timeout_ms
 * passes (0: just look; SOS_FOREVER: no limit but the request's
 * deadline).  An append by any instance wakes it at once; nothing polls.
 * Returns SOS_STATUS_OK (read the new records with sos_log_read),
 * SOS_STATUS_TIMEOUT or SOS_STATUS_INVALID. */
int sos_log_tail(const char *store, int64_t from, int timeout_ms);

/* Deletes every record below offset before (the others keep their
 * offsets) and suspends until durable.  Returns SOS_STATUS_OK or
 * SOS_STATUS_INVALID. */
int sos_log_trim(const char *store, int64_t before);

/* The offset the next append will get (0 for an empty log; trims do not
 * lower it), or -SOS_STATUS_INVALID. */
int64_t sos_log_end(const char *store);

/* ---- storage: tables ------------------------------------------------------ */

/* A table is declared in app.sos with
 * `store NAME: table STRUCT key FIELD index FIELD, ...` and named by that
 * NAME.  It holds rows of STRUCT, one per key value, with an ordered index
 * on each index field.  A row is a value of STRUCT in the SOS wire format
 * (docs/wire.md): fields back to back, each a varint key (its tag << 3 |
 * its wire type) and a payload, in any order.  The kernel checks every row
 * against the struct: a known tag with another wire type, a value out of
 * its type's range (300 in a u8), invalid UTF-8 in text or a cut-short
 * field makes it SOS_STATUS_INVALID; unknown tags are kept, and of a
 * field written twice the last counts.  A field left out holds its zero
 * value (0, "", an empty list), the key and indexed fields included: a
 * row without its key field is the row with key 0 (or "").  Each service
 * sees its own copy of its tables.
 *
 * Build a row with a struct sos_row and the sos_row_* appenders, and read
 * one the kernel returned with sos_row_find and sos_row_get_*; or use the
 * C code that `sos idl` generates for the app's structs, which handles
 * every field type (lists, optional fields, unions, nested structs):
 *
 *   app_Person p = {.id = 42, .name = SOS_TEXT("ada"), .tags = {tags, 2}};
 *   uint8_t mem[256];
 *   sos_wbuf w;
 *   sos_wbuf_init(&w, mem, sizeof mem);
 *   int status = app_Person_encode(&p, &w);
 *   struct sos_row row = sos_row_of(w.p, w.len);
 *   if (!status) status = sos_table_put("people", &row);
 *   sos_wbuf_free(&w);
 *
 *   char *got;
 *   size_t len;
 *   if (sos_table_get("people", &key, &got, &len) == SOS_STATUS_OK) {
 *     app_Person q;
 *     if (app_Person_decode(&q, got, len, NULL) == 0) use(&q); // q.name points into got
 *     free(got);
 *   }
 *
 * (An encoder leaves zero values out: a Person with id 0 encodes without
 * its id, which is still the row with key 0.  As a query bound, though, an
 * empty message means no bound: write a zero bound with sos_row_*, which
 * always write the field.) */
struct sos_row {
  unsigned char *buf; /* the encoded fields */
  size_t len, cap;    /* bytes used and allocated */
  int status;         /* the first failure while adding, or 0 */
};
#define SOS_ROW_INIT {NULL, 0, 0, 0}

/* Wire types (docs/wire.md), as sos_row_field takes and sos_row_find
 * gives them: VARINT for bool, integers (signed ones zigzag) and enums,
 * I64 for f64, LEN for text, bytes, structs and lists, I32 for f32. */
#define SOS_ROW_VARINT 0
#define SOS_ROW_I64 1
#define SOS_ROW_LEN 2
#define SOS_ROW_I32 5

/* A row over n bytes encoded elsewhere (the generated NAME_encode's
 * output, say), for the sos_table_* calls: it borrows p, so do not
 * sos_row_free it. */
static inline struct sos_row sos_row_of(const void *p, size_t n) {
  struct sos_row r = {(unsigned char *)p, n, 0, 0};
  return r;
}

/* Each appends one field with tag (1 to 65535) to the row, copying the
 * value, and returns SOS_STATUS_OK, SOS_STATUS_INVALID (a tag of 0 or over
 * 65535) or SOS_STATUS_TOO_BIG (a text or bytes value over
 * SOS_ABI_MAX_VALUE, or out of memory).  As with batches, a failure is
 * kept in r->status: later appends do nothing and the sos_table_* calls
 * given the row return it, so checking the table call is enough.  The
 * field is written even at its zero value.  The wire form follows the
 * name: sos_row_bool, _u32 and _u64 write a VARINT (bool: 1 for any
 * non-zero v), _i32 and _i64 a zigzag VARINT, _f32 an I32, _f64 an I64,
 * _text, _textn and _bytes a LEN.  So any unsigned field (u8 to u64, an
 * enum's number) takes sos_row_u32 or _u64, any signed one sos_row_i32 or
 * _i64; a value too large for the field's type (300 for a u8) makes the
 * kernel refuse the row. */
int sos_row_bool(struct sos_row *r, unsigned tag, int v);
int sos_row_u32(struct sos_row *r, unsigned tag, uint32_t v);
int sos_row_u64(struct sos_row *r, unsigned tag, uint64_t v);
int sos_row_i32(struct sos_row *r, unsigned tag, int32_t v);
int sos_row_i64(struct sos_row *r, unsigned tag, int64_t v);
int sos_row_f32(struct sos_row *r, unsigned tag, float v);
int sos_row_f64(struct sos_row *r, unsigned tag, double v);
/* A text field holding the bytes of s up to its NUL. */
int sos_row_text(struct sos_row *r, unsigned tag, const char *s);
/* A text field holding the n bytes at s (which may hold NULs). */
int sos_row_textn(struct sos_row *r, unsigned tag, const char *s, size_t n);
/* A bytes field holding the n bytes at p. */
int sos_row_bytes(struct sos_row *r, unsigned tag, const void *p, size_t n);

/* Appends one field whose payload is encoded by hand: wire is a
 * SOS_ROW_* wire type and the n bytes at value its payload as on the wire
 * (docs/wire.md): for SOS_ROW_LEN the content without its length, which
 * this adds (a nested struct's encoding, a list's elements back to back);
 * for SOS_ROW_I32 and SOS_ROW_I64 4 or 8 little-endian bytes; for
 * SOS_ROW_VARINT exactly one varint.  Returns as the appenders above, and
 * SOS_STATUS_INVALID for another wire type or an n that does not fit it. */
int sos_row_field(struct sos_row *r, unsigned tag, unsigned wire, const void *value,
                  size_t n);

/* Releases the row's memory and empties it (status included) for reuse.
 * Accepts an empty row. */
void sos_row_free(struct sos_row *r);

/* Finds the field with tag in the len bytes of an encoded row (its last
 * occurrence, which is the one that counts).  On success sets *wire to
 * its SOS_ROW_* wire type and *value and *vlen to its payload: for LEN
 * the content without the length, for I32 and I64 the 4 or 8 bytes, for
 * VARINT the varint's bytes; all pointing into row, so valid as long as
 * row is.  wire, value and vlen may be NULL.  Returns SOS_STATUS_OK,
 * SOS_STATUS_NOT_FOUND (the row is well formed and does not hold the
 * field: it is at its zero value, or an optional field not given) or
 * SOS_STATUS_INVALID (the row is malformed: a bad wire type, a varint or
 * a length past the end). */
int sos_row_find(const void *row, size_t len, unsigned tag, unsigned *wire,
                 const unsigned char **value, size_t *vlen);

/* The readers below give a field the row does not hold its zero value
 * (0, 0.0, "") and return SOS_STATUS_OK, as the wire format reads it
 * (other writers, such as the generated encoders, leave zeros out); use
 * sos_row_find to tell an absent field from a zero one.
 *
 * sos_row_get_u64 and sos_row_get_i64 read a VARINT field (an integer of
 * any width, a bool, an enum's number) into *out: the wire does not say
 * whether a field is signed, so call the one of the field's signedness
 * (_i64 undoes the zigzag mapping, _u64 does not).  sos_row_get_f64 reads
 * an f64 (I64) or an f32 (I32, widened).  They return SOS_STATUS_OK, or
 * SOS_STATUS_INVALID for a field of another wire type or a malformed row
 * (*out is then not written). */
int sos_row_get_u64(const void *row, size_t len, unsigned tag, uint64_t *out);
int sos_row_get_i64(const void *row, size_t len, unsigned tag, int64_t *out);
int sos_row_get_f64(const void *row, size_t len, unsigned tag, double *out);

/* Copies a text (or bytes) field into buf as a NUL-terminated string,
 * truncated to cap - 1 bytes (nothing is written when cap is 0).  Returns
 * the value's full length (0 for an absent field), so a result >= cap
 * means it was cut, or -SOS_STATUS_INVALID (not a LEN field, or a
 * malformed row).  The value may hold NULs; sos_row_find gives it whole. */
int sos_row_get_text(const void *row, size_t len, unsigned tag, char *buf, size_t cap);

/* Inserts row, or replaces the row with the same key, and updates the
 * indexes; suspends until durable.  When another writer changed that key
 * at the same time (SOS_STATUS_CONFLICT), tries again up to 8 times,
 * after random pauses of at most 2^i ms: the last write wins, as with
 * sos_kv_put.  Returns SOS_STATUS_OK,
 * SOS_STATUS_INVALID (no such table, or a row that is not a well-formed
 * value of the table's struct: see above),
 * SOS_STATUS_QUOTA, SOS_STATUS_TOO_BIG (a row over SOS_ABI_MAX_VALUE, a
 * text or bytes key or indexed value of more than a few hundred bytes:
 * docs/abi.md, "Lengths"), SOS_STATUS_CONFLICT (after the retries) or the
 * failure kept in row->status. */
int sos_table_put(const char *store, const struct sos_row *row);

/* Reads the row whose key is key's key field (key is a row holding that
 * field, or none for key 0; other fields are checked and ignored).  *row receives a malloc'd copy
 * of the encoded row, NUL-terminated after *len bytes, which the caller
 * frees with free(); it is NULL (and *len 0) unless the status is
 * SOS_STATUS_OK.  row and len may be NULL to only test for the row.
 * Never suspends.  Returns SOS_STATUS_OK, SOS_STATUS_NOT_FOUND,
 * SOS_STATUS_INVALID, SOS_STATUS_TOO_BIG (out of memory) or key->status. */
int sos_table_get(const char *store, const struct sos_row *key, char **row, size_t *len);

/* Deletes the row whose key is key's key field, and its index entries;
 * deleting a row that is not there succeeds.  Suspends until durable.
 * Retries on SOS_STATUS_CONFLICT as sos_table_put does.  Returns
 * SOS_STATUS_OK, SOS_STATUS_INVALID, SOS_STATUS_CONFLICT (after the
 * retries) or key->status. */
int sos_table_del(const char *store, const struct sos_row *key);

/* What sos_table_query calls for each row, in order: the len bytes of one
 * encoded row, valid only during the call.  Returns 0 to go on, anything
 * else to stop. */
typedef int sos_table_each(void *user, const unsigned char *row, size_t len);

/* Calls each(user, row, len) for the rows whose field (the key's tag or an
 * indexed field's) lies in [lo, hi): lo and hi are rows holding that
 * field (other fields are checked and ignored); NULL or an empty row
 * means no bound, and a bound without the field bounds at its zero value.
 * Rows without the field hold its zero value and come where it sorts.
 * The order is the field's (by number for integers, bytewise for text
 * and bytes, a string before the longer ones it begins), then the key's.
 * At most limit rows (0: all).
 * Returns how many rows each was called for (counting the one that
 * stopped it), or -status: -SOS_STATUS_INVALID (no such table, a field
 * that is neither the key nor indexed, a malformed bound or one too long
 * for the index), -SOS_STATUS_TOO_BIG (out of memory), or -lo->status /
 * -hi->status.
 *
 * The rows come from one kernel call rather than pages, so none is seen
 * twice or skipped because a page ended among rows of equal values (the
 * ABI's bounds hold values, not positions).  The price is memory: the SDK
 * holds every row of the answer at once, plus room for one more row of
 * the largest size (SOS_ABI_MAX_VALUE, 1 MiB), which is how it knows that
 * no row was left out for want of space.  So bound a query over a large
 * table with limit and continue from the last row's value: on the key,
 * whose values are unique, lo = that value plus one; on an index, lo =
 * that value, skipping the rows already seen. */
int sos_table_query(const char *store, unsigned field, const struct sos_row *lo,
                    const struct sos_row *hi, uint32_t limit, sos_table_each *each,
                    void *user);

/* ---- the rest of the system ------------------------------------------------ */

/* Writes one formatted line at level (SOS_LOG_DEBUG..SOS_LOG_ERROR) to the
 * service's log; a trailing newline is not needed. */
void sos_log(int level, const char *fmt, ...) SOS_PRINTF(2, 3);
#define sos_debug(...) sos_log(SOS_LOG_DEBUG, __VA_ARGS__)
#define sos_info(...) sos_log(SOS_LOG_INFO, __VA_ARGS__)
#define sos_warn(...) sos_log(SOS_LOG_WARN, __VA_ARGS__)
#define sos_error(...) sos_log(SOS_LOG_ERROR, __VA_ARGS__)

/* Wall-clock time in nanoseconds since 1970. */
int64_t sos_now_ns(void);

/* A monotonic clock in nanoseconds, for measuring intervals. */
int64_t sos_monotonic_ns(void);

/* Suspends the instance for ms milliseconds (nothing for ms <= 0). */
void sos_sleep_ms(int64_t ms);

/* Fills len bytes at p with random bytes from the kernel. */
void sos_random(void *p, size_t len);

/* A random 64-bit number. */
uint64_t sos_random_u64(void);

/* Copies the app's `env` parameter name into buf as a NUL-terminated
 * string, truncated to cap - 1 bytes (nothing is written when cap is 0).
 * Returns the value's full length, so a result >= cap means it was cut,
 * or -SOS_STATUS_NOT_FOUND. */
int sos_param(const char *name, char *buf, size_t cap);

/* The value of parameter name, or def when there is none (or memory ran
 * out).  The string is owned by the SDK and lives as long as the
 * instance. */
const char *sos_param_str(const char *name, const char *def);

/* Ends the instance at once.  A request in progress fails with
 * SOS_STATUS_ERROR; the kernel starts a new instance when one is needed. */
_Noreturn void sos_exit(int code);

/* Words for a status ("no such method"), for either sign of it; "unknown
 * status" for values outside the table.  A static string. */
const char *sos_status_text(int status);

#endif
