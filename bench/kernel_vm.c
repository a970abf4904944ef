/*
 * kernel_vm.c - branchy code: a tiny stack-machine bytecode interpreter.
 *
 * A switch over opcodes in a loop, the shape of every interpreter and
 * protocol state machine: hard-to-predict indirect branches, short
 * bodies, loads from a small array.  The program sums a pseudo-random
 * sequence with a data-dependent branch; one unit runs it to completion
 * (about 340,000 bytecode instructions).
 */
#include "bench.h"

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, AND, XOR, SHR, DUP, DROP, JNZ, JMP, HALT };

/* Locals: 0 counter, 1 state, 2 sum.  The number before each line is
 * its offset, the target of jumps.  About 21 instructions per loop. */
static const uint8_t program[] = {
    /*  0 */ PUSH, 250, PUSH, 64, MUL, STORE, 0, /* counter = 16000 */
    /*  7 */ LOAD, 1, PUSH, 13, MUL, PUSH, 7, ADD, DUP, STORE, 1,
    /* 18 */ PUSH, 4, SHR, PUSH, 1, AND, JNZ, 35, /* bit 4 of state set? */
    /* 26 */ LOAD, 2, LOAD, 1, ADD, STORE, 2, JMP, 42, /* sum += state */
    /* 35 */ LOAD, 2, LOAD, 1, XOR, STORE, 2,          /* sum ^= state */
    /* 42 */ LOAD, 0, PUSH, 1, SUB, DUP, STORE, 0, JNZ, 7,
    /* 52 */ HALT};

static uint32_t execute(uint32_t seed) {
  uint32_t stack[16], locals[4] = {0, seed, 0, 0};
  uint32_t sp = 0, pc = 0;
  for (;;) {
    uint8_t op = program[pc++];
    switch (op) {
    case PUSH: stack[sp++] = program[pc++]; break;
    case LOAD: stack[sp++] = locals[program[pc++]]; break;
    case STORE: locals[program[pc++]] = stack[--sp]; break;
    case ADD: sp--; stack[sp - 1] += stack[sp]; break;
    case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
    case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
    case AND: sp--; stack[sp - 1] &= stack[sp]; break;
    case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
    case SHR: sp--; stack[sp - 1] >>= stack[sp] & 31; break;
    case DUP: stack[sp] = stack[sp - 1]; sp++; break;
    case DROP: sp--; break;
    case JNZ: pc = stack[--sp] ? program[pc] : pc + 1; break;
    case JMP: pc = program[pc]; break;
    default: return locals[2];
    }
  }
}

/* n runs of the program, each seeded differently. */
uint64_t run(uint32_t n) {
  uint64_t h = 0;
  for (uint32_t i = 0; i < n; i++) h = bench_mix(h, execute(i));
  return h;
}

BENCH_SIZES(600, 8)
