//! SSD detector output decoding and weighted non-maximum suppression, as
//! MediaPipe's `TensorsToDetectionsCalculator` and
//! `NonMaxSuppressionCalculator` (algorithm `WEIGHTED`) do them.

use crate::anchors::Anchor;

/// One detection: box and keypoints normalised to the detector input (or,
/// after [`remove_letterbox`], to the image).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Detection {
    pub score: f32,
    pub xmin: f32,
    pub ymin: f32,
    pub width: f32,
    pub height: f32,
    pub keypoints: Vec<(f32, f32)>,
}

impl Detection {
    fn xmax(&self) -> f32 {
        self.xmin + self.width
    }
    fn ymax(&self) -> f32 {
        self.ymin + self.height
    }
    /// Box area (normalised units).
    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }
}

/// `TensorsToDetectionsCalculatorOptions` as these detectors set them.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeOptions {
    pub num_coords: usize,
    pub num_keypoints: usize,
    /// Divisors of the raw offsets (the input size in pixels).
    pub x_scale: f32,
    pub y_scale: f32,
    pub w_scale: f32,
    pub h_scale: f32,
    pub score_clipping_thresh: f32,
    pub min_score_thresh: f32,
}

impl DecodeOptions {
    pub fn pose_detection(min_score: f32) -> Self {
        DecodeOptions {
            num_coords: 12,
            num_keypoints: 4,
            x_scale: 224.0,
            y_scale: 224.0,
            w_scale: 224.0,
            h_scale: 224.0,
            score_clipping_thresh: 100.0,
            min_score_thresh: min_score,
        }
    }

    pub fn face_detection_short_range(min_score: f32) -> Self {
        DecodeOptions {
            num_coords: 16,
            num_keypoints: 6,
            x_scale: 128.0,
            y_scale: 128.0,
            w_scale: 128.0,
            h_scale: 128.0,
            score_clipping_thresh: 100.0,
            min_score_thresh: min_score,
        }
    }
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Decodes raw boxes (`anchors.len() × num_coords`, order x, y, w, h then
/// keypoint x, y pairs — MediaPipe's `reverse_output_order`) and raw scores
/// (one logit per anchor) into detections above the score threshold.
pub fn decode(
    raw_boxes: &[f32],
    raw_scores: &[f32],
    anchors: &[Anchor],
    o: &DecodeOptions,
) -> Vec<Detection> {
    let mut out = Vec::new();
    let n = anchors
        .len()
        .min(raw_scores.len())
        .min(raw_boxes.len() / o.num_coords.max(1));
    for (i, a) in anchors.iter().enumerate().take(n) {
        let logit = raw_scores[i].clamp(-o.score_clipping_thresh, o.score_clipping_thresh);
        let score = sigmoid(logit);
        // NaN scores (a broken model) fail this test too.
        if score.is_nan() || score < o.min_score_thresh {
            continue;
        }
        let r = &raw_boxes[i * o.num_coords..(i + 1) * o.num_coords];
        let xc = r[0] / o.x_scale * a.width + a.x_center;
        let yc = r[1] / o.y_scale * a.height + a.y_center;
        let w = r[2] / o.w_scale * a.width;
        let h = r[3] / o.h_scale * a.height;
        let keypoints = (0..o.num_keypoints)
            .filter(|k| 4 + 2 * k + 1 < o.num_coords)
            .map(|k| {
                (
                    r[4 + 2 * k] / o.x_scale * a.width + a.x_center,
                    r[4 + 2 * k + 1] / o.y_scale * a.height + a.y_center,
                )
            })
            .collect();
        let d = Detection {
            score,
            xmin: xc - w / 2.0,
            ymin: yc - h / 2.0,
            width: w,
            height: h,
            keypoints,
        };
        if d.xmin.is_finite() && d.ymin.is_finite() && d.width.is_finite() && d.height.is_finite() {
            out.push(d);
        }
    }
    out
}

/// Intersection over union of two boxes; 0 when they do not overlap.
pub fn iou(a: &Detection, b: &Detection) -> f32 {
    let ix = (a.xmax().min(b.xmax()) - a.xmin.max(b.xmin)).max(0.0);
    let iy = (a.ymax().min(b.ymax()) - a.ymin.max(b.ymin)).max(0.0);
    let inter = ix * iy;
    if inter <= 0.0 {
        return 0.0;
    }
    let union = a.area() + b.area() - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// Weighted NMS: repeatedly take the best remaining detection, gather every
/// remaining one overlapping it by more than `iou_threshold` (itself
/// included), and replace it by their score-weighted mean box and keypoints,
/// keeping the best score. Output is ordered by score, best first.
pub fn weighted_nms(mut detections: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    // Stable sort: equal scores keep anchor order, as MediaPipe's sort does in
    // practice for these models.
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut remaining = detections;
    let mut out = Vec::new();
    while let Some(best) = remaining.first().cloned() {
        let (candidates, rest): (Vec<Detection>, Vec<Detection>) = remaining
            .into_iter()
            .partition(|d| iou(&best, d) > iou_threshold);
        remaining = rest;
        let mut merged = best.clone();
        let total: f32 = candidates.iter().map(|d| d.score).sum();
        if !candidates.is_empty() && total > 0.0 {
            let (mut xmin, mut ymin, mut xmax, mut ymax) = (0.0, 0.0, 0.0, 0.0);
            let mut kps = vec![(0.0f32, 0.0f32); best.keypoints.len()];
            for d in &candidates {
                xmin += d.xmin * d.score;
                ymin += d.ymin * d.score;
                xmax += d.xmax() * d.score;
                ymax += d.ymax() * d.score;
                for (acc, kp) in kps.iter_mut().zip(&d.keypoints) {
                    acc.0 += kp.0 * d.score;
                    acc.1 += kp.1 * d.score;
                }
            }
            merged.xmin = xmin / total;
            merged.ymin = ymin / total;
            merged.width = xmax / total - merged.xmin;
            merged.height = ymax / total - merged.ymin;
            merged.keypoints = kps
                .into_iter()
                .map(|(x, y)| (x / total, y / total))
                .collect();
        } else if candidates.is_empty() {
            // A degenerate (zero-area) box overlaps nothing, not even itself:
            // drop it from the queue so the loop always makes progress.
            remaining.retain(|d| d != &best);
        }
        out.push(merged);
    }
    out
}

/// Maps detections from the letterboxed tensor back to the image
/// (`DetectionLetterboxRemovalCalculator`). `pad` = left, top, right, bottom.
pub fn remove_letterbox(d: &mut Detection, pad: [f32; 4]) {
    let sx = 1.0 - pad[0] - pad[2];
    let sy = 1.0 - pad[1] - pad[3];
    if sx <= 0.0 || sy <= 0.0 {
        return;
    }
    d.xmin = (d.xmin - pad[0]) / sx;
    d.ymin = (d.ymin - pad[1]) / sy;
    d.width /= sx;
    d.height /= sy;
    for kp in &mut d.keypoints {
        kp.0 = (kp.0 - pad[0]) / sx;
        kp.1 = (kp.1 - pad[1]) / sy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(score: f32, x: f32, y: f32, s: f32) -> Detection {
        Detection {
            score,
            xmin: x,
            ymin: y,
            width: s,
            height: s,
            keypoints: vec![(x, y)],
        }
    }

    #[test]
    fn nms_merges_overlaps_and_keeps_separate_people() {
        let dets = vec![
            det(0.6, 0.12, 0.1, 0.2),
            det(0.9, 0.1, 0.1, 0.2),
            det(0.8, 0.7, 0.7, 0.2),
        ];
        let out = weighted_nms(dets, 0.3);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        // Weighted mean of xmin 0.1 (w 0.9) and 0.12 (w 0.6).
        let expected = (0.1 * 0.9 + 0.12 * 0.6) / 1.5;
        assert!((out[0].xmin - expected).abs() < 1e-6);
        assert!((out[0].keypoints[0].0 - expected).abs() < 1e-6);
        assert_eq!(out[1].score, 0.8);
    }

    #[test]
    fn nms_terminates_on_degenerate_boxes() {
        let dets = vec![det(0.9, 0.1, 0.1, 0.0), det(0.8, 0.1, 0.1, 0.0)];
        assert_eq!(weighted_nms(dets, 0.3).len(), 2);
    }

    #[test]
    fn iou_basics() {
        let a = det(1.0, 0.0, 0.0, 1.0);
        let b = det(1.0, 0.5, 0.0, 1.0);
        assert!((iou(&a, &b) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(iou(&a, &det(1.0, 2.0, 2.0, 1.0)), 0.0);
    }

    #[test]
    fn decode_applies_anchor_and_threshold() {
        let anchors = [Anchor {
            x_center: 0.5,
            y_center: 0.25,
            width: 1.0,
            height: 1.0,
        }; 2];
        let o = DecodeOptions {
            num_keypoints: 4,
            ..DecodeOptions::pose_detection(0.5)
        };
        let mut boxes = vec![0.0; 24];
        boxes[0] = 22.4; // +0.1 in x
        boxes[2] = 44.8; // width 0.2
        boxes[3] = 44.8;
        boxes[4] = -22.4; // first keypoint x = 0.4
        let out = decode(&boxes, &[3.0, -3.0], &anchors, &o);
        assert_eq!(out.len(), 1);
        assert!((out[0].xmin - 0.5).abs() < 1e-6);
        assert!((out[0].keypoints[0].0 - 0.4).abs() < 1e-6);
        assert!((out[0].score - sigmoid(3.0)).abs() < 1e-6);
    }

    #[test]
    fn letterbox_removal() {
        let mut d = det(1.0, 0.25, 0.5, 0.5);
        remove_letterbox(&mut d, [0.25, 0.0, 0.25, 0.0]);
        assert!((d.xmin - 0.0).abs() < 1e-6 && (d.width - 1.0).abs() < 1e-6);
        assert!((d.keypoints[0].0 - 0.0).abs() < 1e-6);
    }
}
