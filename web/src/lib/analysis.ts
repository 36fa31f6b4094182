// A defensive reading of `GarmentAnalysis` (crates/garmax-vision/src/
// analysis.rs, serde camelCase): every field may be missing or of another
// type, and the view gets plain, safe values.

export interface SwatchView {
  hex: string;
  share: number; // 0–1
}

export interface LogoBox {
  x: number;
  y: number;
  w: number;
  h: number;
  kind: string;
  confidence: number | null;
}

export interface AnalysisView {
  garmentType: string | null;
  garmentTypeConfidence: number | null;
  style: { fit: string | null; neckline: string | null; sleeveLength: string | null };
  dominant: string | null;
  palette: SwatchView[];
  branding: {
    hasLogo: boolean;
    hasPrint: boolean;
    hasEmbroidery: boolean;
    hasHeatTransfer: boolean;
    confidence: number | null;
  };
  logos: LogoBox[];
  confidence: number | null;
  image: { width: number; height: number } | null;
}

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const bool = (v: unknown): boolean => v === true;

const HEX = /^#?[0-9a-f]{6}$/i;

function hexOf(v: unknown): string | null {
  if (typeof v === 'string' && HEX.test(v)) return v.startsWith('#') ? v.toLowerCase() : `#${v.toLowerCase()}`;
  const o = obj(v);
  const h = str(o.hex);
  if (h && HEX.test(h)) return hexOf(h);
  const rgb = Array.isArray(o.rgb) ? o.rgb : [o.r, o.g, o.b];
  if (rgb.length === 3 && rgb.every((c) => typeof c === 'number')) {
    return (
      '#' +
      (rgb as number[])
        .map((c) => Math.max(0, Math.min(255, Math.round(c))).toString(16).padStart(2, '0'))
        .join('')
    );
  }
  return null;
}

function box(v: unknown): [number, number, number, number] | null {
  if (Array.isArray(v) && v.length === 4 && v.every((c) => typeof c === 'number' && Number.isFinite(c))) {
    return v as [number, number, number, number];
  }
  const o = obj(v);
  const x = num(o.x), y = num(o.y), w = num(o.width ?? o.w), h = num(o.height ?? o.h);
  return x != null && y != null && w != null && h != null ? [x, y, w, h] : null;
}

/** "three_quarter" → "three quarter", "tshirt" → "T-shirt". */
export function humanize(v: string | null): string | null {
  if (!v) return null;
  if (v === 'none') return null;
  if (v === 'tshirt') return 'T-shirt';
  const s = v.replace(/[_-]+/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function readAnalysis(raw: unknown): AnalysisView {
  const a = obj(raw);
  const colors = obj(a.colors);
  const style = obj(a.style);
  const branding = obj(a.branding);
  const image = obj(a.image);

  const palette: SwatchView[] = (Array.isArray(colors.palette) ? colors.palette : [])
    .map((p) => {
      const hex = hexOf(p);
      const share = num(obj(p).share);
      return hex ? { hex, share: share == null ? 0 : Math.max(0, Math.min(1, share > 1 ? share / 100 : share)) } : null;
    })
    .filter((p): p is SwatchView => p !== null)
    .sort((x, y) => y.share - x.share);

  const regions = Array.isArray(branding.regions) ? branding.regions : [];
  const logos: LogoBox[] = regions
    .map((r) => {
      const ro = obj(r);
      const b = box(ro.bbox);
      if (!b) return null;
      return { x: b[0], y: b[1], w: b[2], h: b[3], kind: str(ro.kind) ?? 'logo', confidence: num(ro.kindConfidence) };
    })
    .filter((b): b is LogoBox => b !== null && b.w > 0 && b.h > 0);

  // `style` is an object in garmax; the seed's JSON had a plain string.
  const styleString = str(a.style);
  const w = num(image.width), h = num(image.height);

  return {
    garmentType: str(a.garmentType) ?? str(a.type),
    garmentTypeConfidence: num(a.garmentTypeConfidence),
    style: {
      fit: str(style.fit) ?? styleString,
      neckline: str(style.neckline),
      sleeveLength: str(style.sleeveLength),
    },
    dominant: hexOf(colors.dominant) ?? palette[0]?.hex ?? null,
    palette,
    branding: {
      hasLogo: bool(branding.hasLogo),
      hasPrint: bool(branding.hasPrint),
      hasEmbroidery: bool(branding.hasEmbroidery),
      hasHeatTransfer: bool(branding.hasHeatTransfer),
      confidence: num(branding.confidence),
    },
    logos,
    confidence: num(a.confidence),
    image: w && h ? { width: w, height: h } : null,
  };
}
