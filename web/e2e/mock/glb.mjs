// A minimal body.glb for the fake: a capsule-ish stack of boxes (positions,
// normals, indices) with one morph target, like the real file's β targets.
function boxes(parts) {
  const pos = [], nor = [], idx = [], morph = [];
  for (const [cx, cy, cz, sx, sy, sz] of parts) {
    const faces = [
      [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[-1, 0, 0], [0, 0, 1], [0, 1, 0]],
      [[0, 1, 0], [0, 0, 1], [1, 0, 0]], [[0, -1, 0], [1, 0, 0], [0, 0, 1]],
      [[0, 0, 1], [1, 0, 0], [0, 1, 0]], [[0, 0, -1], [0, 1, 0], [1, 0, 0]],
    ];
    for (const [n, u, v] of faces) {
      const base = pos.length / 3;
      for (const [a, b] of [[-1, -1], [1, -1], [1, 1], [-1, 1]]) {
        const p = [0, 1, 2].map((k) => n[k] + a * u[k] + b * v[k]);
        pos.push(cx + (p[0] * sx) / 2, cy + (p[1] * sy) / 2, cz + (p[2] * sz) / 2);
        nor.push(...n);
        morph.push(p[0] * 0.05, 0, p[2] * 0.05);
      }
      idx.push(base, base + 1, base + 2, base, base + 2, base + 3);
    }
  }
  return { pos, nor, idx, morph };
}

export function bodyGlb() {
  const { pos, nor, idx, morph } = boxes([
    [0, 1.6, 0, 0.2, 0.24, 0.22], // head
    [0, 1.2, 0, 0.42, 0.55, 0.22], // torso
    [-0.28, 1.2, 0, 0.1, 0.55, 0.1], // arms
    [0.28, 1.2, 0, 0.1, 0.55, 0.1],
    [-0.11, 0.46, 0, 0.15, 0.9, 0.15], // legs
    [0.11, 0.46, 0, 0.15, 0.9, 0.15],
  ]);
  const f32 = (a) => Buffer.from(new Float32Array(a).buffer);
  const u16 = Buffer.from(new Uint16Array(idx).buffer);
  const pad = (b) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const views = [f32(pos), f32(nor), f32(morph), pad(u16)];
  let off = 0;
  const bufferViews = views.map((v) => {
    const bv = { buffer: 0, byteOffset: off, byteLength: v.length };
    off += v.length;
    return bv;
  });
  const min = [0, 1, 2].map((k) => Math.min(...pos.filter((_, i) => i % 3 === k)));
  const max = [0, 1, 2].map((k) => Math.max(...pos.filter((_, i) => i % 3 === k)));
  const n = pos.length / 3;
  const json = {
    asset: { version: '2.0', generator: 'garmax studio fake' },
    scene: 0,
    scenes: [{ nodes: [0] }],
    nodes: [{ mesh: 0, name: 'body' }],
    meshes: [{
      name: 'body',
      primitives: [{ attributes: { POSITION: 0, NORMAL: 1 }, indices: 3, targets: [{ POSITION: 2 }], material: 0 }],
      weights: [0.5],
      extras: { targetNames: ['beta0'] },
    }],
    materials: [{ pbrMetallicRoughness: { baseColorFactor: [0.78, 0.66, 0.58, 1], metallicFactor: 0, roughnessFactor: 0.8 } }],
    accessors: [
      { bufferView: 0, componentType: 5126, count: n, type: 'VEC3', min, max },
      { bufferView: 1, componentType: 5126, count: n, type: 'VEC3' },
      { bufferView: 2, componentType: 5126, count: n, type: 'VEC3', min: [-0.05, 0, -0.05], max: [0.05, 0, 0.05] },
      { bufferView: 3, componentType: 5123, count: idx.length, type: 'SCALAR' },
    ],
    bufferViews,
    buffers: [{ byteLength: off }],
  };
  let jsonBuf = Buffer.from(JSON.stringify(json));
  jsonBuf = Buffer.concat([jsonBuf, Buffer.alloc((4 - (jsonBuf.length % 4)) % 4, 0x20)]);
  const bin = Buffer.concat(views);
  const header = Buffer.alloc(12);
  header.writeUInt32LE(0x46546c67, 0);
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(12 + 8 + jsonBuf.length + 8 + bin.length, 8);
  const ch = (type, data) => {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(data.length, 0);
    h.writeUInt32LE(type, 4);
    return Buffer.concat([h, data]);
  };
  return Buffer.concat([header, ch(0x4e4f534a, jsonBuf), ch(0x004e4942, bin)]);
}
