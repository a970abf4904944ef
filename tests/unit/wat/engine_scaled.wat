(module
  (memory (export "mem") 1)
  ;; a[i] with a 4-byte element: base + (i << 2), index on the right
  (func (export "ld32") (param $base i32) (param $i i32) (result i32)
    (i32.load offset=4 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2)))))
  ;; index on the left: (i << 3) + base
  (func (export "ld64") (param $base i32) (param $i i32) (result i64)
    local.get $i i32.const 3 i32.shl local.get $base i32.add i64.load)
  (func (export "ld8s") (param $base i32) (param $i i32) (result i32)
    (i32.load8_s (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 0)))))
  (func (export "st32") (param $base i32) (param $i i32) (param $v i32)
    (i32.store offset=4 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))) (local.get $v)))
  (func (export "stf64") (param $base i32) (param $i i32) (param $v f64)
    (f64.store (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 3))) (local.get $v)))
  ;; the add's value itself (no memory op after it), with a shift over 31
  (func (export "addshl") (param $a i32) (param $b i32) (result i32)
    (i32.add (local.get $a) (i32.shl (local.get $b) (i32.const 35)))))
