//! The person side of a try-on: landmarks, masks and face from local models,
//! a parametric 3D body fitted to them, and the guidance maps rendered from it.
