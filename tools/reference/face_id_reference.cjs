// Reference embeddings for garmax-person's face identity model, computed by
// face-api's own FaceRecognitionNet on real TF.js.
//
// Setup (npm registry only), in a scratch directory:
//   npm pack @vladmandic/face-api@1.7.15 && tar xzf vladmandic-face-api-1.7.15.tgz
//   npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0 jpeg-js@0.4.4
// (face-api's `dist/face-api.node-wasm.js` requires both tfjs packages; the
// CPU backend of @tensorflow/tfjs is the one used.)
//
// Three steps make crates/garmax-person/tests/fixtures/face_id_reference.json:
//   1. node face_id_reference.cjs points <assets> points.json
//      face-api's SSD MobileNet v1 + 68-point landmarks on the photos below
//      (paths inside the garmax asset cache's assets/ directory); the five
//      points (eye centres, nose tip, mouth corners) of every face.
//   2. cargo run --release -p garmax-person --example face_id -- crops points.json <assets> crops/
//      garmax aligns each face to the 112 × 112 template and writes the raw
//      RGB crop (<id>.rgb), from the photo as image-rs decodes it.
//   3. node face_id_reference.cjs embed points.json crops/ face_id_reference.json
//      face-api's faceRecognitionNet.computeFaceDescriptor on each crop.
//
// Run with NODE_PATH=<scratch>/node_modules FACE_API=<scratch>/package.

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const faceapi = require(path.join(process.env.FACE_API || './package', 'dist/face-api.node-wasm.js'));
const jpeg = require('jpeg-js');

// Photos of people in registry packages. `person` names who is shown when
// a package says so (face_recognition's test images); faces of the face-api
// demo photos get one label per face (assumed to be different people).
// face_recognition's 32bit.png repeats obama.jpg and obama_partial_face*.jpg
// are crops of obama2.jpg, so they are left out: same-person pairs must come
// from different photos.
const PHOTOS = [
  { photo: 'face_recognition/face_recognition-1.3.0/tests/test_images/obama.jpg', person: 'obama' },
  { photo: 'face_recognition/face_recognition-1.3.0/tests/test_images/obama2.jpg', person: 'obama' },
  { photo: 'face_recognition/face_recognition-1.3.0/tests/test_images/obama3.jpg', person: 'obama' },
  { photo: 'face_recognition/face_recognition-1.3.0/tests/test_images/biden.jpg', person: 'biden' },
  ...[1, 2, 3, 4, 5, 6].map((k) => ({ photo: `face-api/package/demo/sample${k}.jpg`, person: null })),
];

const MIN_CONFIDENCE = 0.5;

function fnv1a64(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

function decodeRgb(file) {
  const img = jpeg.decode(fs.readFileSync(file), { useTArray: true, formatAsRGBA: true });
  const rgb = new Int32Array(img.width * img.height * 3);
  for (let i = 0, j = 0; i < img.data.length; i += 4) {
    rgb[j++] = img.data[i];
    rgb[j++] = img.data[i + 1];
    rgb[j++] = img.data[i + 2];
  }
  return tf.tensor3d(rgb, [img.height, img.width, 3], 'int32');
}

const mean = (pts) => [pts.reduce((s, p) => s + p.x, 0) / pts.length, pts.reduce((s, p) => s + p.y, 0) / pts.length];

// Eye centres (image left first: the subject's right eye), nose tip, mouth
// corners, from the 68-point layout.
function fivePoints(landmarks) {
  const p = landmarks.positions;
  return [mean(p.slice(36, 42)), mean(p.slice(42, 48)), [p[30].x, p[30].y], [p[48].x, p[48].y], [p[54].x, p[54].y]];
}

async function loadNets(which) {
  await tf.setBackend('cpu');
  await tf.ready();
  const dir = path.join(process.env.FACE_API || './package', 'model');
  for (const net of which) await faceapi.nets[net].loadFromDisk(dir);
}

async function points(assets, out) {
  await loadNets(['ssdMobilenetv1', 'faceLandmark68Net']);
  const faces = [];
  for (const { photo, person } of PHOTOS) {
    const input = decodeRgb(path.join(assets, photo));
    const found = await faceapi
      .detectAllFaces(input, new faceapi.SsdMobilenetv1Options({ minConfidence: MIN_CONFIDENCE }))
      .withFaceLandmarks();
    input.dispose();
    // A labelled photo shows one person: keep its largest face.
    const kept = person
      ? found.sort((a, b) => b.detection.box.area - a.detection.box.area).slice(0, 1)
      : found.sort((a, b) => a.detection.box.x - b.detection.box.x);
    const stem = path.basename(photo, path.extname(photo));
    kept.forEach((f, i) => {
      const id = `${stem}-${i}`;
      faces.push({
        id,
        photo,
        person: person || id,
        score: Number(f.detection.score.toFixed(4)),
        points: fivePoints(f.landmarks).map(([x, y]) => [Number(x.toFixed(3)), Number(y.toFixed(3))]),
      });
    });
    console.error(`${photo}: ${found.length} faces, kept ${kept.length}`);
  }
  fs.writeFileSync(out, JSON.stringify(faces, null, 1));
}

async function embed(pointsFile, crops, out) {
  await loadNets(['faceRecognitionNet']);
  const faces = JSON.parse(fs.readFileSync(pointsFile));
  for (const face of faces) {
    const bytes = fs.readFileSync(path.join(crops, `${face.id}.rgb`));
    if (bytes.length !== 112 * 112 * 3) throw new Error(`${face.id}.rgb: ${bytes.length} bytes`);
    face.crop_fnv1a64 = fnv1a64(bytes);
    const input = tf.tensor3d(Int32Array.from(bytes), [112, 112, 3], 'int32');
    const descriptor = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(input);
    input.dispose();
    face.embedding = Array.from(descriptor, (v) => Number(v.toPrecision(7)));
  }
  const head = {
    made_by: 'tools/reference/face_id_reference.cjs (face-api 1.7.15 faceRecognitionNet, TF.js CPU backend)',
    tfjs: tf.version.tfjs,
    crop: '112x112 RGB aligned to garmax_quality::face::TEMPLATE by garmax_person::align_face',
  };
  // One face per line keeps the fixture small and its diffs readable.
  const fields = Object.entries(head).map(([k, v]) => ` ${JSON.stringify(k)}: ${JSON.stringify(v)},\n`);
  const list = faces.map((f) => JSON.stringify(f)).join(',\n  ');
  fs.writeFileSync(out, `{\n${fields.join('')} "faces": [\n  ${list}\n ]\n}\n`);
}

const [mode, ...args] = process.argv.slice(2);
const run = { points: () => points(args[0], args[1]), embed: () => embed(args[0], args[1], args[2]) }[mode];
if (!run || args.length < 2) {
  console.error('usage: face_id_reference.cjs points <assets> <points.json> | embed <points.json> <crops> <out.json>');
  process.exit(2);
}
run().catch((e) => {
  console.error(e);
  process.exit(1);
});
