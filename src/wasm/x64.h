/*
 * x64.h - an x86-64 instruction encoder for jit.c (internal).
 *
 * Only what the JIT emits: general-purpose moves and arithmetic on 32 and
 * 64 bits, the scalar SSE2/SSE4.1 double and single operations, and jumps
 * with 32-bit displacements that the caller patches.  Encodings follow
 * the Intel SDM, volume 2 (REX prefix, ModRM, SIB, displacement).
 *
 * A memory operand is struct xm: base + index * scale + disp, or, with
 * rip set, a RIP-relative displacement the caller patches (x_rip_fix).
 * Register numbers are the hardware ones (RAX 0 .. R15 15, XMM0 .. 15).
 */
#ifndef SOS_WASM_X64_H
#define SOS_WASM_X64_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* Condition codes (the low nibble of Jcc, SETcc and CMOVcc). */
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A,
       CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };

/* The buffer code is written to; on allocation failure `oom` is set and
 * later writes are dropped. */
struct xbuf {
  uint8_t *p;
  size_t n, cap;
  bool oom;
};

struct xm {
  int base, index; /* index -1: none */
  int scale;       /* 1, 2, 4 or 8 */
  int32_t disp;
  bool rip;
};

static inline struct xm xm_b(int base, int32_t disp) {
  return (struct xm){base, -1, 1, disp, false};
}
static inline struct xm xm_bi(int base, int index, int scale, int32_t disp) {
  return (struct xm){base, index, scale, disp, false};
}

/* Operand-size and prefix flags of one instruction. */
#define XW 1u    /* REX.W: 64-bit operand */
#define XB8 2u   /* byte registers: SPL..DIL need a REX prefix */
#define X66 4u   /* 0x66 prefix */
#define XF2 8u   /* 0xF2 prefix */
#define XF3 16u  /* 0xF3 prefix */

void sos__x_grow(struct xbuf *b, size_t need);

static inline void x_byte(struct xbuf *b, uint8_t v) {
  if (b->n + 1 > b->cap) sos__x_grow(b, 1);
  if (b->oom) return;
  b->p[b->n++] = v;
}
static inline void x_u32(struct xbuf *b, uint32_t v) {
  if (b->n + 4 > b->cap) sos__x_grow(b, 4);
  if (b->oom) return;
  memcpy(b->p + b->n, &v, 4);
  b->n += 4;
}
static inline void x_u64(struct xbuf *b, uint64_t v) {
  x_u32(b, (uint32_t)v);
  x_u32(b, (uint32_t)(v >> 32));
}
static inline void x_patch32(struct xbuf *b, size_t at, uint32_t v) {
  if (!b->oom) memcpy(b->p + at, &v, 4);
}

/* Prefixes, REX and opcode bytes: op holds 1 to 3 bytes, first byte in
 * the low bits (0x0F, 0xAF for IMUL is 0xAF0F, length 2). */
static inline void x_head(struct xbuf *b, unsigned f, unsigned op, int oplen, int reg,
                          int index, int base) {
  if (f & X66) x_byte(b, 0x66);
  if (f & XF2) x_byte(b, 0xF2);
  if (f & XF3) x_byte(b, 0xF3);
  int xi = index < 0 ? 0 : index;
  unsigned rex = (f & XW ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((xi >> 3) & 1) << 1 |
                 ((base >> 3) & 1);
  /* index -2: base is a register operand (byte registers need REX). */
  bool force = (f & XB8) && ((reg >= 4 && reg <= 7) || (index == -2 && base >= 4 && base <= 7));
  if (rex || force) x_byte(b, (uint8_t)(0x40 | rex));
  for (int i = 0; i < oplen; i++) x_byte(b, (uint8_t)(op >> (8 * i)));
}

/* op reg, r/m (register direct). */
static inline void x_rr(struct xbuf *b, unsigned f, unsigned op, int oplen, int reg, int rm) {
  x_head(b, f, op, oplen, reg, -2, rm);
  x_byte(b, (uint8_t)(0xC0 | (reg & 7) << 3 | (rm & 7)));
}

/* op reg, [mem]; returns the position of a RIP-relative displacement
 * (patched by the caller), else 0.  `tail` bytes of immediate follow the
 * displacement (needed to make a RIP displacement relative to the end). */
static inline size_t x_rm(struct xbuf *b, unsigned f, unsigned op, int oplen, int reg,
                          struct xm m) {
  if (m.rip) {
    x_head(b, f, op, oplen, reg, -1, 0);
    x_byte(b, (uint8_t)(0x05 | (reg & 7) << 3));
    size_t at = b->n;
    x_u32(b, 0);
    return at;
  }
  int idx = m.index;
  x_head(b, f, op, oplen, reg, idx, m.base);
  int mod = m.disp == 0 && (m.base & 7) != 5 ? 0 : (m.disp >= -128 && m.disp <= 127 ? 1 : 2);
  if (idx < 0 && (m.base & 7) != 4) {
    x_byte(b, (uint8_t)(mod << 6 | (reg & 7) << 3 | (m.base & 7)));
  } else {
    int ss = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
    x_byte(b, (uint8_t)(mod << 6 | (reg & 7) << 3 | 4));
    x_byte(b, (uint8_t)(ss << 6 | ((idx < 0 ? 4 : idx) & 7) << 3 | (m.base & 7)));
  }
  if (mod == 1) x_byte(b, (uint8_t)(int8_t)m.disp);
  if (mod == 2) x_u32(b, (uint32_t)m.disp);
  return 0;
}

/* ---- moves ---- */

static inline void x_mov_rr(struct xbuf *b, unsigned w, int d, int s) {
  x_rr(b, w, 0x89, 1, s, d);
}
static inline void x_load(struct xbuf *b, unsigned w, int d, struct xm m) {
  x_rm(b, w, 0x8B, 1, d, m);
}
static inline void x_store(struct xbuf *b, unsigned w, struct xm m, int s) {
  x_rm(b, w, 0x89, 1, s, m);
}
static inline void x_store8(struct xbuf *b, struct xm m, int s) {
  x_rm(b, XB8, 0x88, 1, s, m);
}
static inline void x_store16(struct xbuf *b, struct xm m, int s) {
  x_rm(b, X66, 0x89, 1, s, m);
}
/* mov r, imm: the shortest form that gives the 64-bit value v. */
static inline void x_mov_ri(struct xbuf *b, int d, uint64_t v) {
  if (v <= 0xffffffffu) { /* mov r32, imm32 zero-extends */
    if (d >= 8) x_byte(b, 0x41);
    x_byte(b, (uint8_t)(0xB8 + (d & 7)));
    x_u32(b, (uint32_t)v);
  } else if ((int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX) {
    x_rr(b, XW, 0xC7, 1, 0, d); /* mov r/m64, imm32 sign-extended */
    x_u32(b, (uint32_t)v);
  } else {
    x_byte(b, (uint8_t)(0x48 | (d >> 3)));
    x_byte(b, (uint8_t)(0xB8 + (d & 7)));
    x_u64(b, v);
  }
}
/* mov qword/dword [m], imm32 (sign-extended with XW). */
static inline void x_store_i(struct xbuf *b, unsigned w, struct xm m, int32_t v) {
  x_rm(b, w, 0xC7, 1, 0, m);
  x_u32(b, (uint32_t)v);
}
static inline void x_lea(struct xbuf *b, int d, struct xm m) { x_rm(b, XW, 0x8D, 1, d, m); }
/* lea d, [rip + ?]: returns the displacement's position to patch. */
static inline size_t x_lea_rip(struct xbuf *b, int d) {
  return x_rm(b, XW, 0x8D, 1, d, (struct xm){0, -1, 1, 0, true});
}

/* Zero- and sign-extending moves: op is 0xB60F (movzx r, r/m8), 0xB70F
 * (r/m16), 0xBE0F (movsx r/m8), 0xBF0F (r/m16); movsxd is x_movsxd. */
static inline void x_movx_rr(struct xbuf *b, unsigned w, unsigned op, int d, int s) {
  x_rr(b, w | XB8, op, 2, d, s);
}
static inline void x_movx_rm(struct xbuf *b, unsigned w, unsigned op, int d, struct xm m) {
  x_rm(b, w, op, 2, d, m);
}
static inline void x_movsxd_rr(struct xbuf *b, int d, int s) { x_rr(b, XW, 0x63, 1, d, s); }
static inline void x_movsxd_rm(struct xbuf *b, int d, struct xm m) {
  x_rm(b, XW, 0x63, 1, d, m);
}

/* ---- arithmetic ---- */

/* The eight classic ALU ops: the /digit of 0x81 and base opcodes. */
enum { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };

static inline void x_alu_rr(struct xbuf *b, unsigned w, int alu, int d, int s) {
  x_rr(b, w, (unsigned)(alu * 8 + 1), 1, s, d);
}
static inline void x_alu_rm(struct xbuf *b, unsigned w, int alu, int d, struct xm m) {
  x_rm(b, w, (unsigned)(alu * 8 + 3), 1, d, m);
}
static inline void x_alu_mr(struct xbuf *b, unsigned w, int alu, struct xm m, int s) {
  x_rm(b, w, (unsigned)(alu * 8 + 1), 1, s, m);
}
static inline void x_alu_ri(struct xbuf *b, unsigned w, int alu, int d, int32_t v) {
  if (v >= -128 && v <= 127) {
    x_rr(b, w, 0x83, 1, alu, d);
    x_byte(b, (uint8_t)(int8_t)v);
  } else {
    x_rr(b, w, 0x81, 1, alu, d);
    x_u32(b, (uint32_t)v);
  }
}
static inline void x_alu_mi(struct xbuf *b, unsigned w, int alu, struct xm m, int32_t v) {
  if (v >= -128 && v <= 127) {
    x_rm(b, w, 0x83, 1, alu, m);
    x_byte(b, (uint8_t)(int8_t)v);
  } else {
    x_rm(b, w, 0x81, 1, alu, m);
    x_u32(b, (uint32_t)v);
  }
}
static inline void x_test_rr(struct xbuf *b, unsigned w, int d, int s) {
  x_rr(b, w, 0x85, 1, s, d);
}
static inline void x_imul_rr(struct xbuf *b, unsigned w, int d, int s) {
  x_rr(b, w, 0xAF0F, 2, d, s);
}
static inline void x_imul_rm(struct xbuf *b, unsigned w, int d, struct xm m) {
  x_rm(b, w, 0xAF0F, 2, d, m);
}
static inline void x_imul_rri(struct xbuf *b, unsigned w, int d, int s, int32_t v) {
  x_rr(b, w, 0x69, 1, d, s);
  x_u32(b, (uint32_t)v);
}
/* Shifts and rotates: /digit ROL 0, ROR 1, SHL 4, SHR 5, SAR 7. */
enum { SH_ROL = 0, SH_ROR = 1, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };
static inline void x_shift_cl(struct xbuf *b, unsigned w, int sh, int d) {
  x_rr(b, w, 0xD3, 1, sh, d);
}
static inline void x_shift_i(struct xbuf *b, unsigned w, int sh, int d, uint8_t k) {
  x_rr(b, w, 0xC1, 1, sh, d);
  x_byte(b, k);
}
/* F7 group: NOT 2, NEG 3, DIV 6, IDIV 7. */
static inline void x_f7(struct xbuf *b, unsigned w, int digit, int r) {
  x_rr(b, w, 0xF7, 1, digit, r);
}
static inline void x_cqo(struct xbuf *b, unsigned w) { /* cdq / cqo */
  if (w & XW) x_byte(b, 0x48);
  x_byte(b, 0x99);
}
/* BT group with an immediate bit: BT 4, BTS 5, BTR 6, BTC 7. */
static inline void x_bt_i(struct xbuf *b, unsigned w, int digit, int r, uint8_t bit) {
  x_rr(b, w, 0xBA0F, 2, digit, r);
  x_byte(b, bit);
}
/* lzcnt / tzcnt / popcnt (F3 0F BD / BC / B8). */
static inline void x_bitcount(struct xbuf *b, unsigned w, unsigned op2, int d, int s) {
  x_rr(b, w | XF3, 0x0F | op2 << 8, 2, d, s);
}
static inline void x_setcc(struct xbuf *b, int cc, int d) {
  x_rr(b, XB8, 0x900F | (unsigned)cc << 8, 2, 0, d);
}
static inline void x_cmov(struct xbuf *b, unsigned w, int cc, int d, int s) {
  x_rr(b, w, 0x400F | (unsigned)cc << 8, 2, d, s);
}

/* ---- jumps: return the position of the rel32 to patch ---- */

static inline size_t x_jmp(struct xbuf *b) {
  x_byte(b, 0xE9);
  size_t at = b->n;
  x_u32(b, 0);
  return at;
}
static inline size_t x_jcc(struct xbuf *b, int cc) {
  x_byte(b, 0x0F);
  x_byte(b, (uint8_t)(0x80 | cc));
  size_t at = b->n;
  x_u32(b, 0);
  return at;
}
/* Points the rel32 at `at` to target (both offsets in the buffer). */
static inline void x_bind(struct xbuf *b, size_t at, size_t target) {
  x_patch32(b, at, (uint32_t)(int32_t)((int64_t)target - (int64_t)(at + 4)));
}
static inline void x_jmp_r(struct xbuf *b, int r) { x_rr(b, 0, 0xFF, 1, 4, r); }
static inline void x_jmp_m(struct xbuf *b, struct xm m) { x_rm(b, 0, 0xFF, 1, 4, m); }
static inline void x_call_r(struct xbuf *b, int r) { x_rr(b, 0, 0xFF, 1, 2, r); }
static inline void x_push(struct xbuf *b, int r) {
  if (r >= 8) x_byte(b, 0x41);
  x_byte(b, (uint8_t)(0x50 + (r & 7)));
}
static inline void x_pop(struct xbuf *b, int r) {
  if (r >= 8) x_byte(b, 0x41);
  x_byte(b, (uint8_t)(0x58 + (r & 7)));
}
static inline void x_ret(struct xbuf *b) { x_byte(b, 0xC3); }

/* ---- SSE scalar ---- */

/* Scalar double ops: F2 0F op (SD) or F3 0F op (SS): MOV 0x10 (load),
 * 0x11 (store), SQRT 0x51, ADD 0x58, MUL 0x59, CVT-to-other 0x5A,
 * SUB 0x5C, DIV 0x5E. */
enum { SSE_MOV = 0x10, SSE_MOVST = 0x11, SSE_SQRT = 0x51, SSE_ADD = 0x58, SSE_MUL = 0x59,
       SSE_CVT = 0x5A, SSE_SUB = 0x5C, SSE_DIV = 0x5E };
static inline unsigned sse_pfx(bool dbl) { return dbl ? XF2 : XF3; }
static inline void x_sse_rr(struct xbuf *b, bool dbl, unsigned op, int d, int s) {
  x_rr(b, sse_pfx(dbl), 0x0F | op << 8, 2, d, s);
}
static inline void x_sse_rm(struct xbuf *b, bool dbl, unsigned op, int d, struct xm m) {
  x_rm(b, sse_pfx(dbl), 0x0F | op << 8, 2, d, m);
}
static inline void x_movaps(struct xbuf *b, int d, int s) { x_rr(b, 0, 0x280F, 2, d, s); }
static inline void x_xorps(struct xbuf *b, int d, int s) { x_rr(b, 0, 0x570F, 2, d, s); }
/* movq xmm, r64 / movd xmm, r32 (w = XW or 0). */
static inline void x_movq_xr(struct xbuf *b, unsigned w, int x, int r) {
  x_rr(b, X66 | w, 0x6E0F, 2, x, r);
}
/* movq r64, xmm / movd r32, xmm. */
static inline void x_movq_rx(struct xbuf *b, unsigned w, int r, int x) {
  x_rr(b, X66 | w, 0x7E0F, 2, x, r);
}
/* ucomisd / ucomiss a, b. */
static inline void x_ucomi_rr(struct xbuf *b, bool dbl, int a, int s) {
  x_rr(b, dbl ? X66 : 0, 0x2E0F, 2, a, s);
}
static inline void x_ucomi_rm(struct xbuf *b, bool dbl, int a, struct xm m) {
  x_rm(b, dbl ? X66 : 0, 0x2E0F, 2, a, m);
}
/* cvtsi2sd / cvtsi2ss x, r (w: the integer's width). */
static inline void x_cvtsi2f(struct xbuf *b, bool dbl, unsigned w, int x, int r) {
  x_rr(b, sse_pfx(dbl) | w, 0x2A0F, 2, x, r);
}
/* roundsd / roundss x, s, mode (SSE4.1: 66 0F 3A 0B / 0A ib). */
static inline void x_round(struct xbuf *b, bool dbl, int x, int s, uint8_t mode) {
  x_rr(b, X66, 0x3A0F | (dbl ? 0x0B : 0x0A) << 16, 3, x, s);
  x_byte(b, mode);
}

#endif
