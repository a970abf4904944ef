/*
 * engine_scaled_test.c - array indexing: base + (i << k).
 *
 * An i32.add of a value shifted left by a constant compiles to one
 * i32_add_shl op, and a load or store whose address it is to one "_as"
 * op.  Both must compute the address exactly as the two or three separate
 * ops did: the shift count taken mod 32, the sum wrapping at 2^32 before
 * the memarg offset is added (which does not wrap), and a trap where the
 * plain access would trap.  The module is tests/unit/wat/engine_scaled.wat.
 */
#include "engine_util.h"

static const uint8_t m_scaled[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x19, 0x04, 0x60,
    0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7e, 0x60,
    0x03, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x03, 0x7f, 0x7f, 0x7c, 0x00, 0x03,
    0x07, 0x06, 0x00, 0x01, 0x00, 0x02, 0x03, 0x00, 0x05, 0x03, 0x01, 0x00,
    0x01, 0x07, 0x34, 0x07, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x04, 0x6c,
    0x64, 0x33, 0x32, 0x00, 0x00, 0x04, 0x6c, 0x64, 0x36, 0x34, 0x00, 0x01,
    0x04, 0x6c, 0x64, 0x38, 0x73, 0x00, 0x02, 0x04, 0x73, 0x74, 0x33, 0x32,
    0x00, 0x03, 0x05, 0x73, 0x74, 0x66, 0x36, 0x34, 0x00, 0x04, 0x06, 0x61,
    0x64, 0x64, 0x73, 0x68, 0x6c, 0x00, 0x05, 0x0a, 0x56, 0x06, 0x0d, 0x00,
    0x20, 0x00, 0x20, 0x01, 0x41, 0x02, 0x74, 0x6a, 0x28, 0x02, 0x04, 0x0b,
    0x0d, 0x00, 0x20, 0x01, 0x41, 0x03, 0x74, 0x20, 0x00, 0x6a, 0x29, 0x03,
    0x00, 0x0b, 0x0d, 0x00, 0x20, 0x00, 0x20, 0x01, 0x41, 0x00, 0x74, 0x6a,
    0x2c, 0x00, 0x00, 0x0b, 0x0f, 0x00, 0x20, 0x00, 0x20, 0x01, 0x41, 0x02,
    0x74, 0x6a, 0x20, 0x02, 0x36, 0x02, 0x04, 0x0b, 0x0f, 0x00, 0x20, 0x00,
    0x20, 0x01, 0x41, 0x03, 0x74, 0x6a, 0x20, 0x02, 0x39, 0x03, 0x00, 0x0b,
    0x0a, 0x00, 0x20, 0x00, 0x20, 0x01, 0x41, 0x23, 0x74, 0x6a, 0x0b,
};

static void poke(sos_wasm_instance *in, uint32_t addr, uint64_t v, unsigned n) {
  uint8_t *p = sos_wasm_mem(in, addr, n);
  for (unsigned i = 0; p && i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t peek(sos_wasm_instance *in, uint32_t addr, unsigned n) {
  const uint8_t *p = sos_wasm_mem(in, addr, n);
  uint64_t v = 0;
  for (unsigned i = 0; p && i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

TEST(engine_scaled_index_loads_and_stores) {
  struct fx f;
  REQUIRE(OPEN(&f, m_scaled));
  poke(f.in, 1000 + 5 * 4 + 4, 0xdeadbeef, 4);
  CHECK_EQ((uint32_t)CALL(f.in, "ld32", U32(1000), U32(5)), 0xdeadbeefu);
  poke(f.in, 2000 + 7 * 8, 0x0123456789abcdefull, 8);
  CHECK(CALL(f.in, "ld64", U32(2000), U32(7)) == 0x0123456789abcdefull);
  poke(f.in, 3003, 0x80, 1);
  CHECK_EQ((uint32_t)CALL(f.in, "ld8s", U32(3000), U32(3)), 0xffffff80u);
  sos_wasm_val args[3] = {U32(4000), U32(9), U32(77)};
  struct sos_wasm_trap t;
  CHECK_EQ(sos_wasm_call(f.in, fn(f.in, "st32"), args, 3, NULL, 0, &t), 0);
  CHECK_EQ(peek(f.in, 4000 + 9 * 4 + 4, 4), 77);
  sos_wasm_val fargs[3] = {U32(5000), U32(2), f64v(2.5)};
  CHECK_EQ(sos_wasm_call(f.in, fn(f.in, "stf64"), fargs, 3, NULL, 0, &t), 0);
  CHECK(vf64(peek(f.in, 5016, 8)) == 2.5);
  /* The shift count is taken mod 32: 35 shifts by 3. */
  CHECK_EQ((uint32_t)CALL(f.in, "addshl", U32(1), U32(5)), 41);
  fx_close(&f);
}

TEST(engine_scaled_index_wraps_then_adds_offset) {
  struct fx f;
  REQUIRE(OPEN(&f, m_scaled));
  /* base 0xfffffffc + (2 << 2) wraps to 4; + offset 4 reads address 8. */
  poke(f.in, 8, 1234, 4);
  CHECK_EQ((uint32_t)CALL(f.in, "ld32", U32(0xfffffffcu), U32(2)), 1234);
  /* index 0x40000000 << 2 wraps to 0: reads base + 4. */
  poke(f.in, 104, 99, 4);
  CHECK_EQ((uint32_t)CALL(f.in, "ld32", U32(100), U32(0x40000000u)), 99);
  /* The last word of the page loads; one element further traps. */
  CALL(f.in, "ld32", U32(65528), U32(0));
  CHECK_EQ(TRAP(f.in, "ld32", U32(65528), U32(1)), SOS_WASM_TRAP_MEMORY);
  /* Offset after the wrap does not wrap: 0xfffffffc + 4 = 2^32, traps. */
  CHECK_EQ(TRAP(f.in, "ld32", U32(0xfffffffcu), U32(0)), SOS_WASM_TRAP_MEMORY);
  sos_wasm_val args[3] = {U32(65528), U32(1), U32(5)};
  struct sos_wasm_trap t;
  CHECK_EQ(sos_wasm_call(f.in, fn(f.in, "st32"), args, 3, NULL, 0, &t), SOS_ETRAP);
  CHECK_EQ(t.kind, SOS_WASM_TRAP_MEMORY);
  fx_close(&f);
}
