//! SSD anchor generation, as MediaPipe's `SsdAnchorsCalculator` does it.
//!
//! The BlazePose and BlazeFace detectors predict offsets relative to a fixed
//! grid of anchors; the grid must be rebuilt exactly (same order, same
//! centres) or every decoded box is wrong.

/// The `SsdAnchorsCalculatorOptions` fields these detectors use.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorOptions {
    pub input_width: u32,
    pub input_height: u32,
    pub min_scale: f32,
    pub max_scale: f32,
    pub anchor_offset_x: f32,
    pub anchor_offset_y: f32,
    pub num_layers: usize,
    pub strides: Vec<u32>,
    pub aspect_ratios: Vec<f32>,
    pub interpolated_scale_aspect_ratio: f32,
    pub reduce_boxes_in_lowest_layer: bool,
    pub fixed_anchor_size: bool,
}

impl AnchorOptions {
    /// The options of `pose_detection_cpu.pbtxt` (224×224 input, 2254 anchors).
    pub fn pose_detection() -> Self {
        AnchorOptions {
            input_width: 224,
            input_height: 224,
            min_scale: 0.148_437_5,
            max_scale: 0.75,
            anchor_offset_x: 0.5,
            anchor_offset_y: 0.5,
            num_layers: 5,
            strides: vec![8, 16, 32, 32, 32],
            aspect_ratios: vec![1.0],
            interpolated_scale_aspect_ratio: 1.0,
            reduce_boxes_in_lowest_layer: false,
            fixed_anchor_size: true,
        }
    }

    /// The options of the short-range face detector (128×128 input, 896 anchors).
    pub fn face_detection_short_range() -> Self {
        AnchorOptions {
            input_width: 128,
            input_height: 128,
            min_scale: 0.148_437_5,
            max_scale: 0.75,
            anchor_offset_x: 0.5,
            anchor_offset_y: 0.5,
            num_layers: 4,
            strides: vec![8, 16, 16, 16],
            aspect_ratios: vec![1.0],
            interpolated_scale_aspect_ratio: 1.0,
            reduce_boxes_in_lowest_layer: false,
            fixed_anchor_size: true,
        }
    }
}

/// One anchor: centre and size, normalised to the model input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    pub x_center: f32,
    pub y_center: f32,
    pub width: f32,
    pub height: f32,
}

fn calculate_scale(min_scale: f32, max_scale: f32, index: usize, count: usize) -> f32 {
    if count == 1 {
        (min_scale + max_scale) * 0.5
    } else {
        min_scale + (max_scale - min_scale) * index as f32 / (count as f32 - 1.0)
    }
}

/// Builds the anchor list in the order the model's outputs use: layers with
/// the same stride are merged into one feature map whose cells carry the
/// anchors of all of them, row-major over the cells.
pub fn generate_anchors(options: &AnchorOptions) -> Vec<Anchor> {
    let mut anchors = Vec::new();
    let num_layers = options.num_layers.min(options.strides.len());
    let mut layer_id = 0;
    while layer_id < num_layers {
        let mut anchor_height = Vec::new();
        let mut anchor_width = Vec::new();
        let mut aspect_ratios = Vec::new();
        let mut scales = Vec::new();

        let mut last_same_stride = layer_id;
        while last_same_stride < num_layers
            && options.strides[last_same_stride] == options.strides[layer_id]
        {
            let scale = calculate_scale(
                options.min_scale,
                options.max_scale,
                last_same_stride,
                num_layers,
            );
            if last_same_stride == 0 && options.reduce_boxes_in_lowest_layer {
                aspect_ratios.extend([1.0, 2.0, 0.5]);
                scales.extend([0.1, scale, scale]);
            } else {
                for &ratio in &options.aspect_ratios {
                    aspect_ratios.push(ratio);
                    scales.push(scale);
                }
                if options.interpolated_scale_aspect_ratio > 0.0 {
                    let scale_next = if last_same_stride == num_layers - 1 {
                        1.0
                    } else {
                        calculate_scale(
                            options.min_scale,
                            options.max_scale,
                            last_same_stride + 1,
                            num_layers,
                        )
                    };
                    scales.push((scale * scale_next).sqrt());
                    aspect_ratios.push(options.interpolated_scale_aspect_ratio);
                }
            }
            last_same_stride += 1;
        }
        for (ratio, scale) in aspect_ratios.iter().zip(&scales) {
            let ratio_sqrt = ratio.sqrt();
            anchor_height.push(scale / ratio_sqrt);
            anchor_width.push(scale * ratio_sqrt);
        }

        let stride = options.strides[layer_id].max(1);
        let fm_height = options.input_height.div_ceil(stride);
        let fm_width = options.input_width.div_ceil(stride);
        for y in 0..fm_height {
            for x in 0..fm_width {
                for (w, h) in anchor_width.iter().zip(&anchor_height) {
                    let x_center = (x as f32 + options.anchor_offset_x) / fm_width as f32;
                    let y_center = (y as f32 + options.anchor_offset_y) / fm_height as f32;
                    let (width, height) = if options.fixed_anchor_size {
                        (1.0, 1.0)
                    } else {
                        (*w, *h)
                    };
                    anchors.push(Anchor {
                        x_center,
                        y_center,
                        width,
                        height,
                    });
                }
            }
        }
        layer_id = last_same_stride;
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pose_detector_has_2254_anchors() {
        let anchors = generate_anchors(&AnchorOptions::pose_detection());
        assert_eq!(anchors.len(), 2254);
        // First anchor: centre of the top-left cell of the 28×28 map, two per cell.
        assert!((anchors[0].x_center - 0.5 / 28.0).abs() < 1e-6);
        assert_eq!(anchors[0], anchors[1]);
        // The last 7×7 map carries 6 anchors per cell (three stride-32 layers).
        let last = anchors[2253];
        assert!((last.x_center - 6.5 / 7.0).abs() < 1e-6);
        assert!((last.y_center - 6.5 / 7.0).abs() < 1e-6);
        assert!(anchors.iter().all(|a| a.width == 1.0 && a.height == 1.0));
    }

    #[test]
    fn face_detector_has_896_anchors() {
        let anchors = generate_anchors(&AnchorOptions::face_detection_short_range());
        assert_eq!(anchors.len(), 896);
        assert!((anchors[512].x_center - 0.5 / 8.0).abs() < 1e-6);
    }
}
