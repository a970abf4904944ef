/*
 * sos_typed.c - what typed apps get beyond the codec of sos_wire.c:
 * discovery (sos_service_find, behind each interface's I_service) and
 * time travel: building a plan of dependent calls, sending it as one
 * message (the call_plan import) and reading its results.  sdk/sos.h
 * documents the calls; src/kernel/plan.c runs plans and
 * src/kernel/builtin.c answers services.describe.
 *
 * A plan is encoded as the struct Plan of package sos (its declaration is
 * the text in src/idl/builtins.c; the encoding is docs/wire.md's).  The
 * builder keeps each step's parts as the caller gives them and encodes
 * the whole plan once, at sos_plan_start, into one buffer: a step is a
 * handful of short fields, so encoding costs less than the call.  The
 * results come back as one PlanResult message, read in place.
 *
 * This file carries its own few lines of wire writing and reading, so
 * that an app that only sends plans of untyped requests needs nothing
 * else; typed apps get the same format from sos_wire.c.
 */
#include "sos.h"
#include "sos_wire.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((import_module(SOS_ABI_MODULE), import_name("call_plan"))) int32_t
sos__abi_call_plan(const void *plan, size_t len, uint32_t timeout_ms);

/* One bind: request field `field` := field `path` of step `from`. */
struct bind {
  char *field, *path;
  uint32_t from;
};

struct step {
  char *service, *method;
  uint8_t *req;
  size_t len;
  struct bind *binds;
  uint32_t nbinds;
  bool each, where, where_num, keep;
  uint32_t each_from, where_op;
  char *each_field, *each_path, *where_path, *where_text;
  int64_t where_int;
};

struct sos_plan {
  struct step *steps;
  uint32_t nsteps;
  bool failed; /* out of memory while building: start fails */
};

/* ---- writing ------------------------------------------------------------- */

struct out {
  uint8_t *p;
  size_t len, cap;
  bool oom;
};

static void add(struct out *o, const void *p, size_t n) {
  if (o->oom || !n) return;
  if (o->len + n > o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 256;
    while (cap < o->len + n) cap *= 2;
    uint8_t *q = realloc(o->p, cap);
    if (!q) {
      o->oom = true;
      return;
    }
    o->p = q;
    o->cap = cap;
  }
  memcpy(o->p + o->len, p, n);
  o->len += n;
}

static void varint(struct out *o, uint64_t v) {
  uint8_t t[10];
  size_t n = 0;
  do {
    t[n] = (uint8_t)(v & 0x7f);
    v >>= 7;
    if (v) t[n] |= 0x80;
    n++;
  } while (v);
  add(o, t, n);
}

static void key(struct out *o, uint32_t tag, uint32_t wire) { varint(o, (uint64_t)tag << 3 | wire); }

static void bytes(struct out *o, uint32_t tag, const void *p, size_t n) {
  key(o, tag, 2);
  varint(o, n);
  add(o, p, n);
}

static void text(struct out *o, uint32_t tag, const char *s) {
  if (s && *s) bytes(o, tag, s, strlen(s));
}

/* A nested struct field: tag, then the bytes of inner (freed here). */
static void nested(struct out *o, uint32_t tag, struct out *inner) {
  o->oom |= inner->oom;
  bytes(o, tag, inner->p, inner->len);
  free(inner->p);
}

/* struct Ref { step: u32 = 1; path: text = 2 } */
static void ref(struct out *o, uint32_t tag, uint32_t step, const char *path) {
  struct out r = {0};
  if (step) key(&r, 1, 0), varint(&r, step);
  text(&r, 2, path);
  nested(o, tag, &r);
}

static void encode_step(struct out *o, const struct step *s) {
  text(o, 1, s->service);
  text(o, 2, s->method);
  if (s->len) bytes(o, 3, s->req, s->len);
  if (s->nbinds) {
    struct out list = {0};
    for (uint32_t i = 0; i < s->nbinds; i++) {
      struct out b = {0};
      text(&b, 1, s->binds[i].field);
      ref(&b, 2, s->binds[i].from, s->binds[i].path);
      list.oom |= b.oom;
      varint(&list, b.len);
      add(&list, b.p, b.len);
      free(b.p);
    }
    nested(o, 4, &list);
  }
  if (s->each) {
    ref(o, 5, s->each_from, s->each_path);
    text(o, 6, s->each_field);
  }
  if (s->where) {
    struct out w = {0};
    text(&w, 1, s->where_path);
    if (s->where_op) key(&w, 2, 0), varint(&w, s->where_op);
    if (s->where_num) {
      key(&w, 3, 0);
      varint(&w, ((uint64_t)s->where_int << 1) ^ (uint64_t)(s->where_int >> 63));
    }
    if (s->where_text) bytes(&w, 4, s->where_text, strlen(s->where_text));
    nested(o, 7, &w);
  }
  if (s->keep) key(o, 8, 0), varint(o, 1);
}

/* ---- building -------------------------------------------------------------- */

sos_plan *sos_plan_new(void) { return calloc(1, sizeof(sos_plan)); }

static void step_clear(struct step *s) {
  free(s->service);
  free(s->method);
  free(s->req);
  for (uint32_t i = 0; i < s->nbinds; i++) {
    free(s->binds[i].field);
    free(s->binds[i].path);
  }
  free(s->binds);
  free(s->each_field);
  free(s->each_path);
  free(s->where_path);
  free(s->where_text);
}

void sos_plan_free(sos_plan *p) {
  if (!p) return;
  for (uint32_t i = 0; i < p->nsteps; i++) step_clear(&p->steps[i]);
  free(p->steps);
  free(p);
}

/* A copy of s, NULL only when out of memory (which marks the plan). */
static char *dup(sos_plan *p, const char *s) {
  char *d = strdup(s ? s : "");
  if (!d) p->failed = true;
  return d;
}

int sos_plan_call(sos_plan *p, const char *service, const char *method, const void *req,
                  size_t len) {
  if (!p || !service || !method || p->nsteps >= SOS_PLAN_MAX_STEPS) return -SOS_STATUS_INVALID;
  struct step *grown = realloc(p->steps, (p->nsteps + 1) * sizeof *grown);
  if (!grown) {
    p->failed = true;
    return -SOS_STATUS_BUSY;
  }
  p->steps = grown;
  struct step *s = &p->steps[p->nsteps];
  memset(s, 0, sizeof *s);
  s->service = dup(p, service);
  s->method = dup(p, method);
  if (len && (s->req = malloc(len))) memcpy(s->req, req, len);
  else if (len) p->failed = true;
  s->len = len;
  return (int)p->nsteps++;
}

/* The step at index step, when it reads from an earlier step from. */
static struct step *later(sos_plan *p, int step, int from) {
  if (!p || step < 0 || (uint32_t)step >= p->nsteps || from < 0 || from >= step) return NULL;
  return &p->steps[step];
}

int sos_plan_bind(sos_plan *p, int step, const char *field, int from, const char *path) {
  struct step *s = later(p, step, from);
  if (!s || !field || !*field) return SOS_STATUS_INVALID;
  struct bind *grown = realloc(s->binds, (s->nbinds + 1) * sizeof *grown);
  if (!grown) return p->failed = true, SOS_STATUS_BUSY;
  s->binds = grown;
  s->binds[s->nbinds++] = (struct bind){dup(p, field), dup(p, path), (uint32_t)from};
  return SOS_STATUS_OK;
}

int sos_plan_each(sos_plan *p, int step, const char *field, int from, const char *path) {
  struct step *s = later(p, step, from);
  if (!s || !field || !*field || !path || !*path || s->each) return SOS_STATUS_INVALID;
  s->each = true;
  s->each_from = (uint32_t)from;
  s->each_field = dup(p, field);
  s->each_path = dup(p, path);
  return SOS_STATUS_OK;
}

/* The where of an each step. */
static struct step *where_of(sos_plan *p, int step, const char *path, int op) {
  if (!p || step < 0 || (uint32_t)step >= p->nsteps || op < SOS_PLAN_EQ || op > SOS_PLAN_GE)
    return NULL;
  struct step *s = &p->steps[step];
  if (!s->each || s->where) return NULL;
  s->where = true;
  s->where_op = (uint32_t)op;
  s->where_path = dup(p, path);
  return s;
}

int sos_plan_where_int(sos_plan *p, int step, const char *path, int op, int64_t value) {
  struct step *s = where_of(p, step, path, op);
  if (!s) return SOS_STATUS_INVALID;
  s->where_num = true;
  s->where_int = value;
  return SOS_STATUS_OK;
}

int sos_plan_where_text(sos_plan *p, int step, const char *path, int op, const char *value) {
  struct step *s = value ? where_of(p, step, path, op) : NULL;
  if (!s) return SOS_STATUS_INVALID;
  s->where_text = dup(p, value);
  return SOS_STATUS_OK;
}

int sos_plan_keep(sos_plan *p, int step) {
  if (!p || step < 0 || (uint32_t)step >= p->nsteps) return SOS_STATUS_INVALID;
  p->steps[step].keep = true;
  return SOS_STATUS_OK;
}

int sos_plan_start(sos_plan *p, uint32_t timeout_ms) {
  if (!p || !p->nsteps) return -SOS_STATUS_INVALID;
  if (p->failed) return -SOS_STATUS_BUSY;
  struct out list = {0}, plan = {0};
  for (uint32_t i = 0; i < p->nsteps; i++) {
    struct out s = {0};
    encode_step(&s, &p->steps[i]);
    list.oom |= s.oom;
    varint(&list, s.len);
    add(&list, s.p, s.len);
    free(s.p);
  }
  nested(&plan, 1, &list);
  int h = plan.oom ? -SOS_STATUS_BUSY : sos__abi_call_plan(plan.p, plan.len, timeout_ms);
  free(plan.p);
  return h;
}

/* ---- reading results --------------------------------------------------------- */

struct in {
  const uint8_t *p, *end;
};

static bool get_varint(struct in *c, uint64_t *v) {
  uint64_t x = 0;
  for (int s = 0; s < 64 && c->p < c->end; s += 7) {
    uint8_t b = *c->p++;
    x |= (uint64_t)(b & 0x7f) << s;
    if (!(b & 0x80)) return *v = x, true;
  }
  return false;
}

/* The next field: tag, wire type, varint value or LEN payload. */
static bool get_field(struct in *c, uint32_t *tag, uint64_t *u, const uint8_t **p, size_t *n) {
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

int sos_plan_result(const void *res, size_t len, int step, const void **body, size_t *blen) {
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
  struct out o = {0};
  char *resp = NULL;
  size_t len = 0;
  text(&o, 1, name);
  text(&o, 2, requirement);
  int status = o.oom ? SOS_STATUS_BUSY
                     : sos_call("services", "describe", o.p, o.len, &resp, &len);
  free(o.p);
  if (status) {
    sos_wire_fault f;
    if (status == SOS_STATUS_ERROR && resp && sos_wire_error_decode(&f, status, resp, len) == 0)
      sos_wire_note(status, f.message);
    else
      sos_wire_note(status, resp ? resp : sos_status_text(status));
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
