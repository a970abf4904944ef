/*
 * sos.c - the guest SDK's implementation (sdk/sos.h): the exports the
 * kernel calls and thin wrappers over the imports of module "sos".
 *
 * The kernel drives an instance through three exports (docs/abi.md):
 * sos_abi_version when it checks the module, sos_init once after the C
 * runtime's _initialize, and sos_handle once per request.  sos_init runs
 * the app's sos_main, which fills the method table; sos_handle copies the
 * method name and request into one buffer, finds the handler by name and
 * returns its status.  The table is a small array searched linearly,
 * comparing lengths first: a service has a handful of methods, and that
 * costs less than the host call that fetched the request.
 *
 * Memory: the request buffer is kept and grown between requests, so a
 * steady stream of requests allocates nothing; one larger than
 * KEEP_BUFFER is released after its request, so a single big message does
 * not pin memory for the instance's lifetime.  Responses are copied by the
 * kernel at once, so only formatted text needs a buffer, on the stack when
 * it is short.
 *
 * Tables: rows are wire-format struct values (docs/wire.md), built in a
 * growing buffer like kv batches and read in place by a small walker of
 * its own (varints, zigzag; this file does not depend on sos_wire.c,
 * which only apps with IDL declarations get).  A query takes its whole answer in one kernel call, because the
 * ABI's bounds are values and a page cannot resume inside a run of equal
 * index values; the buffer keeps room for one more row of the largest
 * size, and that room is what proves a short answer complete.
 */
#include "sos.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the imports (module "sos", ABI v1) ---------------------------------- */

#define SOS_IMPORT(name) __attribute__((import_module(SOS_ABI_MODULE), import_name(name)))

SOS_IMPORT("request") void sos__abi_request(char *method_buf, char *req_buf);
SOS_IMPORT("respond") void sos__abi_respond(const void *p, size_t len);
SOS_IMPORT("next") int64_t sos__abi_next(int32_t status);
SOS_IMPORT("respond_now") void sos__abi_respond_now(const void *p, size_t len);
SOS_IMPORT("respond_part") int32_t sos__abi_respond_part(const void *p, size_t len);
SOS_IMPORT("call")
int32_t sos__abi_call(const char *svc, size_t svc_len, const char *method,
                      size_t method_len, const void *req, size_t req_len,
                      uint32_t timeout_ms);
SOS_IMPORT("await")
int32_t sos__abi_await(const int32_t *handles, size_t n, int32_t mode, int32_t timeout_ms);
SOS_IMPORT("result")
int32_t sos__abi_result(int32_t handle, void *buf, size_t cap, uint32_t *len_out);
SOS_IMPORT("close") void sos__abi_close(int32_t handle);
SOS_IMPORT("log") void sos__abi_log(int32_t level, const char *p, size_t len);
SOS_IMPORT("now") int64_t sos__abi_now(void);
SOS_IMPORT("monotonic") int64_t sos__abi_monotonic(void);
SOS_IMPORT("sleep") void sos__abi_sleep(int64_t ms);
SOS_IMPORT("random") void sos__abi_random(void *p, size_t len);
SOS_IMPORT("param")
int32_t sos__abi_param(const char *name, size_t name_len, char *buf, size_t cap);
SOS_IMPORT("exit") void sos__abi_exit(int32_t code);
SOS_IMPORT("kv_get")
int32_t sos__abi_kv_get(const char *store, size_t store_len, const void *key,
                        size_t key_len, void *buf, size_t cap, uint32_t *len_out);
SOS_IMPORT("kv_put")
int32_t sos__abi_kv_put(const char *store, size_t store_len, const void *key,
                        size_t key_len, const void *val, size_t val_len);
SOS_IMPORT("kv_del")
int32_t sos__abi_kv_del(const char *store, size_t store_len, const void *key,
                        size_t key_len);
SOS_IMPORT("kv_add")
int32_t sos__abi_kv_add(const char *store, size_t store_len, const void *key, size_t key_len,
                        int64_t delta, int32_t wait);
SOS_IMPORT("kv_cas")
int32_t sos__abi_kv_cas(const char *store, size_t store_len, const void *key,
                        size_t key_len, const void *old, size_t old_len, const void *val,
                        size_t val_len, uint32_t flags);
SOS_IMPORT("kv_batch")
int32_t sos__abi_kv_batch(const char *store, size_t store_len, const void *ops,
                          size_t ops_len);
SOS_IMPORT("kv_scan")
int32_t sos__abi_kv_scan(const char *store, size_t store_len, const void *start,
                         size_t start_len, const void *end, size_t end_len,
                         uint32_t limit, void *buf, size_t cap, uint32_t *len_out);

SOS_IMPORT("log_append")
int64_t sos__abi_log_append(const char *store, size_t store_len, const void *rec,
                            size_t rec_len);
SOS_IMPORT("log_read")
int32_t sos__abi_log_read(const char *store, size_t store_len, int64_t from, uint32_t limit,
                          void *buf, size_t cap, uint32_t *len_out);
SOS_IMPORT("log_tail")
int32_t sos__abi_log_tail(const char *store, size_t store_len, int64_t from,
                          int32_t timeout_ms);
SOS_IMPORT("log_trim")
int32_t sos__abi_log_trim(const char *store, size_t store_len, int64_t before);
SOS_IMPORT("log_end") int64_t sos__abi_log_end(const char *store, size_t store_len);
SOS_IMPORT("table_put")
int32_t sos__abi_table_put(const char *store, size_t store_len, const void *row,
                           size_t row_len);
SOS_IMPORT("table_get")
int32_t sos__abi_table_get(const char *store, size_t store_len, const void *key,
                           size_t key_len, void *buf, size_t cap, uint32_t *len_out);
SOS_IMPORT("table_del")
int32_t sos__abi_table_del(const char *store, size_t store_len, const void *key,
                           size_t key_len);
SOS_IMPORT("table_query")
int32_t sos__abi_table_query(const char *store, size_t store_len, uint32_t field,
                             const void *lo, size_t lo_len, const void *hi, size_t hi_len,
                             uint32_t limit, void *buf, size_t cap, uint32_t *len_out);

/* Exports take no SDK prefix: the kernel looks for these exact names. */
#define SOS_EXPORT(name) __attribute__((export_name(name)))

/* A request buffer larger than this is freed after its request. */
#define KEEP_BUFFER (1u << 20)
/* Formatted text up to this size is built on the stack. */
#define STACK_TEXT 256
/* The first buffer of a kv scan; it grows when one record does not fit. */
#define SCAN_BUFFER (16u << 10)
/* A log_read record's header: u64 offset, u32 length. */
#define LOG_HEADER 12

/* A kv_batch record's header: u8 kind, u32 key length, u32 value length. */
#define BATCH_HEADER 9
/* The largest record of a table query: u32 length and the largest row. */
#define QUERY_RECORD_MAX (4 + (size_t)SOS_ABI_MAX_VALUE)
/* How often a table write is tried while it keeps meeting another writer. */
#define WRITE_TRIES 8

struct method {
  char name[SOS_ABI_MAX_NAME + 1];
  size_t len; /* strlen(name): most names differ in length, a cheap test */
  sos_handler *fn;
};

static struct method *methods; /* the method table, nmethods long */
static size_t nmethods;
static char *reqbuf; /* method name, NUL, request, NUL */
static size_t reqcap;

/* ---- formatting ------------------------------------------------------------ */

/* Formats into stack (STACK_TEXT bytes) when the text fits, else into a
 * malloc'd buffer.  Returns the text (stack or a buffer the caller frees)
 * with its length in *len, or NULL when out of memory. */
static char *format(char *stack, size_t *len, const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(stack, STACK_TEXT, fmt, ap);
  char *text = stack;
  if (n < 0) { /* an encoding error: the text is empty */
    n = 0;
    stack[0] = 0;
  } else if ((size_t)n >= STACK_TEXT) {
    text = malloc((size_t)n + 1);
    if (text) vsnprintf(text, (size_t)n + 1, fmt, again);
  }
  va_end(again);
  *len = (size_t)n;
  return text;
}

/* Frees what format returned unless it is the stack buffer. */
static void unformat(char *text, const char *stack) {
  if (text != stack) free(text);
}

/* ---- handling requests ------------------------------------------------------ */

/* The default sos_main: an app without one serves no methods. */
__attribute__((weak)) void sos_main(void) {}

int sos_method(const char *name, sos_handler *fn) {
  size_t len = name ? strlen(name) : 0;
  if (!len || len > SOS_ABI_MAX_NAME || !fn) return SOS_STATUS_INVALID;
  for (size_t i = 0; i < nmethods; i++)
    if (strcmp(methods[i].name, name) == 0) {
      methods[i].fn = fn;
      return SOS_STATUS_OK;
    }
  struct method *m = realloc(methods, (nmethods + 1) * sizeof *m);
  if (!m) return SOS_STATUS_ERROR;
  methods = m;
  memcpy(m[nmethods].name, name, len + 1);
  m[nmethods].len = len;
  m[nmethods++].fn = fn;
  return SOS_STATUS_OK;
}

int sos_respond(const void *p, size_t len) {
  if (len > SOS_ABI_MAX_MESSAGE) return sos_fail(SOS_STATUS_TOO_BIG, NULL);
  sos__abi_respond(p, len);
  return SOS_STATUS_OK;
}

int sos_respond_now(const void *p, size_t len) {
  if (len > SOS_ABI_MAX_MESSAGE) return SOS_STATUS_TOO_BIG;
  sos__abi_respond_now(p, len);
  return SOS_STATUS_OK;
}

int sos_respond_part(const void *p, size_t len) {
  if (len > SOS_ABI_MAX_MESSAGE) return SOS_STATUS_TOO_BIG;
  return sos__abi_respond_part(p, len);
}

int sos_respond_str(const char *s) { return sos_respond(s, strlen(s)); }

int sos_respondf(const char *fmt, ...) {
  char stack[STACK_TEXT];
  size_t len;
  va_list ap;
  va_start(ap, fmt);
  char *text = format(stack, &len, fmt, ap);
  va_end(ap);
  if (!text) return sos_fail(SOS_STATUS_ERROR, "out of memory");
  int status = sos_respond(text, len);
  unformat(text, stack);
  return status;
}

int sos_fail(int status, const char *fmt, ...) {
  if (status == SOS_STATUS_OK) status = SOS_STATUS_ERROR;
  if (!fmt) {
    sos_respond_str(sos_status_text(status));
    return status;
  }
  char stack[STACK_TEXT];
  size_t len;
  va_list ap;
  va_start(ap, fmt);
  char *text = format(stack, &len, fmt, ap);
  va_end(ap);
  if (!text) { /* keep the status; the message is what we can afford */
    sos_respond_str("out of memory");
    return status;
  }
  sos__abi_respond(text, len < SOS_ABI_MAX_MESSAGE ? len : SOS_ABI_MAX_MESSAGE);
  unformat(text, stack);
  return status;
}

/* The handler registered for method (len bytes), or NULL. */
static sos_handler *find(const char *method, size_t len) {
  for (size_t i = 0; i < nmethods; i++)
    if (methods[i].len == len && memcmp(methods[i].name, method, len) == 0)
      return methods[i].fn;
  return NULL;
}

/* Answers a request for a method nobody registered, listing those that
 * exist so the caller can see the typo. */
static int no_method(const char *method) {
  size_t cap = 64 + strlen(method); /* the fixed words and " none" fit in 64 */
  for (size_t i = 0; i < nmethods; i++) cap += strlen(methods[i].name) + 1;
  char *text = malloc(cap);
  if (!text) return sos_fail(SOS_STATUS_NO_METHOD, NULL);
  int len = snprintf(text, cap, "no method \"%s\"; this service has:", method);
  for (size_t i = 0; i < nmethods; i++)
    len += snprintf(text + len, cap - (size_t)len, " %s", methods[i].name);
  if (!nmethods) len += snprintf(text + len, cap - (size_t)len, " none");
  sos_respond(text, (size_t)len);
  free(text);
  return SOS_STATUS_NO_METHOD;
}

/* Makes reqbuf hold at least need bytes; false when out of memory. */
static bool reserve(size_t need) {
  if (need <= reqcap) return true;
  char *p = realloc(reqbuf, need);
  if (!p) return false;
  reqbuf = p;
  reqcap = need;
  return true;
}

SOS_EXPORT("sos_abi_version") int32_t sos__export_abi_version(void);
int32_t sos__export_abi_version(void) { return SOS_ABI_VERSION; }

SOS_EXPORT("sos_init") void sos__export_init(void);
void sos__export_init(void) {
  sos_main();
  fflush(stdout);
}

/* One request: its method's handler, or the failure to run it. */
static int32_t handle(uint32_t method_len, uint32_t req_len) {
  if (method_len > SOS_ABI_MAX_NAME || req_len > SOS_ABI_MAX_MESSAGE)
    return sos_fail(SOS_STATUS_INVALID, "request of %u bytes for a method name of %u bytes",
                    (unsigned)req_len, (unsigned)method_len);
  if (!reserve((size_t)method_len + req_len + 2))
    return sos_fail(SOS_STATUS_TOO_BIG, "out of memory for a request of %u bytes",
                    (unsigned)req_len);
  char *method = reqbuf, *body = reqbuf + method_len + 1;
  sos__abi_request(method, body);
  method[method_len] = 0;
  body[req_len] = 0;
  struct sos_request req = {method, body, req_len};
  sos_handler *fn = find(method, method_len);
  int status = fn ? fn(&req) : no_method(method);
  fflush(stdout);
  if (reqcap > KEEP_BUFFER) {
    free(reqbuf);
    reqbuf = NULL;
    reqcap = 0;
  }
  return status;
}

/* When more requests may be ready at once (a plan's next step, queued
 * calls), each is taken with `next`, without leaving the instance. */
SOS_EXPORT("sos_handle")
int32_t sos__export_handle(uint32_t method_len, uint32_t req_len, uint32_t flags);
int32_t sos__export_handle(uint32_t method_len, uint32_t req_len, uint32_t flags) {
  for (;;) {
    int32_t status = handle(method_len, req_len);
    if (!(flags & SOS_HANDLE_MORE)) return status;
    int64_t next = sos__abi_next(status);
    if (next < 0) return status;
    flags = next >> 62 & 1 ? SOS_HANDLE_MORE : 0;
    method_len = (uint32_t)(next >> 32) & 0xffff;
    req_len = (uint32_t)next;
  }
}

/* ---- calling other services ----------------------------------------------- */

int sos_call_async(const char *service, const char *method, const void *req,
                   size_t len, uint32_t timeout_ms) {
  if (len > SOS_ABI_MAX_MESSAGE) return -SOS_STATUS_TOO_BIG;
  if (timeout_ms > INT32_MAX) timeout_ms = INT32_MAX;
  return sos__abi_call(service, strlen(service), method, strlen(method), req, len,
                       timeout_ms);
}

/* Both awaits: a count the kernel would refuse is refused here too. */
static int await(const int *handles, size_t n, int mode, int timeout_ms) {
  if (!n || n > SOS_ABI_MAX_HANDLES) return -SOS_STATUS_INVALID;
  return sos__abi_await((const int32_t *)handles, n, mode, timeout_ms < 0 ? -1 : timeout_ms);
}

int sos_await_any(const int *handles, size_t n, int timeout_ms) {
  return await(handles, n, SOS_AWAIT_ANY, timeout_ms);
}

int sos_await_all(const int *handles, size_t n, int timeout_ms) {
  return await(handles, n, SOS_AWAIT_ALL, timeout_ms);
}

int sos_result(int handle, char **resp, size_t *resp_len) {
  uint32_t len = 0;
  int status = sos__abi_result(handle, NULL, 0, &len);
  if (resp) *resp = NULL;
  if (resp_len) *resp_len = 0;
  /* A running call and an unknown handle (-INVALID) have nothing to copy. */
  if (status == SOS_STATUS_PENDING) return status;
  if (status < 0) return -status;
  if (resp_len) *resp_len = len;
  if (!resp) return status;
  char *buf = malloc((size_t)len + 1);
  if (!buf) {
    if (resp_len) *resp_len = 0;
    return SOS_STATUS_TOO_BIG;
  }
  sos__abi_result(handle, buf, len, &len);
  buf[len] = 0;
  *resp = buf;
  return status;
}

int sos_result_into(int handle, void *buf, size_t cap, size_t *len) {
  uint32_t n = 0;
  int status = sos__abi_result(handle, buf, cap, &n);
  *len = status == SOS_STATUS_PENDING || status < 0 ? 0 : n;
  return status < 0 ? -status : status;
}

void sos_close(int handle) { sos__abi_close(handle); }

int sos_call(const char *service, const char *method, const void *req, size_t len,
             char **resp, size_t *resp_len) {
  if (resp) *resp = NULL;
  if (resp_len) *resp_len = 0;
  int h = sos_call_async(service, method, req, len, 0);
  if (h < 0) return -h;
  int rc = sos_await_all(&h, 1, SOS_FOREVER);
  int status = rc < 0 ? -rc : sos_result(h, resp, resp_len);
  sos_close(h);
  return status;
}

/* ---- storage: kv stores -------------------------------------------------- */

/* kv_get into buf; *len gets the value's full length (0 unless found). */
static int kv_get(const char *store, const void *key, size_t klen, void *buf, size_t cap,
                  size_t *len) {
  uint32_t n = 0;
  int status = sos__abi_kv_get(store, strlen(store), key, klen, buf, cap, &n);
  *len = status == SOS_STATUS_OK ? n : 0;
  return status;
}

/* A read into the caller's buffer, as kv_get: copies min(length, cap)
 * bytes and sets *len to the full length (0 unless found). */
typedef int copy_reader(const char *store, const void *key, size_t klen, void *buf,
                        size_t cap, size_t *len);

/* Reads through read into a malloc'd copy, NUL-terminated, for sos_kv_get
 * and sos_table_get (whose contract it implements). */
static int read_copy(copy_reader *read, const char *store, const void *key, size_t klen,
                     char **val, size_t *vlen) {
  if (val) *val = NULL;
  if (vlen) *vlen = 0;
  char stack[STACK_TEXT]; /* most values fit: one host call, one malloc */
  size_t len, cap = sizeof stack;
  int status = read(store, key, klen, stack, cap, &len);
  if (status != SOS_STATUS_OK || !val) {
    if (vlen) *vlen = len;
    return status;
  }
  char *copy = malloc(len + 1);
  if (!copy) return SOS_STATUS_TOO_BIG;
  if (len <= cap) memcpy(copy, stack, len);
  while (len > cap) { /* read again into a buffer that fits; it may have grown since */
    cap = len;
    char *p = realloc(copy, cap + 1);
    if (!p) {
      free(copy);
      return SOS_STATUS_TOO_BIG;
    }
    copy = p;
    if ((status = read(store, key, klen, copy, cap, &len)) != SOS_STATUS_OK) {
      free(copy); /* deleted in between */
      return status;
    }
  }
  copy[len] = 0;
  *val = copy;
  if (vlen) *vlen = len;
  return SOS_STATUS_OK;
}

int sos_kv_get(const char *store, const void *key, size_t klen, char **val,
               size_t *vlen) {
  return read_copy(kv_get, store, key, klen, val, vlen);
}

int sos_kv_get_buf(const char *store, const void *key, size_t klen, void *buf, size_t cap,
                   size_t *len) {
  size_t n;
  int status = kv_get(store, key, klen, buf, cap, &n);
  if (len) *len = n;
  return status;
}

int sos_kv_put(const char *store, const void *key, size_t klen, const void *val,
               size_t vlen) {
  return sos__abi_kv_put(store, strlen(store), key, klen, val, vlen);
}

int sos_kv_put_str(const char *store, const char *key, const char *value) {
  return sos_kv_put(store, key, strlen(key), value, strlen(value));
}

int sos_kv_del(const char *store, const void *key, size_t klen) {
  return sos__abi_kv_del(store, strlen(store), key, klen);
}

int sos_kv_add(const char *store, const void *key, size_t klen, int64_t delta, int wait) {
  return sos__abi_kv_add(store, strlen(store), key, klen, delta, wait ? 1 : 0);
}

int sos_kv_cas(const char *store, const void *key, size_t klen, const void *old,
               size_t olen, const void *val, size_t vlen) {
  uint32_t flags = (old ? 0 : SOS_KV_OLD_ABSENT) | (val ? 0 : SOS_KV_NEW_ABSENT);
  return sos__abi_kv_cas(store, strlen(store), key, klen, old, old ? olen : 0, val,
                         val ? vlen : 0, flags);
}

/* Makes room for need more bytes after the len used of the *cap at *buf,
 * doubling; false when out of memory.  For batches and rows. */
static bool reserve_bytes(unsigned char **buf, size_t *cap, size_t len, size_t need) {
  if (need <= *cap - len) return true;
  if (need > SIZE_MAX / 2 - len) return false;
  size_t n = *cap ? *cap : 256;
  while (n - len < need) n *= 2;
  unsigned char *p = realloc(*buf, n);
  if (!p) return false;
  *buf = p;
  *cap = n;
  return true;
}

/* Makes room for need more bytes in b; false when out of memory. */
static bool batch_reserve(struct sos_kv_batch *b, size_t need) {
  return reserve_bytes(&b->buf, &b->cap, b->len, need);
}

/* Writes v at p in little-endian order, as kv_batch reads it. */
static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* Appends one record of kind to b, or records why it cannot. */
static int batch_add(struct sos_kv_batch *b, int kind, const void *key, size_t klen,
                     const void *val, size_t vlen) {
  if (b->status) return b->status;
  size_t need = BATCH_HEADER + klen + vlen;
  if (!klen || klen > SOS_ABI_MAX_KEY) return b->status = SOS_STATUS_INVALID;
  if (vlen > SOS_ABI_MAX_VALUE || !batch_reserve(b, need))
    return b->status = SOS_STATUS_TOO_BIG;
  unsigned char *p = b->buf + b->len;
  p[0] = (unsigned char)kind;
  put_u32(p + 1, (uint32_t)klen);
  put_u32(p + 5, (uint32_t)vlen);
  memcpy(p + BATCH_HEADER, key, klen);
  if (vlen) memcpy(p + BATCH_HEADER + klen, val, vlen);
  b->len += need;
  b->n++;
  return SOS_STATUS_OK;
}

int sos_kv_batch_put(struct sos_kv_batch *b, const void *key, size_t klen,
                     const void *val, size_t vlen) {
  return batch_add(b, SOS_KV_OP_PUT, key, klen, val, vlen);
}

int sos_kv_batch_del(struct sos_kv_batch *b, const void *key, size_t klen) {
  return batch_add(b, SOS_KV_OP_DEL, key, klen, NULL, 0);
}

int sos_kv_batch_check(struct sos_kv_batch *b, const void *key, size_t klen,
                       const void *val, size_t vlen) {
  return batch_add(b, SOS_KV_OP_CHECK, key, klen, val, vlen);
}

int sos_kv_batch_check_absent(struct sos_kv_batch *b, const void *key, size_t klen) {
  return batch_add(b, SOS_KV_OP_CHECK_ABSENT, key, klen, NULL, 0);
}

int sos_kv_batch_commit(struct sos_kv_batch *b, const char *store) {
  if (b->status) return b->status;
  if (!b->n) return SOS_STATUS_INVALID;
  return sos__abi_kv_batch(store, strlen(store), b->buf, b->len);
}

void sos_kv_batch_free(struct sos_kv_batch *b) {
  free(b->buf);
  *b = (struct sos_kv_batch)SOS_KV_BATCH_INIT;
}

/* A scan in progress: where the next page starts and the page buffer. */
struct scan {
  const char *store;
  size_t store_len;
  const void *end;
  size_t elen;
  unsigned char next[SOS_ABI_MAX_KEY + 1]; /* the next page's start */
  size_t nlen;
  unsigned char *buf; /* cap bytes for records, and one for a NUL */
  size_t cap;
};

/* Makes key the shortest string after every key that begins with it:
 * drops trailing 0xff bytes and increments the last.  Returns its new
 * length, 0 when there is none (key is empty or all 0xff). */
static size_t after_prefix(unsigned char *key, size_t len) {
  while (len && key[len - 1] == 0xff) len--;
  if (len) key[len - 1]++;
  return len;
}

/* Sets the next page's start just after key: key NUL when that is still
 * a key, else past every key that begins with it.  False when nothing can
 * come after. */
static bool scan_after(struct scan *s, const char *key, size_t klen) {
  memcpy(s->next, key, klen);
  if (klen < SOS_ABI_MAX_KEY) {
    s->next[klen] = 0;
    s->nlen = klen + 1;
    return true;
  }
  s->nlen = after_prefix(s->next, klen);
  return s->nlen != 0;
}

/* Fetches the next page of records into s->buf, growing it when not even
 * one record fits.  Returns how many (0: the scan is over) or -status. */
static int scan_page(struct scan *s, size_t *used) {
  for (;;) {
    uint32_t n = 0;
    int32_t count = sos__abi_kv_scan(s->store, s->store_len, s->next, s->nlen, s->end,
                                     s->elen, INT32_MAX, s->buf, s->cap, &n);
    *used = n;
    if (count != -SOS_STATUS_TOO_BIG) return count;
    unsigned char *p = n > s->cap ? realloc(s->buf, (size_t)n + 1) : NULL;
    if (!p) return -SOS_STATUS_TOO_BIG;
    s->buf = p;
    s->cap = n;
  }
}

/* Calls each for the records of one page; *stop is set when it asks to
 * stop.  Returns how many it was called for. */
static int scan_visit(struct scan *s, size_t used, int count, sos_kv_each *each,
                      void *user, bool *stop) {
  char key[SOS_ABI_MAX_KEY + 1];
  size_t at = 0, klen = 0;
  int visited = 0;
  while (visited < count && at + 8 <= used && !*stop) {
    klen = get_u32(s->buf + at);
    size_t vlen = get_u32(s->buf + at + 4);
    if (klen > SOS_ABI_MAX_KEY || vlen > used - at - 8 - klen)
      break; /* never: the kernel's */
    memcpy(key, s->buf + at + 8, klen);
    key[klen] = 0;
    unsigned char *val = s->buf + at + 8 + klen, saved = val[vlen];
    val[vlen] = 0; /* the next record's first byte, or the spare byte */
    *stop = each(user, key, klen, (const char *)val, vlen) != 0;
    val[vlen] = saved;
    at += 8 + klen + vlen;
    visited++;
  }
  /* Stop when nothing could be read (the kernel broke the format) or after the last key. */
  if (!visited || (!*stop && !scan_after(s, key, klen))) *stop = true;
  return visited;
}

int sos_kv_scan_range(const char *store, const void *start, size_t slen, const void *end,
                      size_t elen, sos_kv_each *each, void *user) {
  if (!start) slen = 0;
  if (!end) elen = 0;
  if (slen > SOS_ABI_MAX_KEY || elen > SOS_ABI_MAX_KEY) return -SOS_STATUS_INVALID;
  struct scan s = {.store = store, .store_len = strlen(store), .end = end ? end : "",
                   .elen = elen, .nlen = slen, .cap = SCAN_BUFFER};
  if (slen) memcpy(s.next, start, slen);
  if (!(s.buf = malloc(s.cap + 1))) return -SOS_STATUS_TOO_BIG;
  int total = 0;
  bool stop = false;
  while (!stop) {
    size_t used;
    int count = scan_page(&s, &used);
    if (count <= 0) {
      if (count < 0) total = count;
      break;
    }
    total += scan_visit(&s, used, count, each, user, &stop);
  }
  free(s.buf);
  return total;
}

int sos_kv_scan_prefix(const char *store, const void *prefix, size_t plen,
                       sos_kv_each *each, void *user) {
  unsigned char end[SOS_ABI_MAX_KEY];
  if (!prefix) plen = 0;
  if (plen > SOS_ABI_MAX_KEY) return -SOS_STATUS_INVALID;
  if (plen) memcpy(end, prefix, plen);
  size_t elen = after_prefix(end, plen); /* 0: no end */
  return sos_kv_scan_range(store, prefix, plen, elen ? end : NULL, elen, each, user);
}

/* ---- storage: log stores ------------------------------------------------- */

int64_t sos_log_append(const char *store, const void *rec, size_t len) {
  if (len > SOS_ABI_MAX_VALUE) return -SOS_STATUS_TOO_BIG;
  return sos__abi_log_append(store, strlen(store), rec, len);
}

/* A log read in progress: the store, the next offset and the page buffer. */
struct log_reader {
  const char *store;
  size_t store_len;
  int64_t from;
  unsigned char *buf; /* cap bytes for records, and one for a NUL */
  size_t cap;
};

/* Fetches the next page of records into r->buf, growing it when not even
 * one record fits.  Returns how many (0: the log is read) or -status. */
static int log_page(struct log_reader *r, size_t *used) {
  for (;;) {
    uint32_t n = 0;
    int32_t count = sos__abi_log_read(r->store, r->store_len, r->from, INT32_MAX, r->buf,
                                      r->cap, &n);
    *used = n;
    if (count != -SOS_STATUS_TOO_BIG) return count;
    unsigned char *p = n > r->cap ? realloc(r->buf, (size_t)n + 1) : NULL;
    if (!p) return -SOS_STATUS_TOO_BIG;
    r->buf = p;
    r->cap = n;
  }
}

/* Calls each for the records of one page and moves r->from past the last;
 * *stop is set when it asks to stop or the page makes no sense.  Returns
 * how many it was called for. */
static int log_visit(struct log_reader *r, size_t used, int count, sos_log_each *each,
                     void *user, bool *stop) {
  size_t at = 0;
  int visited = 0;
  while (visited < count && at + LOG_HEADER <= used && !*stop) {
    uint64_t off = (uint64_t)get_u32(r->buf + at) | (uint64_t)get_u32(r->buf + at + 4) << 32;
    size_t len = get_u32(r->buf + at + 8);
    if (len > used - at - LOG_HEADER || off > INT64_MAX) break; /* never: the kernel's */
    unsigned char *rec = r->buf + at + LOG_HEADER, saved = rec[len];
    rec[len] = 0; /* the next record's first byte, or the spare byte */
    *stop = each(user, (int64_t)off, (const char *)rec, len) != 0;
    rec[len] = saved;
    r->from = (int64_t)off + 1;
    at += LOG_HEADER + len;
    visited++;
  }
  if (!visited) *stop = true;
  return visited;
}

int sos_log_read(const char *store, int64_t from, sos_log_each *each, void *user) {
  if (from < 0) return -SOS_STATUS_INVALID;
  struct log_reader r = {store, strlen(store), from, NULL, SCAN_BUFFER};
  if (!(r.buf = malloc(r.cap + 1))) return -SOS_STATUS_TOO_BIG;
  int total = 0;
  bool stop = false;
  while (!stop) {
    size_t used;
    int count = log_page(&r, &used);
    if (count <= 0) {
      if (count < 0) total = count;
      break;
    }
    total += log_visit(&r, used, count, each, user, &stop);
  }
  free(r.buf);
  return total;
}

int sos_log_tail(const char *store, int64_t from, int timeout_ms) {
  int32_t status = sos__abi_log_tail(store, strlen(store), from, timeout_ms < 0 ? -1 : timeout_ms);
  return status < 0 ? -status : status; /* the kernel negates some statuses */
}

int sos_log_trim(const char *store, int64_t before) {
  int32_t status = sos__abi_log_trim(store, strlen(store), before);
  return status < 0 ? -status : status;
}

int64_t sos_log_end(const char *store) { return sos__abi_log_end(store, strlen(store)); }

/* ---- storage: tables ------------------------------------------------------ */

/* Rows are struct values in the wire format of docs/wire.md: each field a
 * varint key, tag << 3 | wire type, then its payload. */

/* The largest varint: 64 bits in 7-bit groups. */
#define VARINT_MAX 10

/* Writes v as a varint at p (room for VARINT_MAX bytes); its length. */
static size_t varint_put(unsigned char *p, uint64_t v) {
  size_t n = 0;
  for (; v >= 0x80; v >>= 7) p[n++] = (unsigned char)(v | 0x80);
  p[n++] = (unsigned char)v;
  return n;
}

/* Reads the varint at *at of the len bytes at p into *v and moves *at
 * past it; false when it is cut short or longer than 64 bits. */
static bool varint_get(const unsigned char *p, size_t len, size_t *at, uint64_t *v) {
  uint64_t x = 0;
  for (size_t i = 0; i < VARINT_MAX && *at + i < len; i++) {
    unsigned char b = p[*at + i];
    if (i == VARINT_MAX - 1 && b > 1) return false; /* past 2^64 - 1 */
    x |= (uint64_t)(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      *at += i + 1;
      *v = x;
      return true;
    }
  }
  return false;
}

/* The zigzag mapping of signed integers (docs/wire.md, "Varints"). */
static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* Whether the n bytes at p are exactly one varint. */
static bool one_varint(const unsigned char *p, size_t n) {
  size_t at = 0;
  uint64_t v;
  return varint_get(p, n, &at, &v) && at == n;
}

int sos_row_field(struct sos_row *r, unsigned tag, unsigned wire, const void *value,
                  size_t n) {
  if (r->status) return r->status;
  bool ok = wire == SOS_ROW_LEN || (wire == SOS_ROW_I32 && n == 4) ||
            (wire == SOS_ROW_I64 && n == 8) || (wire == SOS_ROW_VARINT && one_varint(value, n));
  if (!tag || tag > 0xffff || !ok) return r->status = SOS_STATUS_INVALID;
  if (n > SOS_ABI_MAX_VALUE || !reserve_bytes(&r->buf, &r->cap, r->len, 2 * VARINT_MAX + n))
    return r->status = SOS_STATUS_TOO_BIG;
  unsigned char *p = r->buf + r->len;
  size_t at = varint_put(p, (uint64_t)tag << 3 | wire);
  if (wire == SOS_ROW_LEN) at += varint_put(p + at, n);
  if (n) memcpy(p + at, value, n);
  r->len += at + n;
  return SOS_STATUS_OK;
}

/* Appends a VARINT field holding v. */
static int row_varint(struct sos_row *r, unsigned tag, uint64_t v) {
  unsigned char b[VARINT_MAX];
  return sos_row_field(r, tag, SOS_ROW_VARINT, b, varint_put(b, v));
}

/* Appends an I32 or I64 field (n = 4 or 8) holding the low n bytes of v,
 * little-endian. */
static int row_fixed(struct sos_row *r, unsigned tag, uint64_t v, size_t n) {
  unsigned char b[8];
  for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(v >> (8 * i));
  return sos_row_field(r, tag, n == 4 ? SOS_ROW_I32 : SOS_ROW_I64, b, n);
}

int sos_row_bool(struct sos_row *r, unsigned tag, int v) { return row_varint(r, tag, v != 0); }

int sos_row_u32(struct sos_row *r, unsigned tag, uint32_t v) { return row_varint(r, tag, v); }

int sos_row_u64(struct sos_row *r, unsigned tag, uint64_t v) { return row_varint(r, tag, v); }

int sos_row_i32(struct sos_row *r, unsigned tag, int32_t v) {
  return row_varint(r, tag, zigzag(v));
}

int sos_row_i64(struct sos_row *r, unsigned tag, int64_t v) {
  return row_varint(r, tag, zigzag(v));
}

int sos_row_f32(struct sos_row *r, unsigned tag, float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits); /* IEEE 754 binary32, as the wire holds it */
  return row_fixed(r, tag, bits, 4);
}

int sos_row_f64(struct sos_row *r, unsigned tag, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits); /* IEEE 754 binary64 */
  return row_fixed(r, tag, bits, 8);
}

int sos_row_text(struct sos_row *r, unsigned tag, const char *s) {
  return sos_row_field(r, tag, SOS_ROW_LEN, s, strlen(s));
}

int sos_row_textn(struct sos_row *r, unsigned tag, const char *s, size_t n) {
  return sos_row_field(r, tag, SOS_ROW_LEN, s, n);
}

int sos_row_bytes(struct sos_row *r, unsigned tag, const void *p, size_t n) {
  return sos_row_field(r, tag, SOS_ROW_LEN, p, n);
}

void sos_row_free(struct sos_row *r) {
  free(r->buf);
  *r = (struct sos_row)SOS_ROW_INIT;
}

/* One field of an encoded row, as sos_row_find describes it; v is a
 * VARINT's value, or an I32's or I64's bits. */
struct field {
  uint64_t tag, v;
  unsigned wire;
  const unsigned char *value;
  size_t vlen;
};

/* Reads the field at *at of the len bytes at p and moves *at past it.
 * Returns SOS_STATUS_OK, or SOS_STATUS_INVALID when it is malformed. */
static int next_field(const unsigned char *p, size_t len, size_t *at, struct field *f) {
  uint64_t key, n = 0;
  if (!varint_get(p, len, at, &key)) return SOS_STATUS_INVALID;
  f->tag = key >> 3;
  f->wire = (unsigned)(key & 7);
  f->value = p + *at;
  size_t from = *at;
  if (f->wire == SOS_ROW_VARINT) {
    if (!varint_get(p, len, at, &f->v)) return SOS_STATUS_INVALID;
    f->vlen = *at - from;
    return SOS_STATUS_OK;
  }
  if (f->wire == SOS_ROW_LEN) {
    if (!varint_get(p, len, at, &n)) return SOS_STATUS_INVALID;
    f->value = p + *at;
  } else if (f->wire == SOS_ROW_I32 || f->wire == SOS_ROW_I64) {
    n = f->wire == SOS_ROW_I32 ? 4 : 8;
  } else {
    return SOS_STATUS_INVALID; /* wire types 3, 4, 6, 7 */
  }
  if (n > len - *at) return SOS_STATUS_INVALID;
  f->vlen = (size_t)n;
  f->v = 0;
  for (size_t i = 0; f->wire != SOS_ROW_LEN && i < n; i++) f->v |= (uint64_t)f->value[i] << (8 * i);
  *at += f->vlen;
  return SOS_STATUS_OK;
}

/* Finds the last occurrence of field tag in row (a later one replaces an
 * earlier one, docs/wire.md) into *f; a status as sos_row_find's. */
static int find_field(const void *row, size_t len, unsigned tag, struct field *f) {
  struct field g;
  size_t at = 0;
  int status = SOS_STATUS_NOT_FOUND;
  while (at < len) {
    if (next_field(row, len, &at, &g) != SOS_STATUS_OK) return SOS_STATUS_INVALID;
    if (g.tag == tag) {
      *f = g;
      status = SOS_STATUS_OK;
    }
  }
  return status;
}

int sos_row_find(const void *row, size_t len, unsigned tag, unsigned *wire,
                 const unsigned char **value, size_t *vlen) {
  struct field f;
  int status = find_field(row, len, tag, &f);
  if (status != SOS_STATUS_OK) return status;
  if (wire) *wire = f.wire;
  if (value) *value = f.value;
  if (vlen) *vlen = f.vlen;
  return SOS_STATUS_OK;
}

/* Reads field tag as wire type `wire` into *f: SOS_STATUS_OK, or
 * SOS_STATUS_NOT_FOUND when absent (the caller's zero), or
 * SOS_STATUS_INVALID for another wire type or a malformed row. */
static int find_typed(const void *row, size_t len, unsigned tag, unsigned wire,
                      struct field *f) {
  int status = find_field(row, len, tag, f);
  return status == SOS_STATUS_OK && f->wire != wire ? SOS_STATUS_INVALID : status;
}

int sos_row_get_u64(const void *row, size_t len, unsigned tag, uint64_t *out) {
  struct field f;
  int status = find_typed(row, len, tag, SOS_ROW_VARINT, &f);
  if (status == SOS_STATUS_INVALID) return status;
  *out = status == SOS_STATUS_OK ? f.v : 0;
  return SOS_STATUS_OK;
}

int sos_row_get_i64(const void *row, size_t len, unsigned tag, int64_t *out) {
  struct field f;
  int status = find_typed(row, len, tag, SOS_ROW_VARINT, &f);
  if (status == SOS_STATUS_INVALID) return status;
  *out = status == SOS_STATUS_OK ? unzigzag(f.v) : 0;
  return SOS_STATUS_OK;
}

int sos_row_get_f64(const void *row, size_t len, unsigned tag, double *out) {
  struct field f;
  int status = find_field(row, len, tag, &f);
  if (status == SOS_STATUS_NOT_FOUND) {
    *out = 0;
    return SOS_STATUS_OK;
  }
  if (status != SOS_STATUS_OK || (f.wire != SOS_ROW_I32 && f.wire != SOS_ROW_I64))
    return SOS_STATUS_INVALID;
  if (f.wire == SOS_ROW_I64) {
    memcpy(out, &f.v, sizeof *out);
  } else {
    uint32_t bits = (uint32_t)f.v;
    float x;
    memcpy(&x, &bits, sizeof x);
    *out = x;
  }
  return SOS_STATUS_OK;
}

int sos_row_get_text(const void *row, size_t len, unsigned tag, char *buf, size_t cap) {
  struct field f;
  int status = find_typed(row, len, tag, SOS_ROW_LEN, &f);
  if (status == SOS_STATUS_INVALID || (status == SOS_STATUS_OK && f.vlen > INT32_MAX))
    return -SOS_STATUS_INVALID;
  size_t n = status == SOS_STATUS_OK ? f.vlen : 0;
  if (cap) {
    size_t m = n < cap ? n : cap - 1;
    if (m) memcpy(buf, f.value, m);
    buf[m] = 0;
  }
  return (int)n;
}

/* The kernel's table_put (put) or table_del, tried again while it meets
 * another writer of the same key: the last write wins, as with kv_put.
 * Writers that collided in one group commit would collide again in the
 * next, so each retry waits a random 0 to 2^i ms first. */
static int table_write(const char *store, const struct sos_row *row, bool put) {
  if (row->status) return row->status;
  size_t store_len = strlen(store);
  int status = SOS_STATUS_CONFLICT;
  for (int i = 0; i < WRITE_TRIES && status == SOS_STATUS_CONFLICT; i++) {
    if (i) sos_sleep_ms((int64_t)(sos_random_u64() % (1u << i)));
    status = put ? sos__abi_table_put(store, store_len, row->buf, row->len)
                 : sos__abi_table_del(store, store_len, row->buf, row->len);
  }
  return status;
}

int sos_table_put(const char *store, const struct sos_row *row) {
  return table_write(store, row, true);
}

/* table_get into buf, as kv_get (a copy_reader). */
static int table_get(const char *store, const void *key, size_t klen, void *buf, size_t cap,
                     size_t *len) {
  uint32_t n = 0;
  int status = sos__abi_table_get(store, strlen(store), key, klen, buf, cap, &n);
  *len = status == SOS_STATUS_OK ? n : 0;
  return status;
}

int sos_table_get(const char *store, const struct sos_row *key, char **row, size_t *len) {
  if (key->status) {
    if (row) *row = NULL;
    if (len) *len = 0;
    return key->status;
  }
  return read_copy(table_get, store, key->buf, key->len, row, len);
}

int sos_table_del(const char *store, const struct sos_row *key) {
  return table_write(store, key, false);
}

/* A query's answer: the rows in table_query's records, count of them. */
struct query {
  unsigned char *buf;
  size_t cap, used;
  int count;
};

/* Asks the kernel until the answer is known whole: limit rows, or fewer
 * with room to spare for a row of the largest size, so that fewer means
 * the range holds no more.  The buffer grows to what the first row needs
 * (-TOO_BIG) or to what is used plus that room.  Returns 0 or -status. */
static int query_fetch(struct query *q, const char *store, unsigned field,
                       const struct sos_row *lo, const struct sos_row *hi, uint32_t limit) {
  size_t store_len = strlen(store);
  for (;;) {
    uint32_t n = 0;
    int32_t count = sos__abi_table_query(store, store_len, field, lo ? lo->buf : NULL,
                                         lo ? lo->len : 0, hi ? hi->buf : NULL,
                                         hi ? hi->len : 0, limit, q->buf, q->cap, &n);
    size_t want;
    if (count == -SOS_STATUS_TOO_BIG && n > q->cap)
      want = n; /* not even the first row fits */
    else if (count < 0)
      return count;
    else if (n > q->cap)
      return -SOS_STATUS_ERROR; /* never: the kernel's */
    else if ((uint32_t)count == limit || q->cap - n >= QUERY_RECORD_MAX) {
      q->count = count;
      q->used = n;
      return 0;
    } else
      want = n + QUERY_RECORD_MAX;
    unsigned char *p = realloc(q->buf, want);
    if (!p) return -SOS_STATUS_TOO_BIG;
    q->buf = p;
    q->cap = want;
  }
}

/* Calls each for the rows of q in order; returns how many it was called
 * for (counting the one that stopped it). */
static int query_visit(const struct query *q, sos_table_each *each, void *user) {
  size_t at = 0;
  int visited = 0;
  while (visited < q->count && q->used - at >= 4) {
    size_t len = get_u32(q->buf + at);
    if (len > q->used - at - 4) break; /* never: the kernel's */
    visited++;
    if (each(user, q->buf + at + 4, len)) break;
    at += 4 + len;
  }
  return visited;
}

int sos_table_query(const char *store, unsigned field, const struct sos_row *lo,
                    const struct sos_row *hi, uint32_t limit, sos_table_each *each,
                    void *user) {
  if (lo && lo->status) return -lo->status;
  if (hi && hi->status) return -hi->status;
  if (field > 0xffff) return -SOS_STATUS_INVALID;
  /* Room for a page of small rows and the largest row: one call, mostly. */
  size_t cap = SCAN_BUFFER + QUERY_RECORD_MAX;
  struct query q = {malloc(cap), cap, 0, 0};
  if (!q.buf) return -SOS_STATUS_TOO_BIG;
  int rc = query_fetch(&q, store, field, lo, hi, limit ? limit : UINT32_MAX);
  if (rc == 0) rc = query_visit(&q, each, user);
  free(q.buf);
  return rc;
}

/* ---- the rest of the system ------------------------------------------------ */

void sos_log(int level, const char *fmt, ...) {
  char stack[STACK_TEXT];
  size_t len;
  va_list ap;
  va_start(ap, fmt);
  char *text = format(stack, &len, fmt, ap);
  va_end(ap);
  if (!text) {
    sos__abi_log(level, fmt, strlen(fmt)); /* the unformatted line beats none */
    return;
  }
  if (len && text[len - 1] == '\n') len--;
  sos__abi_log(level, text, len);
  unformat(text, stack);
}

int64_t sos_now_ns(void) { return sos__abi_now(); }

int64_t sos_monotonic_ns(void) { return sos__abi_monotonic(); }

void sos_sleep_ms(int64_t ms) {
  if (ms > 0) sos__abi_sleep(ms);
}

void sos_random(void *p, size_t len) { sos__abi_random(p, len); }

uint64_t sos_random_u64(void) {
  uint64_t v;
  sos__abi_random(&v, sizeof v);
  return v;
}

int sos_param(const char *name, char *buf, size_t cap) {
  int32_t len = sos__abi_param(name, strlen(name), buf, cap ? cap - 1 : 0);
  if (len >= 0 && cap) buf[(size_t)len < cap ? (size_t)len : cap - 1] = 0;
  return len;
}

/* One looked-up parameter, kept for the instance's lifetime: parameters
 * cannot change under a running instance (a new version starts new ones). */
struct param {
  struct param *next;
  const char *value; /* NULL: the app has no such parameter */
  char name[];
};

static struct param *params;

/* Looks name up with the kernel and remembers the answer; NULL when out
 * of memory. */
static struct param *param_fetch(const char *name) {
  size_t nlen = strlen(name);
  struct param *p = malloc(sizeof *p + nlen + 1);
  if (!p) return NULL;
  memcpy(p->name, name, nlen + 1);
  p->value = NULL;
  int len = sos__abi_param(name, nlen, NULL, 0);
  if (len >= 0) {
    char *v = malloc((size_t)len + 1);
    if (!v) {
      free(p);
      return NULL;
    }
    sos_param(name, v, (size_t)len + 1);
    p->value = v;
  }
  p->next = params;
  params = p;
  return p;
}

const char *sos_param_str(const char *name, const char *def) {
  struct param *p = params;
  while (p && strcmp(p->name, name) != 0) p = p->next;
  if (!p) p = param_fetch(name);
  return p && p->value ? p->value : def;
}

_Noreturn void sos_exit(int code) {
  sos__abi_exit(code);
  __builtin_trap(); /* exit does not return; this makes sure */
}

const char *sos_status_text(int status) {
  if (status < 0) status = -status;
  switch (status) {
#define SOS__STATUS_TEXT(name, val, words) \
  case val:                                \
    return words;
    SOS_STATUS_MAP(SOS__STATUS_TEXT)
#undef SOS__STATUS_TEXT
  }
  return "unknown status";
}
