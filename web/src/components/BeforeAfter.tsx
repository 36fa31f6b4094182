import { useState } from 'react';

interface Props {
  before: string | null;
  after: string | null;
  beforeLabel?: string;
  afterLabel?: string;
}

/** Photo vs result: a slider (keyboard: the range input) or side by side, with zoom. */
export function BeforeAfter({ before, after, beforeLabel = 'Your photo', afterLabel = 'Try-on' }: Props) {
  const [mode, setMode] = useState<'slider' | 'side'>('slider');
  const [split, setSplit] = useState(50);
  const [zoom, setZoom] = useState(1);
  return (
    <div className="before-after" data-testid="before-after">
      <div className="ba-tools" role="group" aria-label="Comparison view">
        <button type="button" aria-pressed={mode === 'slider'} onClick={() => setMode('slider')}>Slider</button>
        <button type="button" aria-pressed={mode === 'side'} onClick={() => setMode('side')}>Side by side</button>
        <label className="range">
          Zoom
          <input type="range" min={1} max={3} step={0.25} value={zoom} onChange={(e) => setZoom(Number(e.target.value))} />
          <span className="small">{zoom.toFixed(2).replace(/\.?0+$/, '')}×</span>
        </label>
      </div>
      {mode === 'slider' ? (
        <div className="ba-frame">
          <div className="ba-zoom" style={{ transform: `scale(${zoom})` }}>
            {after ? <img src={after} alt={afterLabel} className="ba-img" data-testid="preview-image" /> : <div className="img-placeholder">{afterLabel}</div>}
            {before && (
              <div className="ba-before" style={{ clipPath: `inset(0 ${100 - split}% 0 0)` }}>
                <img src={before} alt={beforeLabel} className="ba-img" />
              </div>
            )}
            <div className="ba-divider" style={{ left: `${split}%` }} aria-hidden="true" />
          </div>
          <label className="ba-split">
            <span className="sr-only">Show more of {beforeLabel} or {afterLabel}</span>
            <input type="range" min={0} max={100} value={split} onChange={(e) => setSplit(Number(e.target.value))} />
          </label>
          <div className="ba-captions" aria-hidden="true">
            <span>{beforeLabel}</span>
            <span>{afterLabel}</span>
          </div>
        </div>
      ) : (
        <div className="ba-side">
          {[
            [before, beforeLabel],
            [after, afterLabel],
          ].map(([src, label]) => (
            <figure key={label}>
              <div className="ba-scroll">
                {src ? <img src={src} alt={label ?? ''} style={{ width: `${zoom * 100}%` }} data-testid={label === afterLabel ? 'preview-image' : undefined} /> : <div className="img-placeholder">{label}</div>}
              </div>
              <figcaption>{label}</figcaption>
            </figure>
          ))}
        </div>
      )}
    </div>
  );
}
