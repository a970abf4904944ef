/*
 * typed.c - what the kernel does with services' interfaces: it keeps each
 * image's compiled schema, converts JSON to wire bytes and back for
 * outside callers (`sos call`, the control API), describes a service's
 * interface, and checks that a caller's idea of an interface agrees with
 * the callee's before their first call.
 *
 * Schemas come from the image's definition (its canonical text holds the
 * app's structs, enums and interfaces, and those it imported), compiled
 * once per loaded image (image_ref.idl) by src/idl.  An outside call is
 * typed when its target implements an interface that declares the
 * method: the request is JSON, converted with the request struct, and the
 * response (or the Error struct of a failed typed call, docs/wire.md) is
 * converted back when the call completes.  The req keeps a reference on
 * the image whose schema it needs, so a rollback meanwhile changes
 * nothing for it.
 *
 * Agreement between caller and callee: when an instance calls a service
 * that implements interface I and the caller's own definition also
 * declares (or imports) an interface named I, the two versions of I must
 * not break each other: one of them must be a compatible evolution of the
 * other (sos_idl_compat_interface).  The verdict is computed once per
 * pair of images and remembered in the caller's image_ref, so the check
 * costs a short list walk on later calls.  A mismatch fails the call with
 * INVALID and says why, instead of letting either side misread the
 * other's bytes.
 */
#include "kernel/kernel.h"
#include "sos/idl.h"

#include <stdio.h>
#include <string.h>

int sos__k_typed_init(struct kernel *k) {
  struct sos_app *app = NULL;
  char err[256];
  int rc = sos_app_parse(sos_app_builtins, strlen(sos_app_builtins), "package sos", &app, err,
                         sizeof err);
  if (rc == 0) rc = sos_idl_new(app, &k->sos_idl, err, sizeof err);
  sos_app_free(app);
  if (rc == 0) {
    k->err_type = sos_idl_struct(k->sos_idl, "Error");
    k->plan_type = sos_idl_struct(k->sos_idl, "Plan");
  }
  return rc;
}

void sos__k_typed_free(struct kernel *k) {
  sos_idl_free(k->sos_idl);
  k->sos_idl = NULL;
  sos_buf_free(&k->plan_buf);
  sos__k_plan_free_spare(k);
}

int sos__k_typed_image(struct image_ref *ir, char *err, size_t errlen) {
  const struct sos_app *a = ir->app;
  if (!a->nstructs && !a->ninterfaces && !a->nenums) return 0;
  return sos_idl_new(a, &ir->idl, err, errlen);
}

void sos__k_typed_image_free(struct image_ref *ir) {
  sos_idl_free(ir->idl);
  while (ir->verdicts) {
    struct verdict *v = ir->verdicts;
    ir->verdicts = v->next;
    sos_free(v);
  }
}

/* The request and response struct indexes of method in interface iface
 * of schema idl; false when there is no such method. */
static bool typed_method(const struct sos_idl *idl, const char *iface, const char *method,
                         int *request, int *response) {
  if (!idl || !iface) return false;
  int ix = sos_idl_interface(idl, iface);
  return ix >= 0 && sos_idl_method(idl, ix, method, request, response) >= 0;
}

int sos__k_typed_request(struct kernel *k, struct svc *s, const char *builtin, struct req *r,
                         char *err, size_t errlen) {
  struct image_ref *ir = s ? s->cur->img : NULL;
  const struct sos_idl *idl = s ? ir->idl : k->sos_idl;
  const char *iface = s ? s->cur->def->implements : sos__k_builtin_interface(builtin);
  int request, response;
  if (!typed_method(idl, iface, r->method, &request, &response)) return 0;
  uint8_t *wire;
  size_t n;
  bool blank = true; /* no request at all: the empty struct, {} */
  for (uint32_t i = 0; i < r->len && blank; i++) blank = strchr(" \t\r\n", r->body[i]) != NULL;
  int rc = sos_idl_from_json(idl, request, blank ? "{}" : (const char *)r->body,
                             blank ? 2 : r->len, &wire, &n, err, errlen);
  if (rc) return rc;
  if (n > SOS_ABI_MAX_MESSAGE) {
    sos_free(wire);
    snprintf(err, errlen, "the encoded request is larger than 16 MiB");
    return SOS_ETOOBIG;
  }
  sos__k_req_body(r, wire, (uint32_t)n);
  r->schema = idl;
  r->resp_type = response;
  if ((r->typed = ir)) ir->refs++;
  return 1;
}

int sos__k_typed_response(struct kernel *k, struct req *r, char **json, size_t *len) {
  char err[256];
  *json = NULL;
  if (r->status == SOS_STATUS_OK)
    return sos_idl_to_json(r->schema, r->resp_type, r->resp, r->resp_len, json, len, err,
                           sizeof err);
  if (r->status != SOS_STATUS_ERROR) return SOS_EINVAL;
  return sos_idl_to_json(k->sos_idl, k->err_type, r->resp, r->resp_len, json, len, err,
                         sizeof err);
}

int sos__k_describe(struct kernel *k, const char *name, char **text, char *err,
                    size_t errlen) {
  struct svc *s = sos__k_svc_find(k, name);
  *text = NULL;
  if (sos__k_builtin(name)) return sos_idl_describe(k->sos_idl, sos__k_builtin_interface(name),
                                                     text);
  if (!s || s->removed) {
    snprintf(err, errlen, "no service named %s (see sos ps)", name);
    return SOS_ENOENT;
  }
  const struct sos_app_service *def = s->cur->def;
  if (!def->implements || !s->cur->img->idl) {
    snprintf(err, errlen, "service %s has no interface: its methods take and return bytes",
             name);
    return SOS_ENOENT;
  }
  int rc = sos_idl_describe(s->cur->img->idl, def->implements, text);
  if (rc) snprintf(err, errlen, "cannot describe %s: %s", name, sos_strerror(rc));
  return rc;
}

/* Whether app declares or imports an interface named name. */
static bool declares(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; i < app->ninterfaces; i++)
    if (strcmp(app->interfaces[i].name, name) == 0) return true;
  return false;
}

int sos__k_typed_agree(struct kernel *k, struct image_ref *caller, struct svc *callee,
                       char *err, size_t errlen) {
  struct image_ref *to = callee->cur->img;
  const char *iface = callee->cur->def->implements;
  (void)k;
  if (!iface || caller == to || !declares(caller->app, iface)) return 0;
  for (struct verdict *v = caller->verdicts; v; v = v->next)
    if (strcmp(v->callee, to->id) == 0) {
      if (v->ok) return 0;
      snprintf(err, errlen, "%s", v->why);
      return SOS_EINVAL;
    }
  char why[256], back[8];
  bool ok = sos_idl_compat_interface(caller->app, to->app, iface, why, sizeof why) == 0 ||
            sos_idl_compat_interface(to->app, caller->app, iface, back, sizeof back) == 0;
  char msg[sizeof ((struct verdict *)0)->why];
  snprintf(msg, sizeof msg, "this app's interface %s does not match %s's (version %u): %s",
           iface, callee->name, callee->cur->n, why);
  struct verdict *v = sos_calloc(1, sizeof *v);
  if (v) {
    memcpy(v->callee, to->id, sizeof v->callee);
    v->ok = ok;
    memcpy(v->why, msg, sizeof v->why);
    v->next = caller->verdicts;
    caller->verdicts = v;
  }
  if (ok) return 0;
  snprintf(err, errlen, "%s", msg);
  return SOS_EINVAL;
}
