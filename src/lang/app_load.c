/*
 * app_load.c - loading an app definition from disk: following `extends`,
 * merging each base under the file that extends it, and checking that the
 * result is a complete app.
 *
 * Resolution is recursive: a file's base is loaded (and its own bases
 * merged into it) before the file's statements are applied on top.  The
 * chain of files being loaded is kept, at most 9 deep (a file and 8
 * levels of bases), with each file's device and inode so that a cycle is
 * found however its paths are spelled; the message shows the chain.  A
 * base path is relative to the folder of the file that names it, and is
 * opened as joined, so the kernel resolves `..` and symbolic links.
 *
 * Merging (docs/language.md, "extends"): name and version come from the
 * extending file; module and sources are the app's code and replace the
 * base's together; files replace the base's; uses is the union; env
 * entries, structs and stores override by name (a struct or a store
 * replaces the base's entirely); a service block of a base service's
 * name overrides only the fields it gives; new entries keep their order
 * after the base's.
 *
 * Tables are checked level by level, before each merge, while it is still
 * known which file declared what: a table of the extending file needs its
 * struct in that file or in a base (the parser has already checked it
 * against a struct of the same file), and a struct that the extending
 * file replaces must still fit the base's tables that use it; the error
 * is reported in the extending file.  So each file, with its bases, is
 * consistent, and a base's table may not rely on a struct that only an
 * extending file declares.  Paths in a base are relative to the base's folder, so they
 * are rewritten relative to the extending file (lexically cleaned:
 * "../base/../core/x.c" becomes "../core/x.c").
 *
 * Ownership while merging: the extending file's struct becomes the result
 * and takes what it keeps from the base, setting the base's pointers to
 * NULL as it goes, so that freeing both structs on any failure frees
 * everything exactly once.
 */
#include "lang/lang.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 8

/* The files being loaded, the outermost first. */
struct loader {
  const char *path[MAX_DEPTH + 1];
  dev_t dev[MAX_DEPTH + 1];
  ino_t ino[MAX_DEPTH + 1];
  bool known[MAX_DEPTH + 1]; /* stat succeeded */
  int n;
  bool unread;    /* the last file opened could not be read, not yet reported */
  int read_errno; /* and why */
  char *err;
  size_t errlen;
};

static int no_memory(struct loader *L, const char *file) {
  if (L->err && L->errlen) snprintf(L->err, L->errlen, "%s: out of memory", file);
  return SOS_ENOMEM;
}

/* ---- paths ---------------------------------------------------------------- */

/* The length of path's folder part ("a/b/x.sos" -> 3, "x.sos" -> 0,
 * "/x.sos" -> 1). */
static size_t dir_len(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return 0;
  return slash == path ? 1 : (size_t)(slash - path);
}

/* dir (n bytes) and rel joined with a '/', or rel alone when it is
 * absolute or dir is empty.  Fresh string, NULL when out of memory. */
static char *join(const char *dir, size_t n, const char *rel) {
  size_t r = strlen(rel);
  if (n == 0 || rel[0] == '/') return sos_strndup(rel, r);
  char *s = sos_malloc(n + r + 2);
  if (!s) return NULL;
  memcpy(s, dir, n);
  size_t o = n;
  if (s[o - 1] != '/') s[o++] = '/';
  memcpy(s + o, rel, r + 1);
  return s;
}

/* A lexically cleaned copy of path: empty and "." parts dropped, "x/.."
 * folded away, the leading ".." of a relative path and a trailing '/'
 * kept.  NULL when out of memory. */
static char *clean(const char *path) {
  size_t n = strlen(path), o = 0;
  char *out = sos_malloc(n + 3); /* at most "." and "/" more */
  if (!out) return NULL;
  bool abs = path[0] == '/', dir = n && path[n - 1] == '/';
  if (abs) out[o++] = '/';
  size_t base = o, keep = o; /* out[base, keep) holds the leading ".." parts */
  for (const char *r = path; *r;) {
    const char *e = strchr(r, '/');
    size_t k = e ? (size_t)(e - r) : strlen(r);
    bool dot = k == 1 && r[0] == '.', dotdot = k == 2 && r[0] == '.' && r[1] == '.';
    if (dotdot && o > keep) { /* drop the last part and its '/' */
      while (o > keep && out[o - 1] != '/') o--;
      if (o > keep) o--;
    } else if (dotdot && !abs) {
      if (o > base) out[o++] = '/';
      memcpy(out + o, "..", 2);
      keep = o += 2;
    } else if (k && !dot && !dotdot) {
      if (o > base) out[o++] = '/';
      memcpy(out + o, r, k);
      o += k;
    }
    r += k + (e != NULL);
  }
  if (o == base && !abs) out[o++] = '.';
  if (dir && out[o - 1] != '/') out[o++] = '/';
  out[o] = 0;
  return out;
}

/* Rewrites *path, relative to a base's folder, relative to the extending
 * file's instead: dir (n bytes) is the folder part of the extends path. */
static int rebase(char **path, const char *dir, size_t n) {
  if (!*path || n == 0 || (*path)[0] == '/') return 0;
  char *joined = join(dir, n, *path), *cleaned = joined ? clean(joined) : NULL;
  sos_free(joined);
  if (!cleaned) return SOS_ENOMEM;
  sos_free(*path);
  *path = cleaned;
  return 0;
}

/* Rebases every path of base (module, sources, files) by the folder of
 * the extends path ext. */
static int rebase_all(struct sos_app *base, const char *ext) {
  size_t n = dir_len(ext);
  int rc = rebase(&base->module, ext, n);
  for (uint32_t i = 0; rc == 0 && i < base->nsources; i++)
    rc = rebase(&base->sources[i], ext, n);
  for (uint32_t i = 0; rc == 0 && i < base->nfiles; i++)
    rc = rebase(&base->files[i], ext, n);
  for (uint32_t i = 0; rc == 0 && i < base->nimports; i++)
    if (strcmp(base->imports[i], "sos") != 0) /* SOS's own package is no path */
      rc = rebase(&base->imports[i], ext, n);
  return rc;
}

/* ---- merging ---------------------------------------------------------------- */

/* Swaps two list fields, so that the result takes the base's. */
#define TAKE(a, b, field, count)                                                       \
  do {                                                                                 \
    void *t_ = (a)->field;                                                             \
    uint32_t n_ = (a)->count;                                                          \
    (a)->field = (b)->field;                                                           \
    (a)->count = (b)->count;                                                           \
    memcpy(&(b)->field, &t_, sizeof t_);                                               \
    (b)->count = n_;                                                                   \
  } while (0)

/* A list that joins (uses, secret, egress): the base's entries, then the
 * extending file's new ones, left in the base's list. */
static int join_list(char ***base, uint32_t *nbase, char **ext, uint32_t next) {
  for (uint32_t i = 0; i < next; i++) {
    bool seen = false;
    for (uint32_t j = 0; j < *nbase && !seen; j++) seen = strcmp((*base)[j], ext[i]) == 0;
    if (seen) continue;
    char **slot = sos__app_push(base, nbase, sizeof *slot);
    if (!slot) return SOS_ENOMEM;
    *slot = ext[i];
    ext[i] = NULL;
  }
  return 0;
}

/* uses, secret, egress: joined; ext takes the results. */
static int merge_uses(struct sos_app *base, struct sos_app *ext) {
  int rc = join_list(&base->uses, &base->nuses, ext->uses, ext->nuses);
  if (rc == 0) rc = join_list(&base->secrets, &base->nsecrets, ext->secrets, ext->nsecrets);
  if (rc == 0) rc = join_list(&base->egress, &base->negress, ext->egress, ext->negress);
  if (rc) return rc;
  TAKE(ext, base, uses, nuses);
  TAKE(ext, base, secrets, nsecrets);
  TAKE(ext, base, egress, negress);
  return 0;
}

/* env: the base's entries with the extending file's values by name. */
static int merge_params(struct sos_app *base, struct sos_app *ext) {
  for (uint32_t i = 0; i < ext->nparams; i++) {
    struct sos_app_param *e = &ext->params[i], *b = NULL;
    for (uint32_t j = 0; j < base->nparams && !b; j++)
      if (strcmp(base->params[j].name, e->name) == 0) b = &base->params[j];
    if (!b && !(b = sos__app_push(&base->params, &base->nparams, sizeof *b)))
      return SOS_ENOMEM;
    struct sos_app_param t = *b; /* the replaced entry goes back to ext */
    *b = *e;
    *e = t;
  }
  TAKE(ext, base, params, nparams);
  return 0;
}

/* Whether two routes answer the same requests (prefix and host). */
static bool same_route(const struct sos_app_route *a, const struct sos_app_route *b) {
  if (strcmp(a->prefix, b->prefix) != 0) return false;
  return (!a->host && !b->host) || (a->host && b->host && strcmp(a->host, b->host) == 0);
}

/* http routes: the base's, each replaced by the extending file's for the
 * same prefix and host, then new ones. */
static int merge_routes(struct sos_app *base, struct sos_app *ext) {
  for (uint32_t i = 0; i < ext->nroutes; i++) {
    struct sos_app_route *e = &ext->routes[i], *b = NULL;
    for (uint32_t j = 0; j < base->nroutes && !b; j++)
      if (same_route(&base->routes[j], e)) b = &base->routes[j];
    if (!b && !(b = sos__app_push(&base->routes, &base->nroutes, sizeof *b)))
      return SOS_ENOMEM;
    struct sos_app_route t = *b; /* the replaced route goes back to ext */
    *b = *e;
    *e = t;
  }
  TAKE(ext, base, routes, nroutes);
  return 0;
}

/* services: the base's, overridden field by field, then new ones. */
static int merge_services(struct sos_app *base, struct sos_app *ext, const uint8_t *given) {
  for (uint32_t i = 0; i < ext->nservices; i++) {
    struct sos_app_service *e = &ext->services[i];
    struct sos_app_service *b = (struct sos_app_service *)sos_app_service(base, e->name);
    if (!b) {
      if (!(b = sos__app_push(&base->services, &base->nservices, sizeof *b)))
        return SOS_ENOMEM;
      *b = *e;
      e->name = NULL;
      e->implements = NULL;
      continue;
    }
    if (e->implements) { /* the extending file says what it implements */
      sos_free(b->implements);
      b->implements = e->implements;
      e->implements = NULL;
    }
    uint8_t g = given ? given[i] : 0xff;
    if (g & SOS__APP_GIVES_INSTANCES) {
      b->min_instances = e->min_instances;
      b->max_instances = e->max_instances;
    }
    if (g & SOS__APP_GIVES_MEMORY) b->memory = e->memory;
    if (g & SOS__APP_GIVES_TIMEOUT) b->timeout_ms = e->timeout_ms;
    if (g & SOS__APP_GIVES_QUEUE) b->queue = e->queue;
    if (g & SOS__APP_GIVES_QUOTA) b->quota_bytes = e->quota_bytes;
    if (g & SOS__APP_GIVES_KEYS) b->quota_keys = e->quota_keys;
    b->pos = e->pos;
  }
  TAKE(ext, base, services, nservices);
  return 0;
}

/* structs: the base's, each replaced whole by the extending file's of the
 * same name, then new ones. */
static int merge_structs(struct sos_app *base, struct sos_app *ext) {
  for (uint32_t i = 0; i < ext->nstructs; i++) {
    struct sos_app_struct *e = &ext->structs[i];
    struct sos_app_struct *b = (struct sos_app_struct *)sos_app_struct(base, e->name);
    if (!b && !(b = sos__app_push(&base->structs, &base->nstructs, sizeof *b)))
      return SOS_ENOMEM;
    struct sos_app_struct t = *b; /* the replaced struct goes back to ext */
    *b = *e;
    *e = t;
  }
  TAKE(ext, base, structs, nstructs);
  return 0;
}

/* enums and interfaces: as structs. */
static int merge_enums(struct sos_app *base, struct sos_app *ext) {
  for (uint32_t i = 0; i < ext->nenums; i++) {
    struct sos_app_enum *e = &ext->enums[i], *b = NULL;
    for (uint32_t j = 0; j < base->nenums && !b; j++)
      if (strcmp(base->enums[j].name, e->name) == 0) b = &base->enums[j];
    if (!b && !(b = sos__app_push(&base->enums, &base->nenums, sizeof *b))) return SOS_ENOMEM;
    struct sos_app_enum t = *b;
    *b = *e;
    *e = t;
  }
  TAKE(ext, base, enums, nenums);
  return 0;
}

static int merge_interfaces(struct sos_app *base, struct sos_app *ext) {
  for (uint32_t i = 0; i < ext->ninterfaces; i++) {
    struct sos_app_interface *e = &ext->interfaces[i], *b = NULL;
    for (uint32_t j = 0; j < base->ninterfaces && !b; j++)
      if (strcmp(base->interfaces[j].name, e->name) == 0) b = &base->interfaces[j];
    if (!b && !(b = sos__app_push(&base->interfaces, &base->ninterfaces, sizeof *b)))
      return SOS_ENOMEM;
    struct sos_app_interface t = *b;
    *b = *e;
    *e = t;
  }
  TAKE(ext, base, interfaces, ninterfaces);
  return 0;
}

/* The package of every declaration becomes the extending app's name: a
 * base's declarations are the app's own. */
static int adopt(struct sos_app *app) {
  size_t n = strlen(app->name);
  for (uint32_t i = 0; i < app->nstructs; i++) {
    sos_free(app->structs[i].package);
    if (!(app->structs[i].package = sos_strndup(app->name, n))) return SOS_ENOMEM;
  }
  for (uint32_t i = 0; i < app->nenums; i++) {
    sos_free(app->enums[i].package);
    if (!(app->enums[i].package = sos_strndup(app->name, n))) return SOS_ENOMEM;
  }
  for (uint32_t i = 0; i < app->ninterfaces; i++) {
    sos_free(app->interfaces[i].package);
    if (!(app->interfaces[i].package = sos_strndup(app->name, n))) return SOS_ENOMEM;
  }
  app->nstructs_own = app->nstructs;
  app->nenums_own = app->nenums;
  app->ninterfaces_own = app->ninterfaces;
  return 0;
}

/* imports: the base's paths (reported at the extends path at),
 * then the extending file's new ones. */
static int merge_imports(struct sos_app *base, struct sos_app *ext, struct sos_app_pos at) {
  uint32_t n = base->nimports + ext->nimports;
  struct sos_app_pos *pos = n ? sos_malloc(n * sizeof *pos) : NULL;
  if (n && !pos) return SOS_ENOMEM;
  for (uint32_t i = 0; i < base->nimports; i++) pos[i] = at;
  for (uint32_t i = 0; i < ext->nimports; i++) {
    bool seen = false;
    for (uint32_t j = 0; j < base->nimports && !seen; j++)
      seen = strcmp(base->imports[j], ext->imports[i]) == 0;
    if (seen) continue;
    char **slot = sos__app_push(&base->imports, &base->nimports, sizeof *slot);
    if (!slot) {
      sos_free(pos);
      return SOS_ENOMEM;
    }
    *slot = ext->imports[i];
    ext->imports[i] = NULL;
    pos[base->nimports - 1] = ext->import_pos[i];
  }
  TAKE(ext, base, imports, nimports);
  sos_free(ext->import_pos);
  ext->import_pos = pos;
  return 0;
}

/* stores: as structs. */
static int merge_stores(struct sos_app *base, struct sos_app *ext) {
  for (uint32_t i = 0; i < ext->nstores; i++) {
    struct sos_app_store *e = &ext->stores[i];
    struct sos_app_store *b = (struct sos_app_store *)sos_app_store(base, e->name);
    if (!b && !(b = sos__app_push(&base->stores, &base->nstores, sizeof *b)))
      return SOS_ENOMEM;
    struct sos_app_store t = *b;
    *b = *e;
    *e = t;
  }
  TAKE(ext, base, stores, nstores);
  return 0;
}

/* The kind ("struct", "enum", "interface") of app's declaration name, or
 * NULL. */
static const char *kind_of(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; i < app->nstructs; i++)
    if (strcmp(app->structs[i].name, name) == 0) return "struct";
  for (uint32_t i = 0; i < app->nenums; i++)
    if (strcmp(app->enums[i].name, name) == 0) return "enum";
  for (uint32_t i = 0; i < app->ninterfaces; i++)
    if (strcmp(app->interfaces[i].name, name) == 0) return "interface";
  return NULL;
}

/* A declaration of ext (read from path) that would replace a base's
 * declaration of another kind, reported at ext's declaration: extends
 * replaces by name within one kind, and a name names one declaration. */
static int check_kinds(struct loader *L, const char *path, const struct sos_app *base,
                       const struct sos_app *ext) {
  for (int kind = 0; kind < 3; kind++) {
    uint32_t n = kind == 0 ? ext->nstructs : kind == 1 ? ext->nenums : ext->ninterfaces;
    for (uint32_t i = 0; i < n; i++) {
      const char *name = kind == 0   ? ext->structs[i].name
                         : kind == 1 ? ext->enums[i].name
                                     : ext->interfaces[i].name;
      struct sos_app_pos pos = kind == 0   ? ext->structs[i].pos
                               : kind == 1 ? ext->enums[i].pos
                                           : ext->interfaces[i].pos;
      const char *mine = kind == 0 ? "struct" : kind == 1 ? "enum" : "interface";
      const char *theirs = kind_of(base, name);
      if (theirs && strcmp(theirs, mine) != 0)
        return sos__lang_error(L->err, L->errlen, path, pos,
                               "%s %s would replace the base's %s %s; rename one", mine,
                               name, theirs, name);
    }
  }
  return 0;
}

/* Applies ext (its service blocks gave the fields in given) on top of
 * base; ext becomes the result.  Both are still freed by the caller. */
static int merge(struct sos_app *base, struct sos_app *ext, const uint8_t *given,
                 struct sos_app_pos at) {
  if (!ext->module && !ext->nsources) {
    ext->module = base->module;
    base->module = NULL;
    TAKE(ext, base, sources, nsources);
  }
  if (!ext->nfiles) TAKE(ext, base, files, nfiles);
  int rc = merge_uses(base, ext);
  if (rc == 0) rc = merge_params(base, ext);
  if (rc == 0) rc = merge_structs(base, ext);
  if (rc == 0) rc = merge_enums(base, ext);
  if (rc == 0) rc = merge_interfaces(base, ext);
  if (rc == 0) rc = merge_imports(base, ext, at);
  if (rc == 0) rc = merge_stores(base, ext);
  if (rc == 0) rc = merge_services(base, ext, given);
  if (rc == 0) rc = merge_routes(base, ext);
  if (rc == 0) rc = adopt(ext);
  return rc;
}

/* ---- checking tables ---------------------------------------------------------- */

/* The struct a table of app names, app's own or else its base's. */
static const struct sos_app_struct *find_struct(const struct sos_app *app,
                                                const struct sos_app *base,
                                                const char *name) {
  const struct sos_app_struct *st = sos_app_struct(app, name);
  return st ? st : sos_app_struct(base, name);
}

/* Reports that app's table s names a struct that neither app (read from
 * path) nor its base declares; tp is where its type is written. */
static int unknown_struct(struct loader *L, const char *path, const struct sos_app *app,
                          const struct sos_app *base, const struct sos_app_store *s,
                          const struct sos__app_table_pos *tp) {
  size_t n = strlen(s->table_struct);
  const char *near = sos__lang_suggest_name(s->table_struct, n, app->structs, app->nstructs,
                                            sizeof *app->structs);
  if (!near && base)
    near = sos__lang_suggest_name(s->table_struct, n, base->structs, base->nstructs,
                                  sizeof *base->structs);
  if (near)
    return sos__lang_error(L->err, L->errlen, path, tp->table,
                           "unknown struct \"%s\"; did you mean \"%s\"?", s->table_struct,
                           near);
  return sos__lang_error(L->err, L->errlen, path, tp->table,
                         "unknown struct \"%s\"; declare it with struct %s { FIELD: TYPE "
                         "= 1 }",
                         s->table_struct, s->table_struct);
}

/* Checks base's tables that app replaces the struct of (and does not
 * replace themselves) against app's struct; reported at that struct. */
static int check_base_tables(struct loader *L, const char *path, const struct sos_app *app,
                             const struct sos_app *base) {
  char why[256];
  for (uint32_t i = 0; i < base->nstores; i++) {
    const struct sos_app_store *s = &base->stores[i];
    if (s->type != SOS_APP_STORE_TABLE || sos_app_store(app, s->name)) continue;
    const struct sos_app_struct *st = sos_app_struct(app, s->table_struct);
    bool fits = !st || sos__app_field_fits(st, s->key, false, why, sizeof why);
    for (uint32_t j = 0; fits && st && j < s->nindexes; j++)
      fits = sos__app_field_fits(st, s->indexes[j], false, why, sizeof why);
    if (!fits)
      return sos__lang_error(L->err, L->errlen, path, st->pos,
                             "struct %s no longer fits the base's store %s: %s", st->name,
                             s->name, why);
  }
  return 0;
}

/* Checks the tables of app, read from path (where info says its tables'
 * types are written), against the structs of app and base (NULL when app
 * extends nothing), before the two are merged. */
static int check_tables(struct loader *L, const char *path, const struct sos_app *app,
                        const struct sos_app *base, const struct sos__app_info *info) {
  for (uint32_t i = 0; i < app->nstores; i++) {
    const struct sos_app_store *s = &app->stores[i];
    if (s->type != SOS_APP_STORE_TABLE) continue;
    const struct sos_app_struct *st = find_struct(app, base, s->table_struct);
    if (!st) return unknown_struct(L, path, app, base, s, &info->tables[i]);
    int rc = sos__app_check_table(s, &info->tables[i], st, path, L->err, L->errlen);
    if (rc) return rc;
  }
  return base ? check_base_tables(L, path, app, base) : 0;
}

/* ---- loading ------------------------------------------------------------------- */

static int load_one(struct loader *L, const char *path, struct sos_app **out,
                    struct sos__app_info *info);

/* Reads and parses path into *out (its bases not yet merged).  A read
 * failure returns SOS_ENOENT or SOS_EIO with errno set and no message. */
static int read_and_parse(struct loader *L, const char *path, struct sos_app **out,
                          struct sos__app_info *info) {
  uint8_t *text;
  size_t len;
  int rc = sos_file_read(path, &text, &len);
  if (rc == SOS_ENOMEM) return no_memory(L, path);
  if (rc) {
    L->unread = true;
    L->read_errno = errno;
    return rc;
  }
  rc = sos__app_parse((const char *)text, len, path, out, info, L->err, L->errlen);
  sos_free(text);
  return rc;
}

/* Writes "a -> b -> c" (the chain, then last) into buf. */
static const char *chain_text(const struct loader *L, const char *last, char *buf,
                              size_t n) {
  size_t o = 0;
  buf[0] = 0;
  for (int i = 0; i <= L->n && o < n; i++) {
    int w = snprintf(buf + o, n - o, "%s%s", i ? " -> " : "", i < L->n ? L->path[i] : last);
    if (w < 0) break;
    o += (size_t)w;
  }
  return buf;
}

/* Whether the file at path is already in the chain. */
static bool in_chain(const struct loader *L, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return false;
  for (int i = 0; i < L->n; i++)
    if (L->known[i] && L->dev[i] == st.st_dev && L->ino[i] == st.st_ino) return true;
  return false;
}

/* Loads the base named by app->extends (app was read from path, and the
 * extends path is at pos) and merges app on top of it. */
static int extend(struct loader *L, const char *path, struct sos_app *app,
                  const struct sos__app_info *info) {
  char chain[512];
  if (L->n > MAX_DEPTH)
    return sos__lang_error(L->err, L->errlen, path, info->extends,
                           "extends nests more than %d levels deep: %s", MAX_DEPTH,
                           chain_text(L, app->extends, chain, sizeof chain));
  char *base_path = join(path, dir_len(path), app->extends);
  if (!base_path) return no_memory(L, path);
  if (in_chain(L, base_path)) {
    int rc = sos__lang_error(L->err, L->errlen, path, info->extends, "extends cycle: %s",
                             chain_text(L, base_path, chain, sizeof chain));
    sos_free(base_path);
    return rc;
  }
  struct sos_app *base = NULL;
  struct sos__app_info binfo;
  int rc = load_one(L, base_path, &base, &binfo);
  if (L->unread) {
    L->unread = false;
    sos__lang_error(L->err, L->errlen, path, info->extends,
                    "cannot read base definition %s: %s", base_path,
                    strerror(L->read_errno));
  }
  if (rc == 0) {
    sos__app_info_free(&binfo);
    rc = check_tables(L, path, app, base, info);
    if (rc == 0) rc = check_kinds(L, path, base, app);
    if (rc == 0 && (rc = rebase_all(base, app->extends)) == 0)
      rc = merge(base, app, info->given, info->extends);
    if (rc == SOS_ENOMEM) no_memory(L, path);
  }
  sos_app_free(base);
  sos_free(base_path);
  return rc;
}

/* Reads path and, when it extends a base, resolves that (see the top). */
static int load_one(struct loader *L, const char *path, struct sos_app **out,
                    struct sos__app_info *info) {
  struct stat st;
  int d = L->n;
  memset(info, 0, sizeof *info);
  *out = NULL;
  L->path[d] = path;
  L->known[d] = stat(path, &st) == 0;
  L->dev[d] = L->known[d] ? st.st_dev : 0;
  L->ino[d] = L->known[d] ? st.st_ino : 0;
  L->n++;
  int rc = read_and_parse(L, path, out, info);
  if (rc == 0 && (*out)->extends) rc = extend(L, path, *out, info);
  else if (rc == 0) rc = check_tables(L, path, *out, NULL, info);
  L->n--;
  if (rc) {
    sos_app_free(*out);
    *out = NULL;
    sos__app_info_free(info);
  }
  return rc;
}

/* Checks that the resolved app is complete; pos is its `app` keyword. */
static int check(struct loader *L, const struct sos_app *app, struct sos_app_pos pos) {
  if (app->is_package) return 0;
  if (!app->module && !app->nsources)
    return sos__lang_error(L->err, L->errlen, app->file, pos,
                           "app %s has no code; add module \"FILE.wasm\" or sources "
                           "\"FILE.c\"",
                           app->name);
  if (app->module && app->nsources)
    return sos__lang_error(L->err, L->errlen, app->file, pos,
                           "app %s has both a module and sources; keep one", app->name);
  if (!app->nservices)
    return sos__lang_error(L->err, L->errlen, app->file, pos,
                           "app %s has no service; add one such as service %s { "
                           "instances 1..4 }",
                           app->name, app->name);
  for (uint32_t i = 0; i < app->nservices; i++) {
    const struct sos_app_service *s = &app->services[i];
    if (s->max_instances == 0 || s->min_instances > s->max_instances)
      return sos__lang_error(L->err, L->errlen, app->file, s->pos,
                             "service %s: bad instances %u..%u", s->name,
                             s->min_instances, s->max_instances);
  }
  return 0;
}

/* ---- imports ------------------------------------------------------------------ */

static int load_full(struct loader *L, const char *path, struct sos_app **out,
                     struct sos__app_info *info);

/* The declaration of name among app's structs, enums and interfaces, as
 * its package (NULL when there is none). */
static const char *declared(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; i < app->nstructs; i++)
    if (strcmp(app->structs[i].name, name) == 0) return app->structs[i].package;
  for (uint32_t i = 0; i < app->nenums; i++)
    if (strcmp(app->enums[i].name, name) == 0) return app->enums[i].package;
  for (uint32_t i = 0; i < app->ninterfaces; i++)
    if (strcmp(app->interfaces[i].name, name) == 0) return app->interfaces[i].package;
  return NULL;
}

/* Whether app holds a declaration of package pkg. */
static bool declared_by(const struct sos_app *app, const char *pkg) {
  for (uint32_t i = 0; i < app->nstructs; i++)
    if (strcmp(app->structs[i].package, pkg) == 0) return true;
  for (uint32_t i = 0; i < app->nenums; i++)
    if (strcmp(app->enums[i].package, pkg) == 0) return true;
  for (uint32_t i = 0; i < app->ninterfaces; i++)
    if (strcmp(app->interfaces[i].package, pkg) == 0) return true;
  return false;
}

/* Whether the declaration name of package pkg is new to app (false when
 * the same package's is there already, as when two imports import a
 * third); a name that another package declared is an error. */
static int take_decl(struct loader *L, const struct sos_app *app, const struct sos_app *im,
                     struct sos_app_pos pos, const char *name, const char *pkg, bool *fresh) {
  const char *have = declared(app, name);
  *fresh = !have;
  if (!have) return 0;
  if (strcmp(have, pkg) != 0 || strcmp(pkg, app->name) == 0)
    return sos__lang_error(L->err, L->errlen, app->file, pos,
                           "%s is declared by both %s and the imported package %s; rename "
                           "one", name, have, pkg);
  char *a = NULL, *b = NULL;
  int rc = sos__app_decl_text(app, name, &a);
  if (rc == 0) rc = sos__app_decl_text(im, name, &b);
  if (rc == 0 && strcmp(a, b) != 0)
    rc = sos__lang_error(L->err, L->errlen, app->file, pos,
                         "package %s is imported twice with different declarations of %s",
                         pkg, name);
  sos_free(a);
  sos_free(b);
  return rc;
}

/* Moves the declarations of im (all of them: its own and what it imported)
 * to the end of app's. */
static int adopt_imported(struct loader *L, struct sos_app *app, struct sos_app *im,
                          struct sos_app_pos pos) {
  bool fresh;
  int rc = 0;
  if (strcmp(im->name, app->name) == 0 || declared_by(im, app->name))
    return sos__lang_error(L->err, L->errlen, app->file, pos,
                           "the imported package %s has the name of this definition; rename one",
                           app->name);
  for (uint32_t i = 0; rc == 0 && i < im->nstructs; i++) {
    struct sos_app_struct *st = &im->structs[i], *slot;
    if ((rc = take_decl(L, app, im, pos, st->name, st->package, &fresh)) || !fresh) continue;
    if (!(slot = sos__app_push(&app->structs, &app->nstructs, sizeof *slot))) return SOS_ENOMEM;
    *slot = *st;
    memset(st, 0, sizeof *st);
  }
  for (uint32_t i = 0; rc == 0 && i < im->nenums; i++) {
    struct sos_app_enum *e = &im->enums[i], *slot;
    if ((rc = take_decl(L, app, im, pos, e->name, e->package, &fresh)) || !fresh) continue;
    if (!(slot = sos__app_push(&app->enums, &app->nenums, sizeof *slot))) return SOS_ENOMEM;
    *slot = *e;
    memset(e, 0, sizeof *e);
  }
  for (uint32_t i = 0; rc == 0 && i < im->ninterfaces; i++) {
    struct sos_app_interface *it = &im->interfaces[i], *slot;
    if ((rc = take_decl(L, app, im, pos, it->name, it->package, &fresh)) || !fresh) continue;
    if (!(slot = sos__app_push(&app->interfaces, &app->ninterfaces, sizeof *slot)))
      return SOS_ENOMEM;
    *slot = *it;
    memset(it, 0, sizeof *it);
  }
  return rc;
}

/* `import "sos"`: the declarations of package sos (builtins.c). */
static int import_builtins(struct loader *L, const char *path, struct sos_app *app,
                           struct sos_app_pos pos) {
  struct sos_app *im = NULL;
  int rc = sos_app_parse(sos_app_builtins, strlen(sos_app_builtins), "package sos", &im,
                         L->err, L->errlen);
  if (rc == 0) rc = sos__app_resolve(im, "package sos", true, L->err, L->errlen);
  if (rc == 0) rc = adopt_imported(L, app, im, pos);
  if (rc == SOS_ENOMEM) no_memory(L, path);
  sos_app_free(im);
  return rc;
}

/* Loads each import of app (read from path) and adds its declarations;
 * then forgets the import paths: the result holds what they gave. */
static int import_all(struct loader *L, const char *path, struct sos_app *app) {
  char chain[512];
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < app->nimports; i++) {
    struct sos_app_pos pos = app->import_pos[i];
    if (L->n > MAX_DEPTH)
      return sos__lang_error(L->err, L->errlen, path, pos,
                             "imports nest more than %d levels deep: %s", MAX_DEPTH,
                             chain_text(L, app->imports[i], chain, sizeof chain));
    if (strcmp(app->imports[i], "sos") == 0) { /* SOS's own package */
      rc = import_builtins(L, path, app, pos);
      continue;
    }
    char *im_path = join(path, dir_len(path), app->imports[i]);
    if (!im_path) return no_memory(L, path);
    struct sos_app *im = NULL;
    struct sos__app_info iinfo;
    if (in_chain(L, im_path))
      rc = sos__lang_error(L->err, L->errlen, path, pos, "import cycle: %s",
                           chain_text(L, im_path, chain, sizeof chain));
    else
      rc = load_full(L, im_path, &im, &iinfo);
    if (L->unread) {
      L->unread = false;
      sos__lang_error(L->err, L->errlen, path, pos, "cannot read import %s: %s", im_path,
                      strerror(L->read_errno));
    }
    if (rc == 0) {
      sos__app_info_free(&iinfo);
      rc = adopt_imported(L, app, im, pos);
      if (rc == SOS_ENOMEM) no_memory(L, path);
    }
    sos_app_free(im);
    sos_free(im_path);
  }
  for (uint32_t i = 0; i < app->nimports; i++) sos_free(app->imports[i]);
  sos_free(app->imports);
  sos_free(app->import_pos);
  app->imports = NULL;
  app->import_pos = NULL;
  app->nimports = 0;
  return rc;
}

/* load_one, then the imports, then the checks that need every
 * declaration. */
static int load_full(struct loader *L, const char *path, struct sos_app **out,
                     struct sos__app_info *info) {
  int rc = load_one(L, path, out, info);
  if (rc) return rc;
  L->path[L->n] = path; /* in the chain while its imports load */
  struct stat st;
  L->known[L->n] = stat(path, &st) == 0;
  L->dev[L->n] = L->known[L->n] ? st.st_dev : 0;
  L->ino[L->n] = L->known[L->n] ? st.st_ino : 0;
  L->n++;
  rc = import_all(L, path, *out);
  L->n--;
  if (rc == 0) rc = sos__app_resolve(*out, path, true, L->err, L->errlen);
  if (rc) {
    sos_app_free(*out);
    *out = NULL;
    sos__app_info_free(info);
  }
  return rc;
}

int sos_app_load(const char *path, struct sos_app **out, char *err, size_t errlen) {
  struct loader L;
  struct sos__app_info info;
  memset(&L, 0, sizeof L);
  L.err = err;
  L.errlen = errlen;
  if (err && errlen) err[0] = 0;
  int rc = load_full(&L, path, out, &info);
  if (L.unread && err && errlen)
    snprintf(err, errlen, "%s: cannot read: %s", path, strerror(L.read_errno));
  if (rc) return rc;
  sos__app_info_free(&info);
  if ((rc = check(&L, *out, info.app)) != 0) {
    sos_app_free(*out);
    *out = NULL;
  }
  return rc;
}
