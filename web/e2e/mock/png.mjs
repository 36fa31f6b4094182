// A tiny PNG encoder for the contract fake (RGB, 8-bit, no dependencies).
import { deflateSync } from 'node:zlib';

const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** PNG of width×height; pixel(x, y) → [r, g, b]. */
export function png(width, height, pixel) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    raw[o++] = 0;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      raw[o++] = r;
      raw[o++] = g;
      raw[o++] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A red T-shirt with a white chest print on a light grey backdrop. */
export function garmentPng(w = 400, h = 480) {
  return png(w, h, (x, y) => {
    const cx = w / 2;
    const body = x > cx - 110 && x < cx + 110 && y > 90 && y < 440;
    const sleeves = y > 90 && y < 200 && x > cx - 190 && x < cx + 190 && y - 90 < 140 - Math.abs(Math.abs(x - cx) - 150);
    const neck = (x - cx) ** 2 + (y - 85) ** 2 < 40 ** 2;
    if ((body || sleeves) && !neck) {
      const print = x > cx - 45 && x < cx + 45 && y > 170 && y < 230;
      return print ? [245, 245, 245] : [196, 32, 44];
    }
    return [236, 236, 234];
  });
}

/** A stylised standing person on a plain wall. */
export function personPng(w = 360, h = 640) {
  return png(w, h, (x, y) => {
    const cx = w / 2;
    const head = (x - cx) ** 2 + (y - 90) ** 2 < 45 ** 2;
    const torso = Math.abs(x - cx) < 70 && y > 140 && y < 360;
    const legs = y >= 360 && y < 610 && Math.abs(Math.abs(x - cx) - 35) < 28;
    const arms = y > 150 && y < 340 && Math.abs(Math.abs(x - cx) - 95) < 18;
    if (head) return [224, 182, 150];
    if (torso) return [60, 90, 140];
    if (legs) return [40, 40, 48];
    if (arms) return [224, 182, 150];
    return [222, 218, 210];
  });
}

export function gradientPng(w, h, f) {
  return png(w, h, f);
}
