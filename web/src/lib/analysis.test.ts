import { describe, expect, it } from 'vitest';
import { humanize, readAnalysis } from './analysis';

// The shape `garmax analyze --json` serialises (GarmentAnalysis, camelCase).
const sample = {
  colors: {
    dominant: { r: 200, g: 30, b: 40, hex: '#c81e28', lab: { l: 43, a: 64, b: 40 } },
    palette: [
      { hex: '#ffffff', rgb: [255, 255, 255], lab: { l: 100, a: 0, b: 0 }, share: 0.1 },
      { hex: '#c81e28', rgb: [200, 30, 40], lab: { l: 43, a: 64, b: 40 }, share: 0.85 },
    ],
  },
  branding: {
    hasLogo: true,
    hasPrint: true,
    hasEmbroidery: false,
    hasHeatTransfer: false,
    confidence: 0.9,
    regions: [{ bbox: [10, 20, 30, 40], kind: 'print', kindConfidence: 0.7, areaShare: 0.05, ink: { l: 1, a: 0, b: 0 } }],
  },
  garmentType: 'tshirt',
  garmentTypeConfidence: 0.8,
  style: { fit: 'regular', neckline: 'crew', sleeveLength: 'three_quarter', confidence: { fit: 0.5, neckline: 0.6, sleeveLength: 0.7 } },
  confidence: 0.77,
  landmarks: {},
  mask: { source: 'background', areaShare: 0.4, bbox: [0, 0, 1, 1] },
  image: { width: 800, height: 1000, format: 'png' },
  features: {},
};

describe('readAnalysis', () => {
  it('reads the garmax shape', () => {
    const a = readAnalysis(sample);
    expect(a.garmentType).toBe('tshirt');
    expect(a.dominant).toBe('#c81e28');
    expect(a.palette.map((p) => p.hex)).toEqual(['#c81e28', '#ffffff']); // largest first
    expect(a.palette[0].share).toBeCloseTo(0.85);
    expect(a.logos).toEqual([{ x: 10, y: 20, w: 30, h: 40, kind: 'print', confidence: 0.7 }]);
    expect(a.branding.hasLogo).toBe(true);
    expect(a.confidence).toBe(0.77);
    expect(a.style).toEqual({ fit: 'regular', neckline: 'crew', sleeveLength: 'three_quarter' });
    expect(a.image).toEqual({ width: 800, height: 1000 });
  });
  it('survives missing or odd fields', () => {
    for (const raw of [undefined, null, 42, 'x', [], {}, { colors: null, branding: { regions: 'no' } }]) {
      const a = readAnalysis(raw);
      expect(a.palette).toEqual([]);
      expect(a.logos).toEqual([]);
      expect(a.dominant).toBeNull();
    }
  });
  it('accepts the seed-style variants', () => {
    const a = readAnalysis({
      type: 'hoodie',
      style: 'casual',
      colors: { dominant: '#00FF00', palette: [{ rgb: [0, 0, 255], share: 40 }, { nothing: true }] },
      branding: { regions: [{ bbox: { x: 1, y: 2, width: 3, height: 4 } }, { bbox: [0, 0, 0, 0] }] },
    });
    expect(a.garmentType).toBe('hoodie');
    expect(a.style.fit).toBe('casual');
    expect(a.dominant).toBe('#00ff00');
    expect(a.palette).toEqual([{ hex: '#0000ff', share: 0.4 }]);
    expect(a.logos).toHaveLength(1);
  });
  it('humanizes enum values', () => {
    expect(humanize('tshirt')).toBe('T-shirt');
    expect(humanize('three_quarter')).toBe('Three quarter');
    expect(humanize('none')).toBeNull();
  });
});

import real from './fixtures/garmax-analyze-tshirt.json';

describe('readAnalysis on real `garmax analyze --json` output', () => {
  it('reads type, style, colours and the logo box', () => {
    const a = readAnalysis(real);
    expect(a.garmentType).toBe('tshirt');
    expect(a.style).toEqual({ fit: 'regular', neckline: 'crew', sleeveLength: 'short' });
    expect(a.dominant).toBe('#c4202c');
    expect(a.palette[0].hex).toBe('#c4202c');
    expect(a.logos).toHaveLength(1);
    expect(a.logos[0]).toMatchObject({ x: 156, y: 171, w: 89, h: 59, kind: 'heat_transfer' });
    expect(a.image).toEqual({ width: 400, height: 480 });
  });
});
