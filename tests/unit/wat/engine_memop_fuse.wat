;; Regression (found by the kernel tests): an add or compare that took its
;; right operand from memory (the "_m" forms) was still taken for the plain
;; op by later fusions, which then used the load's address as the operand.
(module
  (memory (export "mem") 1)
  ;; mem8[p + mem32[q + 12]] = 7: the add feeds a store's address.
  (func (export "store_at_sum") (param i32 i32)
    local.get 0
    local.get 1
    i32.load offset=12
    i32.add
    i32.const 7
    i32.store8)
  ;; a == mem32[p] feeds br_if.
  (func (export "br_eq_mem") (param i32 i32) (result i32)
    block
      local.get 0
      local.get 1
      i32.load
      i32.eq
      br_if 0
      i32.const 0
      return
    end
    i32.const 1)
  ;; a + mem32[p] < 10 feeds br_if (the "bra_" fusion).
  (func (export "bra_add_mem") (param i32 i32) (result i32)
    block
      local.get 0
      local.get 1
      i32.load
      i32.add
      i32.const 10
      i32.lt_s
      br_if 0
      i32.const 0
      return
    end
    i32.const 1))
