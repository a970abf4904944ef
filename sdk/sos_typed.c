/*
 * sos_typed.c - what typed apps get beyond the codec of sos_wire.c:
 * discovery (sos_service_find, behind each interface's I_service) and
 * time travel: building a plan of dependent calls, sending it as one
 * message (the call_plan import) and reading its results.  sdk/sos.h
 * documents the calls; src/kernel/plan.c runs plans and
 * src/kernel/builtin.c answers services.describe.
 *
 * A plan is encoded as the struct Plan of package sos (its declaration is
 * the text in src/lang/builtins.c; the encoding is docs/wire.md's).  The
 * builder keeps each step's parts as the caller gives them and encodes
 * the whole plan at sos_plan_start into one buffer: first the steps'
 * requests, as one list (Plan.requests), then the steps without them.
 * The kernel keeps an instance's last plan decoded and reuses it for a
 * plan whose steps are the same byte for byte, whatever the requests: so
 * a handler that sends the same plan with new arguments each time pays
 * for decoding it once.  The results come back as one PlanResult
 * message, read in place.
 *
 * The plan's layout is fixed, so it is written by hand (sizes first, then
 * one pass into one buffer) and read by hand, over the varint primitives
 * of sos_wire.h.
 */
#include "sos.h"
#include "sos_wire.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((import_module(SOS_ABI_MODULE), import_name("call_plan"))) int32_t
sos__abi_call_plan(const void *plan, size_t len, uint32_t timeout_ms);

/* The builder writes each step's fields and each bind in their wire form
 * as they are added, into one pool: sos_plan_call writes the step's
 * service and method fields and its request's bytes, sos_plan_bind one
 * element of its step's list of binds.  sos_plan_start then only lays the
 * pieces out with their lengths, copying each once.  Strings of each and where
 * (rare) are pooled as text (after their length, NUL-terminated) and
 * encoded at the start.  Pieces are referred to by offset + 1 (0: none).
 * Building a plan of N steps costs a few reallocations, not allocations
 * per step: in a guest, malloc would cost more than the kernel's work. */
struct bind {
  uint32_t at, len; /* the element (its length prefix and bytes) in the pool */
  uint32_t next;    /* the step's next bind, index + 1 (0: none) */
};

struct step {
  uint32_t at, len;       /* its service and method fields in the pool */
  uint32_t req_at, req_len, req_cap; /* its request's bytes in the pool */
  uint32_t size;          /* its encoding's bytes, as last encoded */
  uint32_t first, last;   /* its binds, index + 1 (0: none) */
  uint32_t bsize;         /* the bytes of its binds list */
  uint32_t each_field, each_path, each_from, where_path, where_text, where_op;
  int64_t where_int;
  bool each, where, where_num, keep;
};

struct sos_plan {
  uint8_t *pool;
  size_t plen, pcap;
  struct step *steps;
  uint32_t nsteps, capsteps;
  struct bind *binds;
  uint32_t nbinds, capbinds;
  bool failed; /* out of memory while building: start fails */
  /* The message as last started: the requests, then from steps_at the
   * steps' encoding, steps_len bytes (0: none, or stale).  A plan started
   * again with only new requests (sos_plan_set_request) is sent without
   * encoding its steps again, nor moving them when the requests take as
   * many bytes as before. */
  uint8_t *enc;
  size_t enc_cap, steps_at, steps_len;
};

/* Grows *arr (of *cap elements of size bytes) to hold one more than n. */
static bool room(void *arrp, uint32_t n, uint32_t *cap, size_t size) {
  if (n < *cap) return true;
  void *arr;
  memcpy(&arr, arrp, sizeof arr);
  uint32_t c = *cap ? *cap * 2 : 16;
  void *q = realloc(arr, (size_t)c * size);
  if (!q) return false;
  memcpy(arrp, &q, sizeof q);
  *cap = c;
  return true;
}

/* n more bytes at the pool's end (not yet counted in plen), or NULL when
 * out of memory (which marks the plan). */
static uint8_t *grow(sos_plan *p, size_t n) {
  if (p->plen + n > p->pcap) {
    size_t c = p->pcap ? p->pcap : 256;
    while (c < p->plen + n) c *= 2;
    uint8_t *q = realloc(p->pool, c);
    if (!q) return p->failed = true, NULL;
    p->pool = q;
    p->pcap = c;
  }
  return p->pool + p->plen;
}

/* Copies n bytes into the pool, after their length (4 bytes) and before a
 * NUL; their offset + 1, or 0 when out of memory. */
static uint32_t keep(sos_plan *p, const void *src, size_t n) {
  uint8_t *q = grow(p, n + 5);
  if (!q) return 0;
  uint32_t len = (uint32_t)n;
  memcpy(q, &len, 4);
  if (n) memcpy(q + 4, src, n);
  q[4 + n] = 0;
  uint32_t off = (uint32_t)p->plen + 5;
  p->plen += n + 5;
  return off;
}

static uint32_t keep_str(sos_plan *p, const char *s) {
  return s && *s ? keep(p, s, strlen(s)) : 0;
}

static const char *str(const sos_plan *p, uint32_t off) {
  return off ? (const char *)p->pool + off - 1 : "";
}

/* The length of the pooled text at off (0 for none). */
static size_t slen(const sos_plan *p, uint32_t off) {
  uint32_t n = 0;
  if (off) memcpy(&n, p->pool + off - 5, 4);
  return n;
}

/* ---- encoding ---------------------------------------------------------------- */

static size_t vlen(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, n++;
  return n;
}

/* The size of a LEN field of tag < 16 holding n bytes. */
static size_t len_field(size_t n) { return 1 + vlen(n) + n; }

static size_t text_size(const sos_plan *p, uint32_t off) {
  return off ? len_field(slen(p, off)) : 0;
}

/* A Ref { step = 1; path = 2 } of n path bytes. */
static size_t ref_size(uint32_t step, size_t n) {
  return (step ? 1 + vlen(step) : 0) + (n ? len_field(n) : 0);
}

static size_t where_size(const sos_plan *p, const struct step *s) {
  return text_size(p, s->where_path) + (s->where_op ? 1 + vlen(s->where_op) : 0) +
         (s->where_num ? 1 + vlen(sos_wire_zigzag(s->where_int)) : 0) +
         text_size(p, s->where_text);
}

/* The size of step s's encoding. */
static size_t step_size(const sos_plan *p, const struct step *s) {
  return s->len + (s->bsize ? len_field(s->bsize) : 0) +
         (s->each ? len_field(ref_size(s->each_from, slen(p, s->each_path))) +
                        text_size(p, s->each_field)
                  : 0) +
         (s->where ? len_field(where_size(p, s)) : 0) + (s->keep ? 2 : 0);
}

/* Writes the key of LEN field tag and the length n. */
static uint8_t *put_len(uint8_t *q, uint32_t tag, size_t n) {
  *q++ = (uint8_t)(tag << 3 | 2);
  return sos_wire_varint_out(q, n);
}

/* A LEN field holding the n bytes at src. */
static uint8_t *put_bytes(uint8_t *q, uint32_t tag, const void *src, size_t n) {
  q = put_len(q, tag, n);
  memcpy(q, src, n);
  return q + n;
}

static uint8_t *put_text(uint8_t *q, const sos_plan *p, uint32_t tag, uint32_t off) {
  return off ? put_bytes(q, tag, str(p, off), slen(p, off)) : q;
}

static uint8_t *put_ref(uint8_t *q, uint32_t tag, uint32_t step, const char *path, size_t n) {
  q = put_len(q, tag, ref_size(step, n));
  if (step) *q++ = 1 << 3, q = sos_wire_varint_out(q, step);
  return n ? put_bytes(q, 2, path, n) : q;
}

static uint8_t *put_step(uint8_t *q, sos_plan *p, struct step *s) {
  memcpy(q, p->pool + s->at - 1, s->len);
  q += s->len;
  if (s->bsize) q = put_len(q, 4, s->bsize);
  for (uint32_t b = s->first; b; b = p->binds[b - 1].next) {
    const struct bind *bd = &p->binds[b - 1];
    memcpy(q, p->pool + bd->at - 1, bd->len);
    q += bd->len;
  }
  if (s->each) {
    q = put_ref(q, 5, s->each_from, str(p, s->each_path), slen(p, s->each_path));
    q = put_text(q, p, 6, s->each_field);
  }
  if (s->where) {
    q = put_len(q, 7, where_size(p, s));
    q = put_text(q, p, 1, s->where_path);
    if (s->where_op) *q++ = 2 << 3, q = sos_wire_varint_out(q, s->where_op);
    if (s->where_num)
      *q++ = 3 << 3, q = sos_wire_varint_out(q, sos_wire_zigzag(s->where_int));
    q = put_text(q, p, 4, s->where_text);
  }
  if (s->keep) *q++ = 8 << 3, *q++ = 1;
  return q;
}

/* ---- building -------------------------------------------------------------- */

/* The last plan freed, kept with its buffers for the next sos_plan_new:
 * a caller that builds a plan per request then allocates nothing (each
 * malloc and free runs in the guest: together they would cost more than
 * building the plan).  Plans of more than SPARE_MAX bytes are not kept. */
#define SPARE_MAX (64u << 10)
static sos_plan *spare;

sos_plan *sos_plan_new(void) {
  sos_plan *p = spare;
  if (!p) return calloc(1, sizeof(sos_plan));
  spare = NULL;
  return p;
}

void sos_plan_free(sos_plan *p) {
  if (!p) return;
  if (!spare &&
      p->pcap + p->enc_cap + p->capsteps * sizeof *p->steps <= SPARE_MAX) {
    p->plen = 0;
    p->nsteps = p->nbinds = 0;
    p->failed = false;
    p->steps_len = 0;
    spare = p;
    return;
  }
  free(p->pool);
  free(p->steps);
  free(p->binds);
  free(p->enc);
  free(p);
}

/* Sets step s's request to the len bytes at req: in place when they fit
 * where its last one is, else at the pool's end.  False when out of
 * memory. */
static bool put_request(sos_plan *p, struct step *s, const void *req, size_t len) {
  if (len > s->req_cap) {
    uint8_t *q = grow(p, len);
    if (!q) return false;
    s->req_at = (uint32_t)p->plen + 1;
    s->req_cap = (uint32_t)len;
    p->plen += len;
  }
  if (len) memcpy(p->pool + s->req_at - 1, req, len);
  s->req_len = (uint32_t)len;
  return true;
}

int sos_plan_call(sos_plan *p, const char *service, const char *method, const void *req,
                  size_t len) {
  if (!p || !service || !*service || !method || p->nsteps >= SOS_PLAN_MAX_STEPS ||
      len > SOS_ABI_MAX_MESSAGE)
    return -SOS_STATUS_INVALID;
  if (!room(&p->steps, p->nsteps, &p->capsteps, sizeof *p->steps)) {
    p->failed = true;
    return -SOS_STATUS_BUSY;
  }
  size_t ml = strlen(method), head = len_field(strlen(service)) + (ml ? len_field(ml) : 0);
  struct step *s = &p->steps[p->nsteps];
  memset(s, 0, sizeof *s);
  uint8_t *q = grow(p, head);
  if (!q) return -SOS_STATUS_BUSY;
  q = put_bytes(q, 1, service, strlen(service));
  if (ml) put_bytes(q, 2, method, ml);
  s->at = (uint32_t)p->plen + 1;
  s->len = (uint32_t)head;
  p->plen += head;
  p->steps_len = 0;
  if (!put_request(p, s, req, len)) return -SOS_STATUS_BUSY;
  return (int)p->nsteps++;
}

/* The step at index step, when it reads from an earlier step from. */
static struct step *later(sos_plan *p, int step, int from) {
  if (!p || step < 0 || (uint32_t)step >= p->nsteps || from < 0 || from >= step)
    return NULL;
  return &p->steps[step];
}

int sos_plan_bind(sos_plan *p, int step, const char *field, int from, const char *path) {
  struct step *s = later(p, step, from);
  if (!s || !field || !*field) return SOS_STATUS_INVALID;
  size_t fl = strlen(field), pl = path ? strlen(path) : 0;
  size_t body = len_field(fl) + len_field(ref_size((uint32_t)from, pl)), n = vlen(body) + body;
  uint8_t *q;
  if (!room(&p->binds, p->nbinds, &p->capbinds, sizeof *p->binds) || !(q = grow(p, n)))
    return p->failed = true, SOS_STATUS_BUSY;
  q = sos_wire_varint_out(q, body);
  q = put_bytes(q, 1, field, fl);
  put_ref(q, 2, (uint32_t)from, path, pl);
  p->binds[p->nbinds++] = (struct bind){(uint32_t)p->plen + 1, (uint32_t)n, 0};
  p->plen += n;
  if (s->last) p->binds[s->last - 1].next = p->nbinds;
  else s->first = p->nbinds;
  s->last = p->nbinds;
  s->bsize += (uint32_t)n;
  p->steps_len = 0;
  return SOS_STATUS_OK;
}

int sos_plan_each(sos_plan *p, int step, const char *field, int from, const char *path) {
  struct step *s = later(p, step, from);
  if (!s || !field || !*field || !path || !*path || s->each) return SOS_STATUS_INVALID;
  s->each = true;
  p->steps_len = 0;
  s->each_from = (uint32_t)from;
  s->each_field = keep_str(p, field);
  s->each_path = keep_str(p, path);
  return SOS_STATUS_OK;
}

/* The where of an each step. */
static struct step *where_of(sos_plan *p, int step, const char *path, int op) {
  if (!p || step < 0 || (uint32_t)step >= p->nsteps || op < SOS_PLAN_EQ ||
      op > SOS_PLAN_GE)
    return NULL;
  struct step *s = &p->steps[step];
  if (!s->each || s->where) return NULL;
  s->where = true;
  p->steps_len = 0;
  s->where_op = (uint32_t)op;
  s->where_path = keep_str(p, path);
  return s;
}

int sos_plan_where_int(sos_plan *p, int step, const char *path, int op, int64_t value) {
  struct step *s = where_of(p, step, path, op);
  if (!s) return SOS_STATUS_INVALID;
  s->where_num = true;
  s->where_int = value;
  return SOS_STATUS_OK;
}

int sos_plan_where_text(sos_plan *p, int step, const char *path, int op,
                        const char *value) {
  struct step *s = value ? where_of(p, step, path, op) : NULL;
  if (!s) return SOS_STATUS_INVALID;
  s->where_text = keep(p, value, strlen(value)); /* "" is a value here: off != 0 */
  return SOS_STATUS_OK;
}

int sos_plan_set_request(sos_plan *p, int step, const void *req, size_t len) {
  if (!p || step < 0 || (uint32_t)step >= p->nsteps || len > SOS_ABI_MAX_MESSAGE)
    return SOS_STATUS_INVALID;
  return put_request(p, &p->steps[step], req, len) ? SOS_STATUS_OK
                                                   : (p->failed = true, SOS_STATUS_BUSY);
}

int sos_plan_keep(sos_plan *p, int step) {
  if (!p || step < 0 || (uint32_t)step >= p->nsteps) return SOS_STATUS_INVALID;
  p->steps[step].keep = true;
  p->steps_len = 0;
  return SOS_STATUS_OK;
}

int sos_plan_start(sos_plan *p, uint32_t timeout_ms) {
  if (!p || !p->nsteps) return -SOS_STATUS_INVALID;
  if (p->failed) return -SOS_STATUS_BUSY;
  /* The requests: an element per step up to the last that has one. */
  size_t reqs = 0;
  uint32_t last = 0;
  for (uint32_t i = 0; i < p->nsteps; i++) {
    size_t n = p->steps[i].req_len;
    reqs += vlen(n) + n;
    if (n) last = i + 1;
  }
  reqs -= p->nsteps - last; /* the empty ones after it */
  size_t at = last ? len_field(reqs) : 0, list = 0;
  if (!p->steps_len)
    for (uint32_t i = 0; i < p->nsteps; i++) {
      struct step *s = &p->steps[i];
      s->size = (uint32_t)step_size(p, s);
      list += vlen(s->size) + s->size;
    }
  size_t total = at + (p->steps_len ? p->steps_len : len_field(list));
  if (total > p->enc_cap) {
    uint8_t *buf = realloc(p->enc, total);
    if (!buf) return -SOS_STATUS_BUSY;
    p->enc = buf;
    p->enc_cap = total;
  }
  if (!p->steps_len) {
    uint8_t *q = put_len(p->enc + at, 1, list);
    for (uint32_t i = 0; i < p->nsteps; i++) {
      q = sos_wire_varint_out(q, p->steps[i].size);
      q = put_step(q, p, &p->steps[i]);
    }
    p->steps_len = (size_t)(q - p->enc) - at;
  } else if (p->steps_at != at) {
    memmove(p->enc + at, p->enc + p->steps_at, p->steps_len);
  }
  p->steps_at = at;
  uint8_t *q = p->enc;
  if (last) q = put_len(q, 2, reqs);
  for (uint32_t i = 0; i < last; i++) {
    const struct step *s = &p->steps[i];
    q = sos_wire_varint_out(q, s->req_len);
    if (s->req_len) memcpy(q, p->pool + s->req_at - 1, s->req_len), q += s->req_len;
  }
  return sos__abi_call_plan(p->enc, at + p->steps_len, timeout_ms);
}

/* ---- reading results --------------------------------------------------------- */

struct in {
  const uint8_t *p, *end;
};

/* The varint at c->p, moving past it; false when it is cut short or
 * passes 2^64 - 1. */
static bool get_varint(struct in *c, uint64_t *v) {
  uint64_t x = 0;
  for (unsigned sh = 0; c->p < c->end && sh < 64; sh += 7) {
    uint8_t b = *c->p++;
    if (sh == 63 && b > 1) return false;
    x |= (uint64_t)(b & 0x7f) << sh;
    if (!(b & 0x80)) return *v = x, true;
  }
  return false;
}

/* The next field: tag, wire type, varint value or LEN payload. */
static bool get_field(struct in *c, uint32_t *tag, uint64_t *u, const uint8_t **p,
                      size_t *n) {
  uint64_t k;
  if (c->p >= c->end || !get_varint(c, &k)) return false;
  *tag = (uint32_t)(k >> 3);
  *n = 0;
  switch (k & 7) {
  case 0: return get_varint(c, u);
  case 2:
    if (!get_varint(c, u) || *u > (uint64_t)(c->end - c->p)) return false;
    *p = c->p;
    *n = (size_t)*u;
    c->p += *n;
    return true;
  case 1: *n = 8; break;
  case 5: *n = 4; break;
  default: return false;
  }
  if ((size_t)(c->end - c->p) < *n) return false;
  c->p += *n;
  return true;
}

/* The StepResult of step in PlanResult res, as its bytes. */
static bool find_step(const void *res, size_t len, int step, struct in *out) {
  struct in c = {res, (const uint8_t *)res + len};
  uint32_t tag;
  uint64_t u;
  const uint8_t *p;
  size_t n;
  while (get_field(&c, &tag, &u, &p, &n)) {
    if (tag != 1 || !n) continue;
    struct in l = {p, p + n};
    uint64_t elen;
    while (l.p < l.end && get_varint(&l, &elen) && elen <= (uint64_t)(l.end - l.p)) {
      struct in e = {l.p, l.p + elen}, f = e;
      uint64_t idx = 0;
      l.p += elen;
      while (get_field(&f, &tag, &u, &p, &n))
        if (tag == 1) idx = u;
      if (idx == (uint64_t)step) return *out = e, true;
    }
  }
  return false;
}

int sos_plan_result(const void *res, size_t len, int step, const void **body,
                    size_t *blen) {
  struct in e;
  uint32_t tag;
  uint64_t u;
  const uint8_t *p;
  size_t n;
  int status = SOS_STATUS_OK;
  *body = "";
  *blen = 0;
  if (!find_step(res, len, step, &e)) return SOS_STATUS_NOT_FOUND;
  while (get_field(&e, &tag, &u, &p, &n)) {
    if (tag == 2) status = (int)u;
    if (tag == 3) *body = p, *blen = n;
  }
  return status;
}

int sos_plan_item(const void *res, size_t len, int step, size_t i, const void **body,
                  size_t *blen) {
  struct in e;
  uint32_t tag;
  uint64_t u;
  const uint8_t *p;
  size_t n, k = 0;
  *body = "";
  *blen = 0;
  if (!find_step(res, len, step, &e)) return -SOS_STATUS_NOT_FOUND;
  while (get_field(&e, &tag, &u, &p, &n)) {
    if (tag != 4) continue;
    struct in l = {p, p + n};
    uint64_t elen;
    while (l.p < l.end && get_varint(&l, &elen) && elen <= (uint64_t)(l.end - l.p)) {
      struct in it = {l.p, l.p + elen};
      l.p += elen;
      if (k++ != i) continue;
      int status = SOS_STATUS_OK;
      while (get_field(&it, &tag, &u, &p, &n)) {
        if (tag == 1) status = (int)u;
        if (tag == 2) *body = p, *blen = n;
      }
      return status;
    }
  }
  return -SOS_STATUS_NOT_FOUND;
}

size_t sos_plan_items(const void *res, size_t len, int step) {
  const void *b;
  size_t n, k = 0;
  while (sos_plan_item(res, len, step, k, &b, &n) >= 0) k++;
  return k;
}

int sos_plan_failed(const void *res, size_t len) {
  struct in c = {res, (const uint8_t *)res + len};
  uint32_t tag;
  uint64_t u = 0;
  const uint8_t *p;
  size_t n;
  while (get_field(&c, &tag, &u, &p, &n))
    if (tag == 2) return (int)u - 1;
  return -1;
}

/* ---- discovery ------------------------------------------------------------- */

int sos_service_find(const char *name, const char *requirement, const char *interface) {
  char *resp = NULL;
  size_t len = 0, nl = name ? strlen(name) : 0,
         rl = requirement ? strlen(requirement) : 0;
  if (nl > 255 || rl > 255) {
    sos_wire_note(SOS_STATUS_INVALID,
                  "a service name or requirement is at most 255 bytes");
    return SOS_STATUS_INVALID;
  }
  uint8_t req[520], *q = req; /* struct Lookup { name: text = 1; version: text = 2 } */
  if (nl) q = put_len(q, 1, nl), memcpy(q, name, nl), q += nl;
  if (rl) q = put_len(q, 2, rl), memcpy(q, requirement, rl), q += rl;
  int status = sos_call("services", "describe", req, (size_t)(q - req), &resp, &len);
  if (status) { /* the Error struct's code and name, or the message */
    sos_wire_outcome(status, resp ? resp : sos_status_text(status),
                     resp ? len : strlen(sos_status_text(status)));
    free(resp);
    return status;
  }
  struct in c = {(const uint8_t *)resp, (const uint8_t *)resp + len};
  uint32_t tag;
  uint64_t u;
  const uint8_t *p = NULL;
  size_t n, ilen = 0;
  const uint8_t *iface = NULL;
  while (get_field(&c, &tag, &u, &p, &n))
    if (tag == 5) iface = p, ilen = n; /* ServiceInfo.interface */
  bool match = !interface || (iface && ilen == strlen(interface) &&
                              memcmp(iface, interface, ilen) == 0);
  free(resp);
  if (match) return SOS_STATUS_OK;
  char msg[200];
  snprintf(msg, sizeof msg, "service %s does not implement %s", name, interface);
  sos_wire_note(SOS_STATUS_INVALID, msg);
  return SOS_STATUS_INVALID;
}
