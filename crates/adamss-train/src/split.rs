//! Cross-validation folds by patient, stratified by event, optionally grouped by centre.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// Assigns each patient a fold in `0..k`.
///
/// Without groups: events and censored patients are shuffled separately and dealt round-robin,
/// so every fold gets ⌊events/k⌋ or ⌈events/k⌉ events. With groups (e.g. centres): whole
/// groups go to folds, largest first, each to the fold with the fewest patients so far; there
/// must be at least `k` groups.
pub fn folds(
    events: &[bool],
    groups: Option<&[String]>,
    k: usize,
    seed: u64,
) -> Result<Vec<usize>> {
    let n = events.len();
    if k < 2 || n < k {
        return Err(Error::Cohort(format!(
            "{n} patients cannot be split into {k} folds"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold = vec![0; n];
    match groups {
        None => {
            let mut next = 0;
            for want in [true, false] {
                let mut idx: Vec<usize> = (0..n).filter(|&i| events[i] == want).collect();
                idx.shuffle(&mut rng);
                for i in idx {
                    fold[i] = next % k;
                    next += 1;
                }
            }
        }
        Some(g) => {
            if g.len() != n {
                return Err(Error::Cohort(format!(
                    "{} group labels for {n} patients",
                    g.len()
                )));
            }
            let mut names: Vec<&String> = g.iter().collect();
            names.sort();
            names.dedup();
            if names.len() < k {
                return Err(Error::Cohort(format!(
                    "{} centres cannot fill {k} folds when grouping by centre",
                    names.len()
                )));
            }
            names.shuffle(&mut rng);
            let size = |name: &String| g.iter().filter(|x| *x == name).count();
            names.sort_by_key(|name| std::cmp::Reverse(size(name)));
            let mut load = vec![0usize; k];
            for name in names {
                let target = (0..k).min_by_key(|&f| (load[f], f)).unwrap_or(0);
                load[target] += size(name);
                for i in (0..n).filter(|&i| &g[i] == name) {
                    fold[i] = target;
                }
            }
        }
    }
    Ok(fold)
}

/// Splits `train` (patient indices) into (fit, validation): a stratified `fraction` of events
/// and of censored patients goes to validation (at least one of each where there are two or
/// more). `fraction` 0 gives an empty validation set.
pub fn validation_split(
    train: &[usize],
    events: &[bool],
    fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    if fraction <= 0.0 {
        return (train.to_vec(), Vec::new());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut fit, mut val) = (Vec::new(), Vec::new());
    for want in [true, false] {
        let mut idx: Vec<usize> = train
            .iter()
            .copied()
            .filter(|&i| events[i] == want)
            .collect();
        idx.shuffle(&mut rng);
        let take = if idx.len() >= 2 {
            ((idx.len() as f64 * fraction).round() as usize).clamp(1, idx.len() - 1)
        } else {
            0
        };
        val.extend_from_slice(&idx[..take]);
        fit.extend_from_slice(&idx[take..]);
    }
    fit.sort_unstable();
    val.sort_unstable();
    (fit, val)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_and_cover_everyone() {
        let events: Vec<bool> = (0..23).map(|i| i % 3 == 0).collect();
        let f = folds(&events, None, 4, 1).expect("folds");
        for k in 0..4 {
            let ev = (0..23).filter(|&i| f[i] == k && events[i]).count();
            let all = f.iter().filter(|&&x| x == k).count();
            assert!((1..=3).contains(&ev), "fold {k}: {ev} events");
            assert!((5..=6).contains(&all), "fold {k}: {all} patients");
        }
        assert_eq!(
            f,
            folds(&events, None, 4, 1).expect("again"),
            "deterministic"
        );
        assert_ne!(f, folds(&events, None, 4, 2).expect("other seed"));
    }

    #[test]
    fn grouped_folds_keep_centres_together() {
        let g: Vec<String> = (0..20).map(|i| format!("C{}", i % 5)).collect();
        let events = vec![true; 20];
        let f = folds(&events, Some(&g), 3, 0).expect("folds");
        for c in 0..5 {
            let fs: Vec<usize> = (0..20).filter(|i| i % 5 == c).map(|i| f[i]).collect();
            assert!(fs.iter().all(|&x| x == fs[0]), "centre {c} split: {fs:?}");
        }
        assert!(
            folds(&events, Some(&g), 6, 0).is_err(),
            "5 centres, 6 folds"
        );
    }

    #[test]
    fn too_few_patients_is_an_error() {
        assert!(folds(&[true, false], None, 3, 0).is_err());
    }

    #[test]
    fn validation_split_is_stratified() {
        let events: Vec<bool> = (0..30).map(|i| i % 2 == 0).collect();
        let train: Vec<usize> = (0..30).collect();
        let (fit, val) = validation_split(&train, &events, 0.2, 0);
        assert_eq!(fit.len() + val.len(), 30);
        assert_eq!(val.iter().filter(|&&i| events[i]).count(), 3);
        assert_eq!(val.len(), 6);
    }
}
