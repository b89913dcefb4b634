use super::*;

fn node(dir: f64) -> FNode {
    FNode {
        code: "x".into(),
        name: "x".into(),
        level: 1,
        parent: None,
        kind: NodeKind::Indicator,
        direction: dir,
        weight: 1.0,
        denominator: None,
        target: Some(10.0),
        goalposts: None,
        aggregation: None,
        dashboard: None,
        scored: true,
        line: None,
    }
}

/// COINr's n_rank on [1, 2, 2, 3]: [1, 2, 2, 4] (ties share the lowest rank); the
/// pipeline once gave [4, 3, 3, 1], inverting every rank-normalised indicator.
#[test]
fn rank_normalisation_is_coinr_n_rank() {
    let n = Method {
        normalisation: Normalisation::Rank,
        ..Method::default()
    };
    let col = [Some(1.0), Some(2.0), Some(2.0), Some(3.0), None];
    let up = normalise_column(&col, &node(1.0), &n).unwrap();
    assert_eq!(up, vec![Some(1.0), Some(2.0), Some(2.0), Some(4.0), None]);
    // lower is better: the smallest value is the best, so it gets the highest rank
    let down = normalise_column(&col, &node(-1.0), &n).unwrap();
    assert_eq!(down, vec![Some(4.0), Some(2.0), Some(2.0), Some(1.0), None]);
}

#[test]
fn minmax_applies_direction_and_stays_in_bounds() {
    let col = [Some(1.0), Some(3.0), None, Some(5.0)];
    let n = Method::default();
    assert_eq!(
        normalise_column(&col, &node(1.0), &n).unwrap(),
        vec![Some(0.0), Some(50.0), None, Some(100.0)]
    );
    assert_eq!(
        normalise_column(&col, &node(-1.0), &n).unwrap(),
        vec![Some(100.0), Some(50.0), None, Some(0.0)]
    );
    // adding a constant leaves min-max scores unchanged
    let shifted: Vec<Option<f64>> = col.iter().map(|v| v.map(|v| v + 1000.0)).collect();
    assert_eq!(
        normalise_column(&shifted, &node(1.0), &n).unwrap(),
        normalise_column(&col, &node(1.0), &n).unwrap()
    );
}

#[test]
fn distance_to_target_caps_at_the_target() {
    let col = [Some(0.0), Some(5.0), Some(20.0)];
    let n = Method {
        normalisation: Normalisation::DistanceToTarget,
        lower: 0.0,
        upper: 1.0,
        ..Method::default()
    };
    assert_eq!(
        normalise_column(&col, &node(1.0), &n).unwrap(),
        vec![Some(0.0), Some(0.5), Some(1.0)]
    );
}

#[test]
fn geometric_is_at_most_arithmetic() {
    let p = [(10.0, 1.0), (90.0, 1.0), (40.0, 2.0)];
    let a = weighted_mean(&p, Aggregation::Arithmetic).unwrap();
    let g = weighted_mean(&p, Aggregation::Geometric).unwrap();
    let h = weighted_mean(&p, Aggregation::Harmonic).unwrap();
    assert!(h <= g && g <= a, "{h} {g} {a}");
    assert_eq!(a, 45.0);
}

#[test]
fn winsorising_replaces_the_extreme_and_ties_together() {
    let mut v: Vec<Option<f64>> = (1..=20).map(|i| Some(i as f64)).collect();
    v.push(Some(1000.0));
    let t = Treat {
        method: TreatMethod::Coinr,
        winmax: 5,
        skew: 2.0,
        kurtosis: 3.5,
    };
    let (out, rep) = treat_column(&v, &t);
    assert_eq!(rep.high, 1);
    assert_eq!(out[20], Some(20.0));
    assert!(crate::steps::passes(
        &out.iter().flatten().copied().collect::<Vec<_>>(),
        &t
    ));
}
