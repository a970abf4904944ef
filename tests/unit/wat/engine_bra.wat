(module
  (func (export "eq_ii") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.eq (local.tee $i (i32.add (local.get $i) (i32.const 7))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "eq_ir") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.eq (local.tee $i (i32.add (local.get $i) (i32.const 7))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "eq_ri") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.eq (local.tee $i (i32.add (local.get $i) (local.get $step))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "eq_rr") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.eq (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ne_ii") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 7))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ne_ir") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 7))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ne_ri") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (local.get $step))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ne_rr") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "lt_s_ii") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 7))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "lt_s_ir") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 7))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "lt_s_ri") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "lt_s_rr") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "lt_u_ii") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 7))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "lt_u_ir") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 7))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "lt_u_ri") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "lt_u_rr") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "gt_s_ii") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.gt_s (local.tee $i (i32.add (local.get $i) (i32.const 7))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "gt_s_ir") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.gt_s (local.tee $i (i32.add (local.get $i) (i32.const 7))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "gt_s_ri") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.gt_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "gt_s_rr") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.gt_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "gt_u_ii") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.gt_u (local.tee $i (i32.add (local.get $i) (i32.const 7))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "gt_u_ir") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.gt_u (local.tee $i (i32.add (local.get $i) (i32.const 7))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "gt_u_ri") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.gt_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "gt_u_rr") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.gt_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "le_s_ii") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.le_s (local.tee $i (i32.add (local.get $i) (i32.const 7))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "le_s_ir") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.le_s (local.tee $i (i32.add (local.get $i) (i32.const 7))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "le_s_ri") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.le_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "le_s_rr") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.le_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "le_u_ii") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.le_u (local.tee $i (i32.add (local.get $i) (i32.const 7))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "le_u_ir") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.le_u (local.tee $i (i32.add (local.get $i) (i32.const 7))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "le_u_ri") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.le_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "le_u_rr") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.le_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ge_s_ii") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ge_s (local.tee $i (i32.add (local.get $i) (i32.const 7))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ge_s_ir") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ge_s (local.tee $i (i32.add (local.get $i) (i32.const 7))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ge_s_ri") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ge_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ge_s_rr") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ge_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ge_u_ii") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ge_u (local.tee $i (i32.add (local.get $i) (i32.const 7))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ge_u_ir") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ge_u (local.tee $i (i32.add (local.get $i) (i32.const 7))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ge_u_ri") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ge_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (i32.const 100)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "ge_u_rr") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (local $c i32)
    (block $out
      (loop $l
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $out (i32.eq (local.get $c) (i32.const 50)))
        (br_if $l (i32.ge_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim)))))
    (i32.add (i32.mul (local.get $c) (i32.const 65536)) (i32.and (local.get $i) (i32.const 65535))))
  (func (export "if_eq") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (if (result i32) (i32.eq (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim))
      (then (i32.add (local.get $i) (i32.const 1000)))
      (else (local.get $i))))
  (func (export "if_ne") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (if (result i32) (i32.ne (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim))
      (then (i32.add (local.get $i) (i32.const 1000)))
      (else (local.get $i))))
  (func (export "if_lt_s") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (if (result i32) (i32.lt_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim))
      (then (i32.add (local.get $i) (i32.const 1000)))
      (else (local.get $i))))
  (func (export "if_lt_u") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (if (result i32) (i32.lt_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim))
      (then (i32.add (local.get $i) (i32.const 1000)))
      (else (local.get $i))))
  (func (export "if_gt_s") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (if (result i32) (i32.gt_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim))
      (then (i32.add (local.get $i) (i32.const 1000)))
      (else (local.get $i))))
  (func (export "if_gt_u") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (if (result i32) (i32.gt_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim))
      (then (i32.add (local.get $i) (i32.const 1000)))
      (else (local.get $i))))
  (func (export "if_le_s") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (if (result i32) (i32.le_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim))
      (then (i32.add (local.get $i) (i32.const 1000)))
      (else (local.get $i))))
  (func (export "if_le_u") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (if (result i32) (i32.le_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim))
      (then (i32.add (local.get $i) (i32.const 1000)))
      (else (local.get $i))))
  (func (export "if_ge_s") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (if (result i32) (i32.ge_s (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim))
      (then (i32.add (local.get $i) (i32.const 1000)))
      (else (local.get $i))))
  (func (export "if_ge_u") (param $i i32) (param $step i32) (param $lim i32) (result i32)
    (if (result i32) (i32.ge_u (local.tee $i (i32.add (local.get $i) (local.get $step))) (local.get $lim))
      (then (i32.add (local.get $i) (i32.const 1000)))
      (else (local.get $i))))
)
