//! Stable key order without the standard library's sort (whose code costs about 4 KB of wasm):
//! a bottom-up merge sort of indices, so nothing but plain integers moves.

use alloc::vec::Vec;

/// The indices `0..len` ordered by `key` (byte order), stably: of equal keys, the earlier index
/// comes first. O(n log n), so a hostile map of many keys costs no more than sorting them.
pub fn sorted_order<'k>(len: usize, key: &dyn Fn(usize) -> &'k str) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut merged: Vec<usize> = Vec::with_capacity(len);
    let mut width: usize = 1;
    while width < len {
        merged.clear();
        for run in order.chunks(width.saturating_mul(2)) {
            let (mut left, mut right) = run.split_at(width.min(run.len()));
            while let (Some((&l, left_rest)), Some((&r, right_rest))) =
                (left.split_first(), right.split_first())
            {
                // Ties take the left (earlier) index: stable.
                if key(r) < key(l) {
                    merged.push(r);
                    right = right_rest;
                } else {
                    merged.push(l);
                    left = left_rest;
                }
            }
            merged.extend_from_slice(left);
            merged.extend_from_slice(right);
        }
        core::mem::swap(&mut order, &mut merged);
        width = width.saturating_mul(2);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::sorted_order;

    #[test]
    fn orders_stably_like_a_stable_sort() {
        let keys = ["b", "a", "c", "a", "", "b", "ab"];
        let order = sorted_order(keys.len(), &|i| keys[i]);
        let mut expected: Vec<usize> = (0..keys.len()).collect();
        expected.sort_by_key(|&i| keys[i]);
        assert_eq!(order, expected);
        assert!(sorted_order(0, &|_| "").is_empty());
    }
}
