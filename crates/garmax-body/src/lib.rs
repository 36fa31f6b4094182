//! The 3D body of a try-on: a parametric human model on the MakeHuman CC0
//! assets (SMPL-compatible at its interface), fitted to a person's landmarks
//! and mask, rasterised into guidance maps and exported as glTF.
