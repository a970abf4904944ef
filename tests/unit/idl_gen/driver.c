/*
 * driver.c - the generated code at work, built by idl_gen_test.c: the C
 * that `sos idl` writes for everything.sos, compiled natively with
 * sdk/sos_wire.c and mock_sos.c (the kernel's calls, in-process), with
 * every warning an error and the sanitizers on.
 *
 * It checks the encoders against docs/wire.md byte for byte (the
 * document's example, zero values left out, optional and union
 * presence, zigzag, floats, packed lists, nested lengths of one and two
 * bytes, keys of one to three bytes), round trips of a value using every
 * field, what decoders must accept (unknown tags of each wire type,
 * padded varints, repeated fields, undeclared enum numbers) and reject
 * (each kind of malformed input, with its message), encode failures,
 * the write buffer and arena leaving their stack buffers, and typed
 * calls through the generated client and server code.
 *
 * Output: one line per failed check, and for the host's cross-check
 * (idl_gen_test.c compares them with src/idl's codec) lines
 *   wire NAME HEX      bytes this code encoded for a named value
 *   reject NAME HEX    bytes this code refused to decode
 * and last "driver: N checks, M failed".  Exits 1 when any failed.
 */
#include "everything.sos.h"

#include "sos.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mock_open_calls(void);

static int checks, failed;

#define CHECK(c)                                                         \
  do {                                                                   \
    checks++;                                                            \
    if (!(c)) {                                                          \
      failed++;                                                          \
      printf("driver.c:%d: check failed: %s\n", __LINE__, #c);           \
    }                                                                    \
  } while (0)

#define CHECK_STR(got, want)                                                       \
  do {                                                                             \
    checks++;                                                                      \
    if (strcmp((got), (want)) != 0) {                                              \
      failed++;                                                                    \
      printf("driver.c:%d: got \"%s\"\n  want \"%s\"\n", __LINE__, (got), (want)); \
    }                                                                              \
  } while (0)

/* ---- helpers ------------------------------------------------------------------ */

/* The bytes of a hex string ("0a 03 61"; spaces ignored) into out. */
static size_t unhex(const char *hex, uint8_t *out) {
  size_t n = 0;
  for (const char *p = hex; *p;) {
    if (*p == ' ') {
      p++;
      continue;
    }
    unsigned v;
    if (sscanf(p, "%2x", &v) != 1) break;
    out[n++] = (uint8_t)v;
    p += 2;
  }
  return n;
}

/* n bytes as hex into a static buffer. */
static const char *hex(const uint8_t *p, size_t n) {
  static char buf[65536];
  size_t k = 0;
  for (size_t i = 0; i < n && k + 3 < sizeof buf; i++)
    k += (size_t)snprintf(buf + k, sizeof buf - k, "%02x", p[i]);
  buf[k] = 0;
  return buf;
}

/* Whether the n bytes at got are those of want (hex); prints both if not. */
static bool same_bytes(int line, const uint8_t *got, size_t n, const char *want) {
  uint8_t w[4096];
  size_t wn = unhex(want, w);
  checks++;
  if (wn == n && memcmp(w, got, n) == 0) return true;
  failed++;
  printf("driver.c:%d: bytes differ\n  got  %s\n", line, hex(got, n));
  printf("  want %s\n", hex(w, wn));
  return false;
}

#define CHECK_BYTES(w, want) same_bytes(__LINE__, (w)->p, (w)->len, want)

/* Prints "wire NAME HEX" for the host's cross-check. */
static void emit(const char *name, const sos_wbuf *w) {
  printf("wire %s %s\n", name, hex(w->p, w->len));
}

/* Whether the n bytes at p are all zero (a decoded struct after a failure). */
static bool all_zero(const void *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (((const uint8_t *)p)[i]) return false;
  return true;
}

/* A write buffer over a stack array of the caller's. */
#define WBUF(name, size)            \
  uint8_t name##_stack[size];       \
  sos_wbuf name;                    \
  sos_wbuf_init(&name, name##_stack, sizeof name##_stack)


static sos_text T(const char *s) { return sos_text_of(s); }

/* ---- encoding: exact bytes --------------------------------------------------------- */

static void test_doc_example(void) {
  WBUF(w, 64);
  everything_Doc d = {.name = SOS_TEXT("ada"), .times = 300, .loud = false};
  CHECK(everything_Doc_encode(&d, &w) == 0);
  CHECK_BYTES(&w, "0a 03 61 64 61  10 ac 02"); /* docs/wire.md, "Example" */
  CHECK(w.p == w_stack);                       /* no allocation */
  emit("doc", &w);
  everything_Doc back;
  CHECK(everything_Doc_decode(&back, w.p, w.len, NULL) == 0);
  CHECK(sos_text_is(back.name, "ada") && back.times == 300 && !back.loud);
  CHECK(back.name.p == (const char *)w.p + 2); /* zero copy */
}

static void test_zero_values(void) {
  WBUF(w, 256);
  everything_All a, b;
  memset(&a, 0, sizeof a);
  CHECK(everything_All_encode(&a, &w) == 0);
  CHECK(w.len == 0); /* every field at zero: nothing written */
  /* Optional fields and a union variant are written when set, even at
   * zero; -0.0 is not zero. */
  a.has_ou32 = a.has_otext = a.has_oinner = a.has_of64 = a.has_ocolor = true;
  a.choice_case = everything_All_choice_cempty;
  a.f32v = -0.0f;
  a.f64v = -0.0;
  CHECK(everything_All_encode(&a, &w) == 0);
  CHECK_BYTES(&w, "55 00000080  59 0000000000000080  f8 01 00  82 02 00  8a 02 00"
                  "  91 02 0000000000000000  98 02 00  ba 02 00");
  emit("zeros", &w);
  CHECK(everything_All_decode(&b, w.p, w.len, NULL) == 0);
  CHECK(b.has_ou32 && b.has_otext && b.has_oinner && b.has_of64 && b.has_ocolor);
  CHECK(b.choice_case == everything_All_choice_cempty);
  CHECK(signbit(b.f64v) && signbit(b.f32v) && b.ou32 == 0 && b.otext.len == 0);
}

static void test_canonical(void) {
  WBUF(w, 256);
  everything_All a;
  uint32_t l[] = {1, 300};
  memset(&a, 0, sizeof a);
  a.b = true;
  a.u16v = 300;
  a.i16v = -300;
  a.color = everything_Color_blue;
  a.t = T("h\xc3\xa9");
  a.inner.label = T("x");
  a.lu32.items = l;
  a.lu32.n = 2;
  a.has_ou32 = true;
  a.choice_case = everything_All_choice_ctext;
  a.choice.ctext = T("z");
  a.big = 1;
  a.huge = 2;
  CHECK(everything_All_encode(&a, &w) == 0);
  /* Declared order; keys of one, two and three bytes. */
  CHECK_BYTES(&w, "08 01  18 ac 02  38 d7 04  62 03 68 c3 a9  70 07  7a 03 0a 01 78"
                  "  9a 01 03 01 ac 02  f8 01 00  a2 02 01 7a  c0 3e 01  f8 ff 1f 02");
  emit("canonical", &w);
}

/* Encodes the All that stmt sets up (through `a`), checks its bytes, and
 * that decoding them and encoding again gives the same bytes. */
#define ONE(stmt, want)                                                         \
  do {                                                                          \
    everything_All one_, back_;                                                 \
    memset(&one_, 0, sizeof one_);                                              \
    {                                                                           \
      everything_All *a = &one_;                                                \
      stmt;                                                                     \
    }                                                                           \
    sos_wbuf_clear(&w);                                                         \
    CHECK(everything_All_encode(&one_, &w) == 0);                               \
    same_bytes(__LINE__, w.p, w.len, want);                                     \
    sos_wbuf_clear(&w2);                                                        \
    CHECK(everything_All_decode(&back_, w.p, w.len, &arena) == 0);              \
    CHECK(everything_All_encode(&back_, &w2) == 0);                             \
    CHECK(w2.len == w.len && memcmp(w2.p, w.p, w.len) == 0);                    \
  } while (0)

#define LIST(field, ...)                                     \
  do {                                                       \
    static __typeof__(*a->field.items) items_[] = __VA_ARGS__; \
    a->field.items = items_;                                 \
    a->field.n = sizeof items_ / sizeof *items_;             \
  } while (0)

static void test_scalars_and_lists(void) {
  WBUF(w, 512);
  WBUF(w2, 512);
  uint8_t abuf[512];
  sos_arena arena;
  sos_arena_init(&arena, abuf, sizeof abuf);
  ONE(a->i8v = -1, "30 01");
  ONE(a->i8v = -128, "30 ff 01");
  ONE(a->i8v = 127, "30 fe 01");
  ONE(a->i64v = INT64_MIN, "48 ff ff ff ff ff ff ff ff ff 01");
  ONE(a->i64v = INT64_MAX, "48 fe ff ff ff ff ff ff ff ff 01");
  ONE(a->u64v = UINT64_MAX, "28 ff ff ff ff ff ff ff ff ff 01");
  ONE(a->u8v = 255, "10 ff 01");
  ONE(a->u32v = UINT32_MAX, "20 ff ff ff ff 0f");
  ONE(a->i32v = INT32_MIN, "40 ff ff ff ff 0f");
  ONE(a->f32v = 1.0f, "55 00 00 80 3f");
  ONE(a->f64v = 1.0, "59 00 00 00 00 00 00 f0 3f");
  ONE(a->by = sos_bytes_of("\0\xff", 2), "6a 02 00 ff");
  ONE(a->color = (everything_Color)5, "70 05"); /* a number Color does not declare */
  ONE(a->inner.n = -2, "7a 02 10 03");
  ONE(a->default_ = 1, "c8 02 01");
  ONE(LIST(lb, {true, false}), "82 01 02 01 00");
  ONE(LIST(lu8, {255}), "8a 01 02 ff 01");
  ONE(LIST(lu16, {65535}), "92 01 03 ff ff 03");
  ONE(LIST(lu64, {UINT64_MAX}), "a2 01 0a ff ff ff ff ff ff ff ff ff 01");
  ONE(LIST(li8, {-1, 1}), "aa 01 02 01 02");
  ONE(LIST(li16, {-300}), "b2 01 02 d7 04");
  ONE(LIST(li32, {-1, 1}), "ba 01 02 01 02");
  ONE(LIST(li64, {INT64_MIN}), "c2 01 0a ff ff ff ff ff ff ff ff ff 01");
  ONE(LIST(lf32, {1.0f}), "ca 01 04 00 00 80 3f");
  ONE(LIST(lf64, {-2.0}), "d2 01 08 00 00 00 00 00 00 00 c0");
  ONE(LIST(lt, {{"a", 1}, {"", 0}}), "da 01 03 01 61 00");
  ONE(LIST(lby, {{(const uint8_t *)"\xff", 1}}), "e2 01 02 01 ff");
  ONE(LIST(lcolor, {everything_Color_blue, everything_Color_green}), "ea 01 02 07 01");
  ONE(LIST(linner, {{.label = {"x", 1}}, {.n = 0}}), "f2 01 05 03 0a 01 78 00");
  ONE((a->choice_case = everything_All_choice_cu64, a->choice.cu64 = 0), "a8 02 00");
  ONE((a->choice_case = everything_All_choice_cinner, a->choice.cinner.n = 1), "b2 02 02 10 02");
  ONE(a->choice_case = everything_All_choice_ctext, "a2 02 00");
  ONE((a->has_oinner = true, a->oinner.n = 1), "8a 02 02 10 02");
  ONE((a->has_of64 = true, a->of64 = 0.5), "91 02 00 00 00 00 00 00 e0 3f");
  ONE((a->has_ocolor = true, a->ocolor = everything_Color_green), "98 02 01");
  ONE(LIST(kids, {{.b = false}}), "c2 02 01 00"); /* one empty element */
  sos_arena_reset(&arena);
  sos_wbuf_free(&w);
  sos_wbuf_free(&w2);
}

/* Payloads of 128 bytes and more take a two-byte length: the encoder
 * moves what it wrote after its one-byte guess. */
static void test_long_lengths(void) {
  WBUF(w, 64);
  char label[201], expect[2048];
  everything_All a;
  memset(label, 'x', 200);
  label[200] = 0;
  memset(&a, 0, sizeof a);
  a.inner.label = T(label);
  CHECK(everything_All_encode(&a, &w) == 0);
  strcpy(expect, "7a cb 01 0a c8 01");
  for (int i = 0; i < 200; i++) strcat(expect, "78");
  CHECK_BYTES(&w, expect);
  CHECK(w.heap); /* 206 bytes did not fit the 64 on the stack */
  /* A list element of 133 bytes in a list of 135. */
  everything_Inner in = {.label = {label, 130}};
  memset(&a, 0, sizeof a);
  a.linner.items = &in;
  a.linner.n = 1;
  sos_wbuf_clear(&w);
  CHECK(everything_All_encode(&a, &w) == 0);
  strcpy(expect, "f2 01 87 01 85 01 0a 82 01");
  for (int i = 0; i < 130; i++) strcat(expect, "78");
  CHECK_BYTES(&w, expect);
  everything_All b;
  CHECK(everything_All_decode(&b, w.p, w.len, NULL) == 0);
  CHECK(b.linner.n == 1 && b.linner.items[0].label.len == 130);
  sos_arena_reset(sos_wire_arena());
  sos_wbuf_free(&w);
}

/* ---- a round trip through every field ------------------------------------------------ */

static everything_All full_kid2, full_kid;
static bool bools[] = {true, false, true};
static uint8_t u8s[] = {0, 255};
static uint16_t u16s[] = {1, 65535};
static uint32_t u32s[] = {0, 4294967295u};
static uint64_t u64s[] = {UINT64_MAX, 0};
static int8_t i8s[] = {-128, 127};
static int16_t i16s[] = {-32768, 32767};
static int32_t i32s[] = {INT32_MIN, INT32_MAX};
static int64_t i64s[] = {INT64_MIN, INT64_MAX};
static float f32s[] = {0.5f, -1.0f};
static double f64s[] = {1e300, -0.0};
static sos_text texts[] = {{"a", 1}, {"", 0}, {"\xc3\xbc", 2}};
static sos_bytes bytess[] = {{NULL, 0}, {(const uint8_t *)"\x01\x02", 2}};
static everything_Color colors[] = {everything_Color_red, everything_Color_blue,
                                    (everything_Color)9};
static everything_Inner inners[] = {{{"p", 1}, 1}, {{"", 0}, 0}, {{"q", 1}, -1}};

#define SET_LIST(f, arr)          \
  do {                            \
    a->f.items = arr;             \
    a->f.n = sizeof arr / sizeof *arr; \
  } while (0)

/* The value with every field set, as the host's JSON of it in
 * idl_gen_test.c says. */
static void fill_full(everything_All *a) {
  memset(a, 0, sizeof *a);
  a->b = true;
  a->u8v = 200;
  a->u16v = 60000;
  a->u32v = 4000000000u;
  a->u64v = 9223372036854775813ull;
  a->i8v = -100;
  a->i16v = -30000;
  a->i32v = -2000000000;
  a->i64v = INT64_MIN;
  a->f32v = 1.5f;
  a->f64v = -2.25;
  a->t = T("h\xc3\xa9llo w\xc3\xb6rld");
  a->by = sos_bytes_of("\x00\x01\x02\xff", 4);
  a->color = everything_Color_green;
  a->inner.label = T("in");
  a->inner.n = -7;
  SET_LIST(lb, bools);
  SET_LIST(lu8, u8s);
  SET_LIST(lu16, u16s);
  SET_LIST(lu32, u32s);
  SET_LIST(lu64, u64s);
  SET_LIST(li8, i8s);
  SET_LIST(li16, i16s);
  SET_LIST(li32, i32s);
  SET_LIST(li64, i64s);
  SET_LIST(lf32, f32s);
  SET_LIST(lf64, f64s);
  SET_LIST(lt, texts);
  SET_LIST(lby, bytess);
  SET_LIST(lcolor, colors);
  SET_LIST(linner, inners);
  a->has_ou32 = true;
  a->has_otext = true;
  a->otext = T("o");
  a->has_oinner = true;
  a->has_of64 = true;
  a->of64 = 3.0;
  a->has_ocolor = true;
  a->ocolor = everything_Color_blue;
  a->choice_case = everything_All_choice_cinner;
  a->choice.cinner.label = T("c");
  a->choice.cinner.n = 3;
  memset(&full_kid, 0, sizeof full_kid);
  memset(&full_kid2, 0, sizeof full_kid2);
  full_kid.t = T("kid");
  full_kid2.u8v = 1;
  full_kid.kids.items = &full_kid2;
  full_kid.kids.n = 1;
  a->kids.items = &full_kid;
  a->kids.n = 1;
  a->default_ = 42;
  a->big = 1000;
  a->huge = 65535;
}

/* Whether two texts (or bytes) hold the same bytes. */
#define SAME_LEN(x, y) ((x).len == (y).len && ((x).len == 0 || memcmp((x).p, (y).p, (x).len) == 0))

/* Whether lists x and y hold the same items, compared with eq. */
#define SAME_LIST(x, y, eq)                                          \
  ({                                                                 \
    bool s_ = (x).n == (y).n;                                        \
    for (uint32_t i_ = 0; s_ && i_ < (x).n; i_++) s_ = eq((x).items[i_], (y).items[i_]); \
    s_;                                                              \
  })
#define EQ(u, v) ((u) == (v))
#define EQ_BITS64(u, v) (memcmp(&(u), &(v), 8) == 0)
#define EQ_BITS32(u, v) (memcmp(&(u), &(v), 4) == 0)
#define EQ_INNER(u, v) (SAME_LEN((u).label, (v).label) && (u).n == (v).n)

static void test_round_trip(void) {
  WBUF(w, 1024);
  WBUF(w2, 1024);
  everything_All a, b;
  sos_arena arena;
  uint8_t abuf[128]; /* too small for the lists: the arena falls back to malloc */
  sos_arena_init(&arena, abuf, sizeof abuf);
  fill_full(&a);
  CHECK(everything_All_encode(&a, &w) == 0);
  emit("full", &w);
  CHECK(everything_All_decode(&b, w.p, w.len, &arena) == 0);
  CHECK(b.b && b.u8v == 200 && b.u16v == 60000 && b.u32v == 4000000000u);
  CHECK(b.u64v == 9223372036854775813ull && b.i8v == -100 && b.i16v == -30000);
  CHECK(b.i32v == -2000000000 && b.i64v == INT64_MIN && b.f32v == 1.5f && b.f64v == -2.25);
  CHECK(SAME_LEN(a.t, b.t) && SAME_LEN(a.by, b.by) && b.color == everything_Color_green);
  CHECK(EQ_INNER(a.inner, b.inner));
  CHECK(SAME_LIST(a.lb, b.lb, EQ) && SAME_LIST(a.lu8, b.lu8, EQ));
  CHECK(SAME_LIST(a.lu16, b.lu16, EQ) && SAME_LIST(a.lu32, b.lu32, EQ));
  CHECK(SAME_LIST(a.lu64, b.lu64, EQ) && SAME_LIST(a.li8, b.li8, EQ));
  CHECK(SAME_LIST(a.li16, b.li16, EQ) && SAME_LIST(a.li32, b.li32, EQ));
  CHECK(SAME_LIST(a.li64, b.li64, EQ) && SAME_LIST(a.lf32, b.lf32, EQ_BITS32));
  CHECK(SAME_LIST(a.lf64, b.lf64, EQ_BITS64) && SAME_LIST(a.lt, b.lt, SAME_LEN));
  CHECK(SAME_LIST(a.lby, b.lby, SAME_LEN) && SAME_LIST(a.lcolor, b.lcolor, EQ));
  CHECK(SAME_LIST(a.linner, b.linner, EQ_INNER));
  CHECK(b.has_ou32 && b.ou32 == 0 && b.has_otext && SAME_LEN(b.otext, a.otext));
  CHECK(b.has_oinner && b.has_of64 && b.of64 == 3.0 && b.has_ocolor);
  CHECK(b.ocolor == everything_Color_blue && b.choice_case == everything_All_choice_cinner);
  CHECK(EQ_INNER(a.choice.cinner, b.choice.cinner));
  CHECK(b.kids.n == 1 && SAME_LEN(b.kids.items[0].t, a.kids.items[0].t));
  CHECK(b.kids.items[0].kids.n == 1 && b.kids.items[0].kids.items[0].u8v == 1);
  CHECK(b.default_ == 42 && b.big == 1000 && b.huge == 65535);
  CHECK(everything_Color_name(everything_Color_blue) && !everything_Color_name(b.lcolor.items[2]));
  CHECK(strcmp(everything_Color_name(everything_Color_blue), "blue") == 0);
  CHECK((uint8_t *)b.linner.items < abuf || (uint8_t *)b.linner.items >= abuf + sizeof abuf);
  /* Decoding and encoding again gives the same bytes. */
  CHECK(everything_All_encode(&b, &w2) == 0);
  CHECK(w2.len == w.len && memcmp(w2.p, w.p, w.len) == 0);
  /* Every NaN keeps its bits. */
  uint64_t nan64 = 0x7ff0000000000001ull;
  uint32_t nan32 = 0xffc00001u;
  memset(&a, 0, sizeof a);
  memcpy(&a.f64v, &nan64, 8);
  memcpy(&a.f32v, &nan32, 4);
  sos_wbuf_clear(&w);
  CHECK(everything_All_encode(&a, &w) == 0);
  CHECK_BYTES(&w, "55 0100c0ff  59 010000000000f07f");
  CHECK(everything_All_decode(&b, w.p, w.len, &arena) == 0);
  CHECK(memcmp(&b.f64v, &nan64, 8) == 0 && memcmp(&b.f32v, &nan32, 4) == 0);
  sos_arena_reset(&arena);
  sos_wbuf_free(&w);
  sos_wbuf_free(&w2);
}

/* ---- decoding: what must be accepted ------------------------------------------------- */

/* Prints "accept NAME TYPE HEX" for the host's cross-check. */
static void accepted(const char *name, const char *type, const char *h) {
  uint8_t b[256];
  size_t n = unhex(h, b);
  printf("accept %s %s %s\n", name, type, hex(b, n));
}

static void test_decode_accepts(void) {
  uint8_t b[256];
  size_t n;
  everything_Doc d;
  everything_All a;
  static const char *const padded = "10 ac 82 80 80 00";
  n = unhex(padded, b); /* 300 padded to 5 bytes */
  CHECK(everything_Doc_decode(&d, b, n, NULL) == 0 && d.times == 300);
  accepted("padded", "Doc", padded);
  /* Unknown tags of each wire type (tag 0 and tags past 65535 too). */
  static const char *const unknown = "0a 01 78  a0 06 05  a9 06 0102030405060708  b2 06 02 aa bb"
                                     "  bd 06 01020304  00 05  80 80 20 01  10 07";
  n = unhex(unknown, b);
  CHECK(everything_Doc_decode(&d, b, n, NULL) == 0);
  CHECK(sos_text_is(d.name, "x") && d.times == 7);
  accepted("unknown", "Doc", unknown);
  /* A field twice keeps its last value; a list is replaced, not appended. */
  n = unhex("10 01 10 02", b);
  CHECK(everything_Doc_decode(&d, b, n, NULL) == 0 && d.times == 2);
  n = unhex("9a 01 01 05  9a 01 02 07 08", b);
  CHECK(everything_All_decode(&a, b, n, NULL) == 0);
  CHECK(a.lu32.n == 2 && a.lu32.items[0] == 7 && a.lu32.items[1] == 8);
  /* Of two variants of a union, the last counts. */
  n = unhex("a2 02 01 7a  a8 02 05", b);
  CHECK(everything_All_decode(&a, b, n, NULL) == 0);
  CHECK(a.choice_case == everything_All_choice_cu64 && a.choice.cu64 == 5);
  /* An empty list may be written; an undeclared enum number is kept. */
  n = unhex("9a 01 00  70 05", b);
  CHECK(everything_All_decode(&a, b, n, NULL) == 0);
  CHECK(a.lu32.n == 0 && a.lu32.items == NULL && a.color == 5);
  /* Valid UTF-8 of two, three and four bytes, up to U+10FFFF. */
  static const char *const utf8 = "0a 0d c3a9 e282ac f0908d88 f48fbfbf  10 01";
  n = unhex(utf8, b);
  CHECK(everything_Doc_decode(&d, b, n, NULL) == 0 && d.name.len == 13);
  accepted("utf8", "Doc", utf8);
  CHECK(everything_Doc_decode(&d, NULL, 0, NULL) == 0 && d.times == 0);
  sos_arena_reset(sos_wire_arena());
}

/* ---- decoding: what must be rejected ------------------------------------------------------ */

/* Decodes the bytes h as type ("Doc" or "All") into a struct full of
 * garbage and checks that it fails with SOS_STATUS_INVALID, the message
 * msg (or, starting with '~', containing the rest), and the struct zeroed.
 * Prints "reject NAME TYPE HEX" for the host's cross-check. */
static void reject(int line, const char *name, const char *type, const char *h,
                   const char *msg) {
  uint8_t b[4096];
  size_t n = unhex(h, b);
  int rc;
  bool zero;
  if (strcmp(type, "Doc") == 0) {
    everything_Doc d;
    memset(&d, 0x5a, sizeof d);
    rc = everything_Doc_decode(&d, b, n, NULL);
    zero = all_zero(&d, sizeof d);
  } else {
    everything_All a;
    memset(&a, 0x5a, sizeof a);
    rc = everything_All_decode(&a, b, n, NULL);
    zero = all_zero(&a, sizeof a);
  }
  const char *err = sos_wire_error();
  bool ok = rc == SOS_STATUS_INVALID && zero &&
            (msg[0] == '~' ? strstr(err, msg + 1) != NULL : strcmp(err, msg) == 0);
  checks++;
  if (!ok) {
    failed++;
    printf("driver.c:%d: %s: rc %d, zeroed %d, message \"%s\"\n  want \"%s\"\n", line, name, rc,
           zero, err, msg);
  }
  printf("reject %s %s %s\n", name, type, hex(b, n));
}

#define REJECT(name, type, h, msg) reject(__LINE__, name, type, h, msg)

/* The bytes of an All nested `levels` deep through kids, into out. */
static size_t nested(uint8_t *out, int levels) {
  static uint8_t a[4096], b[4096];
  size_t n = 0;
  for (int k = 1; k < levels; k++) { /* wrap: c2 02 LEN(item) item, item = LEN(inner) inner */
    uint8_t *q = b;
    *q++ = 0xc2;
    *q++ = 0x02;
    q = sos_wire_varint_out(q, n + (n < 128 ? 1 : 2));
    q = sos_wire_varint_out(q, n);
    memcpy(q, a, n);
    n = (size_t)(q + n - b);
    memcpy(a, b, n);
  }
  memcpy(out, a, n);
  return n;
}

static void test_decode_rejects(void) {
  REJECT("key-truncated", "Doc", "80", "Doc at byte 0: truncated varint");
  REJECT("varint-truncated", "Doc", "10", "Doc.times (tag 2) at byte 1: truncated varint");
  REJECT("varint-11", "Doc", "10 80 80 80 80 80 80 80 80 80 80 00",
         "Doc.times (tag 2) at byte 1: varint longer than 10 bytes");
  REJECT("varint-2^64", "Doc", "10 ff ff ff ff ff ff ff ff ff 02",
         "Doc.times (tag 2) at byte 1: varint past 2^64 - 1");
  REJECT("u32-range", "Doc", "10 80 80 80 80 10",
         "Doc.times (tag 2) at byte 1: 4294967296 does not fit u32");
  REJECT("bool-2", "Doc", "18 02", "Doc.loud (tag 3) at byte 1: 2 is not a bool (0 or 1)");
  REJECT("len-past-end", "Doc", "0a 05 61",
         "Doc.name (tag 1) at byte 1: length 5 runs past the end (1 bytes left)");
  REJECT("utf8-overlong", "Doc", "0a 02 c0 80", "Doc.name (tag 1) at byte 2: invalid UTF-8");
  REJECT("utf8-overlong3", "Doc", "0a 03 e0 9f bf", "Doc.name (tag 1) at byte 2: invalid UTF-8");
  REJECT("utf8-surrogate", "Doc", "0a 03 ed a0 80", "Doc.name (tag 1) at byte 2: invalid UTF-8");
  REJECT("utf8-past-10ffff", "Doc", "0a 04 f4 90 80 80",
         "Doc.name (tag 1) at byte 2: invalid UTF-8");
  REJECT("utf8-cut", "Doc", "0a 03 61 e2 82", "Doc.name (tag 1) at byte 3: invalid UTF-8");
  REJECT("utf8-continuation", "Doc", "0a 02 61 80", "Doc.name (tag 1) at byte 3: invalid UTF-8");
  REJECT("utf8-mid6", "Doc", "0a 06 61 62 63 ff 64 65", "Doc.name (tag 1) at byte 5: invalid UTF-8");
  REJECT("utf8-last4", "Doc", "0a 04 61 62 63 80", "Doc.name (tag 1) at byte 5: invalid UTF-8");
  REJECT("utf8-ff", "Doc", "0a 09 6162636465666768 ff",
         "Doc.name (tag 1) at byte 10: invalid UTF-8");
  REJECT("wrong-wire-type", "Doc", "08 01",
         "Doc.name (tag 1) at byte 0: wire type VARINT where text needs LEN");
  REJECT("wrong-wire-type2", "Doc", "0a 00 12 01 00",
         "Doc.times (tag 2) at byte 2: wire type LEN where u32 needs VARINT");
  REJECT("bad-wire-known", "Doc", "0b", "Doc.name (tag 1) at byte 0: bad wire type 3 (tag 1)");
  REJECT("bad-wire-3", "Doc", "a3 06", "Doc at byte 0: bad wire type 3 (tag 100)");
  REJECT("bad-wire-4", "Doc", "a4 06", "Doc at byte 0: bad wire type 4 (tag 100)");
  REJECT("bad-wire-6", "Doc", "a6 06", "Doc at byte 0: bad wire type 6 (tag 100)");
  REJECT("bad-wire-7", "Doc", "a7 06", "Doc at byte 0: bad wire type 7 (tag 100)");
  REJECT("unknown-len-past", "Doc", "b2 06 05 00",
         "Doc at byte 2: length 5 runs past the end (1 bytes left)");
  REJECT("unknown-i64-cut", "Doc", "a9 06 01 02",
         "Doc at byte 2: truncated: 8 bytes needed, 2 left");
  REJECT("i8-range", "All", "30 80 02", "All.i8v (tag 6) at byte 1: 128 does not fit i8");
  REJECT("i16-range", "All", "38 80 80 04", "All.i16v (tag 7) at byte 1: 32768 does not fit i16");
  REJECT("i32-range", "All", "40 80 80 80 80 10",
         "All.i32v (tag 8) at byte 1: 2147483648 does not fit i32");
  REJECT("u8-range", "All", "10 80 02", "All.u8v (tag 2) at byte 1: 256 does not fit u8");
  REJECT("u16-range", "All", "18 80 80 04", "All.u16v (tag 3) at byte 1: 65536 does not fit u16");
  REJECT("enum-range", "All", "70 80 80 80 80 08",
         "All.color (tag 14) at byte 1: 2147483648 is not an enum number (0 to 2^31 - 1)");
  REJECT("f64-cut", "All", "59 00 00",
         "All.f64v (tag 11) at byte 1: truncated: 8 bytes needed, 2 left");
  REJECT("f32-cut", "All", "55 00", "All.f32v (tag 10) at byte 1: truncated: 4 bytes needed, 1 left");
  REJECT("f32-list", "All", "ca 01 03 00 00 00",
         "All.lf32 (tag 25) at byte 3: list of 3 bytes is not whole 4-byte elements");
  REJECT("f64-list", "All", "d2 01 04 00 00 00 00",
         "All.lf64 (tag 26) at byte 3: list of 4 bytes is not whole 8-byte elements");
  REJECT("varint-list-cut", "All", "9a 01 02 01 80",
         "All.lu32 (tag 19) at byte 4: truncated varint in a list element");
  REJECT("u8-list-range", "All", "8a 01 02 80 02",
         "All.lu8 (tag 17) at byte 3: 256 does not fit u8");
  REJECT("bool-list-range", "All", "82 01 01 02",
         "All.lb (tag 16) at byte 3: 2 is not a bool (0 or 1)");
  REJECT("enum-list-range", "All", "ea 01 05 80 80 80 80 08",
         "~All.lcolor (tag 29) at byte 3: 2147483648 is not an enum number");
  REJECT("text-list-utf8", "All", "da 01 02 01 ff",
         "All.lt (tag 27) at byte 4: invalid UTF-8 in item 0");
  REJECT("text-list-past", "All", "da 01 02 05 00",
         "All.lt (tag 27) at byte 3: length 5 runs past the end (1 bytes left)");
  REJECT("struct-list-past", "All", "f2 01 02 05 00",
         "All.linner (tag 30) at byte 3: length 5 runs past the end (1 bytes left)");
  REJECT("nested-utf8", "All", "7a 03 0a 01 ff", "Inner.label (tag 1) at byte 4: invalid UTF-8");
  REJECT("nested-in-list", "All", "f2 01 04 03 0a 01 ff",
         "Inner.label (tag 1) at byte 6: invalid UTF-8");
  REJECT("nested-wrong-type", "All", "7a 02 08 01",
         "Inner.label (tag 1) at byte 2: wire type VARINT where text needs LEN");
  REJECT("list-wrong-type", "All", "98 01 05",
         "All.lu32 (tag 19) at byte 0: wire type VARINT where a list of u32 needs LEN");
  REJECT("variant-utf8", "All", "a2 02 01 ff", "All.ctext (tag 36) at byte 3: invalid UTF-8");
  REJECT("struct-past", "All", "7a 05 00",
         "All.inner (tag 15) at byte 1: length 5 runs past the end (1 bytes left)");
  /* 32 levels of structs are allowed, 33 are not. */
  uint8_t b[4096];
  everything_All a;
  size_t n = nested(b, 32);
  CHECK(everything_All_decode(&a, b, n, NULL) == 0);
  printf("accept depth-32 All %s\n", hex(b, n));
  n = nested(b, 33);
  REJECT("depth-33", "All", hex(b, n), "~: structs nested deeper than 32 levels");
  sos_arena_reset(sos_wire_arena());
}

/* ---- encoding failures ----------------------------------------------------------------------- */

/* Encodes a and checks that it fails with SOS_STATUS_INVALID and msg. */
static void enc_fails(int line, const everything_All *a, const char *msg) {
  WBUF(w, 64);
  int rc = everything_All_encode(a, &w);
  checks++;
  if (rc != SOS_STATUS_INVALID || strcmp(sos_wire_error(), msg) != 0) {
    failed++;
    printf("driver.c:%d: rc %d, message \"%s\"\n  want \"%s\"\n", line, rc, sos_wire_error(), msg);
  }
  sos_wbuf_free(&w);
}

static void test_encode_failures(void) {
  everything_All a;
  sos_text bad[] = {{"ok", 2}, {"\xff", 1}};
  everything_Color big_color[] = {(everything_Color)0x80000000u};
#define FAILS(stmt, msg)          \
  do {                            \
    memset(&a, 0, sizeof a);      \
    stmt;                         \
    enc_fails(__LINE__, &a, msg); \
  } while (0)
  FAILS(a.t = T("\xff"), "All.t (tag 12): invalid UTF-8");
  FAILS((a.t.p = NULL, a.t.len = 3), "All.t (tag 12): text with a NULL pointer");
  FAILS(a.choice_case = 99, "All.choice: case 99 is none of the union's tags");
  FAILS(a.color = (everything_Color)0x80000000u, "All.color (tag 14): enum number out of 0..2^31 - 1");
  FAILS((a.lcolor.items = big_color, a.lcolor.n = 1),
        "All.lcolor (tag 29): item 0: enum number out of 0..2^31 - 1");
  FAILS((a.lt.items = bad, a.lt.n = 2), "All.lt (tag 27): item 1: invalid UTF-8");
  FAILS(a.inner.label = T("\xc0\x80"), "Inner.label (tag 1): invalid UTF-8");
  /* 32 levels encode; 33 do not. */
  static everything_All chain[33];
  memset(chain, 0, sizeof chain);
  for (int i = 0; i < 32; i++) {
    chain[i].kids.items = &chain[i + 1];
    chain[i].kids.n = 1;
  }
  enc_fails(__LINE__, &chain[0], "All.kids (tag 40): structs nested deeper than 32 levels");
  WBUF(w, 64);
  chain[31].kids.n = 0; /* its empty inner would be level 33, but is not written */
  CHECK(everything_All_encode(&chain[0], &w) == 0);
  chain[31].has_oinner = true; /* an optional one is */
  enc_fails(__LINE__, &chain[0], "All.oinner (tag 33): structs nested deeper than 32 levels");
  chain[31].has_oinner = false;
  chain[31].inner.n = 1; /* and so is one that is not empty */
  enc_fails(__LINE__, &chain[0], "All.inner (tag 15): structs nested deeper than 32 levels");
  /* A failure sticks to the buffer until it is cleared. */
  everything_Doc d = {.name = {"\xff", 1}};
  CHECK(everything_Doc_encode(&d, &w) == SOS_STATUS_INVALID);
  d.name = T("fine");
  CHECK(everything_Doc_encode(&d, &w) == SOS_STATUS_INVALID);
  sos_wbuf_clear(&w);
  CHECK(everything_Doc_encode(&d, &w) == 0);
  sos_wbuf_free(&w);
}

/* ---- buffers ----------------------------------------------------------------------------- */

static void test_buffers(void) {
  /* A buffer from nothing, and one that outgrows its stack array. */
  sos_wbuf w = {0};
  char *name = malloc(5000);
  memset(name, 'n', 5000);
  everything_Doc d = {.name = {name, 5000}}, back;
  CHECK(everything_Doc_encode(&d, &w) == 0);
  CHECK(w.len == 5003 && w.p[0] == 0x0a && w.p[1] == 0x88 && w.p[2] == 0x27);
  CHECK(everything_Doc_decode(&back, w.p, w.len, NULL) == 0 && back.name.len == 5000);
  sos_wbuf_free(&w);
  WBUF(s, 16);
  CHECK(everything_Doc_encode(&d, &s) == 0 && s.heap && s.len == 5003);
  sos_wbuf_free(&s);
  free(name);
  /* A message past SOS_ABI_MAX_MESSAGE does not encode. */
  size_t huge = (size_t)SOS_ABI_MAX_MESSAGE + 1;
  uint8_t *big = calloc(huge, 1);
  everything_All a;
  memset(&a, 0, sizeof a);
  a.by = (sos_bytes){big, (uint32_t)huge};
  sos_wbuf_init(&w, NULL, 0);
  CHECK(everything_All_encode(&a, &w) == SOS_STATUS_TOO_BIG);
  CHECK(strstr(sos_wire_error(), "larger than") != NULL);
  sos_wbuf_free(&w);
  free(big);
  /* The arena: aligned, from a buffer, then from malloc; reset frees. */
  uint8_t buf[64];
  sos_arena ar;
  sos_arena_init(&ar, buf + 1, sizeof buf - 1);
  void *p1 = sos_arena_alloc(&ar, 3), *p2 = sos_arena_alloc(&ar, 5);
  CHECK(p1 && p2 && ((uintptr_t)p1 & 7) == 0 && ((uintptr_t)p2 & 7) == 0);
  CHECK((uint8_t *)p1 >= buf && (uint8_t *)p2 < buf + sizeof buf);
  void *p3 = sos_arena_alloc(&ar, 100000); /* a block of its own */
  void *p4 = sos_arena_alloc(&ar, 100);
  CHECK(p3 && p4 && ((uintptr_t)p4 & 7) == 0);
  CHECK(sos_arena_adopt(&ar, malloc(10)) == 0 && sos_arena_adopt(&ar, NULL) == 0);
  CHECK(sos_arena_alloc(&ar, 0) == NULL);
  sos_arena_reset(&ar); /* LeakSanitizer sees anything this misses */
  CHECK(sos_arena_alloc(&ar, 8) == buf + 8);
  sos_arena z = {0};
  CHECK(sos_arena_alloc(&z, 16) != NULL);
  sos_arena_reset(&z);
}

/* ---- typed calls through the generated client and server ---------------------------------- */

int everything_Svc_echo_serve(const everything_All *req, everything_All *resp, sos_arena *a) {
  (void)a;
  if (req->u32v == 13) return sos_wire_fail(everything_Svc_not_found, "no user %u", req->u32v);
  if (req->u32v == 14) return sos_wire_fail(99, "made up");
  if (req->u32v == 16) return sos_wire_fail(-SOS_STATUS_TOO_BIG, "no room");
  if (req->u32v == 17) return -SOS_STATUS_BUSY;
  if (req->u32v == 15) {
    resp->t = T("\xff"); /* a response that cannot be encoded */
    return 0;
  }
  *resp = *req;
  return 0;
}

int everything_Svc_greet_serve(const everything_Doc *req, everything_Doc *resp, sos_arena *a) {
  char *s = sos_arena_alloc(a, 7 + req->name.len);
  memcpy(s, "hello, ", 7);
  if (req->name.len) memcpy(s + 7, req->name.p, req->name.len);
  resp->name.p = s;
  resp->name.len = 7 + req->name.len;
  resp->times = req->times + 1;
  return 0;
}

/* A handler that answers bytes that are no Doc. */
static int bad_greet(const struct sos_request *r) {
  (void)r;
  return sos_respond("\x08\x01", 2);
}

/* A handler that fails with plain text, as an untyped service does. */
static int plain_error(const struct sos_request *r) {
  (void)r;
  return sos_fail(SOS_STATUS_ERROR, "plain words");
}

/* The raw outcome of service.method on the n bytes at p, through the mock. */
static int raw_call(const char *method, const void *p, size_t n, char **resp, size_t *len) {
  int h = sos_call_async("everything", method, p, n, 0);
  if (h < 0) return -h;
  sos_await_all(&h, 1, SOS_FOREVER);
  int status = sos_result(h, resp, len);
  sos_close(h);
  return status;
}

static void test_calls(void) {
  everything_Svc s = everything_Svc_at("everything");
  sos_arena arena;
  uint8_t abuf[256];
  sos_arena_init(&arena, abuf, sizeof abuf);
  everything_Svc_register();
  /* A call and its answer. */
  everything_Doc d = {.name = SOS_TEXT("ada"), .times = 1}, r;
  CHECK(everything_Svc_greet(s, &d, &r, &arena) == 0);
  CHECK(sos_text_is(r.name, "hello, ada") && r.times == 2);
  CHECK(mock_open_calls() == 0);
  everything_All a, b;
  fill_full(&a);
  CHECK(everything_Svc_echo(s, &a, &b, &arena) == 0);
  WBUF(w1, 1024);
  WBUF(w2, 1024);
  CHECK(everything_All_encode(&a, &w1) == 0 && everything_All_encode(&b, &w2) == 0);
  CHECK(w1.len == w2.len && memcmp(w1.p, w2.p, w1.len) == 0);
  /* A declared error: status ERROR, the Error struct of docs/wire.md. */
  memset(&a, 0, sizeof a);
  a.u32v = 13;
  CHECK(everything_Svc_echo(s, &a, &b, &arena) == SOS_STATUS_ERROR);
  const sos_wire_fault *f = sos_wire_last_error();
  CHECK(f->status == SOS_STATUS_ERROR && f->code == everything_Svc_not_found);
  CHECK_STR(f->name, "not_found");
  CHECK_STR(f->message, "no user 13");
  CHECK(all_zero(&b, sizeof b));
  char *resp;
  size_t len;
  sos_wbuf_clear(&w1);
  everything_All_encode(&a, &w1);
  CHECK(raw_call("echo", w1.p, w1.len, &resp, &len) == SOS_STATUS_ERROR);
  CHECK(same_bytes(__LINE__, (uint8_t *)resp, len,
                   "08 01  12 09 6e6f745f666f756e64  1a 0a 6e6f2075736572203133"));
  free(resp);
  /* An undeclared code, a response that does not encode. */
  a.u32v = 14;
  CHECK(everything_Svc_echo(s, &a, &b, &arena) == SOS_STATUS_ERROR);
  CHECK(f->code == 0 && f->name[0] == 0);
  CHECK_STR(f->message, "Svc.echo: undeclared error code 99: made up");
  a.u32v = 15;
  CHECK(everything_Svc_echo(s, &a, &b, &arena) == SOS_STATUS_ERROR);
  CHECK_STR(f->message,
            "Svc.echo: the response does not encode: All.t (tag 12): invalid UTF-8");
  /* A negative code fails with that status. */
  a.u32v = 16;
  CHECK(everything_Svc_echo(s, &a, &b, &arena) == SOS_STATUS_TOO_BIG);
  CHECK_STR(f->message, "Svc.echo: no room");
  a.u32v = 17;
  CHECK(everything_Svc_echo(s, &a, &b, &arena) == SOS_STATUS_BUSY);
  CHECK(f->status == SOS_STATUS_BUSY);
  /* A malformed request is refused with INVALID, saying where. */
  CHECK(raw_call("greet", "\x08\x01", 2, &resp, &len) == SOS_STATUS_INVALID);
  CHECK_STR(resp, "Svc.greet: Doc.name (tag 1) at byte 0: wire type VARINT where text needs LEN");
  free(resp);
  /* Async: start two, see one pending, wait for both, finish both. */
  int h[2];
  h[0] = everything_Svc_greet_start(s, &d);
  fill_full(&a);
  h[1] = everything_Svc_echo_start(s, &a);
  CHECK(h[0] > 0 && h[1] > 0 && mock_open_calls() == 2);
  CHECK(everything_Svc_greet_finish(h[0], &r, &arena) == SOS_STATUS_PENDING);
  CHECK(sos_await_all(h, 2, SOS_FOREVER) == 0);
  CHECK(everything_Svc_greet_finish(h[0], &r, &arena) == 0 && sos_text_is(r.name, "hello, ada"));
  CHECK(everything_Svc_echo_finish(h[1], &b, &arena) == 0 && b.huge == 65535);
  CHECK(mock_open_calls() == 0);
  /* Failures before or after the call. */
  CHECK(everything_Svc_greet(everything_Svc_at("nosuch"), &d, &r, &arena) == SOS_STATUS_NOT_FOUND);
  CHECK(f->status == SOS_STATUS_NOT_FOUND && f->code == 0);
  CHECK_STR(f->message, "not found");
  everything_Doc bad = {.name = {"\xff", 1}};
  CHECK(everything_Svc_greet(s, &bad, &r, &arena) == SOS_STATUS_INVALID);
  CHECK_STR(f->message, "Doc.name (tag 1): invalid UTF-8");
  CHECK(everything_Svc_greet_start(s, &bad) == -SOS_STATUS_INVALID && mock_open_calls() == 0);
  sos_method("greet", bad_greet);
  CHECK(everything_Svc_greet(s, &d, &r, &arena) == SOS_STATUS_INVALID);
  CHECK_STR(f->message, "Doc.name (tag 1) at byte 0: wire type VARINT where text needs LEN");
  sos_method("greet", plain_error);
  CHECK(everything_Svc_greet(s, &d, &r, &arena) == SOS_STATUS_ERROR);
  CHECK(f->code == 0);
  CHECK_STR(f->message, "plain words");
  everything_Svc_register();
  CHECK(everything_Svc_greet(s, &d, &r, &arena) == 0 && r.times == 2);
  CHECK(everything_Svc_error_name(7) && strcmp(everything_Svc_error_name(7), "too_many") == 0);
  CHECK(everything_Svc_error_name(2) == NULL && mock_open_calls() == 0);
  sos_arena_reset(&arena);
  sos_wbuf_free(&w1);
  sos_wbuf_free(&w2);
}

int main(void) {
  test_doc_example();
  test_zero_values();
  test_canonical();
  test_scalars_and_lists();
  test_long_lengths();
  test_round_trip();
  test_decode_accepts();
  test_decode_rejects();
  test_encode_failures();
  test_buffers();
  test_calls();
  sos_arena_reset(sos_wire_arena());
  printf("driver: %d checks, %d failed\n", checks, failed);
  return failed ? 1 : 0;
}
