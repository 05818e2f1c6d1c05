use super::*;

fn engine() -> Engine {
    Engine::new(Policy::default(), None, Vec::new(), Vec::new())
}

#[test]
fn forgotten_failures_are_gone_and_each_forget_recomputes_cached_verdicts() {
    let e = engine();
    e.add_fetch_failures(
        vec![
            ("http://127.0.0.1/a.crl".into(), "connection refused".into()),
            ("http://127.0.0.1/ocsp".into(), "HTTP 503".into()),
        ],
        true,
    );
    let generation = |e: &Engine| e.fetched.read().map(|f| f.generation).unwrap_or(0);
    let g0 = generation(&e);
    assert_eq!(e.forget_fetch_failures(&["http://127.0.0.1/a.crl".into()]), 1);
    let f = e.fetched.read().map(|f| f.failures.clone()).unwrap_or_default();
    assert!(!f.contains_key("http://127.0.0.1/a.crl"));
    assert_eq!(f["http://127.0.0.1/ocsp"].reason, "HTTP 503");
    assert!(generation(&e) > g0);
    // A URL that had no failure (its evidence went stale): nothing forgotten, but cached
    // verdicts that rested on that evidence are still recomputed.
    let g1 = generation(&e);
    assert_eq!(e.forget_fetch_failures(&["http://127.0.0.1/a.crl".into()]), 0);
    assert!(generation(&e) > g1);
    // Nothing to forget: nothing changes.
    let g2 = generation(&e);
    assert_eq!(e.forget_fetch_failures(&[]), 0);
    assert_eq!(generation(&e), g2);
}
