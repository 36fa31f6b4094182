import type { Quality, Tier } from '../api/types';
import { QUALITIES, TIERS, qualityCost, tierOf } from '../lib/quality';
import { pct } from '../lib/format';

interface Props {
  quality: Quality;
  tier: Tier;
  credits: number;
  onQuality(q: Quality): void;
  onTier(t: Tier): void;
}

export function QualityControls({ quality, tier, credits, onQuality, onTier }: Props) {
  const cost = qualityCost(quality);
  const t = tierOf(tier);
  const short = credits < cost;
  return (
    <div className="quality">
      <fieldset className="options">
        <legend>Render quality</legend>
        {QUALITIES.map((q) => (
          <label key={q.id} className={`option${quality === q.id ? ' chosen' : ''}`}>
            <input type="radio" name="quality" value={q.id} checked={quality === q.id} onChange={() => onQuality(q.id)} />
            <span className="option-title">{q.label}</span>
            <span className="option-meta">{q.credits} credits</span>
            <span className="option-desc">{q.description}</span>
          </label>
        ))}
      </fieldset>
      <fieldset className="options">
        <legend>Quality tier</legend>
        {TIERS.map((o) => (
          <label key={o.id} className={`option${tier === o.id ? ' chosen' : ''}`}>
            <input type="radio" name="tier" value={o.id} checked={tier === o.id} onChange={() => onTier(o.id)} />
            <span className="option-title">{o.label}</span>
            <span className="option-meta">{o.time} · {o.cost}</span>
            <span className="option-desc">{o.description}. Pass mark {pct(o.thresholds.overall)}.</span>
          </label>
        ))}
      </fieldset>
      <p className={`summary${short ? ' short' : ''}`} data-testid="cost-summary" aria-live="polite">
        This try-on costs <strong>{cost} credits</strong> ({credits} available
        {short ? ' — not enough' : `, ${credits - cost} left after`}); expect {t.time}. The {t.label.toLowerCase()} tier retries until its pass marks are met.
      </p>
    </div>
  );
}
