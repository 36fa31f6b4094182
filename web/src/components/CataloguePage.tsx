import { useEffect, useState } from 'react';
import { ApiError } from '../api/errors';
import type { Persona, Tier } from '../api/types';
import { useApi } from '../hooks/useApi';
import { useAuthedUrl } from '../hooks/useAuthedUrl';
import { firstRenderable, renderablePoses } from '../lib/enhanced';
import { pct } from '../lib/format';
import { TIERS } from '../lib/quality';
import { Dropzone } from './Dropzone';
import { ErrorNote } from './ErrorNote';
import { EnhancedModal } from './EnhancedModal';

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0));

function PersonaCard({ p, chosen, onChoose }: { p: Persona; chosen: boolean; onChoose(): void }) {
  const api = useApi();
  const firstReady = renderablePoses(p)[0];
  const thumb = useAuthedUrl(firstReady ? api.poseReferenceUrl(p.id, firstReady) : null);
  const usable = !!firstReady;
  return (
    <label className={`option persona${chosen ? ' chosen' : ''}${usable ? '' : ' unusable'}`} data-testid="persona" data-id={p.id}>
      <input type="radio" name="persona" value={p.id} checked={chosen} onChange={onChoose} disabled={!usable} />
      {thumb.url ? <img src={thumb.url} alt="" className="persona-thumb" /> : <span className="persona-thumb img-placeholder" aria-hidden="true" />}
      <span className="option-title">{p.name}</span>
      <span className="option-desc">
        {Object.values(p.characteristics ?? {}).join(' · ') || '—'}
        {!usable && ' (no pose with a reference photo yet)'}
      </span>
    </label>
  );
}

export function CataloguePage({ onChanged }: { onChanged(): void }) {
  const api = useApi();
  const [personas, setPersonas] = useState<Persona[] | null>(null);
  const [modelId, setModelId] = useState<string | null>(null);
  const [pose, setPose] = useState<string | null>(null);
  const [product, setProduct] = useState<File | null>(null);
  const [productUrl, setProductUrl] = useState<string | null>(null);
  const [tier, setTier] = useState<Tier>('standard');
  const [retry, setRetry] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);

  useEffect(() => {
    api
      .models()
      .then((list) => {
        setPersonas(list);
        const first = firstRenderable(list);
        if (first) {
          setModelId(first.modelId);
          setPose(first.pose);
        }
      })
      .catch((e) => setError(asError(e)));
  }, [api]);

  // A local preview of the product photo, before anything is uploaded.
  useEffect(() => {
    if (!product) return;
    const u = URL.createObjectURL(product);
    setProductUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [product]);

  const persona = personas?.find((p) => p.id === modelId) ?? null;
  const choosePersona = (p: Persona) => {
    setModelId(p.id);
    setPose(renderablePoses(p)[0] ?? null);
  };

  const generate = async () => {
    if (!product || !modelId || !pose) return;
    setBusy(true);
    setError(null);
    try {
      const job = await api.generateEnhanced({ productImage: product, modelId, pose, qualityTier: tier, enableRetry: retry });
      setJobId(job.jobId);
    } catch (e) {
      setError(asError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" tabIndex={-1} className="studio" data-testid="catalogue-page">
      <h1>Catalogue try-on</h1>
      <p className="muted">Dress a catalogue persona in a product photo. A catalogue generation needs no approval and holds no credits.</p>
      <section className="card panel" aria-labelledby="persona-title">
        <h2 id="persona-title"><span className="step">1</span> Persona and pose</h2>
        {!personas && !error && <p role="status">Loading the catalogue…</p>}
        {personas && personas.length === 0 && <p className="muted">The catalogue is empty; an admin adds personas in the dashboard.</p>}
        {personas && personas.length > 0 && (
          <fieldset className="options persona-grid">
            <legend>Persona</legend>
            {personas.map((p) => (
              <PersonaCard key={p.id} p={p} chosen={p.id === modelId} onChoose={() => choosePersona(p)} />
            ))}
          </fieldset>
        )}
        {persona && (
          <fieldset className="options" data-testid="poses">
            <legend>Pose of {persona.name}</legend>
            {persona.poses.map((name) => {
              const ready = renderablePoses(persona).includes(name);
              return (
                <label key={name} className={`option${pose === name ? ' chosen' : ''}`}>
                  <input type="radio" name="pose" value={name} checked={pose === name} disabled={!ready} onChange={() => setPose(name)} />
                  <span className="option-title">{name}</span>
                  {!ready && <span className="option-desc">no reference photo yet</span>}
                </label>
              );
            })}
          </fieldset>
        )}
      </section>
      <section className="card panel" aria-labelledby="product-title">
        <h2 id="product-title"><span className="step">2</span> Product photo</h2>
        <Dropzone label="Product photo" onFile={setProduct} testId="product-drop" />
        {productUrl && <img src={productUrl} alt={`Product: ${product?.name ?? ''}`} className="product-preview" />}
      </section>
      <section className="card panel" aria-labelledby="catalogue-quality-title">
        <h2 id="catalogue-quality-title"><span className="step">3</span> Quality</h2>
        <fieldset className="options">
          <legend>Quality tier</legend>
          {TIERS.map((o) => (
            <label key={o.id} className={`option${tier === o.id ? ' chosen' : ''}`}>
              <input type="radio" name="catalogue-tier" value={o.id} checked={tier === o.id} onChange={() => setTier(o.id)} />
              <span className="option-title">{o.label}</span>
              <span className="option-meta">{o.time}</span>
              <span className="option-desc">Pass mark {pct(o.thresholds.overall)}.</span>
            </label>
          ))}
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={retry} onChange={(e) => setRetry(e.target.checked)} /> Retry until the pass marks are met
        </label>
        <div className="actions">
          <button type="button" className="primary large" onClick={() => void generate()} disabled={!product || !pose || busy} data-testid="generate">
            {busy ? 'Starting…' : 'Generate'}
          </button>
          {!pose && personas && <span className="muted small">Pick a persona and a pose.</span>}
          {pose && !product && <span className="muted small">Add a product photo.</span>}
        </div>
        <ErrorNote error={error} onDismiss={() => setError(null)} />
      </section>
      {jobId && (
        <EnhancedModal
          key={jobId}
          jobId={jobId}
          tier={tier}
          onClose={() => {
            setJobId(null);
            onChanged();
          }}
        />
      )}
    </main>
  );
}
