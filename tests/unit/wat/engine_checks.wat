;; engine_checks.wat: memory accesses whose bounds check the JIT may reuse
;; (check_slot in jit.c) and where it must not.  One page of memory.
(module
  (memory (export "mem") 1)
  ;; p checked, then p set to q: the load through q is checked again.
  (func (export "reload") (param $p i32) (param $q i32) (result i32)
    (local $a i32)
    (local.set $a (i32.load (local.get $p)))
    (local.set $p (local.get $q))
    (i32.xor (local.get $a) (i32.load (local.get $p))))
  ;; p checked for bytes 0..4, then read at 8..12: the wider read is checked.
  (func (export "wider") (param $p i32) (result i32)
    (i32.xor (i32.load offset=0 (local.get $p)) (i32.load offset=8 (local.get $p))))
  ;; p checked for 0..12, then read at 4..8: covered, and right.
  (func (export "narrower") (param $p i32) (result i32)
    (i32.xor (i32.load offset=8 (local.get $p)) (i32.load offset=4 (local.get $p))))
  ;; a loop that moves p: each iteration is checked.
  (func (export "walk") (param $p i32) (param $n i32) (result i32)
    (local $s i32)
    (loop $l
      (local.set $s (i32.xor (local.get $s) (i32.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 4096)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $s))
  ;; p checked on one arm only: after the join it is checked again.
  (func (export "join") (param $p i32) (param $c i32) (result i32)
    (local $s i32)
    (if (local.get $c) (then (local.set $s (i32.load (local.get $p)))))
    (i32.xor (local.get $s) (i32.load (local.get $p))))
  ;; p loaded from memory through itself: the second read uses the new p.
  (func (export "chase") (param $p i32) (result i32)
    (local.set $p (i32.load (local.get $p)))
    (i32.load (local.get $p)))
  ;; constant addresses (static data): inside the memory's minimum size the
  ;; check is left out, past it kept.
  (func (export "const_last") (param $x i32) (result i32)
    (i32.xor (local.get $x) (i32.load (i32.const 65532))))
  (func (export "const_past") (param $x i32) (result i32)
    (i32.xor (local.get $x) (i32.load (i32.const 65533))))
  (func (export "const_offset_past") (param $x i32) (result i32)
    (i32.xor (local.get $x) (i32.load offset=65533 (i32.const 0))))
  ;; stores: p checked for 0..8 by a store, then a store at 60..64.
  (func (export "stores") (param $p i32) (param $v i32)
    (i64.store (local.get $p) (i64.const 1))
    (i32.store offset=60 (local.get $p) (local.get $v)))
)
