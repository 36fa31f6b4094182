//! Which product-photo pixel each pixel of a render shows: what a renderer
//! that warps the product photo knows exactly, and what the branding
//! validator needs to find a print wherever the warp bent it.

/// Per render pixel, the product-photo coordinate (in product pixels, pixel
/// centres at `x + 0.5`) of the garment on top there, or nothing where no
/// garment was placed. The coordinate is the garment's *placed* surface,
/// before anything in front of it (a forearm, hair) was composited: where
/// the map has a coordinate but the garment mask has no garment, the
/// product is hidden behind the body.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductMap {
    width: u32,
    height: u32,
    /// Row-major `[u, v]`; NaN where no garment was placed.
    coords: Vec<[f32; 2]>,
}

impl ProductMap {
    /// A map of `width × height` pixels with nothing placed.
    pub fn new(width: u32, height: u32) -> ProductMap {
        ProductMap {
            width,
            height,
            coords: vec![[f32::NAN; 2]; width as usize * height as usize],
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Records that render pixel `(x, y)` shows product point `uv`; out of
    /// range pixels and non-finite points are ignored.
    pub fn set(&mut self, x: u32, y: u32, uv: [f32; 2]) {
        if x < self.width && y < self.height && uv.iter().all(|v| v.is_finite()) {
            self.coords[y as usize * self.width as usize + x as usize] = uv;
        }
    }

    /// The product point render pixel `(x, y)` shows, if any.
    pub fn get(&self, x: u32, y: u32) -> Option<[f32; 2]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let uv = self.coords[y as usize * self.width as usize + x as usize];
        uv[0].is_finite().then_some(uv)
    }

    /// The same map seen in a horizontally mirrored render.
    pub fn flipped_horizontally(&self) -> ProductMap {
        let mut out = ProductMap::new(self.width, self.height);
        for y in 0..self.height {
            for x in 0..self.width {
                if let Some(uv) = self.get(x, y) {
                    out.set(self.width - 1 - x, y, uv);
                }
            }
        }
        out
    }

    /// The map's content as bytes, for content-addressed caches.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.coords.len() * 8);
        out.extend_from_slice(&self.width.to_le_bytes());
        out.extend_from_slice(&self.height.to_le_bytes());
        for uv in &self.coords {
            out.extend_from_slice(&uv[0].to_le_bytes());
            out.extend_from_slice(&uv[1].to_le_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_set_and_nothing_else() {
        let mut m = ProductMap::new(4, 3);
        m.set(1, 2, [10.5, 20.5]);
        m.set(9, 9, [1.0, 1.0]);
        m.set(0, 0, [f32::NAN, 1.0]);
        assert_eq!(m.get(1, 2), Some([10.5, 20.5]));
        assert_eq!(m.get(0, 0), None);
        assert_eq!(m.get(9, 9), None);
        let f = m.flipped_horizontally();
        assert_eq!(f.get(2, 2), Some([10.5, 20.5]));
        assert_eq!(f.get(1, 2), None);
        assert_ne!(m.to_bytes(), f.to_bytes());
    }
}
