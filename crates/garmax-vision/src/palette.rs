//! Colour palette of the garment pixels: k-means in CIELAB.
//!
//! Deterministic: seeding is k-means++ driven by a fixed-seed generator, so
//! the same photo always yields the same palette (the cache and the tests
//! rely on it).

use serde::Serialize;

use crate::color::{Lab, hex, lab_to_srgb};
use crate::rng::SplitMix64;

/// One palette entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Swatch {
    pub hex: String,
    pub rgb: [u8; 3],
    pub lab: Lab,
    /// Fraction of garment pixels in this cluster, 0–1.
    pub share: f32,
}

impl Swatch {
    pub fn from_lab(lab: Lab, share: f32) -> Swatch {
        let rgb = lab_to_srgb(lab);
        Swatch {
            hex: hex(rgb),
            rgb,
            lab,
            share,
        }
    }
}

/// Result of clustering: centres, shares and each sample's cluster.
#[derive(Debug, Clone)]
pub struct Clusters {
    pub centres: Vec<Lab>,
    pub shares: Vec<f32>,
    pub assignment: Vec<usize>,
}

/// Clusters `samples` into at most `k` colours. Clusters whose centres end up
/// within ΔE76 `merge_below` of each other are merged: a palette of five
/// near-identical reds tells a user nothing.
pub fn kmeans(samples: &[Lab], k: usize, iterations: usize, merge_below: f32) -> Clusters {
    if samples.is_empty() || k == 0 {
        return Clusters {
            centres: Vec::new(),
            shares: Vec::new(),
            assignment: Vec::new(),
        };
    }
    let mut rng = SplitMix64::new(0x9a_2d_4c_11);
    let mut centres = vec![samples[rng.below(samples.len())]];
    let mut nearest: Vec<f32> = samples.iter().map(|s| s.dist2(centres[0])).collect();
    while centres.len() < k {
        let total: f64 = nearest.iter().map(|d| f64::from(*d)).sum();
        if total <= 0.0 {
            break;
        }
        let mut target = rng.unit() * total;
        let mut chosen = samples.len() - 1;
        for (i, d) in nearest.iter().enumerate() {
            target -= f64::from(*d);
            if target <= 0.0 {
                chosen = i;
                break;
            }
        }
        let c = samples[chosen];
        centres.push(c);
        for (n, s) in nearest.iter_mut().zip(samples) {
            *n = n.min(s.dist2(c));
        }
    }

    let mut assignment = vec![0usize; samples.len()];
    for _ in 0..iterations {
        let changed = assign(samples, &centres, &mut assignment);
        update(samples, &mut centres, &assignment);
        if !changed {
            break;
        }
    }
    merge_close(samples, &mut centres, &mut assignment, merge_below);

    let mut counts = vec![0usize; centres.len()];
    for &a in &assignment {
        counts[a] += 1;
    }
    let shares = counts
        .iter()
        .map(|&c| c as f32 / samples.len() as f32)
        .collect();
    Clusters {
        centres,
        shares,
        assignment,
    }
}

fn assign(samples: &[Lab], centres: &[Lab], assignment: &mut [usize]) -> bool {
    let mut changed = false;
    for (s, a) in samples.iter().zip(assignment.iter_mut()) {
        let best = nearest_centre(*s, centres);
        if best != *a {
            *a = best;
            changed = true;
        }
    }
    changed
}

/// Index of the centre nearest to `c`.
pub fn nearest_centre(c: Lab, centres: &[Lab]) -> usize {
    let mut best = 0;
    let mut best_d = f32::INFINITY;
    for (i, centre) in centres.iter().enumerate() {
        let d = c.dist2(*centre);
        if d < best_d {
            best_d = d;
            best = i;
        }
    }
    best
}

fn update(samples: &[Lab], centres: &mut [Lab], assignment: &[usize]) {
    let mut sums = vec![[0f64; 4]; centres.len()];
    for (s, &a) in samples.iter().zip(assignment) {
        let acc = &mut sums[a];
        acc[0] += f64::from(s.l);
        acc[1] += f64::from(s.a);
        acc[2] += f64::from(s.b);
        acc[3] += 1.0;
    }
    for (c, acc) in centres.iter_mut().zip(&sums) {
        if acc[3] > 0.0 {
            *c = Lab::new(
                (acc[0] / acc[3]) as f32,
                (acc[1] / acc[3]) as f32,
                (acc[2] / acc[3]) as f32,
            );
        }
    }
}

fn merge_close(
    samples: &[Lab],
    centres: &mut Vec<Lab>,
    assignment: &mut [usize],
    merge_below: f32,
) {
    loop {
        let mut pair = None;
        'search: for i in 0..centres.len() {
            for j in i + 1..centres.len() {
                if centres[i].dist2(centres[j]).sqrt() < merge_below {
                    pair = Some((i, j));
                    break 'search;
                }
            }
        }
        let Some((keep, drop)) = pair else { break };
        for a in assignment.iter_mut() {
            if *a == drop {
                *a = keep;
            } else if *a > drop {
                *a -= 1;
            }
        }
        centres.remove(drop);
        update(samples, centres, assignment);
    }
    // Drop clusters that lost all members.
    let mut used = vec![false; centres.len()];
    for &a in assignment.iter() {
        used[a] = true;
    }
    if used.iter().all(|u| *u) {
        return;
    }
    let mut remap = vec![0usize; centres.len()];
    let mut kept = Vec::new();
    for (i, c) in centres.iter().enumerate() {
        if used[i] {
            remap[i] = kept.len();
            kept.push(*c);
        }
    }
    for a in assignment.iter_mut() {
        *a = remap[*a];
    }
    *centres = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_two_clear_colours_with_correct_shares() {
        let red = Lab::new(50.0, 60.0, 40.0);
        let blue = Lab::new(35.0, 10.0, -50.0);
        let mut samples = vec![red; 300];
        samples.extend(vec![blue; 100]);
        let c = kmeans(&samples, 5, 20, 3.0);
        assert_eq!(c.centres.len(), 2, "{:?}", c.centres);
        let red_i = nearest_centre(red, &c.centres);
        assert!((c.shares[red_i] - 0.75).abs() < 1e-6);
        assert!(c.centres[red_i].dist2(red) < 1e-6);
    }

    #[test]
    fn is_deterministic() {
        let samples: Vec<Lab> = (0..500)
            .map(|i| {
                Lab::new(
                    (i % 97) as f32,
                    (i % 13) as f32 * 5.0,
                    (i % 7) as f32 * -6.0,
                )
            })
            .collect();
        let a = kmeans(&samples, 6, 15, 2.0);
        let b = kmeans(&samples, 6, 15, 2.0);
        assert_eq!(a.assignment, b.assignment);
    }

    #[test]
    fn empty_input_gives_empty_palette() {
        assert!(kmeans(&[], 5, 10, 2.0).centres.is_empty());
    }
}
