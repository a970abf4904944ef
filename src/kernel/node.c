/*
 * node.c - the node's data directory, its images and its deployments.
 *
 * Layout of the data directory (created on first start, mode 0700):
 *
 *   sosd.lock        flock()ed by the running sosd; holds its pid
 *   sosd.sock        the control socket (control.c), mode 0600
 *   state.json       the deployments: services, their versions, which is
 *                    current.  Rewritten atomically (temporary file,
 *                    fsync, rename) after every deploy, rollback and rm.
 *   images/ID.sosimg every image deployed, verified against its name
 *   logs/NAME.log    each service's log
 *
 * A deploy first stores and verifies the image, then makes a new version
 * of each service the image defines and saves state.json; only then does
 * it answer.  So after any stop, SIGKILL included, a restart finds every
 * acknowledged deployment in state.json and its image in images/.
 *
 * Images are loaded once (struct image_ref: definition, compiled module,
 * linked imports) and shared by the versions that use them.
 */
#include "kernel/kernel.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* DATA/rel into buf. */
static void path_of(const struct kernel *k, char *buf, size_t cap, const char *fmt,
                    const char *arg) {
  int n = snprintf(buf, cap, "%s/", k->data);
  snprintf(buf + n, cap - (size_t)n, fmt, arg);
}

static int mkdir_p(const char *path) {
  return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* ---- images ------------------------------------------------------------- */

static int stdout_hook(void *user, sos_wasm_instance *wi, uint32_t fd, const uint8_t *p,
                       size_t n) {
  (void)user;
  struct inst *in = sos_wasm_instance_user(wi);
  sos__k_log_bytes(in ? in->svc : NULL, fd == 2 ? "error" : "info", p, n);
  return 0;
}

/* Makes the WASI context of an image: argv[0] the app's name, the
 * environment its parameters, no stdin, stdout and stderr to the log. */
static int make_wasi(struct kernel *k, struct image_ref *ir) {
  const struct sos_app *app = ir->app;
  const char **env = sos_calloc(app->nparams + 1, sizeof *env);
  if (!env) return SOS_ENOMEM;
  int rc = 0;
  for (uint32_t i = 0; i < app->nparams && !rc; i++) {
    size_t len = strlen(app->params[i].name) + strlen(app->params[i].value) + 2;
    char *e = sos_malloc(len);
    if (!e) rc = SOS_ENOMEM;
    else snprintf(e, len, "%s=%s", app->params[i].name, app->params[i].value);
    env[i] = e;
  }
  struct sos_wasi_config c;
  sos_wasi_config_init(&c);
  const char *argv[] = {app->name};
  c.argc = 1;
  c.argv = argv;
  c.envc = app->nparams;
  c.env = env;
  c.stdio[0] = -1;
  c.write = stdout_hook;
  c.fs = &k->files;
  if (!rc) rc = sos_wasi_new(&c, &ir->wasi);
  for (uint32_t i = 0; i < app->nparams; i++) sos_free((char *)env[i]);
  sos_free(env);
  return rc;
}

/* Whether the module exports a function called name. */
static bool exports(const sos_wasm_module *m, const char *name) {
  uint32_t n = sos_wasm_module_export_count(m);
  for (uint32_t i = 0; i < n; i++) {
    struct sos_wasm_name en;
    struct sos_wasm_externtype t;
    sos_wasm_module_export(m, i, &en, &t);
    if (t.kind == SOS_WASM_EXTERN_FUNC && en.len == strlen(name) && !memcmp(en.p, name, en.len))
      return true;
  }
  return false;
}

/* Checks a reactor's ABI version by calling its sos_abi_version export in
 * a throw-away instance. */
static int check_abi(struct image_ref *ir, char *err, size_t errlen) {
  if (ir->is_job) return 0;
  if (!exports(ir->mod, "sos_handle") || !exports(ir->mod, "sos_abi_version")) {
    snprintf(err, errlen, "the module exports neither _start (a job) nor sos_handle and "
             "sos_abi_version (a service); build it with the SOS SDK");
    return SOS_EINVAL;
  }
  sos_wasm_instance *wi;
  struct sos_wasm_limits lim = {.max_memory = 64u << 20, .fuel = 1000000};
  int rc = sos_wasm_instance_new(ir->mod, &lim, ir->imports, ir->nimports, &wi, err, errlen);
  if (rc) return rc;
  struct sos_wasm_extern e;
  sos_wasm_val v = 0;
  struct sos_wasm_trap trap;
  sos_wasm_instance_export(wi, "sos_abi_version", 15, &e);
  rc = sos_wasm_call(wi, e.u.func, NULL, 0, &v, 1, &trap);
  sos_wasm_instance_free(wi);
  if (rc || (uint32_t)v != SOS_ABI_VERSION) {
    snprintf(err, errlen, "the module was built for ABI version %u; this node runs version %d",
             rc ? 0 : (unsigned)(uint32_t)v, SOS_ABI_VERSION);
    return SOS_EINVAL;
  }
  return 0;
}

static void image_ref_free(struct image_ref *ir) {
  if (!ir) return;
  sos__k_typed_image_free(ir);
  sos_free(ir->imports);
  sos_wasi_free(ir->wasi);
  sos_wasm_module_free(ir->mod);
  sos_app_free(ir->app);
  sos_image_free(ir->img);
  sos_free(ir);
}

void sos__k_image_unref(struct kernel *k, struct image_ref *ir) {
  if (--ir->refs) return;
  if (!ir->listed) {
    image_ref_free(ir);
    return;
  }
  for (struct image_ref **p = &k->images; *p; p = &(*p)->next)
    if (*p == ir) {
      *p = ir->next;
      break;
    }
  image_ref_free(ir);
}

/* Turns a verified image into a shared image_ref (refs 1): parses its
 * definition, compiles and links its module.  Takes img. */
static int image_ref_make(struct kernel *k, struct sos_image *img, struct image_ref **out,
                          char *err, size_t errlen) {
  struct image_ref *ir = sos_calloc(1, sizeof *ir);
  if (!ir) {
    sos_image_free(img);
    return SOS_ENOMEM;
  }
  ir->img = img;
  ir->refs = 1;
  memcpy(ir->id, img->id, sizeof ir->id);
  int rc = sos_app_parse(img->definition, img->deflen, "app.sos (in the image)", &ir->app, err,
                         errlen);
  if (!rc) rc = sos__k_typed_image(ir, err, errlen);
  if (!rc) rc = sos_wasm_module_new(img->module, img->modlen, &ir->mod, err, errlen);
  if (!rc) rc = make_wasi(k, ir);
  if (!rc) rc = sos__k_link(k, ir, err, errlen);
  if (!rc) {
    ir->is_job = exports(ir->mod, "_start");
    rc = check_abi(ir, err, errlen);
  }
  if (rc) {
    image_ref_free(ir);
    return rc;
  }
  *out = ir;
  return 0;
}

/* The loaded image with id, with a new reference, or NULL (k->mu held). */
static struct image_ref *image_find(struct kernel *k, const char *id) {
  for (struct image_ref *ir = k->images; ir; ir = ir->next)
    if (strcmp(ir->id, id) == 0) {
      ir->refs++;
      return ir;
    }
  return NULL;
}

/* Lists a fresh image_ref (k->mu held). */
static void image_add(struct kernel *k, struct image_ref *ir) {
  ir->listed = true;
  ir->next = k->images;
  k->images = ir;
}

/* The loaded image with id, with a new reference, reading it from
 * DATA/images when it is not loaded yet. */
static int image_get(struct kernel *k, const char *id, struct image_ref **out, char *err,
                     size_t errlen) {
  if ((*out = image_find(k, id))) return 0;
  char path[4096];
  path_of(k, path, sizeof path, "images/%s.sosimg", id);
  struct sos_image *img;
  int rc = sos_image_read(path, &img, err, errlen);
  if (!rc) rc = image_ref_make(k, img, out, err, errlen);
  if (!rc) image_add(k, *out);
  return rc;
}

/* ---- services and versions ---------------------------------------------- */

static struct svc *svc_new(struct kernel *k, const char *name) {
  struct svc *s = sos_calloc(1, sizeof *s);
  if (!s) return NULL;
  snprintf(s->name, sizeof s->name, "%s", name);
  char path[4096];
  path_of(k, path, sizeof path, "logs/%s.log", name);
  s->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct svc **p = &k->svcs; /* kept sorted by name, as `sos ps` lists them */
  while (*p && strcmp((*p)->name, name) < 0) p = &(*p)->next;
  s->next = *p;
  *p = s;
  return s;
}

/* Adds version n of image ir (taking one reference) to s, newest first,
 * and makes it current.  Errors: SOS_ENOENT when the image's definition
 * has no service of that name. */
static int ver_add(struct svc *s, struct image_ref *ir, uint32_t n) {
  const struct sos_app_service *def = sos_app_service(ir->app, s->name);
  if (!def) return SOS_ENOENT;
  struct ver *v = sos_calloc(1, sizeof *v);
  if (!v) return SOS_ENOMEM;
  v->n = n;
  memcpy(v->image, ir->id, sizeof v->image);
  v->img = ir;
  v->def = def;
  struct ver **p = &s->vers; /* keep the list ordered by n, newest first */
  while (*p && (*p)->n > n) p = &(*p)->prev;
  v->prev = *p;
  *p = v;
  s->cur = v;
  return 0;
}

/* ---- state.json ----------------------------------------------------------- */

static cJSON *state_json(struct kernel *k) {
  cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "services");
  cJSON_AddNumberToObject(root, "format", 1);
  for (struct svc *s = k->svcs; s; s = s->next) {
    if (s->removed) continue;
    cJSON *o = cJSON_CreateObject(), *vs = cJSON_AddArrayToObject(o, "versions");
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddNumberToObject(o, "current", s->cur->n);
    if (s->job_done) {
      cJSON_AddNumberToObject(o, "job_done", s->job_done);
      cJSON_AddNumberToObject(o, "job_code", s->job_code);
    }
    for (struct ver *v = s->vers; v; v = v->prev) {
      cJSON *vo = cJSON_CreateObject();
      cJSON_AddNumberToObject(vo, "n", v->n);
      cJSON_AddStringToObject(vo, "image", v->image);
      cJSON_AddItemToArray(vs, vo);
    }
    cJSON_AddItemToArray(arr, o);
  }
  return root;
}

/* Writes text to path atomically: temporary file, fsync, rename, fsync of
 * the folder. */
static int write_atomic(const char *dir, const char *path, const char *text) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return SOS_EIO;
  size_t len = strlen(text), done = 0;
  while (done < len) {
    ssize_t n = write(fd, text + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += (size_t)n;
  }
  int ok = done == len && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return SOS_EIO;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return 0;
}

int sos__k_save(struct kernel *k) {
  cJSON *j = state_json(k);
  char *text = j ? cJSON_Print(j) : NULL;
  cJSON_Delete(j);
  if (!text) return SOS_ENOMEM;
  char path[4096];
  path_of(k, path, sizeof path, "%s", "state.json");
  int rc = write_atomic(k->data, path, text);
  cJSON_free(text);
  return rc;
}

/* Restores one service from its state.json entry. */
static void load_svc(struct kernel *k, const cJSON *o) {
  const cJSON *name = cJSON_GetObjectItem(o, "name"), *cur = cJSON_GetObjectItem(o, "current");
  const cJSON *vs = cJSON_GetObjectItem(o, "versions"), *v;
  if (!cJSON_IsString(name) || !cJSON_IsNumber(cur) || !cJSON_IsArray(vs)) return;
  struct svc *s = svc_new(k, name->valuestring);
  if (!s) return;
  struct ver *want = NULL;
  cJSON_ArrayForEach(v, vs) {
    const cJSON *n = cJSON_GetObjectItem(v, "n"), *id = cJSON_GetObjectItem(v, "image");
    char err[512];
    struct image_ref *ir;
    if (!cJSON_IsNumber(n) || !cJSON_IsString(id)) continue;
    if (image_get(k, id->valuestring, &ir, err, sizeof err)) {
      sos__k_log(s, "error", "version %d: cannot load image %s: %s", n->valueint,
                 id->valuestring, err);
      continue;
    }
    if (ver_add(s, ir, (uint32_t)n->valueint)) {
      sos__k_image_unref(k, ir);
      continue;
    }
    if (n->valueint == cur->valueint) want = s->cur;
  }
  s->cur = want ? want : s->vers;
  const cJSON *jd = cJSON_GetObjectItem(o, "job_done"), *jc = cJSON_GetObjectItem(o, "job_code");
  if (cJSON_IsNumber(jd) && cJSON_IsNumber(jc)) {
    s->job_done = (uint32_t)jd->valuedouble;
    s->job_code = (uint32_t)jc->valuedouble;
  }
  if (!s->cur) { /* nothing loadable: forget it, the log says why */
    for (struct svc **p = &k->svcs; *p; p = &(*p)->next)
      if (*p == s) {
        *p = s->next;
        break;
      }
    close(s->log_fd);
    sos_free(s);
  }
}

static int load_state(struct kernel *k, char *err, size_t errlen) {
  char path[4096];
  path_of(k, path, sizeof path, "%s", "state.json");
  uint8_t *text;
  size_t len;
  int rc = sos_file_read(path, &text, &len);
  if (rc == SOS_ENOENT) return 0; /* a new node */
  if (rc) {
    snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    return rc;
  }
  cJSON *j = cJSON_ParseWithLength((const char *)text, len);
  sos_free(text);
  const cJSON *arr = cJSON_GetObjectItem(j, "services"), *o;
  if (!cJSON_IsArray(arr)) {
    cJSON_Delete(j);
    snprintf(err, errlen, "%s is damaged (not the JSON sosd writes); move it away to start "
             "an empty node", path);
    return SOS_EINVAL;
  }
  cJSON_ArrayForEach(o, arr) load_svc(k, o);
  cJSON_Delete(j);
  return 0;
}

/* Creates the data directory, takes its lock and loads state.json. */
int sos__k_node_open(struct kernel *k, char *err, size_t errlen) {
  char path[4096];
  if (mkdir_p(k->data)) {
    snprintf(err, errlen, "cannot create data directory %s: %s", k->data, strerror(errno));
    return SOS_EIO;
  }
  path_of(k, path, sizeof path, "%s", "sosd.lock");
  k->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (k->lock_fd < 0 || flock(k->lock_fd, LOCK_EX | LOCK_NB)) {
    snprintf(err, errlen, "another sosd is running on %s (its lock %s is held)", k->data, path);
    return SOS_ESTATE;
  }
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  if (ftruncate(k->lock_fd, 0) || pwrite(k->lock_fd, pid, (size_t)n, 0) != n) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return SOS_EIO;
  }
  path_of(k, path, sizeof path, "%s", "images");
  if (mkdir_p(path)) goto io;
  path_of(k, path, sizeof path, "%s", "logs");
  if (mkdir_p(path)) goto io;
  return load_state(k, err, errlen);
io:
  snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
  return SOS_EIO;
}

/* ---- deploy, rollback, rm -------------------------------------------------- */

/* Makes a new version of every service of ir's app (k->mu held). */
static int deploy_services(struct kernel *k, struct image_ref *ir, cJSON *list) {
  const struct sos_app *app = ir->app;
  for (uint32_t i = 0; i < app->nservices; i++) {
    const char *name = app->services[i].name;
    struct svc *s = sos__k_svc_find(k, name);
    if (s && strcmp(s->cur->image, ir->id) == 0) { /* the same image: nothing to do */
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "name", name);
      cJSON_AddNumberToObject(o, "version", s->cur->n);
      cJSON_AddBoolToObject(o, "unchanged", 1);
      cJSON_AddItemToArray(list, o);
      continue;
    }
    if (!s && !(s = svc_new(k, name))) return SOS_ENOMEM;
    uint32_t n = s->vers ? s->vers->n + 1 : 1;
    ir->refs++;
    int rc = ver_add(s, ir, n);
    if (rc) {
      ir->refs--;
      return rc;
    }
    sos__k_log(s, "info", "version %u deployed from image %.12s (app %s %s)", n, ir->id,
               app->name, app->version);
    sos__k_svc_start(k, s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddNumberToObject(o, "version", n);
    cJSON_AddItemToArray(list, o);
  }
  return 0;
}

int sos__k_deploy_prepare(struct kernel *k, const uint8_t *bytes, size_t len,
                          struct image_ref **out, char *err, size_t errlen) {
  struct sos_image *img;
  int rc = sos_image_decode(bytes, len, NULL, &img, err, errlen);
  if (rc) return rc;
  pthread_mutex_lock(&k->mu);
  *out = image_find(k, img->id); /* deployed before: nothing to compile */
  pthread_mutex_unlock(&k->mu);
  if (*out) {
    sos_image_free(img);
    return 0;
  }
  char dir[4096], path[4200];
  path_of(k, dir, sizeof dir, "%s", "images");
  rc = sos_image_write(img, dir, path, sizeof path, err, errlen);
  if (rc) {
    sos_image_free(img);
    return rc;
  }
  return image_ref_make(k, img, out, err, errlen);
}

int sos__k_deploy_finish(struct kernel *k, struct image_ref *ir, char **reply, char *err,
                         size_t errlen) {
  pthread_mutex_lock(&k->mu);
  if (!ir->listed) { /* another deploy of the same image may have won */
    struct image_ref *other = image_find(k, ir->id);
    if (other) {
      image_ref_free(ir);
      ir = other;
    } else {
      image_add(k, ir);
    }
  }
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "image", ir->id);
  cJSON_AddStringToObject(j, "app", ir->app->name);
  cJSON_AddStringToObject(j, "app_version", ir->app->version);
  int rc = deploy_services(k, ir, cJSON_AddArrayToObject(j, "services"));
  sos__k_image_unref(k, ir);
  if (!rc) rc = sos__k_save(k);
  pthread_mutex_unlock(&k->mu);
  if (rc) snprintf(err, errlen, "deploy failed: %s", sos_strerror(rc));
  *reply = rc ? NULL : cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  return rc;
}

/* The service named name, or NULL with "no service named" in err. */
static struct svc *named(struct kernel *k, const char *name, char *err, size_t errlen) {
  struct svc *s = sos__k_svc_find(k, name);
  if (!s) snprintf(err, errlen, "no service named %s (see sos ps)", name);
  return s;
}

int sos__k_rollback(struct kernel *k, const char *name, uint32_t *version, char *err,
                    size_t errlen) {
  pthread_mutex_lock(&k->mu);
  struct svc *s = named(k, name, err, errlen);
  int rc = s ? 0 : SOS_ENOENT;
  if (s && !s->cur->prev) {
    snprintf(err, errlen, "%s has no version before %u", name, s->cur->n);
    rc = SOS_ESTATE;
  } else if (s) {
    sos__k_log(s, "info", "rolled back from version %u to %u", s->cur->n, s->cur->prev->n);
    s->cur = s->cur->prev;
    sos__k_svc_start(k, s);
    rc = sos__k_save(k);
    *version = s->cur->n;
  }
  pthread_mutex_unlock(&k->mu);
  return rc;
}

int sos__k_remove(struct kernel *k, const char *name, bool purge, int64_t *purged, char *err,
                  size_t errlen) {
  pthread_mutex_lock(&k->mu);
  struct svc *s = named(k, name, err, errlen);
  int rc = s ? 0 : SOS_ENOENT;
  if (s) {
    sos__k_svc_free(k, s);
    rc = sos__k_save(k);
    char path[4096];
    path_of(k, path, sizeof path, "logs/%s.log", name);
    unlink(path);
  }
  pthread_mutex_unlock(&k->mu);
  *purged = 0;
  if (!rc && purge) { /* every key of every store of the service: name NUL ... */
    *purged = sos_store_purge(k->store, name, strlen(name) + 1, name);
    if (*purged < 0) {
      snprintf(err, errlen, "the service is removed but its data could not be deleted: %s",
               sos_strerror((int)*purged));
      rc = (int)*purged;
    }
  }
  return rc;
}

/* ---- status ---------------------------------------------------------------- */

static const char *svc_state(const struct svc *s) {
  if (s->cur->img->is_job) return s->job_state == 2 ? "exited" : "running";
  if (sos__k_now() < s->backoff_until) return "backoff";
  if (s->crashes) return "crashing";
  return "running";
}

static cJSON *svc_json(const struct svc *s) {
  cJSON *o = cJSON_CreateObject();
  uint32_t busy = 0;
  for (const struct inst *in = s->all; in; in = in->all_next) busy += in->state != I_IDLE;
  cJSON_AddStringToObject(o, "name", s->name);
  cJSON_AddNumberToObject(o, "version", s->cur->n);
  cJSON_AddStringToObject(o, "image", s->cur->image);
  cJSON_AddStringToObject(o, "app", s->cur->img->app->name);
  cJSON_AddStringToObject(o, "app_version", s->cur->img->app->version);
  cJSON_AddStringToObject(o, "kind", s->cur->img->is_job ? "job" : "service");
  cJSON_AddStringToObject(o, "state", svc_state(s));
  if (s->cur->img->is_job && s->job_state == 2) cJSON_AddNumberToObject(o, "exit_code", s->job_code);
  cJSON_AddNumberToObject(o, "instances", s->live);
  cJSON_AddNumberToObject(o, "busy", busy);
  cJSON_AddNumberToObject(o, "idle", s->live - busy);
  cJSON_AddNumberToObject(o, "min", s->cur->def->min_instances);
  cJSON_AddNumberToObject(o, "max", s->cur->def->max_instances);
  cJSON_AddNumberToObject(o, "queued", s->qlen);
  cJSON_AddNumberToObject(o, "calls", (double)s->calls);
  cJSON_AddNumberToObject(o, "errors", (double)s->errors);
  cJSON_AddNumberToObject(o, "traps", (double)s->traps);
  cJSON_AddNumberToObject(o, "sent", (double)s->sent);
  cJSON_AddNumberToObject(o, "calls_planned", (double)s->calls_planned);
  cJSON_AddNumberToObject(o, "calls_next", (double)s->calls_next);
  cJSON_AddNumberToObject(o, "plans_reused", (double)s->plans_reused);
  if (s->cur->def->implements)
    cJSON_AddStringToObject(o, "interface", s->cur->def->implements);
  cJSON_AddNumberToObject(o, "versions", s->vers ? s->vers->n : 0);
  return o;
}

char *sos__k_ps_json(struct kernel *k, const char *only) {
  cJSON *j = only ? NULL : cJSON_CreateArray();
  for (struct svc *s = k->svcs; s; s = s->next) {
    if (s->removed || (only && strcmp(s->name, only))) continue;
    if (only) {
      j = svc_json(s);
      break;
    }
    cJSON_AddItemToArray(j, svc_json(s));
  }
  char *cj = j ? cJSON_PrintUnformatted(j) : NULL;
  cJSON_Delete(j);
  char *out = cj ? sos_strndup(cj, strlen(cj)) : NULL;
  cJSON_free(cj);
  return out;
}

void sos__k_log_tail(struct kernel *k, const char *name, unsigned n, char **out, size_t *len) {
  char path[4096];
  *out = NULL;
  *len = 0;
  path_of(k, path, sizeof path, "logs/%s.log", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  off_t size = lseek(fd, 0, SEEK_END);
  off_t from = size > (1 << 20) ? size - (1 << 20) : 0;
  char *buf = size >= 0 ? sos_malloc((size_t)(size - from) + 1) : NULL;
  ssize_t got = buf ? pread(fd, buf, (size_t)(size - from), from) : -1;
  close(fd);
  if (got < 0) {
    sos_free(buf);
    return;
  }
  size_t start = (size_t)got;
  unsigned lines = 0;
  while (start > 0) { /* walk back over n line ends (the last one ends the text) */
    if (buf[start - 1] == '\n' && start != (size_t)got && ++lines == n) break;
    start--;
  }
  memmove(buf, buf + start, (size_t)got - start);
  *len = (size_t)got - start;
  buf[*len] = 0;
  *out = buf;
}
