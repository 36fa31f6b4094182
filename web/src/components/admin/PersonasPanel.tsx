import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/errors';
import type { Persona } from '../../api/types';
import { useApi } from '../../hooks/useApi';
import { ErrorNote } from '../ErrorNote';
import { useLoad } from './useLoad';

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0));

/** "Arms Crossed, Contrapposto" → ["Arms Crossed", "Contrapposto"], blanks and repeats dropped. */
/** A persona id: lower-case letters, digits, `-` and `_` (valid with the `v` flag: `-` escaped). */
export const PERSONA_ID_PATTERN = '[a-z0-9_\\-]+';

export function parsePoses(text: string): string[] {
  return [...new Set(text.split(',').map((p) => p.trim()).filter(Boolean))];
}

function PersonaRow({ p, onChanged }: { p: Persona; onChanged(): void }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
      onChanged();
    } catch (e) {
      setError(asError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="persona-admin" data-testid="persona-row" data-id={p.id}>
      <div className="persona-head">
        <strong>{p.name}</strong> <code>{p.id}</code> <span className="muted small">threshold {p.consistencyThreshold.toFixed(2)}</span>
        {confirming ? (
          <span className="confirm-delete">
            Delete {p.name}?{' '}
            <button type="button" className="danger small" disabled={busy} onClick={() => void run(() => api.deleteModel(p.id))}>
              Delete
            </button>{' '}
            <button type="button" className="small" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button type="button" className="link" onClick={() => setConfirming(true)} aria-label={`Delete persona ${p.name}`}>
            Delete
          </button>
        )}
      </div>
      <ul className="plain-list small">
        {p.poses.map((pose) => {
          const ref = p.poseReferences?.find((r) => r.pose === pose);
          return (
            <li key={pose} data-pose={pose} data-status={ref?.status ?? 'none'}>
              {pose}: <span className={`badge ${ref?.status ?? ''}`}>{ref?.status ?? 'no reference'}</span>{' '}
              <label className="file-button">
                {ref?.status ? 'Replace reference' : 'Upload reference'}
                <input
                  type="file"
                  accept="image/jpeg,image/png,image/webp"
                  className="visually-hidden-input"
                  disabled={busy}
                  aria-label={`Reference photo for ${p.name}, ${pose}`}
                  onChange={(e) => {
                    const f = e.target.files?.[0];
                    e.target.value = '';
                    if (f) void run(() => api.uploadPoseReference(p.id, pose, f));
                  }}
                />
              </label>
            </li>
          );
        })}
      </ul>
      <ErrorNote error={error} onDismiss={() => setError(null)} />
    </li>
  );
}

function NewPersonaForm({ onCreated }: { onCreated(): void }) {
  const api = useApi();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [poses, setPoses] = useState('');
  const [physique, setPhysique] = useState('');
  const [style, setStyle] = useState('');
  const [threshold, setThreshold] = useState(0.75);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const characteristics: Record<string, string> = {};
      if (physique.trim()) characteristics.physique = physique.trim();
      if (style.trim()) characteristics.style = style.trim();
      await api.createModel({ id: id.trim(), name: name.trim(), characteristics, poses: parsePoses(poses), consistencyThreshold: threshold });
      setId('');
      setName('');
      setPoses('');
      onCreated();
    } catch (err) {
      setError(asError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form-grid" onSubmit={submit} aria-label="New persona">
      {/* Browsers compile `pattern` with the `v` flag, where a bare `-` in a class is a syntax error (logged, and the check skipped). */}
      <label>
        Id <input type="text" value={id} onChange={(e) => setId(e.target.value)} required pattern={PERSONA_ID_PATTERN} title="lower-case letters, digits, - and _" />
      </label>
      <label>
        Name <input type="text" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        Poses (comma-separated) <input type="text" value={poses} onChange={(e) => setPoses(e.target.value)} required />
      </label>
      <label>
        Physique <input type="text" value={physique} onChange={(e) => setPhysique(e.target.value)} />
      </label>
      <label>
        Style <input type="text" value={style} onChange={(e) => setStyle(e.target.value)} />
      </label>
      <label>
        Consistency threshold <input type="number" min={0} max={1} step={0.05} value={threshold} onChange={(e) => setThreshold(Number(e.target.value))} />
      </label>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || parsePoses(poses).length === 0}>
          {busy ? 'Creating…' : 'Create persona'}
        </button>
      </div>
      <ErrorNote error={error} onDismiss={() => setError(null)} />
    </form>
  );
}

export function PersonasPanel() {
  const api = useApi();
  const list = useLoad(() => api.adminModels(), [api]);
  return (
    <section className="card panel" aria-labelledby="personas-title" data-testid="personas-panel">
      <h2 id="personas-title">Personas</h2>
      <ErrorNote error={list.error} />
      <ul className="plain-list">
        {list.data?.map((p) => <PersonaRow key={p.id} p={p} onChanged={list.reload} />)}
      </ul>
      {list.data && list.data.length === 0 && <p className="muted">No personas yet.</p>}
      <details>
        <summary>New persona</summary>
        <NewPersonaForm onCreated={list.reload} />
      </details>
    </section>
  );
}
