//! Worker threads: how many a caller may ask for, and rayon pools shared by the process.
//!
//! Each distinct `threads=` value used to build a pool that its engine kept for its whole
//! lifetime, and any value was accepted: a loop over `threads=1..=64` left 2,080 idle threads
//! behind one Verifier, and `threads=10**6` tried to start a million. Now the count is capped
//! at a few per core, and pools live in one process-wide registry of weak references: engines
//! asking for the same count share one pool, an engine keeps only the pool it used last, and
//! a pool nobody holds is dropped (its threads exit).

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Threads per core a caller may ask for: enough to overlap I/O waits (token round trips,
/// file reads), beyond which threads only add contention and memory.
pub const THREADS_PER_CORE: usize = 4;

/// The cores this process may run on (affinity and cgroup limits included).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// The most worker threads one call may ask for: [`THREADS_PER_CORE`] per core.
pub fn max_threads() -> usize {
    cores().saturating_mul(THREADS_PER_CORE)
}

/// A pool of exactly `n` threads (capped at [`max_threads`]), shared with every other holder
/// of a pool of that size; None when the threads cannot be started.
pub fn shared_pool(n: usize) -> Option<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Weak<rayon::ThreadPool>>>> = OnceLock::new();
    let n = n.clamp(1, max_threads());
    // A poisoned registry still holds valid weak references.
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(p) = pools.get(&n).and_then(Weak::upgrade) {
        return Some(p);
    }
    pools.retain(|_, w| w.strong_count() > 0);
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("govsig-{i}"))
            .build()
            .ok()?,
    );
    pools.insert(n, Arc::downgrade(&p));
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Engine;
    use crate::policy::Policy;

    // One test: the registry is process-wide, so checks on who holds a pool must not race
    // with other tests asking for pools.
    #[test]
    fn pools_are_capped_shared_and_released() {
        assert_eq!(max_threads(), cores() * THREADS_PER_CORE);
        assert_eq!(
            shared_pool(usize::MAX).expect("pool").current_num_threads(),
            max_threads()
        );

        let a = shared_pool(1).expect("pool");
        let b = shared_pool(1).expect("pool");
        assert!(Arc::ptr_eq(&a, &b));
        let weak = Arc::downgrade(&a);
        drop((a, b));
        assert!(weak.upgrade().is_none(), "a pool nobody holds is dropped");

        let engine = Engine::new(Policy::default(), None, Vec::new(), Vec::new());
        let first = engine.pool(1).expect("pool");
        for n in 2..=max_threads() {
            assert_eq!(engine.pool(n).expect("pool").current_num_threads(), n);
        }
        // The engine let go of every pool but the last; only this test holds the first.
        assert_eq!(Arc::strong_count(&first), 1);
        let other = Engine::new(Policy::default(), None, Vec::new(), Vec::new());
        let n = max_threads();
        assert!(Arc::ptr_eq(
            &engine.pool(n).expect("pool"),
            &other.pool(n).expect("pool")
        ));
        assert_eq!(engine.pool(n + 100).expect("pool").current_num_threads(), n);
    }
}
