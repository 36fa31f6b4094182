//! A confusion matrix printed as a table, shared by the accuracy tests.

use std::collections::{BTreeMap, BTreeSet};

/// Counts of (truth, prediction) pairs, labels as strings.
#[derive(Default)]
pub struct Confusion {
    counts: BTreeMap<(String, String), usize>,
}

impl Confusion {
    pub fn add(&mut self, truth: impl Into<String>, predicted: impl Into<String>) {
        *self
            .counts
            .entry((truth.into(), predicted.into()))
            .or_default() += 1;
    }

    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    /// Right answers: the prediction equals the truth (a back view's type
    /// is labelled "<type> (back)"), or a detail shot was refused.
    pub fn hits(&self) -> usize {
        self.counts
            .iter()
            .filter(|((t, p), _)| {
                t == p || *t == format!("{p} (back)") || (t == "detail shot" && p == "refused")
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// Hits / total over the rows whose truth is `truth`.
    pub fn recall(&self, truth: &str) -> f32 {
        self.share(truth, truth)
    }

    /// The fraction of the rows whose truth is `truth` answered `predicted`.
    pub fn share(&self, truth: &str, predicted: &str) -> f32 {
        let row: Vec<(&String, usize)> = self
            .counts
            .iter()
            .filter(|((t, _), _)| t == truth)
            .map(|((_, p), n)| (p, *n))
            .collect();
        let n: usize = row.iter().map(|(_, n)| n).sum();
        let hit: usize = row
            .iter()
            .filter(|(p, _)| *p == predicted)
            .map(|(_, n)| n)
            .sum();
        if n == 0 { 0.0 } else { hit as f32 / n as f32 }
    }

    /// A Markdown table: rows are the truth, columns the prediction.
    pub fn table(&self, title: &str) -> String {
        let rows: BTreeSet<&String> = self.counts.keys().map(|(t, _)| t).collect();
        let cols: BTreeSet<&String> = self.counts.keys().map(|(_, p)| p).collect();
        let mut out = format!(
            "{title} ({} of {} right)\n\n| truth \\ analysis |",
            self.hits(),
            self.total()
        );
        for c in &cols {
            out.push_str(&format!(" {c} |"));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(cols.len()));
        out.push('\n');
        for r in &rows {
            out.push_str(&format!("| {r} |"));
            for c in &cols {
                let n = self
                    .counts
                    .get(&((*r).clone(), (*c).clone()))
                    .copied()
                    .unwrap_or(0);
                out.push_str(&if n == 0 {
                    " · |".to_string()
                } else {
                    format!(" {n} |")
                });
            }
            out.push('\n');
        }
        out
    }
}
