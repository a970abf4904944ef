// run_node.js - times one benchmark kernel in node (V8): the "node"
// column of scripts/bench.sh.
//
// Usage: node bench/run_node.js KERNEL.wasm [N]
// Compiles and instantiates the module (no imports), warms up with a tenth
// of the work so V8's optimising tier has compiled run(), then times
// run(N) with performance.now().  N defaults to the module's bench_n().
// Prints "n=N checksum=C compile_s=S run_s=S" like the other drivers.
'use strict';
const fs = require('fs');
const { performance } = require('perf_hooks');

async function main() {
  const file = process.argv[2];
  const bytes = fs.readFileSync(file);
  const t0 = performance.now();
  const module = await WebAssembly.compile(bytes);
  const t1 = performance.now();
  const instance = await WebAssembly.instantiate(module, {});
  const ex = instance.exports;
  const n = process.argv[3] !== undefined ? Number(process.argv[3]) : ex.bench_n();
  ex.run(Math.max(1, Math.floor(n / 10))); // warm-up
  const t2 = performance.now();
  const sum = BigInt.asUintN(64, ex.run(n));
  const t3 = performance.now();
  console.log(`n=${n} checksum=${sum} compile_s=${((t1 - t0) / 1e3).toFixed(6)} ` +
              `run_s=${((t3 - t2) / 1e3).toFixed(6)}`);
}

main().catch((e) => { console.error(`run_node: ${e}`); process.exit(1); });
