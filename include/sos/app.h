/*
 * app.h - app definitions: the SOS language's first part (`app.sos`).
 *
 * An app definition names an app and its version, its module (C sources or
 * a ready .wasm), its files, the services it provides with their instance
 * counts and limits (storage quotas included), the services it may call
 * (`uses`), its environment parameters, its typed stores (`store`) and the
 * record types of its tables (`struct`); it may `extend` another
 * definition and override parts.  docs/language.md gives the grammar and
 * the semantics.  The same lexer and parser (src/lang) will read
 * interfaces (the IDL, whose structs are these), HTTP routes, egress and
 * secrets: later issues add statements without changing what existing
 * ones mean.
 *
 * Errors are reported as "file:line:col: message" (with a hint where one
 * helps) in the caller's err buffer.
 */
#ifndef SOS_APP_H
#define SOS_APP_H

#include <stddef.h>
#include <stdint.h>

/* A place in a source file (1-based). */
struct sos_app_pos {
  uint32_t line, col;
};

/* One `service NAME { ... }` block.  Defaults apply to fields not given. */
struct sos_app_service {
  char *name;
  uint32_t min_instances; /* `instances MIN..MAX`; default 1..4 */
  uint32_t max_instances;
  uint64_t memory;     /* `memory 16MiB`: linear memory cap, bytes; default 16 MiB */
  uint64_t timeout_ms; /* `timeout 2s`: per-request deadline; default 5 s */
  uint32_t queue;      /* `queue N`: waiting requests before "busy"; default 64 */
  uint64_t quota_bytes; /* `quota 64MiB`: bytes of stored data the service may hold
                           across all its stores; default 64 MiB */
  uint64_t quota_keys;  /* `keys N`: keys, rows and records it may hold across
                           all its stores; default 1000000 */
  char *implements; /* `service NAME implements IFACE { ... }`: the interface,
                       or NULL for an untyped service */
  struct sos_app_pos pos; /* of NAME, in the file that declared it last (after
                             extends, possibly a base file) */
};

/* One `env NAME = "value"` parameter. */
struct sos_app_param {
  char *name;
  char *value;
  struct sos_app_pos pos; /* of NAME, as for services */
};

/* The type of a struct field (`id: u64 = 1`).  0 is no type. */
enum {
  SOS_APP_T_BOOL = 1,
  SOS_APP_T_U8,
  SOS_APP_T_U16,
  SOS_APP_T_U32,
  SOS_APP_T_U64,
  SOS_APP_T_I8,
  SOS_APP_T_I16,
  SOS_APP_T_I32,
  SOS_APP_T_I64,
  SOS_APP_T_F32,
  SOS_APP_T_F64,
  SOS_APP_T_TEXT,  /* UTF-8 text */
  SOS_APP_T_BYTES, /* any bytes */
  SOS_APP_T_STRUCT, /* a struct of the definition, named by type_name */
  SOS_APP_T_ENUM,   /* an enum of the definition, named by type_name */
};

/* Field flags.  A list holds any number of values of the field's type
 * (`tags: list<text> = 3`); an optional field (`note: optional text = 4`)
 * records whether it was given, even when its value is zero.  A union
 * variant is optional by nature and never a list. */
enum { SOS_APP_F_LIST = 1, SOS_APP_F_OPTIONAL = 2 };

/* One field of a struct: `NAME: TYPE = TAG`. */
struct sos_app_field {
  char *name;
  uint8_t type;   /* SOS_APP_T_* */
  uint8_t flags;  /* SOS_APP_F_* */
  uint16_t group; /* 0, or the 1-based index in its struct's unions of the
                     `union` this field is a variant of */
  uint32_t tag;   /* the field number, 1..65535, unique in its struct: its wire tag */
  char *type_name; /* STRUCT and ENUM: the type's name; else NULL */
  struct sos_app_pos pos; /* of NAME */
};

/* One `struct NAME { ... }`: a record type (the rows of a table, the
 * requests and responses of interfaces).  Fields in the order written;
 * the variants of a `union NAME { ... }` are fields with a group. */
struct sos_app_struct {
  char *name;
  struct sos_app_field *fields;
  uint32_t nfields;
  char **unions; /* the names of its unions; field group g is unions[g - 1] */
  uint32_t nunions;
  char *package; /* the package that declared it: the app's name, or the
                    name of the imported package */
  struct sos_app_pos pos; /* of NAME, in the file that declared it last */
};

/* One value of an enum: `NAME = NUMBER`. */
struct sos_app_enum_value {
  char *name;
  uint32_t value; /* 0..2147483647, unique in its enum */
  struct sos_app_pos pos;
};

/* One `enum NAME { ... }`.  Values in the order written. */
struct sos_app_enum {
  char *name;
  struct sos_app_enum_value *values;
  uint32_t nvalues;
  char *package; /* as for structs */
  struct sos_app_pos pos;
};

/* One method of an interface: `NAME(REQUEST) -> RESPONSE`, both structs. */
struct sos_app_method {
  char *name;
  char *request;
  char *response;
  struct sos_app_pos pos;
};

/* One declared error of an interface: `error NAME = CODE`. */
struct sos_app_error {
  char *name;
  uint32_t code; /* 1..65535, unique in its interface */
  struct sos_app_pos pos;
};

/* One `interface NAME { ... }`: the methods a service that `implements`
 * it answers, and the errors they may fail with. */
struct sos_app_interface {
  char *name;
  struct sos_app_method *methods;
  uint32_t nmethods;
  struct sos_app_error *errors;
  uint32_t nerrors;
  char *package; /* as for structs */
  struct sos_app_pos pos;
};

/* What a store holds. */
enum { SOS_APP_STORE_KV = 1, SOS_APP_STORE_LOG, SOS_APP_STORE_TABLE, SOS_APP_STORE_FILES };

/* One `store NAME: TYPE`.  For a table (`table Entry key id index at, name`)
 * table_struct names its struct, key its primary-key field and indexes
 * the fields of its secondary indexes; all three are NULL (and nindexes
 * 0) for the other types.  In a resolved definition (sos_app_load) the
 * struct exists and every key and index field is in it, of type text,
 * bytes or an integer. */
struct sos_app_store {
  char *name;
  int type; /* SOS_APP_STORE_* */
  char *table_struct;
  char *key;
  char **indexes;
  uint32_t nindexes;
  struct sos_app_pos pos; /* of NAME, in the file that declared it last */
};

/* One `http "/prefix" [host "name"] -> service[.method]`: the HTTP
 * gateway sends a request whose path starts with prefix (and whose Host
 * is host, when one is given) to method of service, one of this app's, as
 * a call whose request is a sos.HttpRequest and whose answer is a
 * sos.HttpResponse (docs/http.md).  In a resolved definition the service
 * exists and, when it implements an interface, the interface declares the
 * method with those types. */
struct sos_app_route {
  char *prefix;  /* starts with "/" */
  char *host;    /* lower-case, or NULL: any host */
  char *service;
  char *method;  /* "http" when none is written */
  struct sos_app_pos pos; /* of the prefix */
};

/* A parsed (and, from sos_app_load, resolved) definition.  Every string and
 * array is owned by the struct; free it with sos_app_free. */
struct sos_app {
  char *file;    /* the path it was read from, as given */
  int is_package; /* 1 for a `package NAME { ... }` file: declarations only */
  char *name;    /* `app NAME VERSION` */
  char *version; /* semantic version text, e.g. "1.0.0" */
  char *extends; /* `extends "path"` as written, or NULL */
  char *module;  /* `module "x.wasm"`, relative to the file's folder, or NULL */
  char **sources; /* `sources "a.c" "b.c"`, relative paths */
  uint32_t nsources;
  char **files; /* `files "static/" "x.txt"`, relative paths */
  uint32_t nfiles;
  char **uses; /* `uses time, hello` */
  uint32_t nuses;
  char **secrets; /* `secret SLACK_TOKEN, ...`: the node's secrets it may read */
  uint32_t nsecrets;
  char **egress; /* `egress "api.slack.com", "http://127.0.0.1:9000"`: the
                    outside hosts (HTTPS) or origins it may reach */
  uint32_t negress;
  struct sos_app_param *params;
  uint32_t nparams;
  struct sos_app_service *services;
  uint32_t nservices;
  struct sos_app_struct *structs; /* in the order declared */
  uint32_t nstructs;
  struct sos_app_store *stores; /* in the order declared */
  uint32_t nstores;
  struct sos_app_route *routes; /* `http` routes, in the order declared */
  uint32_t nroutes;
  struct sos_app_enum *enums; /* in the order declared, imported ones after */
  uint32_t nenums;
  struct sos_app_interface *interfaces; /* likewise */
  uint32_t ninterfaces;
  char **imports; /* `import "path.sos"` as written (NULL after sos_app_load,
                     whose result holds the imported declarations) */
  uint32_t nimports;
  struct sos_app_pos *import_pos; /* where each import's path is written (for
                                     a base's, the extends path), for messages */
  uint32_t nstructs_own; /* structs[0..nstructs_own) are the app's own, the
                            rest imported (likewise enums, interfaces) */
  uint32_t nenums_own, ninterfaces_own;
};

/* Parses one definition from text (len bytes, need not be NUL-terminated);
 * file names it in messages and becomes app->file.  Does not follow
 * `extends` and does not touch the disk, so it checks only what one file
 * can get wrong (syntax, names, limits, duplicates), not completeness.
 * file may be NULL ("<input>").  On success *out owns the definition; on
 * failure *out is NULL.  Errors: SOS_EINVAL with "file:line:col: message"
 * in err, SOS_ENOMEM. */
int sos_app_parse(const char *text, size_t len, const char *file,
                  struct sos_app **out, char *err, size_t errlen);

/* Reads and parses the definition at path and resolves `extends` (paths
 * relative to the extending file; at most 8 levels; a cycle is an error):
 * the result is the base with the extending file's statements applied.
 * Then checks the whole definition (a module or sources, at least one
 * service, min <= max, names well formed, no duplicates, every table's
 * struct declared with its key and index fields).  Paths from a
 * base (module, sources, files) are rewritten relative to path's folder.
 * docs/language.md gives the merge rules.  Errors: SOS_ENOENT / SOS_EIO
 * when a file cannot be read (for a base: reported at the extends path
 * that names it), SOS_EINVAL for a definition error; both with a message
 * in err; SOS_ENOMEM.  On failure *out is NULL. */
int sos_app_load(const char *path, struct sos_app **out, char *err,
                 size_t errlen);

/* Prints the definition in canonical layout (no `extends`: a resolved
 * definition stands alone).  Re-parsing the text gives an equal
 * definition.  *out is NUL-terminated, freed with sos_free. */
int sos_app_print(const struct sos_app *app, char **out, size_t *len);

/* Reformats source text in the canonical layout, keeping its comments and
 * its `extends`.  What `sos fmt` prints.  Errors as sos_app_parse. */
int sos_app_fmt(const char *text, size_t len, const char *file, char **out,
                size_t *outlen, char *err, size_t errlen);

/* The service named name, or NULL. */
const struct sos_app_service *sos_app_service(const struct sos_app *app,
                                              const char *name);

/* The store named name, or NULL. */
const struct sos_app_store *sos_app_store(const struct sos_app *app, const char *name);

/* The struct named name, or NULL. */
const struct sos_app_struct *sos_app_struct(const struct sos_app *app, const char *name);

/* The name of field type t as written in a struct ("u64", "text"), or
 * NULL when t is not a SOS_APP_T_* value.  Static. */
const char *sos_app_type_name(uint8_t t);

/* Frees a definition.  Accepts NULL. */
void sos_app_free(struct sos_app *app);

/* The types SOS itself declares, as SOS language text: package sos with
 * struct Error (failed typed calls), the messages of time travel (Plan,
 * PlanResult and their parts), the interfaces of the built-in services and
 * the HTTP gateway's HttpRequest and HttpResponse.  A definition imports
 * them with `import "sos"`.  src/lang/builtins.c. */
extern const char sos_app_builtins[];

#endif
