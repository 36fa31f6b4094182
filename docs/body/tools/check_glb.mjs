// Dev-only check that body.glb loads in three.js and in the Khronos glTF
// validator, and that three's skeleton agrees with smpl.json.
//   npm install three gltf-validator   (in any scratch directory)
//   node check_glb.mjs <out-dir written by garmax body>
import * as THREE from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { createRequire } from 'module';
import fs from 'fs';

const dir = process.argv[2];
const buf = fs.readFileSync(`${dir}/body.glb`);
const smpl = JSON.parse(fs.readFileSync(`${dir}/smpl.json`));
const validator = createRequire(import.meta.url)('gltf-validator');
const report = await validator.validateBytes(new Uint8Array(buf));
console.log(`validator: ${report.issues.numErrors} errors, ${report.issues.numWarnings} warnings`);

const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
new GLTFLoader().parse(ab, '', (gltf) => {
  gltf.scene.updateMatrixWorld(true);
  let mesh;
  gltf.scene.traverse((o) => { if (o.isSkinnedMesh) mesh = o; });
  console.log(`three r${THREE.REVISION}: bones ${mesh.skeleton.bones.length}, vertices ${mesh.geometry.attributes.position.count}, morph targets ${Object.keys(mesh.morphTargetDictionary).length}`);
  // Bone world positions vs smpl.json joints (camera axes → glTF: y, z flipped).
  const pairs = [['pelvis', 0], ['thigh_l', 1], ['calf_l', 4], ['head', 15], ['lowerarm_r', 19], ['hand_l', 20]];
  let worst = 0;
  for (const [name, j] of pairs) {
    const bone = mesh.skeleton.bones.find((b) => b.name === name);
    if (!bone) continue;
    const p = new THREE.Vector3().setFromMatrixPosition(bone.matrixWorld);
    const c = smpl.joints_3d[j];
    worst = Math.max(worst, p.distanceTo(new THREE.Vector3(c[0], -c[1], -c[2])));
  }
  console.log(`max bone vs smpl.json joint distance: ${worst.toExponential(2)} m`);
}, (e) => { console.error(e); process.exit(1); });
