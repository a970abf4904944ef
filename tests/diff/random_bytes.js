// random_bytes.js - deterministic pseudo-random bytes for tests/diff.sh.
//
// Usage: node tests/diff/random_bytes.js SEED > FILE
// Writes between 512 and 8,703 bytes (the count also drawn from SEED) of
// xorshift64* output, the raw input from which `wasm-opt -ttf` builds a
// module.  The same SEED always gives the same bytes, so a failing module
// of the differential tests can be made again from its seed alone.
'use strict';
const MASK = (1n << 64n) - 1n;
let x = (BigInt(process.argv[2] || 1) * 0x9e3779b97f4a7c15n + 0x2545f4914f6cdd1dn) & MASK;
if (x === 0n) x = 1n;

function next() {
  x ^= x >> 12n;
  x = (x ^ (x << 25n)) & MASK;
  x ^= x >> 27n;
  return (x * 0x2545f4914f6cdd1dn) & MASK;
}

const len = 512 + Number(next() % 8192n);
const buf = Buffer.alloc(len + 8);
for (let i = 0; i < len; i += 8) buf.writeBigUInt64LE(next(), i);
process.stdout.write(buf.subarray(0, len));
