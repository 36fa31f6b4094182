//! The pure-Rust inference engine: `tract-onnx` runs the same ONNX files as
//! ONNX Runtime, with no native library to ship, at 2.5–5× the time. Built
//! only with the `tract` cargo feature (its cold build takes minutes).

use std::path::{Path, PathBuf};

use tract_onnx::prelude::*;

use crate::backend::{InferenceBackend, Model, NamedTensor, Tensor};
use crate::error::PersonError;

/// Loads models with tract; every model is optimised once at load time.
#[derive(Debug, Clone, Copy, Default)]
pub struct TractBackend;

struct TractModel {
    plan: Arc<TypedRunnableModel>,
    inputs: Vec<String>,
    outputs: Vec<String>,
    path: PathBuf,
}

impl InferenceBackend for TractBackend {
    fn load(&self, path: &Path) -> Result<Box<dyn Model>, PersonError> {
        if !path.is_file() {
            return Err(PersonError::AssetMissing {
                what: "ONNX model".into(),
                path: path.to_path_buf(),
            });
        }
        let err = |e: TractError| PersonError::Inference(format!("{}: {e:#}", path.display()));
        let model = tract_onnx::onnx().model_for_path(path).map_err(err)?;
        let typed = model.into_optimized().map_err(err)?;
        let inputs = typed
            .input_outlets()
            .map_err(err)?
            .iter()
            .map(|o| typed.node(o.node).name.clone())
            .collect();
        let outputs = typed
            .output_outlets()
            .map_err(err)?
            .iter()
            .map(|o| {
                typed
                    .outlet_label(*o)
                    .map(str::to_string)
                    .unwrap_or_else(|| typed.node(o.node).name.clone())
            })
            .collect();
        let plan = typed.into_runnable().map_err(err)?;
        Ok(Box::new(TractModel {
            plan,
            inputs,
            outputs,
            path: path.to_path_buf(),
        }))
    }
}

impl Model for TractModel {
    fn input_names(&self) -> Vec<String> {
        self.inputs.clone()
    }

    fn run(&self, inputs: &[(&str, &[usize], &[f32])]) -> Result<Vec<NamedTensor>, PersonError> {
        let err = |e: TractError| PersonError::Inference(format!("{}: {e:#}", self.path.display()));
        // tract takes inputs in the model's declared order.
        let mut ordered = TVec::new();
        for name in &self.inputs {
            let (_, shape, data) = inputs
                .iter()
                .find(|(n, _, _)| n == name)
                .ok_or_else(|| PersonError::Inference(format!("input {name} not given")))?;
            let tensor = tract_onnx::prelude::Tensor::from_shape(shape, data).map_err(err)?;
            ordered.push(tensor.into_tvalue());
        }
        let outputs = self.plan.run(ordered).map_err(err)?;
        outputs
            .iter()
            .zip(&self.outputs)
            .map(|(value, name)| {
                let view = value.to_plain_array_view::<f32>().map_err(err)?;
                Ok(NamedTensor {
                    name: name.clone(),
                    tensor: Tensor {
                        shape: view.shape().to_vec(),
                        data: view.iter().copied().collect(),
                    },
                })
            })
            .collect()
    }
}
