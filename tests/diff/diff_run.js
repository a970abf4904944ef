// diff_run.js - the V8 side of the differential tests (tests/diff.sh).
//
// Usage: node tests/diff/diff_run.js MODULE.wasm
// Instantiates a module made by `wasm-opt --translate-to-fuzz`, giving it
// the "fuzzing-support" imports (log-i32, log-i64, log-f32, log-f64: each
// prints its arguments), then calls every exported function in export
// order with zero arguments and prints its results or "trap".  The output
// format is exactly that of tests/diff/diff_run.c, which does the same in
// SOS; tests/diff.sh compares the two.  Floats print as their bits, with
// every NaN printed as "nan" because NaN payloads may differ between
// engines.  Other function imports are stubs that print their name and
// return zeros; a module with other kinds of imports exits with status 3
// ("skip"), as does one V8 cannot compile.
//
// The JS API does not expose function types, so a few lines below read
// the type, import, function and export sections of the binary.
'use strict';
const fs = require('fs');

const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, FUNCREF = 0x70, EXTERNREF = 0x6f;
const out = [];

// Reads the function types of the imports and exports of a binary.
function signatures(bytes) {
  let p = 8;
  const u32 = () => {
    let r = 0, shift = 0, b;
    do { b = bytes[p++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return r;
  };
  const name = () => { const n = u32(); const s = bytes.slice(p, p + n); p += n; return Buffer.from(s).toString(); };
  const limits = () => { const f = bytes[p++]; u32(); if (f & 1) u32(); };
  const types = [], funcs = [], imports = [], exports = [];
  while (p < bytes.length) {
    const id = bytes[p++], size = u32(), end = p + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        p++; // 0x60
        const params = []; for (let k = u32(); k > 0; k--) params.push(bytes[p++]);
        const results = []; for (let k = u32(); k > 0; k--) results.push(bytes[p++]);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        const mod = name(), field = name(), kind = bytes[p++];
        if (kind === 0) { const t = types[u32()]; funcs.push(t); imports.push({ mod, field, kind, type: t }); }
        else if (kind === 1) { p++; limits(); imports.push({ mod, field, kind }); }
        else if (kind === 2) { limits(); imports.push({ mod, field, kind }); }
        else { p += 2; imports.push({ mod, field, kind }); }
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcs.push(types[u32()]);
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const nm = name(), kind = bytes[p++], idx = u32();
        exports.push({ name: nm, kind, type: kind === 0 ? funcs[idx] : null });
      }
    }
    p = end;
  }
  return { imports, exports };
}

const f32buf = new Float32Array(1), u32buf = new Uint32Array(f32buf.buffer);
const f64buf = new Float64Array(1), u64buf = new BigUint64Array(f64buf.buffer);

// One value as the C side prints it.
function show(type, v) {
  switch (type) {
    case I32: return `i32:${v | 0}`;
    case I64: return `i64:${BigInt.asIntN(64, BigInt(v))}`;
    case F32:
      if (Number.isNaN(v)) return 'f32:nan';
      f32buf[0] = v; return `f32:0x${u32buf[0].toString(16).padStart(8, '0')}`;
    case F64:
      if (Number.isNaN(v)) return 'f64:nan';
      f64buf[0] = v; return `f64:0x${u64buf[0].toString(16).padStart(16, '0')}`;
    case FUNCREF: return v === null ? 'funcref:null' : 'funcref:func';
    case EXTERNREF: return v === null ? 'externref:null' : 'externref:value';
    default: return `type${type}:?`;
  }
}

function zero(type) {
  if (type === I64) return 0n;
  if (type === FUNCREF || type === EXTERNREF) return null;
  return 0;
}

// The import object: loggers for fuzzing-support, zero stubs otherwise.
function importObject(imports) {
  const obj = {};
  for (const im of imports) {
    if (im.kind !== 0) { console.log(`unsupported import ${im.mod}.${im.field}`); process.exit(3); }
    const t = im.type;
    const fn = (...args) => {
      const vals = t.params.map((ty, i) => ' ' + show(ty, args[i])).join('');
      out.push(im.mod === 'fuzzing-support' ? `log ${im.field}${vals}` : `host ${im.field}${vals}`);
      const rs = t.results.map(zero);
      return rs.length === 0 ? undefined : rs.length === 1 ? rs[0] : rs;
    };
    (obj[im.mod] = obj[im.mod] || {})[im.field] = fn;
  }
  return obj;
}

// Calls one export and records its results or its trap.
function callExport(instance, ex) {
  out.push(`call ${ex.name}`);
  const t = ex.type;
  try {
    let r = instance.exports[ex.name](...t.params.map(zero));
    if (t.results.length === 1) r = [r];
    else if (t.results.length === 0) r = [];
    out.push('result' + t.results.map((ty, i) => ' ' + show(ty, r[i])).join(''));
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) out.push('trap');
    else out.push(`error ${e.constructor.name}`);
  }
}

function main() {
  const bytes = fs.readFileSync(process.argv[2]);
  let module;
  try { module = new WebAssembly.Module(bytes); } catch (e) { console.log(`compile error: ${e.message}`); process.exit(3); }
  const sig = signatures(bytes);
  let instance;
  try { instance = new WebAssembly.Instance(module, importObject(sig.imports)); } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError || e instanceof RangeError)) throw e;
    out.push('instantiate trap');
  }
  if (instance) for (const ex of sig.exports) if (ex.kind === 0) callExport(instance, ex);
  process.stdout.write(out.join('\n') + '\n');
}

main();
