//! Person analysis from a photo with MediaPipe's models (converted to ONNX,
//! run by ONNX Runtime): 33 body landmarks in image and world space, a person
//! mask, and the face box with its 468-point mesh.
