/*
 * ops.h - the table of simple WebAssembly operators (internal).
 *
 * One list describes every operator that reads one or two operands and
 * writes one result with no side effect besides a possible trap.  compile.c
 * uses it to validate operand types and choose an internal op; interp.c
 * expands each row into a handler.  Writing the semantics once here keeps
 * the two in step (one general mechanism instead of a case per opcode).
 *
 * Types name the operand and result C types: I32 is uint32_t, I64 is
 * uint64_t, F32 float, F64 double.  Expressions use a and b; they may use
 * TRAP(kind) inside GNU statement expressions, and the helpers of
 * interp.c (fmin32, trunc checks, ...).  Opcodes of the 0xFC prefix are
 * written 0xFC00 + the sub-opcode.
 *
 * Integer binary operators also get an "_imm" form whose right operand is
 * an immediate (compile.c uses it when the right operand is a constant),
 * and integer comparisons get fused compare-and-branch forms (CMPOPS).
 */
#ifndef SOS_WASM_OPS_H
#define SOS_WASM_OPS_H

#include <stdint.h>

/* X(opcode, name, T, expr) - integer comparisons, result i32. */
#define SOS__CMPOPS(X) SOS__CMPOPS32(X) SOS__CMPOPS64(X)
#define SOS__CMPOPS32(X)                                                      \
  X(0x46, i32_eq, I32, a == b)                                                \
  X(0x47, i32_ne, I32, a != b)                                                \
  X(0x48, i32_lt_s, I32, (int32_t)a < (int32_t)b)                             \
  X(0x49, i32_lt_u, I32, a < b)                                               \
  X(0x4a, i32_gt_s, I32, (int32_t)a > (int32_t)b)                             \
  X(0x4b, i32_gt_u, I32, a > b)                                               \
  X(0x4c, i32_le_s, I32, (int32_t)a <= (int32_t)b)                            \
  X(0x4d, i32_le_u, I32, a <= b)                                              \
  X(0x4e, i32_ge_s, I32, (int32_t)a >= (int32_t)b)                            \
  X(0x4f, i32_ge_u, I32, a >= b)
#define SOS__CMPOPS64(X)                                                      \
  X(0x51, i64_eq, I64, a == b)                                                \
  X(0x52, i64_ne, I64, a != b)                                                \
  X(0x53, i64_lt_s, I64, (int64_t)a < (int64_t)b)                             \
  X(0x54, i64_lt_u, I64, a < b)                                               \
  X(0x55, i64_gt_s, I64, (int64_t)a > (int64_t)b)                             \
  X(0x56, i64_gt_u, I64, a > b)                                               \
  X(0x57, i64_le_s, I64, (int64_t)a <= (int64_t)b)                            \
  X(0x58, i64_le_u, I64, a <= b)                                              \
  X(0x59, i64_ge_s, I64, (int64_t)a >= (int64_t)b)                            \
  X(0x5a, i64_ge_u, I64, a >= b)

/* X(opcode, name, T, expr) - integer binary operators, result of type T. */
#define SOS__IBINOPS(X)                                                       \
  X(0x6a, i32_add, I32, a + b)                                                \
  X(0x6b, i32_sub, I32, a - b)                                                \
  X(0x6c, i32_mul, I32, a * b)                                                \
  X(0x6d, i32_div_s, I32, idiv32(a, b, &trapk) ? 0 : (uint32_t)((int32_t)a / (int32_t)b)) \
  X(0x6e, i32_div_u, I32, b == 0 ? (trapk = SOS_WASM_TRAP_DIV_ZERO, 0u) : a / b) \
  X(0x6f, i32_rem_s, I32, b == 0 ? (trapk = SOS_WASM_TRAP_DIV_ZERO, 0u) : (b == 0xffffffffu ? 0u : (uint32_t)((int32_t)a % (int32_t)b))) \
  X(0x70, i32_rem_u, I32, b == 0 ? (trapk = SOS_WASM_TRAP_DIV_ZERO, 0u) : a % b) \
  X(0x71, i32_and, I32, a & b)                                                \
  X(0x72, i32_or, I32, a | b)                                                 \
  X(0x73, i32_xor, I32, a ^ b)                                                \
  X(0x74, i32_shl, I32, a << (b & 31))                                        \
  X(0x75, i32_shr_s, I32, (uint32_t)((int32_t)a >> (b & 31)))                 \
  X(0x76, i32_shr_u, I32, a >> (b & 31))                                      \
  X(0x77, i32_rotl, I32, rotl32(a, b))                                        \
  X(0x78, i32_rotr, I32, rotr32(a, b))                                        \
  X(0x7c, i64_add, I64, a + b)                                                \
  X(0x7d, i64_sub, I64, a - b)                                                \
  X(0x7e, i64_mul, I64, a * b)                                                \
  X(0x7f, i64_div_s, I64, idiv64(a, b, &trapk) ? 0 : (uint64_t)((int64_t)a / (int64_t)b)) \
  X(0x80, i64_div_u, I64, b == 0 ? (trapk = SOS_WASM_TRAP_DIV_ZERO, 0u) : a / b) \
  X(0x81, i64_rem_s, I64, b == 0 ? (trapk = SOS_WASM_TRAP_DIV_ZERO, 0u) : (b == ~0ull ? 0u : (uint64_t)((int64_t)a % (int64_t)b))) \
  X(0x82, i64_rem_u, I64, b == 0 ? (trapk = SOS_WASM_TRAP_DIV_ZERO, 0u) : a % b) \
  X(0x83, i64_and, I64, a & b)                                                \
  X(0x84, i64_or, I64, a | b)                                                 \
  X(0x85, i64_xor, I64, a ^ b)                                                \
  X(0x86, i64_shl, I64, a << (b & 63))                                        \
  X(0x87, i64_shr_s, I64, (uint64_t)((int64_t)a >> (b & 63)))                 \
  X(0x88, i64_shr_u, I64, a >> (b & 63))                                      \
  X(0x89, i64_rotl, I64, rotl64(a, b))                                        \
  X(0x8a, i64_rotr, I64, rotr64(a, b))

/* X(opcode, name, T, TR, expr) - float binary operators (TR: result);
 * they too have an "_imm" form for a constant right operand. */
#define SOS__FBINOPS(X)                                                       \
  X(0x5b, f32_eq, F32, I32, a == b)                                           \
  X(0x5c, f32_ne, F32, I32, a != b)                                           \
  X(0x5d, f32_lt, F32, I32, a < b)                                            \
  X(0x5e, f32_gt, F32, I32, a > b)                                            \
  X(0x5f, f32_le, F32, I32, a <= b)                                           \
  X(0x60, f32_ge, F32, I32, a >= b)                                           \
  X(0x61, f64_eq, F64, I32, a == b)                                           \
  X(0x62, f64_ne, F64, I32, a != b)                                           \
  X(0x63, f64_lt, F64, I32, a < b)                                            \
  X(0x64, f64_gt, F64, I32, a > b)                                            \
  X(0x65, f64_le, F64, I32, a <= b)                                           \
  X(0x66, f64_ge, F64, I32, a >= b)                                           \
  X(0x92, f32_add, F32, F32, a + b)                                           \
  X(0x93, f32_sub, F32, F32, a - b)                                           \
  X(0x94, f32_mul, F32, F32, a * b)                                           \
  X(0x95, f32_div, F32, F32, a / b)                                           \
  X(0x96, f32_min, F32, F32, fmin32(a, b))                                    \
  X(0x97, f32_max, F32, F32, fmax32(a, b))                                    \
  X(0x98, f32_copysign, F32, F32, copysign32(a, b))                           \
  X(0xa0, f64_add, F64, F64, a + b)                                           \
  X(0xa1, f64_sub, F64, F64, a - b)                                           \
  X(0xa2, f64_mul, F64, F64, a * b)                                           \
  X(0xa3, f64_div, F64, F64, a / b)                                           \
  X(0xa4, f64_min, F64, F64, fmin64(a, b))                                    \
  X(0xa5, f64_max, F64, F64, fmax64(a, b))                                    \
  X(0xa6, f64_copysign, F64, F64, copysign64(a, b))

/* X(opcode, name, T, TR, expr) - unary operators and conversions. */
#define SOS__UNOPS(X)                                                         \
  X(0x45, i32_eqz, I32, I32, a == 0)                                          \
  X(0x50, i64_eqz, I64, I32, a == 0)                                          \
  X(0x67, i32_clz, I32, I32, a ? (uint32_t)__builtin_clz(a) : 32u)            \
  X(0x68, i32_ctz, I32, I32, a ? (uint32_t)__builtin_ctz(a) : 32u)            \
  X(0x69, i32_popcnt, I32, I32, (uint32_t)__builtin_popcount(a))              \
  X(0x79, i64_clz, I64, I64, a ? (uint64_t)__builtin_clzll(a) : 64u)          \
  X(0x7a, i64_ctz, I64, I64, a ? (uint64_t)__builtin_ctzll(a) : 64u)          \
  X(0x7b, i64_popcnt, I64, I64, (uint64_t)__builtin_popcountll(a))            \
  X(0x8b, f32_abs, F32, F32, bits_f32(f32_bits(a) & 0x7fffffffu))             \
  X(0x8c, f32_neg, F32, F32, bits_f32(f32_bits(a) ^ 0x80000000u))             \
  X(0x8d, f32_ceil, F32, F32, fround32(ceilf, a))                                       \
  X(0x8e, f32_floor, F32, F32, fround32(floorf, a))                                     \
  X(0x8f, f32_trunc, F32, F32, fround32(truncf, a))                                     \
  X(0x90, f32_nearest, F32, F32, fround32(nearbyintf, a))                               \
  X(0x91, f32_sqrt, F32, F32, sqrtf(a))                                       \
  X(0x99, f64_abs, F64, F64, bits_f64(f64_bits(a) & 0x7fffffffffffffffull))   \
  X(0x9a, f64_neg, F64, F64, bits_f64(f64_bits(a) ^ 0x8000000000000000ull))   \
  X(0x9b, f64_ceil, F64, F64, fround64(ceil, a))                                        \
  X(0x9c, f64_floor, F64, F64, fround64(floor, a))                                      \
  X(0x9d, f64_trunc, F64, F64, fround64(trunc, a))                                      \
  X(0x9e, f64_nearest, F64, F64, fround64(nearbyint, a))                                \
  X(0x9f, f64_sqrt, F64, F64, sqrt(a))                                        \
  X(0xa7, i32_wrap_i64, I64, I32, (uint32_t)a)                                \
  X(0xa8, i32_trunc_f32_s, F32, I32, (uint32_t)trunc_s32(a, &trapk))          \
  X(0xa9, i32_trunc_f32_u, F32, I32, trunc_u32(a, &trapk))                    \
  X(0xaa, i32_trunc_f64_s, F64, I32, (uint32_t)trunc_s32(a, &trapk))          \
  X(0xab, i32_trunc_f64_u, F64, I32, trunc_u32(a, &trapk))                    \
  X(0xac, i64_extend_i32_s, I32, I64, (uint64_t)(int64_t)(int32_t)a)          \
  X(0xad, i64_extend_i32_u, I32, I64, (uint64_t)a)                            \
  X(0xae, i64_trunc_f32_s, F32, I64, (uint64_t)trunc_s64(a, &trapk))          \
  X(0xaf, i64_trunc_f32_u, F32, I64, trunc_u64(a, &trapk))                    \
  X(0xb0, i64_trunc_f64_s, F64, I64, (uint64_t)trunc_s64(a, &trapk))          \
  X(0xb1, i64_trunc_f64_u, F64, I64, trunc_u64(a, &trapk))                    \
  X(0xb2, f32_convert_i32_s, I32, F32, (float)(int32_t)a)                     \
  X(0xb3, f32_convert_i32_u, I32, F32, (float)a)                              \
  X(0xb4, f32_convert_i64_s, I64, F32, (float)(int64_t)a)                     \
  X(0xb5, f32_convert_i64_u, I64, F32, (float)a)                              \
  X(0xb6, f32_demote_f64, F64, F32, (float)a)                                 \
  X(0xb7, f64_convert_i32_s, I32, F64, (double)(int32_t)a)                    \
  X(0xb8, f64_convert_i32_u, I32, F64, (double)a)                             \
  X(0xb9, f64_convert_i64_s, I64, F64, (double)(int64_t)a)                    \
  X(0xba, f64_convert_i64_u, I64, F64, (double)a)                             \
  X(0xbb, f64_promote_f32, F32, F64, (double)a)                               \
  X(0xbc, i32_reinterpret_f32, F32, I32, f32_bits(a))                         \
  X(0xbd, i64_reinterpret_f64, F64, I64, f64_bits(a))                         \
  X(0xbe, f32_reinterpret_i32, I32, F32, bits_f32(a))                         \
  X(0xbf, f64_reinterpret_i64, I64, F64, bits_f64(a))                         \
  X(0xc0, i32_extend8_s, I32, I32, (uint32_t)(int32_t)(int8_t)a)              \
  X(0xc1, i32_extend16_s, I32, I32, (uint32_t)(int32_t)(int16_t)a)            \
  X(0xc2, i64_extend8_s, I64, I64, (uint64_t)(int64_t)(int8_t)a)              \
  X(0xc3, i64_extend16_s, I64, I64, (uint64_t)(int64_t)(int16_t)a)            \
  X(0xc4, i64_extend32_s, I64, I64, (uint64_t)(int64_t)(int32_t)a)            \
  X(0xfc00, i32_trunc_sat_f32_s, F32, I32, (uint32_t)sat_s32(a))              \
  X(0xfc01, i32_trunc_sat_f32_u, F32, I32, sat_u32(a))                        \
  X(0xfc02, i32_trunc_sat_f64_s, F64, I32, (uint32_t)sat_s32(a))              \
  X(0xfc03, i32_trunc_sat_f64_u, F64, I32, sat_u32(a))                        \
  X(0xfc04, i64_trunc_sat_f32_s, F32, I64, (uint64_t)sat_s64(a))              \
  X(0xfc05, i64_trunc_sat_f32_u, F32, I64, sat_u64(a))                        \
  X(0xfc06, i64_trunc_sat_f64_s, F64, I64, (uint64_t)sat_s64(a))              \
  X(0xfc07, i64_trunc_sat_f64_u, F64, I64, sat_u64(a))

/* X(opcode, name, TR, C type in memory, bytes) - loads, sign/zero-extended.
 * Loads and stores have two more forms that fold the i32.add computing
 * their address: "_ai" (address = slot + immediate), "_ar" (slot +
 * slot) and "_as" (slot + (slot << k), an array index; words: the op's
 * usual ones, then b, then k); the sum still wraps at 2^32 before the
 * offset is added, exactly as the separate ops would. */
#define SOS__LOADS(X)                                                         \
  X(0x28, i32_load, I32, uint32_t, 4)                                         \
  X(0x29, i64_load, I64, uint64_t, 8)                                         \
  X(0x2a, f32_load, F32, uint32_t, 4)                                         \
  X(0x2b, f64_load, F64, uint64_t, 8)                                         \
  X(0x2c, i32_load8_s, I32, int8_t, 1)                                        \
  X(0x2d, i32_load8_u, I32, uint8_t, 1)                                       \
  X(0x2e, i32_load16_s, I32, int16_t, 2)                                      \
  X(0x2f, i32_load16_u, I32, uint16_t, 2)                                     \
  X(0x30, i64_load8_s, I64, int8_t, 1)                                        \
  X(0x31, i64_load8_u, I64, uint8_t, 1)                                       \
  X(0x32, i64_load16_s, I64, int16_t, 2)                                      \
  X(0x33, i64_load16_u, I64, uint16_t, 2)                                     \
  X(0x34, i64_load32_s, I64, int32_t, 4)                                      \
  X(0x35, i64_load32_u, I64, uint32_t, 4)

/* X(opcode, name, T, C type in memory, bytes) - stores, truncating. */
#define SOS__STORES(X)                                                        \
  X(0x36, i32_store, I32, uint32_t, 4)                                        \
  X(0x37, i64_store, I64, uint64_t, 8)                                        \
  X(0x38, f32_store, F32, uint32_t, 4)                                        \
  X(0x39, f64_store, F64, uint64_t, 8)                                        \
  X(0x3a, i32_store8, I32, uint8_t, 1)                                        \
  X(0x3b, i32_store16, I32, uint16_t, 2)                                      \
  X(0x3c, i64_store8, I64, uint8_t, 1)                                        \
  X(0x3d, i64_store16, I64, uint16_t, 2)                                      \
  X(0x3e, i64_store32, I64, uint32_t, 4)

/* Internal ops that are not rows of the tables above: X(name).  Operand
 * words follow the op word (each op's are sos__op_shapes', interp.c); "s" is
 * a slot index relative to the frame base, "k" an immediate, "j" a branch
 * offset in words relative to the op (backward ones land on a loop's
 * fuel op).  br_table has n + 1 offsets after its 3 fixed words. */
#define SOS__MISCOPS(X)                                                       \
  X(unreachable)      /* -                                   */               \
  X(fuel)             /* k: instructions charged             */               \
  X(copy)             /* s dst, s src                        */               \
  X(const32)          /* s dst, k value                      */               \
  X(const64)          /* s dst, k lo, k hi                   */               \
  X(br)               /* j target                            */               \
  X(br_if)            /* j target, s cond                    */               \
  X(br_unless)        /* j target, s cond                    */               \
  X(br_table)         /* s index, k n, j[n + 1]              */               \
  X(ret)              /* -  (results already in slots 0..)   */               \
  X(call)             /* k code index, s base                */               \
  X(call_import)      /* k func index, s base                */               \
  X(call_indirect)    /* k type, k table, s index, s base    */               \
  X(select)           /* s dst, s cond, s a, s b             */               \
  X(global_get)       /* s dst, k global                     */               \
  X(global_set)       /* s src, k global                     */               \
  X(memory_size)      /* s dst                               */               \
  X(memory_grow)      /* s dst, s delta                      */               \
  X(memory_fill)      /* s dst, s val, s n                   */               \
  X(memory_copy)      /* s dst, s src, s n                   */               \
  X(memory_init)      /* k seg, s dst, s src, s n            */               \
  X(data_drop)        /* k seg                               */               \
  X(table_get)        /* s dst, k table, s index             */               \
  X(table_set)        /* k table, s index, s val             */               \
  X(table_size)       /* s dst, k table                      */               \
  X(table_grow)       /* s dst, k table, s init, s n         */               \
  X(table_fill)       /* k table, s i, s val, s n            */               \
  X(table_copy)       /* k dst table, k src table, s d, s s, s n */           \
  X(table_init)       /* k table, k seg, s d, s s, s n       */               \
  X(elem_drop)        /* k seg                               */               \
  X(ref_is_null)      /* s dst, s src                        */               \
  X(ref_func)         /* s dst, k func                       */               \
  X(br_if_eqz32)      /* j, s a  (fused i32.eqz + br_if)     */               \
  X(br_if_eqz64)      /* j, s a                              */               \
  X(br_if_nez64)      /* j, s a                              */               \
  X(f32_madd)         /* s d, s a, s b, s c: d = a * b + c   */               \
  X(f64_madd)         /* (two roundings, never a fused FMA)  */               \
  X(f32_msub)         /* s d, s a, s b, s c: d = c - a * b   */               \
  X(f64_msub)                                                                 \
  X(i32_add_shl)      /* s d, s a, s b, k: d = a + (b << k)  */

/* X(opcode, name, T, load opcode, expr) - binary operators that also
 * take their right operand straight from memory, fusing the load before
 * them: "_m" [op, d, a, addr, off] and "_mi" [op, d, a, addr, off, k]
 * (address = slot + k wrapping at 2^32, as the load's "_ai" form); and
 * "_ms" [op, a, addr, off] also stores the result back to the address it
 * read (mem[addr + off] = a <op> mem[addr + off], as in `c[j] += x`). */
#define SOS__MEMBINOPS(X)                                                     \
  X(0xa0, f64_add, F64, 0x2b, a + b)                                          \
  X(0xa1, f64_sub, F64, 0x2b, a - b)                                          \
  X(0xa2, f64_mul, F64, 0x2b, a * b)                                          \
  X(0x92, f32_add, F32, 0x2a, a + b)                                          \
  X(0x93, f32_sub, F32, 0x2a, a - b)                                          \
  X(0x94, f32_mul, F32, 0x2a, a * b)                                          \
  X(0x6a, i32_add, I32, 0x28, a + b)                                          \
  X(0x7c, i64_add, I64, 0x29, a + b)

/* i32 comparisons also fuse with an i32.add just before them that
 * updates a local the comparison then reads (a loop's "i += k; if (i < n)
 * continue" tail): "bra_" ops [op, j, x, a, b, c] set x = a + b and jump
 * when x compares true with c; suffixes say whether b and c are
 * immediates (i) or slots (r). */

/* The internal op numbers. */
enum sos__op {
#define SOS__OP_MISC(n) SOS__OP_##n,
#define SOS__OP_CMP(c, n, T, e)                                               \
  SOS__OP_##n, SOS__OP_##n##_imm, SOS__OP_br_##n, SOS__OP_br_##n##_imm,
#define SOS__OP_IBIN(c, n, T, e) SOS__OP_##n, SOS__OP_##n##_imm,
#define SOS__OP_FBIN(c, n, T, TR, e) SOS__OP_##n, SOS__OP_##n##_imm,
#define SOS__OP_UN(c, n, T, TR, e) SOS__OP_##n,
#define SOS__OP_BRA(c, n, T, e)                                               \
  SOS__OP_bra_##n##_ii, SOS__OP_bra_##n##_ir, SOS__OP_bra_##n##_ri,           \
      SOS__OP_bra_##n##_rr,
#define SOS__OP_MEMBIN(c, n, T, l, e)                                         \
  SOS__OP_##n##_m, SOS__OP_##n##_mi, SOS__OP_##n##_ms,
#define SOS__OP_MEM(c, n, T, CT, B)                                           \
  SOS__OP_##n, SOS__OP_##n##_ai, SOS__OP_##n##_ar, SOS__OP_##n##_as,
  SOS__MISCOPS(SOS__OP_MISC)
  SOS__CMPOPS(SOS__OP_CMP)
  SOS__IBINOPS(SOS__OP_IBIN)
  SOS__FBINOPS(SOS__OP_FBIN)
  SOS__UNOPS(SOS__OP_UN)
  SOS__CMPOPS32(SOS__OP_BRA)
  SOS__MEMBINOPS(SOS__OP_MEMBIN)
  SOS__LOADS(SOS__OP_MEM)
  SOS__STORES(SOS__OP_MEM)
#undef SOS__OP_MISC
#undef SOS__OP_CMP
#undef SOS__OP_IBIN
#undef SOS__OP_FBIN
#undef SOS__OP_UN
#undef SOS__OP_BRA
#undef SOS__OP_MEMBIN
#undef SOS__OP_MEM
  SOS__OP_COUNT
};

/* interp.c: the word to store for op in compiled code (a handler offset). */
uint32_t sos__op_word(enum sos__op op);

struct sos__code;
/* interp.c: prints code as text (one op a line: name and operand words),
 * for debugging the compiler; set SOS_WASM_DUMP=1 to have sos__compile
 * dump every function to stderr. */
void sos__code_dump(const struct sos__code *code, void *file);
/* Each op's operand words, one letter each (interp.c explains them), and
 * the words of the op at code[i], op word and br_table's offsets included. */
extern const char *const sos__op_shapes[SOS__OP_COUNT];
uint32_t sos__op_words(const uint32_t *code, uint32_t i, unsigned op);

#endif
