//! The pinhole camera the body is fitted and rendered with: OpenCV axes
//! (x right, y down, z forward, in metres), principal point at the image
//! centre, square pixels.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// Focal length in pixels.
    pub focal: f64,
    pub cx: f64,
    pub cy: f64,
    pub width: u32,
    pub height: u32,
}

impl Camera {
    /// The camera assumed for a photo without calibration: focal length
    /// equal to the longer image side (≈53° field of view across it), a
    /// middle ground between phone main cameras (~65°) and the mild
    /// telephoto typical of full-body shots.
    pub fn for_image(width: u32, height: u32) -> Camera {
        Camera {
            focal: width.max(height) as f64,
            cx: width as f64 / 2.0,
            cy: height as f64 / 2.0,
            width,
            height,
        }
    }

    /// Pixel coordinates of a camera-space point (`None` behind the camera).
    pub fn project(&self, p: [f64; 3]) -> Option<[f64; 2]> {
        if p[2] <= 1e-6 {
            return None;
        }
        Some([
            self.focal * p[0] / p[2] + self.cx,
            self.focal * p[1] / p[2] + self.cy,
        ])
    }

    /// Projection that keeps a finite value for points at or behind the
    /// camera, so optimiser residuals stay finite (they are penalised anyway).
    pub(crate) fn project_clamped(&self, p: [f64; 3]) -> [f64; 2] {
        let z = p[2].max(0.05);
        [
            self.focal * p[0] / z + self.cx,
            self.focal * p[1] / z + self.cy,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_centre() {
        let c = Camera::for_image(640, 480);
        assert_eq!(c.project([0.0, 0.0, 2.0]), Some([320.0, 240.0]));
        assert_eq!(c.project([0.0, 0.0, -1.0]), None);
        let p = c.project([1.0, 0.0, 2.0]).unwrap();
        assert!((p[0] - 640.0).abs() < 1e-9);
    }
}
