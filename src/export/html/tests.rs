use super::*;

/// The profile names the run's own number of draws, not always "1 000".
#[test]
fn the_profile_says_how_many_variations_the_run_drew() {
    assert!(variations(1000).contains("over 1 000 variations"));
    assert!(variations(250).contains("over 250 variations"));
    assert!(variations(12345).contains("over 12 345 variations"));
    assert!(variations(1).contains("over 1 variation of"));
    assert!(variations(0).contains("no rank intervals"));
}
