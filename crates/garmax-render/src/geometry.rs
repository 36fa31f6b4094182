//! Small 2-D geometry: points, similarity transforms and the thin-plate
//! spline that carries the garment's landmarks onto the body.

use serde::Serialize;

/// A point or vector in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct P2 {
    pub x: f32,
    pub y: f32,
}

impl P2 {
    pub const fn new(x: f32, y: f32) -> P2 {
        P2 { x, y }
    }
    pub fn from_arr([x, y]: [f32; 2]) -> P2 {
        P2 { x, y }
    }
    pub fn plus(self, o: P2) -> P2 {
        P2::new(self.x + o.x, self.y + o.y)
    }
    pub fn minus(self, o: P2) -> P2 {
        P2::new(self.x - o.x, self.y - o.y)
    }
    pub fn scale(self, k: f32) -> P2 {
        P2::new(self.x * k, self.y * k)
    }
    pub fn dot(self, o: P2) -> f32 {
        self.x * o.x + self.y * o.y
    }
    /// z component of the 3-D cross product: positive when `o` is
    /// clockwise of `self` on screen (y down).
    pub fn cross(self, o: P2) -> f32 {
        self.x * o.y - self.y * o.x
    }
    pub fn len(self) -> f32 {
        self.dot(self).sqrt()
    }
    /// The mean of `points` (the origin for none).
    pub fn centroid(points: &[P2]) -> P2 {
        let n = points.len().max(1) as f32;
        points
            .iter()
            .fold(P2::default(), |a, p| a.plus(p.scale(1.0 / n)))
    }
    pub fn dist(self, o: P2) -> f32 {
        self.minus(o).len()
    }
    /// Unit vector, or `fallback` for a (near) zero vector.
    pub fn unit_or(self, fallback: P2) -> P2 {
        let l = self.len();
        if l > 1e-6 {
            self.scale(1.0 / l)
        } else {
            fallback
        }
    }
    pub fn lerp(self, o: P2, t: f32) -> P2 {
        self.plus(o.minus(self).scale(t))
    }
    pub fn mid(self, o: P2) -> P2 {
        self.lerp(o, 0.5)
    }
    /// Rotated by `angle` radians about the origin.
    pub fn rotate(self, angle: f32) -> P2 {
        let (s, c) = angle.sin_cos();
        P2::new(c * self.x - s * self.y, s * self.x + c * self.y)
    }
    pub fn angle(self) -> f32 {
        self.y.atan2(self.x)
    }
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

/// Signed smallest difference `b - a` between two angles, in (-π, π].
pub fn angle_diff(a: f32, b: f32) -> f32 {
    let mut d = b - a;
    while d > std::f32::consts::PI {
        d -= std::f32::consts::TAU;
    }
    while d <= -std::f32::consts::PI {
        d += std::f32::consts::TAU;
    }
    d
}

/// `x ↦ s·R·x + t`: the transform two point pairs determine exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// `s·cos θ`, `s·sin θ`.
    pub a: f32,
    pub b: f32,
    pub t: P2,
}

impl Similarity {
    /// The similarity that sends `p0 → q0` and `p1 → q1`; `None` when the
    /// source points coincide.
    pub fn from_pairs(p0: P2, p1: P2, q0: P2, q1: P2) -> Option<Similarity> {
        let dp = p1.minus(p0);
        let dq = q1.minus(q0);
        let n = dp.dot(dp);
        if n < 1e-9 {
            return None;
        }
        // Complex division dq / dp.
        let a = (dq.x * dp.x + dq.y * dp.y) / n;
        let b = (dq.y * dp.x - dq.x * dp.y) / n;
        let s = Similarity {
            a,
            b,
            t: P2::default(),
        };
        let t = q0.minus(s.apply(p0));
        Some(Similarity { a, b, t })
    }
    pub fn apply(&self, p: P2) -> P2 {
        P2::new(
            self.a * p.x - self.b * p.y + self.t.x,
            self.b * p.x + self.a * p.y + self.t.y,
        )
    }
    pub fn scale(&self) -> f32 {
        (self.a * self.a + self.b * self.b).sqrt()
    }
    pub fn rotation(&self) -> f32 {
        self.b.atan2(self.a)
    }
}

/// Solves `A x = b` in place by Gaussian elimination with partial pivoting.
/// `a` is row-major `n × n`. Returns `None` for a singular system.
pub fn solve_dense(a: &mut [f64], b: &mut [f64], n: usize) -> Option<Vec<f64>> {
    if a.len() != n * n || b.len() != n {
        return None;
    }
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
        if a[pivot * n + col].abs() < 1e-12 {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                a.swap(col * n + k, pivot * n + k);
            }
            b.swap(col, pivot);
        }
        let d = a[col * n + col];
        for row in col + 1..n {
            let f = a[row * n + col] / d;
            if f == 0.0 {
                continue;
            }
            for k in col..n {
                a[row * n + k] -= f * a[col * n + k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let mut s = b[row];
        for k in row + 1..n {
            s -= a[row * n + k] * x[k];
        }
        x[row] = s / a[row * n + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// A 2-D thin-plate spline `f(p) = a0 + a1·x + a2·y + Σ wᵢ U(|p − cᵢ|)`,
/// `U(r) = r² log r`, one per output coordinate.
#[derive(Debug, Clone)]
pub struct Tps {
    centres: Vec<P2>,
    /// Per output coordinate: n kernel weights then the 3 affine terms.
    wx: Vec<f64>,
    wy: Vec<f64>,
    /// Centres are normalised by this offset and scale so the system stays
    /// well conditioned whatever the image size.
    origin: P2,
    unit: f32,
}

fn kernel(r2: f64) -> f64 {
    if r2 < 1e-12 { 0.0 } else { 0.5 * r2 * r2.ln() }
}

impl Tps {
    /// Fits the spline through `src[i] → dst[i]`. `smoothing` ≥ 0 relaxes
    /// exact interpolation (in normalised units), which keeps the warp from
    /// folding when two landmarks disagree. `None` when the points are too
    /// few or degenerate.
    pub fn fit(src: &[P2], dst: &[P2], smoothing: f64) -> Option<Tps> {
        let n = src.len();
        if n < 3 || dst.len() != n || !src.iter().chain(dst).all(|p| p.is_finite()) {
            return None;
        }
        let origin = src
            .iter()
            .fold(P2::default(), |acc, p| acc.plus(*p))
            .scale(1.0 / n as f32);
        let unit = src
            .iter()
            .map(|p| p.dist(origin))
            .fold(0.0f32, f32::max)
            .max(1e-3);
        let norm: Vec<P2> = src
            .iter()
            .map(|p| p.minus(origin).scale(1.0 / unit))
            .collect();
        let m = n + 3;
        let mut a = vec![0.0f64; m * m];
        for i in 0..n {
            for j in 0..n {
                let d = norm[i].minus(norm[j]);
                let r2 = (d.x as f64).powi(2) + (d.y as f64).powi(2);
                a[i * m + j] = kernel(r2) + if i == j { smoothing } else { 0.0 };
            }
            let row = [1.0, norm[i].x as f64, norm[i].y as f64];
            for (k, v) in row.iter().enumerate() {
                a[i * m + n + k] = *v;
                a[(n + k) * m + i] = *v;
            }
        }
        let mut bx: Vec<f64> = dst.iter().map(|p| p.x as f64).chain([0.0; 3]).collect();
        let mut by: Vec<f64> = dst.iter().map(|p| p.y as f64).chain([0.0; 3]).collect();
        let wx = solve_dense(&mut a.clone(), &mut bx, m)?;
        let wy = solve_dense(&mut a, &mut by, m)?;
        Some(Tps {
            centres: norm,
            wx,
            wy,
            origin,
            unit,
        })
    }

    pub fn apply(&self, p: P2) -> P2 {
        let q = p.minus(self.origin).scale(1.0 / self.unit);
        let n = self.centres.len();
        let (mut x, mut y) = (
            self.wx[n] + self.wx[n + 1] * q.x as f64 + self.wx[n + 2] * q.y as f64,
            self.wy[n] + self.wy[n + 1] * q.x as f64 + self.wy[n + 2] * q.y as f64,
        );
        for (i, c) in self.centres.iter().enumerate() {
            let d = q.minus(*c);
            let k = kernel((d.x as f64).powi(2) + (d.y as f64).powi(2));
            x += self.wx[i] * k;
            y += self.wy[i] * k;
        }
        P2::new(x as f32, y as f32)
    }
}

/// Distance from `p` to the segment `a–b` and the segment parameter of the
/// closest point (0 at `a`, 1 at `b`).
pub fn segment_distance(p: P2, a: P2, b: P2) -> (f32, f32) {
    let ab = b.minus(a);
    let l2 = ab.dot(ab);
    let t = if l2 < 1e-9 {
        0.0
    } else {
        (p.minus(a).dot(ab) / l2).clamp(0.0, 1.0)
    };
    (p.dist(a.plus(ab.scale(t))), t)
}

pub fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_maps_both_pairs() {
        let s = Similarity::from_pairs(
            P2::new(0.0, 0.0),
            P2::new(10.0, 0.0),
            P2::new(5.0, 5.0),
            P2::new(5.0, 25.0),
        )
        .unwrap();
        let a = s.apply(P2::new(0.0, 0.0));
        let b = s.apply(P2::new(10.0, 0.0));
        assert!(a.dist(P2::new(5.0, 5.0)) < 1e-4);
        assert!(b.dist(P2::new(5.0, 25.0)) < 1e-4);
        assert!((s.scale() - 2.0).abs() < 1e-5);
        assert!((s.rotation() - std::f32::consts::FRAC_PI_2).abs() < 1e-5);
        assert!(
            Similarity::from_pairs(
                P2::default(),
                P2::default(),
                P2::default(),
                P2::new(1.0, 1.0)
            )
            .is_none()
        );
    }

    #[test]
    fn dense_solver_solves_and_refuses_singular() {
        let mut a = vec![2.0, 1.0, 1.0, 3.0];
        let mut b = vec![3.0, 5.0];
        let x = solve_dense(&mut a, &mut b, 2).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-9 && (x[1] - 1.4).abs() < 1e-9);
        let mut s = vec![1.0, 2.0, 2.0, 4.0];
        assert!(solve_dense(&mut s, &mut [1.0, 2.0], 2).is_none());
    }

    #[test]
    fn tps_interpolates_its_landmarks_and_reproduces_affine_maps() {
        let src = [
            P2::new(0.0, 0.0),
            P2::new(100.0, 0.0),
            P2::new(0.0, 100.0),
            P2::new(100.0, 100.0),
            P2::new(50.0, 40.0),
        ];
        // A pure affine map is reproduced exactly, everywhere.
        let affine = |p: P2| P2::new(2.0 * p.x + 0.5 * p.y + 3.0, -0.3 * p.x + 1.5 * p.y - 7.0);
        let dst: Vec<P2> = src.iter().map(|p| affine(*p)).collect();
        let tps = Tps::fit(&src, &dst, 0.0).unwrap();
        let probe = P2::new(73.0, 12.0);
        assert!(tps.apply(probe).dist(affine(probe)) < 1e-2);
        // A bent map still passes through every landmark.
        let mut bent = dst.clone();
        bent[4] = bent[4].plus(P2::new(15.0, -9.0));
        let tps = Tps::fit(&src, &bent, 0.0).unwrap();
        for (s, d) in src.iter().zip(&bent) {
            assert!(tps.apply(*s).dist(*d) < 1e-2);
        }
        assert!(Tps::fit(&src[..2], &bent[..2], 0.0).is_none());
    }

    #[test]
    fn segment_distance_and_angles() {
        let (d, t) = segment_distance(P2::new(5.0, 3.0), P2::new(0.0, 0.0), P2::new(10.0, 0.0));
        assert!((d - 3.0).abs() < 1e-6 && (t - 0.5).abs() < 1e-6);
        assert!((angle_diff(3.0, -3.0) - (std::f32::consts::TAU - 6.0)).abs() < 1e-5);
    }
}
