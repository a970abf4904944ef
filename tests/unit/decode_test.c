/*
 * decode_test.c - the binary decoder and module-level validation
 * (src/wasm/decode.c), fed hand-written modules.
 *
 * Each malformed or invalid case checks the whole message, so the section
 * names, byte offsets and spec wordings stay stable for the people (and
 * the spec runner) who read them.
 */
#include "test.h"
#include "wasm/module.h"

#include <stdbool.h>

#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

/* Decodes b and checks the result code and, on error, the exact message
 * and that the module was left cleared. */
static bool decodes_to(const uint8_t *b, size_t n, int want_rc,
                       const char *want_msg) {
  struct sos__module m;
  char err[256] = "";
  int rc = sos__module_decode(&m, b, n, err, sizeof err);
  bool ok = rc == want_rc;
  if (rc == 0) {
    sos__module_clear(&m);
  } else {
    ok = ok && m.bytes == NULL && m.types == NULL && m.nfuncs == 0;
    ok = ok && (!want_msg || strcmp(err, want_msg) == 0);
  }
  if (!ok) fprintf(stderr, "  got %d \"%s\", want %d \"%s\"\n", rc, err,
                   want_rc, want_msg ? want_msg : "");
  return ok;
}

#define MALFORMED(arr, msg) CHECK(decodes_to(arr, sizeof arr, SOS_EMALFORMED, msg))
#define INVALID(arr, msg) CHECK(decodes_to(arr, sizeof arr, SOS_EINVALID, msg))
#define VALID(arr) CHECK(decodes_to(arr, sizeof arr, 0, NULL))

/* ---- LEB128 ------------------------------------------------------------ */

static int leb_u(const char *s, size_t n, unsigned bits, uint64_t *v,
                 const char **why, size_t *used) {
  const uint8_t *p = (const uint8_t *)s;
  int rc = sos__leb_u(&p, p + n, bits, v, why);
  *used = (size_t)(p - (const uint8_t *)s);
  return rc;
}

static int leb_s(const char *s, size_t n, unsigned bits, int64_t *v,
                 const char **why) {
  const uint8_t *p = (const uint8_t *)s;
  return sos__leb_s(&p, p + n, bits, v, why);
}

TEST(decode_leb_u_reads_minimal_and_padded_forms) {
  uint64_t v = 0;
  size_t used = 0;
  const char *why = NULL;
  CHECK_EQ(leb_u("\x02", 1, 32, &v, &why, &used), 0);
  CHECK_EQ(v, 2);
  CHECK_EQ(used, 1);
  CHECK_EQ(leb_u("\x82\x80\x80\x80\x00", 5, 32, &v, &why, &used), 0);
  CHECK_EQ(v, 2);
  CHECK_EQ(used, 5);
  CHECK_EQ(leb_u("\xff\xff\xff\xff\x0f", 5, 32, &v, &why, &used), 0);
  CHECK_EQ(v, 0xffffffffu);
  CHECK_EQ(leb_u("\xe5\x8e\x26", 3, 32, &v, &why, &used), 0);
  CHECK_EQ(v, 624485);
  CHECK_EQ(leb_u("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10, 64, &v, &why,
                 &used), 0);
  CHECK(v == UINT64_MAX);
}

TEST(decode_leb_u_rejects_long_large_and_truncated) {
  uint64_t v;
  size_t used = 0;
  const char *why = NULL;
  CHECK_EQ(leb_u("\x80\x80\x80\x80\x80\x00", 6, 32, &v, &why, &used),
           SOS_EMALFORMED);
  CHECK_STR(why, "integer representation too long");
  CHECK_EQ(used, 5); /* left at the offending byte */
  CHECK_EQ(leb_u("\xff\xff\xff\xff\x1f", 5, 32, &v, &why, &used), SOS_EMALFORMED);
  CHECK_STR(why, "integer too large");
  CHECK_EQ(used, 4);
  CHECK_EQ(leb_u("\x80\x80", 2, 32, &v, &why, &used), SOS_EMALFORMED);
  CHECK_STR(why, "unexpected end of section or function");
  CHECK_EQ(leb_u("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10, 64, &v, &why,
                 &used), SOS_EMALFORMED);
  CHECK_STR(why, "integer too large");
  /* The 1-bit flag of limits, as the spec suite reads it. */
  CHECK_EQ(leb_u("\x01", 1, 1, &v, &why, &used), 0);
  CHECK_EQ(leb_u("\x02", 1, 1, &v, &why, &used), SOS_EMALFORMED);
  CHECK_STR(why, "integer too large");
  CHECK_EQ(leb_u("\x81\x00", 2, 1, &v, &why, &used), SOS_EMALFORMED);
  CHECK_STR(why, "integer representation too long");
}

TEST(decode_leb_s_sign_extends_and_checks_unused_bits) {
  int64_t v = 0;
  const char *why = NULL;
  CHECK_EQ(leb_s("\x7f", 1, 32, &v, &why), 0);
  CHECK_EQ(v, -1);
  CHECK_EQ(leb_s("\x40", 1, 33, &v, &why), 0);
  CHECK_EQ(v, -64);
  CHECK_EQ(leb_s("\x3f", 1, 32, &v, &why), 0);
  CHECK_EQ(v, 63);
  CHECK_EQ(leb_s("\xc0\xbb\x78", 3, 32, &v, &why), 0);
  CHECK_EQ(v, -123456);
  CHECK_EQ(leb_s("\x80\x80\x80\x80\x78", 5, 32, &v, &why), 0);
  CHECK_EQ(v, INT32_MIN);
  CHECK_EQ(leb_s("\xff\xff\xff\xff\x07", 5, 32, &v, &why), 0);
  CHECK_EQ(v, INT32_MAX);
  CHECK_EQ(leb_s("\xff\x7f", 2, 64, &v, &why), 0);
  CHECK_EQ(v, -1);
  CHECK_EQ(leb_s("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 10, 64, &v, &why), 0);
  CHECK(v == INT64_MIN);
  CHECK_EQ(leb_s("\x80\x80\x80\x80\x70", 5, 32, &v, &why), SOS_EMALFORMED);
  CHECK_STR(why, "integer too large");
  CHECK_EQ(leb_s("\xff\xff\xff\xff\x4f", 5, 32, &v, &why), SOS_EMALFORMED);
  CHECK_STR(why, "integer too large");
  CHECK_EQ(leb_s("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 10, 64, &v, &why),
           SOS_EMALFORMED);
  CHECK_STR(why, "integer too large");
  CHECK_EQ(leb_s("\xff\xff\xff\xff\xff\x7f", 6, 32, &v, &why), SOS_EMALFORMED);
  CHECK_STR(why, "integer representation too long");
}

/* ---- a module using every section ---------------------------------------- */

static const uint8_t full[] = {
  HDR,
  /* types: (i32 i32)->(i32), ()->(), (i32 i32)->(i32) again */
  0x01, 0x10, 0x03, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00,
  0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,
  /* imports: m.f func type 1; m.g global i32 */
  0x02, 0x0e, 0x02, 0x01, 'm', 0x01, 'f', 0x00, 0x01,
  0x01, 'm', 0x01, 'g', 0x03, 0x7f, 0x00,
  /* functions 1 and 2: types 0 and 1 */
  0x03, 0x03, 0x02, 0x00, 0x01,
  /* table funcref 1..10 */
  0x04, 0x05, 0x01, 0x70, 0x01, 0x01, 0x0a,
  /* memory 1.. */
  0x05, 0x03, 0x01, 0x00, 0x01,
  /* globals: (mut i64) = -2; funcref = ref.func 2 */
  0x06, 0x0b, 0x02, 0x7e, 0x01, 0x42, 0x7e, 0x0b, 0x70, 0x00, 0xd2, 0x02, 0x0b,
  /* exports: "run" func 2, "mem" memory 0 */
  0x07, 0x0d, 0x02, 0x03, 'r', 'u', 'n', 0x00, 0x02, 0x03, 'm', 'e', 'm', 0x02,
  0x00,
  /* start: func 2 */
  0x08, 0x01, 0x02,
  /* elements: active (i32.const 0) [func 1]; passive externref [null] */
  0x09, 0x0d, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x01,
  0x05, 0x6f, 0x01, 0xd0, 0x6f, 0x0b,
  /* data count 2 */
  0x0c, 0x01, 0x02,
  /* code: (locals i32 i32 f64) local.get 0 local.get 1 i32.add; empty */
  0x0a, 0x10, 0x02, 0x0b, 0x02, 0x02, 0x7f, 0x01, 0x7c,
  0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, 0x02, 0x00, 0x0b,
  /* data: active (global.get 0) "hi"; passive "x" */
  0x0b, 0x0b, 0x02, 0x00, 0x23, 0x00, 0x0b, 0x02, 'h', 'i', 0x01, 0x01, 'x',
  /* a custom section at the end */
  0x00, 0x05, 0x04, 'n', 'a', 'm', 'e',
};

static bool name_is(struct sos_wasm_name n, const char *s) {
  return n.len == strlen(s) && memcmp(n.p, s, n.len) == 0;
}

static void check_full_types_imports(const struct sos__module *m) {
  CHECK_EQ(m->ntypes, 3);
  CHECK_EQ(m->types[0].nparams, 2);
  CHECK_EQ(m->types[0].nresults, 1);
  CHECK(memcmp(m->types[0].types, "\x7f\x7f\x7f", 3) == 0);
  CHECK_EQ(m->types[1].nparams + m->types[1].nresults, 0);
  CHECK_EQ(m->types[0].canon, 0);
  CHECK_EQ(m->types[1].canon, 1);
  CHECK_EQ(m->types[2].canon, 0);
  REQUIRE(m->nimports == 2);
  CHECK(name_is(m->imports[0].module, "m"));
  CHECK(name_is(m->imports[0].name, "f"));
  CHECK_EQ(m->imports[0].kind, SOS_WASM_EXTERN_FUNC);
  CHECK_EQ(m->imports[0].u.typeidx, 1);
  CHECK_EQ(m->imports[1].kind, SOS_WASM_EXTERN_GLOBAL);
  CHECK_EQ(m->imports[1].u.global.type, SOS_WASM_I32);
  CHECK(!m->imports[1].u.global.mut);
}

static void check_full_spaces(const struct sos__module *m) {
  CHECK_EQ(m->nfuncs, 3);
  CHECK_EQ(m->nfunc_imports, 1);
  CHECK_EQ(m->func_types[0], 1);
  CHECK_EQ(m->func_types[1], 0);
  CHECK_EQ(m->func_types[2], 1);
  CHECK_EQ(m->ntables, 1);
  CHECK_EQ(m->tables[0].elem, SOS_WASM_FUNCREF);
  CHECK_EQ(m->tables[0].lim.min, 1);
  CHECK(m->tables[0].lim.has_max);
  CHECK_EQ(m->tables[0].lim.max, 10);
  CHECK_EQ(m->nmems, 1);
  CHECK_EQ(m->mems[0].min, 1);
  CHECK(!m->mems[0].has_max);
  REQUIRE(m->nglobals == 3);
  CHECK_EQ(m->nglobal_imports, 1);
  CHECK_EQ(m->globals[1].type.type, SOS_WASM_I64);
  CHECK(m->globals[1].type.mut);
  CHECK_EQ(m->globals[1].init.kind, SOS__CONST_I64);
  CHECK_EQ((int64_t)m->globals[1].init.value, -2);
  CHECK_EQ(m->globals[2].init.kind, SOS__CONST_REF_FUNC);
  CHECK_EQ(m->globals[2].init.index, 2);
  REQUIRE(m->nexports == 2);
  CHECK(name_is(m->exports[1].name, "mem"));
  CHECK_EQ(m->exports[1].kind, SOS_WASM_EXTERN_MEMORY);
  CHECK(m->has_start);
  CHECK_EQ(m->start, 2);
}

static void check_full_segments(const struct sos__module *m) {
  REQUIRE(m->nelems == 2);
  CHECK_EQ(m->elems[0].mode, SOS__SEG_ACTIVE);
  CHECK_EQ(m->elems[0].offset.kind, SOS__CONST_I32);
  CHECK_EQ(m->elems[0].n, 1);
  CHECK_EQ(m->elems[0].items[0].kind, SOS__CONST_REF_FUNC);
  CHECK_EQ(m->elems[0].items[0].index, 1);
  CHECK_EQ(m->elems[1].mode, SOS__SEG_PASSIVE);
  CHECK_EQ(m->elems[1].type, SOS_WASM_EXTERNREF);
  CHECK_EQ(m->elems[1].items[0].kind, SOS__CONST_REF_NULL);
  CHECK_EQ(m->elems[1].items[0].value, SOS_WASM_EXTERNREF);
  CHECK(m->has_datacount);
  REQUIRE(m->ndatas == 2);
  CHECK_EQ(m->datas[0].mode, SOS__SEG_ACTIVE);
  CHECK_EQ(m->datas[0].offset.kind, SOS__CONST_GLOBAL);
  CHECK_EQ(m->datas[0].len, 2);
  CHECK(memcmp(m->datas[0].bytes, "hi", 2) == 0);
  CHECK(m->datas[0].bytes >= m->bytes && m->datas[0].bytes < m->bytes + m->len);
  CHECK_EQ(m->datas[1].mode, SOS__SEG_PASSIVE);
}

static void check_full_bodies(const struct sos__module *m) {
  static const uint8_t code0[] = {0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b};
  const struct sos__funcbody *b = &m->bodies[0];
  CHECK_EQ(b->nlocals, 3);
  CHECK(memcmp(b->local_types, "\x7f\x7f\x7c", 3) == 0);
  CHECK_EQ(b->code_len, sizeof code0);
  CHECK(memcmp(b->code, code0, sizeof code0) == 0);
  CHECK(b->code == m->bytes + b->code_offset);
  CHECK(memcmp(full + b->code_offset, code0, sizeof code0) == 0);
  CHECK_EQ(m->bodies[1].nlocals, 0);
  CHECK_EQ(m->bodies[1].code_len, 1);
  /* Declared references: the elem segment's and the global's/export's. */
  CHECK_EQ(m->declared_refs[0], 0);
  CHECK_EQ(m->declared_refs[1], 1);
  CHECK_EQ(m->declared_refs[2], 1);
}

TEST(decode_full_module_fills_every_field) {
  struct sos__module m;
  char err[256] = "";
  int rc = sos__module_decode(&m, full, sizeof full, err, sizeof err);
  if (rc) fprintf(stderr, "  %s\n", err);
  REQUIRE(rc == 0);
  CHECK(m.bytes != full);
  CHECK_EQ(m.len, sizeof full);
  check_full_types_imports(&m);
  check_full_spaces(&m);
  check_full_segments(&m);
  check_full_bodies(&m);
  sos__module_clear(&m);
  CHECK(m.bytes == NULL);
  sos__module_clear(&m); /* a cleared module may be cleared again */
}

TEST(decode_unwinds_every_allocation_failure) {
  int failures = 0;
  for (uint64_t n = 1; n < 1000; n++) {
    struct sos__module m;
    char err[256];
    sos_alloc_fail_at(n);
    int rc = sos__module_decode(&m, full, sizeof full, err, sizeof err);
    sos_alloc_fail_at(0);
    if (rc == 0) {
      sos__module_clear(&m);
      break;
    }
    CHECK_EQ(rc, SOS_ENOMEM);
    CHECK_STR(err, "out of memory");
    failures++;
  }
  CHECK(failures > 10); /* each array of the module was tried */
}

TEST(decode_empty_module_and_null_err) {
  static const uint8_t empty[] = {HDR};
  struct sos__module m;
  REQUIRE(sos__module_decode(&m, empty, sizeof empty, NULL, 0) == 0);
  CHECK_EQ(m.nfuncs, 0);
  CHECK(m.declared_refs != NULL);
  sos__module_clear(&m);
  CHECK_EQ(sos__module_decode(&m, empty, 4, NULL, 0), SOS_EMALFORMED);
}

/* ---- malformed modules (binary.wast wordings) ---------------------------- */

TEST(decode_rejects_bad_header) {
  static const uint8_t magic[] = {0x00, 'a', 's', 'n', 0x01, 0, 0, 0};
  static const uint8_t version[] = {0x00, 'a', 's', 'm', 0x02, 0, 0, 0};
  static const uint8_t short_[] = {0x00, 'a', 's', 'm', 0x01};
  MALFORMED(magic, "module header, offset 0x0: magic header not detected");
  MALFORMED(version, "module header, offset 0x4: unknown binary version");
  MALFORMED(short_, "module header, offset 0x5: unexpected end");
  CHECK(decodes_to(magic, 0, SOS_EMALFORMED, "module header, offset 0x0: unexpected end"));
}

TEST(decode_rejects_bad_section_framing) {
  static const uint8_t id[] = {HDR, 0x0d, 0x00};
  static const uint8_t twice[] = {HDR, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00};
  static const uint8_t order[] = {HDR, 0x0a, 0x01, 0x00, 0x0c, 0x01, 0x00};
  static const uint8_t size[] = {HDR, 0x01, 0x07, 0x01, 0x60, 0x00, 0x00};
  static const uint8_t extra[] = {HDR, 0x01, 0x05, 0x01, 0x60, 0x00, 0x00, 0x00};
  static const uint8_t custom[] = {HDR, 0x00, 0x00, 0x00};
  MALFORMED(id, "module, offset 0x8: malformed section id");
  MALFORMED(twice, "module, offset 0xb: unexpected content after last section");
  MALFORMED(order, "module, offset 0xb: unexpected content after last section");
  MALFORMED(size, "type section, offset 0x9: length out of bounds");
  MALFORMED(extra, "type section, offset 0xa: section size mismatch");
  MALFORMED(custom, "custom section, offset 0xb: unexpected end of section or function");
}

TEST(decode_rejects_malformed_names) {
  static const uint8_t overlong[] = {HDR, 0x02, 0x08, 0x01, 0x02, 0xc0, 0x80,
                                     0x01, 'f', 0x00, 0x00};
  static const uint8_t surrogate[] = {HDR, 0x00, 0x04, 0x03, 0xed, 0xa0, 0x80};
  static const uint8_t too_big[] = {HDR, 0x00, 0x05, 0x04, 0xf4, 0x90, 0x80, 0x80};
  static const uint8_t emoji[] = {HDR, 0x00, 0x05, 0x04, 0xf0, 0x9f, 0x98, 0x80};
  MALFORMED(overlong, "import section, offset 0xb: malformed UTF-8 encoding");
  MALFORMED(surrogate, "custom section, offset 0xa: malformed UTF-8 encoding");
  MALFORMED(too_big, "custom section, offset 0xa: malformed UTF-8 encoding");
  VALID(emoji);
}

TEST(decode_rejects_malformed_types_and_kinds) {
  static const uint8_t valtype[] = {HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7b, 0x00};
  static const uint8_t kind[] = {HDR, 0x02, 0x04, 0x01, 0x00, 0x00, 0x04};
  static const uint8_t mut[] = {HDR, 0x06, 0x06, 0x01, 0x7f, 0x02, 0x41, 0x00, 0x0b};
  static const uint8_t flag[] = {HDR, 0x05, 0x03, 0x01, 0x02, 0x00};
  static const uint8_t reftype[] = {HDR, 0x04, 0x04, 0x01, 0x7f, 0x00, 0x00};
  MALFORMED(valtype, "type section, offset 0xd: malformed value type");
  MALFORMED(kind, "import section, offset 0xd: malformed import kind");
  MALFORMED(mut, "global section, offset 0xc: malformed mutability");
  MALFORMED(flag, "memory section, offset 0xb: integer too large");
  MALFORMED(reftype, "table section, offset 0xb: malformed reference type");
}

TEST(decode_rejects_function_and_code_mismatch) {
  static const uint8_t no_code[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                                    0x03, 0x02, 0x01, 0x00};
  static const uint8_t no_funcs[] = {HDR, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
  MALFORMED(no_code, "code section, offset 0x12: function and code section "
                     "have inconsistent lengths");
  MALFORMED(no_funcs, "code section, offset 0xa: function and code section "
                      "have inconsistent lengths");
}

TEST(decode_rejects_bad_bodies_and_locals) {
  static const uint8_t many[] = {
    HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
    0x0a, 0x0c, 0x01, 0x0a, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f,
    0x02, 0x7e, 0x0b};
  static const uint8_t no_end[] = {
    HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
    0x0a, 0x05, 0x01, 0x03, 0x00, 0x01, 0x01, 0x0b, 0x01, 0x00};
  static const uint8_t locals_past_body[] = {
    HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
    0x0a, 0x05, 0x01, 0x02, 0x01, 0x01, 0x7f, 0x0b};
  MALFORMED(many, "code section, offset 0x16: too many locals");
  MALFORMED(no_end, "code section, offset 0x19: END opcode expected");
  MALFORMED(locals_past_body, "code section, offset 0x16: section size mismatch");
}

TEST(decode_rejects_count_mismatches) {
  static const uint8_t datacount[] = {HDR, 0x0c, 0x01, 0x01, 0x0b, 0x05, 0x02,
                                      0x01, 0x00, 0x01, 0x00};
  static const uint8_t no_data[] = {HDR, 0x0c, 0x01, 0x01};
  MALFORMED(datacount, "data section, offset 0xd: data count and data section "
                       "have inconsistent lengths");
  MALFORMED(no_data, "data section, offset 0xb: data count and data section "
                     "have inconsistent lengths");
}

TEST(decode_const_expr_skips_and_rejects_opcodes) {
  /* local.get 0 in a global: invalid, but skipped so that the section
   * still ends where it should. */
  static const uint8_t nonconst[] = {HDR, 0x06, 0x08, 0x01, 0x7f, 0x00, 0x41,
                                     0x00, 0x20, 0x00, 0x0b};
  static const uint8_t block[] = {HDR, 0x06, 0x09, 0x01, 0x7f, 0x00, 0x02,
                                  0x7f, 0x41, 0x00, 0x0b, 0x0b};
  static const uint8_t illegal[] = {HDR, 0x06, 0x06, 0x01, 0x7f, 0x00, 0xf3,
                                    0x00, 0x0b};
  static const uint8_t two[] = {HDR, 0x06, 0x08, 0x01, 0x7f, 0x00, 0x41, 0x00,
                                0x41, 0x00, 0x0b};
  static const uint8_t empty[] = {HDR, 0x06, 0x04, 0x01, 0x7f, 0x00, 0x0b};
  INVALID(nonconst, "global section, offset 0xf: constant expression required");
  INVALID(block, "global section, offset 0xd: constant expression required");
  MALFORMED(illegal, "global section, offset 0xd: illegal opcode f3");
  INVALID(two, "global section, offset 0xd: type mismatch");
  INVALID(empty, "global section, offset 0xd: type mismatch");
}

TEST(decode_malformation_wins_over_earlier_invalidity) {
  /* Function of unknown type 5, then a malformed section id. */
  static const uint8_t both[] = {HDR, 0x03, 0x02, 0x01, 0x05, 0x0e, 0x00};
  MALFORMED(both, "module, offset 0xc: malformed section id");
}

/* ---- invalid modules (Core 2.0 §3.4) ------------------------------------- */

TEST(decode_rejects_bad_indices) {
  static const uint8_t type[] = {HDR, 0x03, 0x02, 0x01, 0x00,
                                 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
  static const uint8_t export_[] = {HDR, 0x07, 0x04, 0x01, 0x00, 0x03, 0x00};
  static const uint8_t start[] = {HDR, 0x08, 0x01, 0x00};
  static const uint8_t data[] = {HDR, 0x0b, 0x06, 0x01, 0x00, 0x41, 0x00, 0x0b,
                                 0x00};
  static const uint8_t elem[] = {HDR, 0x09, 0x06, 0x01, 0x00, 0x41, 0x00, 0x0b,
                                 0x00};
  static const uint8_t ref_func[] = {HDR, 0x06, 0x06, 0x01, 0x70, 0x00, 0xd2,
                                     0x07, 0x0b};
  INVALID(type, "function section, offset 0xb: unknown type 0");
  INVALID(export_, "export section, offset 0xc: unknown global 0");
  INVALID(start, "start section, offset 0xa: unknown function 0");
  INVALID(data, "data section, offset 0xc: unknown memory 0");
  INVALID(elem, "element section, offset 0xc: unknown table 0");
  INVALID(ref_func, "global section, offset 0xd: unknown function 7");
}

TEST(decode_rejects_bad_limits_and_memories) {
  static const uint8_t pages[] = {HDR, 0x05, 0x05, 0x01, 0x00, 0x81, 0x80, 0x04};
  static const uint8_t minmax[] = {HDR, 0x04, 0x05, 0x01, 0x70, 0x01, 0x02, 0x01};
  static const uint8_t two_mems[] = {HDR, 0x05, 0x05, 0x02, 0x00, 0x00, 0x00,
                                     0x00};
  static const uint8_t big_ok[] = {HDR, 0x05, 0x06, 0x01, 0x01, 0x00, 0x80,
                                   0x80, 0x04};
  INVALID(pages, "memory section, offset 0xb: memory size must be at most "
                 "65536 pages (4GiB)");
  INVALID(minmax, "table section, offset 0xb: size minimum must not be "
                  "greater than maximum");
  INVALID(two_mems, "memory section, offset 0xd: multiple memories");
  VALID(big_ok);
}

TEST(decode_rejects_bad_constant_globals) {
  /* global.get of a global the module defines, of a mutable import, and
   * of an import of the wrong type. */
  static const uint8_t defined[] = {HDR, 0x06, 0x0b, 0x02, 0x7f, 0x00, 0x41,
                                    0x00, 0x0b, 0x7f, 0x00, 0x23, 0x00, 0x0b};
  static const uint8_t mutable_[] = {HDR, 0x02, 0x07, 0x01, 0x00, 0x01, 'g',
                                     0x03, 0x7f, 0x01, 0x06, 0x06, 0x01, 0x7f,
                                     0x00, 0x23, 0x00, 0x0b};
  static const uint8_t mistyped[] = {HDR, 0x02, 0x07, 0x01, 0x00, 0x01, 'g',
                                     0x03, 0x7e, 0x00, 0x06, 0x06, 0x01, 0x7f,
                                     0x00, 0x23, 0x00, 0x0b};
  INVALID(defined, "global section, offset 0x12: unknown global 0");
  INVALID(mutable_, "global section, offset 0x16: constant expression required");
  INVALID(mistyped, "global section, offset 0x16: type mismatch");
}

TEST(decode_rejects_bad_exports_start_and_segments) {
  static const uint8_t dup[] = {HDR, 0x05, 0x03, 0x01, 0x00, 0x00,
                                0x07, 0x09, 0x02, 0x01, 'a', 0x02, 0x00,
                                0x01, 'a', 0x02, 0x00};
  static const uint8_t start[] = {HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00,
                                  0x03, 0x02, 0x01, 0x00, 0x08, 0x01, 0x00,
                                  0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
  /* A funcref segment for an externref table. */
  static const uint8_t elem[] = {HDR, 0x04, 0x04, 0x01, 0x6f, 0x00, 0x01,
                                 0x09, 0x06, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x00};
  static const uint8_t item[] = {HDR, 0x09, 0x07, 0x01, 0x05, 0x70, 0x01,
                                 0xd0, 0x6f, 0x0b};
  INVALID(dup, "export section, offset 0x15: duplicate export name");
  INVALID(start, "start section, offset 0x15: start function must have type [] -> []");
  INVALID(elem, "element section, offset 0x12: type mismatch");
  INVALID(item, "element section, offset 0xe: type mismatch");
}

TEST(decode_accepts_every_segment_encoding) {
  /* Element flags 0..7 and data flags 0..2 over one table and memory. */
  static const uint8_t segs[] = {
    HDR,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x02, 0x01, 0x00,
    0x04, 0x04, 0x01, 0x70, 0x00, 0x01,
    0x05, 0x03, 0x01, 0x00, 0x01,
    0x09, 0x35, 0x08,
    0x00, 0x41, 0x00, 0x0b, 0x01, 0x00,
    0x01, 0x00, 0x01, 0x00,
    0x02, 0x00, 0x41, 0x00, 0x0b, 0x00, 0x01, 0x00,
    0x03, 0x00, 0x01, 0x00,
    0x04, 0x41, 0x00, 0x0b, 0x01, 0xd2, 0x00, 0x0b,
    0x05, 0x70, 0x01, 0xd0, 0x70, 0x0b,
    0x06, 0x00, 0x41, 0x00, 0x0b, 0x70, 0x01, 0xd2, 0x00, 0x0b,
    0x07, 0x70, 0x01, 0xd2, 0x00, 0x0b,
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
    0x0b, 0x0e, 0x03,
    0x00, 0x41, 0x00, 0x0b, 0x00,
    0x01, 0x00,
    0x02, 0x00, 0x41, 0x00, 0x0b, 0x00,
  };
  struct sos__module m;
  char err[256] = "";
  int rc = sos__module_decode(&m, segs, sizeof segs, err, sizeof err);
  if (rc) fprintf(stderr, "  %s\n", err);
  REQUIRE(rc == 0);
  REQUIRE(m.nelems == 8);
  CHECK_EQ(m.elems[0].mode, SOS__SEG_ACTIVE);
  CHECK_EQ(m.elems[1].mode, SOS__SEG_PASSIVE);
  CHECK_EQ(m.elems[3].mode, SOS__SEG_DECLARATIVE);
  CHECK_EQ(m.elems[5].items[0].kind, SOS__CONST_REF_NULL);
  CHECK_EQ(m.elems[7].mode, SOS__SEG_DECLARATIVE);
  CHECK_EQ(m.ndatas, 3);
  CHECK_EQ(m.datas[1].mode, SOS__SEG_PASSIVE);
  CHECK_EQ(m.datas[2].mode, SOS__SEG_ACTIVE);
  CHECK_EQ(m.declared_refs[0], 1);
  sos__module_clear(&m);
}

/* Regression (found by the fuzzer): a 30-byte module declaring 3.2
 * billion locals made the decoder try to allocate 3.2 GB.  It must be
 * refused at once as over the engine's limit of locals. */
TEST(decode_rejects_billions_of_locals_without_allocating) {
  static const uint8_t bin[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, /* header */
      0x01, 0x04, 0x01, 0x60, 0x00, 0x00,             /* type () -> () */
      0x03, 0x02, 0x01, 0x00,                         /* one function */
      0x0a, 0x0a, 0x01, 0x08, 0x01,                   /* code: one body */
      0x80, 0x80, 0x80, 0x80, 0x0c, 0x7f,             /* 0xc0000000 x i32 */
      0x0b};
  struct sos__module m;
  char err[256] = "";
  memset(&m, 0, sizeof m);
  sos_alloc_fail_at(0);
  int rc = sos__module_decode(&m, bin, sizeof bin, err, sizeof err);
  CHECK_EQ(rc, SOS_EINVALID);
  CHECK(strstr(err, "too many locals") != NULL);
  sos__module_clear(&m);
}
