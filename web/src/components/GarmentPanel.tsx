import { useCallback, useEffect, useState } from 'react';
import type { Garment } from '../api/types';
import { ApiError } from '../api/errors';
import { useApi } from '../hooks/useApi';
import { useAuthedUrl } from '../hooks/useAuthedUrl';
import { readAnalysis, humanize, type AnalysisView } from '../lib/analysis';
import { pct, shortId } from '../lib/format';
import { Dropzone } from './Dropzone';
import { ErrorNote } from './ErrorNote';

interface Props {
  selected: Garment | null;
  onSelect(g: Garment | null): void;
}

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0));

export function GarmentPanel({ selected, onSelect }: Props) {
  const api = useApi();
  const [garments, setGarments] = useState<Garment[]>([]);
  const [upload, setUpload] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const refresh = useCallback(async () => {
    try {
      const page = await api.listGarments();
      setGarments(page.items ?? []);
    } catch (e) {
      setError(asError(e));
    }
  }, [api]);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const onFile = async (file: File) => {
    setError(null);
    setUpload(0);
    try {
      const g = await api.createGarment(file, setUpload);
      setGarments((list) => [g, ...list.filter((x) => x.id !== g.id)]);
      onSelect(g);
    } catch (e) {
      setError(asError(e));
    } finally {
      setUpload(null);
    }
  };

  return (
    <section className="card panel" aria-labelledby="garment-title">
      <h2 id="garment-title"><span className="step">2</span> Garment</h2>
      <Dropzone label="Add a product photo" hint="One whole garment on a plain background, or a cut-out PNG." onFile={onFile} disabled={upload != null} testId="garment-drop" />
      {upload != null && (
        <div className="upload-progress" role="status">
          <label htmlFor="garment-upload">{upload < 1 ? 'Uploading' : 'Analysing'}</label>
          <progress id="garment-upload" max={1} value={upload < 1 ? upload : undefined} />
        </div>
      )}
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      {garments.length > 0 && (
        <ul className="thumb-list" aria-label="Your garments">
          {garments.map((g) => (
            <GarmentThumb key={g.id} garment={g} current={selected?.id === g.id} onPick={() => onSelect(g)} />
          ))}
        </ul>
      )}
      {selected && <GarmentAnalysisView key={selected.id} garment={selected} />}
    </section>
  );
}

function GarmentThumb({ garment, current, onPick }: { garment: Garment; current: boolean; onPick(): void }) {
  const api = useApi();
  const img = useAuthedUrl(api.garmentImageUrl(garment.id));
  const type = humanize(readAnalysis(garment.analysis).garmentType) ?? 'Garment';
  return (
    <li className={`thumb${current ? ' current' : ''}`}>
      <button type="button" className="thumb-pick" onClick={onPick} aria-pressed={current} aria-label={`${type} ${shortId(garment.id)}`}>
        {img.url ? <img src={img.url} alt="" /> : <span className="thumb-blank" />}
      </button>
    </li>
  );
}

export function GarmentAnalysisView({ garment }: { garment: Garment }) {
  const api = useApi();
  const img = useAuthedUrl(api.garmentImageUrl(garment.id));
  const a: AnalysisView = readAnalysis(garment.analysis);
  const [natural, setNatural] = useState<{ width: number; height: number } | null>(null);
  const dims = a.image ?? natural;
  const [showBoxes, setShowBoxes] = useState(true);
  const branding = [
    a.branding.hasLogo && 'logo',
    a.branding.hasPrint && 'print',
    a.branding.hasEmbroidery && 'embroidery',
    a.branding.hasHeatTransfer && 'heat transfer',
  ].filter(Boolean) as string[];

  return (
    <div className="analysis" data-testid="garment-analysis">
      <figure className="photo-stack garment-photo">
        {img.url ? (
          <img
            src={img.url}
            alt="Product photo"
            className="base"
            onLoad={(e) => setNatural({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
          />
        ) : (
          <div className="img-placeholder">Product photo</div>
        )}
        {img.url && dims && showBoxes && a.logos.length > 0 && (
          <svg className="overlay boxes" viewBox={`0 0 ${dims.width} ${dims.height}`} preserveAspectRatio="none" aria-hidden="true">
            {a.logos.map((b, i) => (
              <g key={i}>
                <rect x={b.x} y={b.y} width={b.w} height={b.h} className="logo-box" data-testid="logo-box" />
              </g>
            ))}
          </svg>
        )}
        <figcaption className="sr-only">
          {a.logos.length} branding region{a.logos.length === 1 ? '' : 's'} marked
        </figcaption>
      </figure>

      <dl className="facts">
        <dt>Type</dt>
        <dd data-testid="garment-type">
          {humanize(a.garmentType) ?? 'Unknown'}
          {a.garmentTypeConfidence != null && <span className="muted small"> ({pct(a.garmentTypeConfidence)} sure)</span>}
        </dd>
        <dt>Style</dt>
        <dd data-testid="garment-style">
          {[humanize(a.style.fit) && `${humanize(a.style.fit)} fit`, humanize(a.style.neckline) && `${humanize(a.style.neckline)} neck`, humanize(a.style.sleeveLength) && `${humanize(a.style.sleeveLength)} sleeves`]
            .filter(Boolean)
            .join(', ') || '—'}
        </dd>
        <dt>Dominant colour</dt>
        <dd>
          {a.dominant ? (
            <span className="swatch-inline">
              <span className="swatch" style={{ background: a.dominant }} aria-hidden="true" /> <code>{a.dominant}</code>
            </span>
          ) : (
            '—'
          )}
        </dd>
        <dt>Branding</dt>
        <dd>
          {branding.length ? branding.join(', ') : 'none found'}
          {a.logos.length > 0 && (
            <label className="check inline">
              <input type="checkbox" checked={showBoxes} onChange={(e) => setShowBoxes(e.target.checked)} /> show {a.logos.length} box{a.logos.length === 1 ? '' : 'es'}
            </label>
          )}
        </dd>
        <dt>Confidence</dt>
        <dd data-testid="garment-confidence">{pct(a.confidence)}</dd>
      </dl>

      {a.palette.length > 0 && (
        <div className="palette" role="list" aria-label="Colour palette">
          {a.palette.map((s, i) => (
            <div key={i} className="palette-entry" role="listitem" style={{ flexGrow: Math.max(s.share, 0.04) }} title={`${s.hex} ${pct(s.share)}`}>
              <span className="palette-chip" style={{ background: s.hex }} />
              <span className="palette-label">
                <code>{s.hex}</code> {pct(s.share)}
              </span>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
