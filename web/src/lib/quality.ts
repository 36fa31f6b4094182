import type { Quality, Tier } from '../api/types';

export interface QualityOption {
  id: Quality;
  label: string;
  credits: number;
  description: string;
}

/** Render quality → credit cost (the platform's price list). */
export const QUALITIES: QualityOption[] = [
  { id: 'sd', label: 'SD', credits: 10, description: 'Quick look, smaller image' },
  { id: 'hd', label: 'HD', credits: 15, description: 'Sharp, for sharing' },
  { id: '4k', label: '4K', credits: 25, description: 'Print and campaigns' },
];

export interface MetricThresholds {
  overall: number;
  face: number;
  pose: number;
  color: number;
  style: number;
  branding: number;
}

export interface TierOption {
  id: Tier;
  label: string;
  description: string;
  time: string;
  /** Typical seconds, for the ETA before the server sends one. */
  typicalSeconds: [number, number];
  cost: string;
  thresholds: MetricThresholds;
}

/** config/quality_tiers.toml (the seed's tiers). */
export const TIERS: TierOption[] = [
  {
    id: 'standard',
    label: 'Standard',
    description: 'Balanced quality and speed — general use, quick previews',
    time: '30–60 s',
    typicalSeconds: [30, 60],
    cost: '$',
    thresholds: { overall: 0.65, face: 0.65, pose: 0.55, color: 0.65, style: 0.55, branding: 0.75 },
  },
  {
    id: 'premium',
    label: 'Premium',
    description: 'Higher pass marks — marketing materials',
    time: '60–120 s',
    typicalSeconds: [60, 120],
    cost: '$$',
    thresholds: { overall: 0.75, face: 0.75, pose: 0.65, color: 0.75, style: 0.65, branding: 0.85 },
  },
  {
    id: 'ultra',
    label: 'Ultra',
    description: 'Strictest pass marks — professional campaigns',
    time: '120–300 s',
    typicalSeconds: [120, 300],
    cost: '$$$',
    thresholds: { overall: 0.85, face: 0.85, pose: 0.75, color: 0.85, style: 0.75, branding: 0.9 },
  },
];

export function qualityCost(q: Quality): number {
  return QUALITIES.find((o) => o.id === q)?.credits ?? 0;
}

export function tierOf(t: Tier | undefined): TierOption {
  return TIERS.find((o) => o.id === t) ?? TIERS[0];
}
