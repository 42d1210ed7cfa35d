;; Hamming scan over codes of up to 64 bits (the 48- and 64-bit hashes): code i is the i64 at
;; address i * 8 (two 32-bit words, see codes.ts; the popcount of an XOR does not depend on the
;; word order). Assembled by scripts/assemble-wasm.mjs (wabt) into hamming-wasm.bytes.ts; the
;; driver that chooses the bound and sorts the winners is hamming-wasm.ts.
;;
;; A scan appends every code within a distance bound to a candidate buffer (its position and its
;; distance, in position order) and returns as soon as the buffer is full, so that the driver can
;; lower the bound and resume. The buffer is small (candidates.ts), so the bound follows the k-th
;; distance seen so far and almost no code is kept: the loop is load, xor, popcount, compare.
;;
;; Why scalar and not SIMD: a v128 form of $scan (two codes per v128: v128.xor, i8x16.popcnt,
;; i16x8.extadd_pairwise_i8x16_u, i32x4.dot_i16x8_s, a shuffle to add each code's two words, the
;; same sign test on eight codes) took 1.97x the time of this loop on 1 M codes and 2.1x on 10 M
;; (node dist/bench/hashing/hamming.js at commit 2d5b176, median of 3 rounds, 2-core Xeon with
;; AVX-512, Node 20.20, loaded box). WebAssembly SIMD has no per-lane 64-bit popcount: it counts
;; bytes and needs three more instructions to sum them per code, where i64.popcnt is one POPCNT
;; instruction per code. The scan also reads every code once, so memory bandwidth, not arithmetic,
;; bounds it at 10 M codes.
;;
;; The memory is imported and shared so that worker threads can scan parts of one collection's
;; codes without copying them (bench/hashing/hamming.ts, 10 M codes).
(module
  (import "lumen" "memory" (memory 1 65536 shared))

  ;; Codes [i, end) against query q, one at a time. A code with distance d <= bound, and an
  ;; include byte that is not 0 when include != 0, is appended as indices[n] = i (i32) and
  ;; distances[n] = d (u8). Returns (position to resume from, n); n == cap: the buffer is full.
  (func $scanEach (export "scanEach")
    (param $i i32) (param $end i32) (param $q i64) (param $bound i32) (param $include i32)
    (param $indices i32) (param $distances i32) (param $n i32) (param $cap i32)
    (result i32 i32)
    (local $d i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $d
          (i32.wrap_i64 (i64.popcnt (i64.xor (i64.load (i32.shl (local.get $i) (i32.const 3))) (local.get $q)))))
        (if (i32.le_u (local.get $d) (local.get $bound))
          (then
            (if (i32.or (i32.eqz (local.get $include))
                        (i32.load8_u (i32.add (local.get $include) (local.get $i))))
              (then
                (i32.store (i32.add (local.get $indices) (i32.shl (local.get $n) (i32.const 2))) (local.get $i))
                (i32.store8 (i32.add (local.get $distances) (local.get $n)) (local.get $d))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (if (i32.eq (local.get $n) (local.get $cap))
                  (then (return (i32.add (local.get $i) (i32.const 1)) (local.get $n))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i) (local.get $n))

  ;; Same contract as $scanEach, eight codes per step with the scalar i64.popcnt. A step asks
  ;; only "is any of the eight within the bound?": d <= bound exactly when d - (bound + 1) is
  ;; negative, so the eight differences are ORed and the sign tested, one branch per eight
  ;; codes. A step that has one (rare once the bound has fallen) and the tail go to $scanEach.
  (func $scan (export "scan")
    (param $i i32) (param $end i32) (param $q i64) (param $bound i32) (param $include i32)
    (param $indices i32) (param $distances i32) (param $n i32) (param $cap i32)
    (result i32 i32)
    (local $b1 i64) (local $at i32) (local $next i32)
    (local.set $b1 (i64.add (i64.extend_i32_u (local.get $bound)) (i64.const 1)))
    (block $done
      (loop $step
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $end)))
        (local.set $at (i32.shl (local.get $i) (i32.const 3)))
        (if (i64.lt_s
              (i64.or
                (i64.or
                  (i64.or
                    (i64.sub (i64.popcnt (i64.xor (i64.load offset=0 (local.get $at)) (local.get $q))) (local.get $b1))
                    (i64.sub (i64.popcnt (i64.xor (i64.load offset=8 (local.get $at)) (local.get $q))) (local.get $b1)))
                  (i64.or
                    (i64.sub (i64.popcnt (i64.xor (i64.load offset=16 (local.get $at)) (local.get $q))) (local.get $b1))
                    (i64.sub (i64.popcnt (i64.xor (i64.load offset=24 (local.get $at)) (local.get $q))) (local.get $b1))))
                (i64.or
                  (i64.or
                    (i64.sub (i64.popcnt (i64.xor (i64.load offset=32 (local.get $at)) (local.get $q))) (local.get $b1))
                    (i64.sub (i64.popcnt (i64.xor (i64.load offset=40 (local.get $at)) (local.get $q))) (local.get $b1)))
                  (i64.or
                    (i64.sub (i64.popcnt (i64.xor (i64.load offset=48 (local.get $at)) (local.get $q))) (local.get $b1))
                    (i64.sub (i64.popcnt (i64.xor (i64.load offset=56 (local.get $at)) (local.get $q))) (local.get $b1)))))
              (i64.const 0))
          (then
            (call $scanEach (local.get $i) (i32.add (local.get $i) (i32.const 8)) (local.get $q) (local.get $bound)
                            (local.get $include) (local.get $indices) (local.get $distances) (local.get $n) (local.get $cap))
            (local.set $n)
            (local.set $next)
            (if (i32.eq (local.get $n) (local.get $cap))
              (then (return (local.get $next) (local.get $n))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $step)))
    (call $scanEach (local.get $i) (local.get $end) (local.get $q) (local.get $bound)
                    (local.get $include) (local.get $indices) (local.get $distances) (local.get $n) (local.get $cap)))
)
