//! TensorFlow Lite → ONNX importer: reads a `.tflite` flatbuffer and writes an
//! equivalent ONNX model. Usable on its own; knows nothing else of garmax.
