//! The statistics of A/B tests, pure: sticky variant buckets, confidence
//! intervals (Wilson for pass rates, normal for mean ratings) and the
//! significance tests that decide a winner (two-proportion z-test, Welch's
//! t-test with a normal tail — used only once each side has enough samples
//! for that to hold).

/// Fewest samples per variant before a test can be called significant.
pub const MIN_SAMPLES: u64 = 30;
/// Two-sided significance level.
pub const ALPHA: f64 = 0.05;
const Z95: f64 = 1.959_963_984_540_054;

/// The variant (0-based) of `variants` a user sees: the first 4 bytes of a
/// SHA-256 digest (computed by the caller over `test id + ":" + user id`)
/// as a big-endian integer, modulo the count — the router's sticky split.
pub fn bucket(digest_prefix: [u8; 4], variants: usize) -> usize {
    (u32::from_be_bytes(digest_prefix) as usize) % variants.max(1)
}

/// The standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// The Wilson 95 % interval of `k` successes in `n`.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Mean, sample variance and count of ratings from their sums.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub mean: f64,
    pub variance: f64,
}

impl Moments {
    pub fn from_sums(n: u64, sum: f64, sq_sum: f64) -> Option<Moments> {
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        let mean = sum / nf;
        let variance = if n > 1 {
            ((sq_sum - nf * mean * mean) / (nf - 1.0)).max(0.0)
        } else {
            0.0
        };
        Some(Moments { n, mean, variance })
    }

    /// The normal 95 % interval of the mean.
    pub fn interval(&self) -> (f64, f64) {
        let half = Z95 * (self.variance / self.n as f64).sqrt();
        (self.mean - half, self.mean + half)
    }
}

/// Two-sided p-value of Welch's t-test between two means (normal tail;
/// `None` below [`MIN_SAMPLES`] on either side or with no variance at all).
pub fn welch_p(a: &Moments, b: &Moments) -> Option<f64> {
    if a.n < MIN_SAMPLES || b.n < MIN_SAMPLES {
        return None;
    }
    let se = (a.variance / a.n as f64 + b.variance / b.n as f64).sqrt();
    if se == 0.0 {
        return None;
    }
    let t = (a.mean - b.mean) / se;
    Some(2.0 * (1.0 - normal_cdf(t.abs())))
}

/// Two-sided p-value of the pooled two-proportion z-test.
pub fn proportions_p(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<f64> {
    if n1 < MIN_SAMPLES || n2 < MIN_SAMPLES {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (k1 + k2) as f64 / (n1f + n2f);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    if se == 0.0 {
        return None;
    }
    let z = (k1 as f64 / n1f - k2 as f64 / n2f) / se;
    Some(2.0 * (1.0 - normal_cdf(z.abs())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_tables() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-9);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655_25).abs() < 1e-6);
    }

    #[test]
    fn wilson_interval_of_a_known_case() {
        // 40 of 100: Wilson 95 % is [0.3094, 0.4980].
        let (lo, hi) = wilson(40, 100).unwrap();
        assert!(
            (lo - 0.3094).abs() < 1e-3 && (hi - 0.4980).abs() < 1e-3,
            "{lo} {hi}"
        );
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn tests_separate_real_differences_from_noise() {
        let a = Moments::from_sums(100, 450.0, 2100.0).unwrap(); // mean 4.5
        let b = Moments::from_sums(100, 380.0, 1560.0).unwrap(); // mean 3.8
        assert!((a.mean - 4.5).abs() < 1e-12);
        assert!(welch_p(&a, &b).unwrap() < ALPHA);
        let c = Moments::from_sums(100, 452.0, 2120.0).unwrap();
        assert!(welch_p(&a, &c).unwrap() > ALPHA);
        assert_eq!(
            welch_p(&Moments::from_sums(10, 45.0, 210.0).unwrap(), &b),
            None
        );
        assert!(proportions_p(70, 100, 40, 100).unwrap() < ALPHA);
        assert!(proportions_p(50, 100, 48, 100).unwrap() > ALPHA);
        assert_eq!(proportions_p(5, 10, 1, 10), None);
    }

    #[test]
    fn buckets_cover_every_variant() {
        let mut seen = [0; 3];
        for i in 0u32..300 {
            seen[bucket(i.wrapping_mul(2_654_435_761).to_be_bytes(), 3)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }
}
