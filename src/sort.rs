//! A heapsort with no panic path, for the orders firmware sorts by (the nucleus of the
//! sampler, the tokenizer's index): core's sorts keep a panic for comparators that are not
//! total orders, which the link-time no-panic proof refuses. Every caller's order is total
//! (ties broken by id), so the result is the one any correct sort gives.

/// Sorts `v` ascending by `is_less`.
pub(crate) fn sort_by<T: Copy>(v: &mut [T], mut is_less: impl FnMut(&T, &T) -> bool) {
    let len = v.len();
    let mut start = len / 2;
    while start > 0 {
        start -= 1;
        sift_down(v, start, len, &mut is_less);
    }
    let mut end = len;
    while end > 1 {
        end -= 1;
        swap(v, 0, end);
        sift_down(v, 0, end, &mut is_less);
    }
}

/// Restores the max-heap below `root` within `v[..end]`.
fn sift_down<T: Copy>(
    v: &mut [T],
    mut root: usize,
    end: usize,
    is_less: &mut impl FnMut(&T, &T) -> bool,
) {
    loop {
        let mut child = root.saturating_mul(2).saturating_add(1);
        if child >= end {
            return;
        }
        let right = child + 1;
        if right < end {
            if let (Some(l), Some(r)) = (v.get(child), v.get(right)) {
                if is_less(l, r) {
                    child = right;
                }
            }
        }
        match (v.get(root), v.get(child)) {
            (Some(parent), Some(larger)) if is_less(parent, larger) => {}
            _ => return,
        }
        swap(v, root, child);
        root = child;
    }
}

fn swap<T: Copy>(v: &mut [T], a: usize, b: usize) {
    if let (Some(&x), Some(&y)) = (v.get(a), v.get(b)) {
        if let Some(slot) = v.get_mut(a) {
            *slot = y;
        }
        if let Some(slot) = v.get_mut(b) {
            *slot = x;
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every length up to 40 and many orders: the heapsort agrees with core's sort.
    #[test]
    fn sorts_as_core_does() {
        let mut state = 0x2545_f491u32;
        for len in 0..40 {
            for _ in 0..50 {
                let mut v: Vec<u32> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 17;
                        state ^= state << 5;
                        state % 7
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_unstable();
                super::sort_by(&mut v, |a, b| a < b);
                assert_eq!(v, want);
            }
        }
    }
}
