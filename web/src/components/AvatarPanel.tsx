import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import type { Avatar } from '../api/types';
import { ApiError } from '../api/errors';
import { useApi } from '../hooks/useApi';
import { useAuthedUrl } from '../hooks/useAuthedUrl';
import { useNow } from '../hooks/useNow';
import { when, shortId } from '../lib/format';
import { Dropzone } from './Dropzone';
import { ErrorNote } from './ErrorNote';

// three.js is most of the bundle: load it when a body is shown.
const BodyViewer = lazy(() => import('./BodyViewer').then((m) => ({ default: m.BodyViewer })));

const MAPS = ['depth', 'normal', 'parts', 'pose'] as const;
type MapName = (typeof MAPS)[number];

interface Props {
  selected: Avatar | null;
  onSelect(a: Avatar | null): void;
  /** An avatar holds credits when created and settles them when it ends: the balance moved. */
  onCreditsChanged?(): void;
}

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError('NETWORK', String(e), 0));

export function AvatarPanel({ selected, onSelect, onCreditsChanged }: Props) {
  const api = useApi();
  const [avatars, setAvatars] = useState<Avatar[]>([]);
  const [upload, setUpload] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [started, setStarted] = useState<Record<string, number>>({});
  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  const refresh = useCallback(async () => {
    try {
      const page = await api.listAvatars();
      setAvatars(page.items ?? []);
    } catch (e) {
      setError(asError(e));
    }
  }, [api]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // Poll every avatar still processing until it is ready or failed.
  const processing = avatars.filter((a) => a.status === 'processing').map((a) => a.id).join(',');
  useEffect(() => {
    if (!processing) return;
    const ids = processing.split(',');
    const t = setInterval(async () => {
      for (const id of ids) {
        try {
          const a = await api.getAvatar(id);
          setAvatars((list) => list.map((x) => (x.id === id ? a : x)));
          if (a.status !== 'processing') onCreditsChanged?.();
          if (selectedRef.current?.id === id) onSelect(a);
        } catch (e) {
          if (e instanceof ApiError && e.code === 'NOT_FOUND') setAvatars((list) => list.filter((x) => x.id !== id));
        }
      }
    }, 1500);
    return () => clearInterval(t);
  }, [api, processing, onSelect, onCreditsChanged]);

  const onFile = async (file: File) => {
    setError(null);
    setUpload(0);
    try {
      const created = await api.createAvatar(file, setUpload);
      const a: Avatar = { ...created, status: created.status ?? 'processing' };
      setStarted((s) => ({ ...s, [a.id]: Date.now() }));
      setAvatars((list) => [a, ...list.filter((x) => x.id !== a.id)]);
      onSelect(a);
      onCreditsChanged?.();
    } catch (e) {
      setError(asError(e));
    } finally {
      setUpload(null);
    }
  };

  const remove = async (a: Avatar) => {
    try {
      await api.deleteAvatar(a.id);
      setAvatars((list) => list.filter((x) => x.id !== a.id));
      if (selected?.id === a.id) onSelect(null);
    } catch (e) {
      setError(asError(e));
    }
  };

  return (
    <section className="card panel" aria-labelledby="avatar-title">
      <h2 id="avatar-title"><span className="step">1</span> Your photo</h2>
      <Dropzone label="Add a photo of yourself" hint="Full body, facing the camera. Drop it here or choose a file." onFile={onFile} disabled={upload != null} testId="avatar-drop" />
      {upload != null && (
        <div className="upload-progress">
          <label htmlFor="avatar-upload">Uploading</label>
          <progress id="avatar-upload" max={1} value={upload} />
        </div>
      )}
      <ErrorNote error={error} onDismiss={() => setError(null)} />

      {avatars.length > 0 && (
        <ul className="thumb-list" aria-label="Your avatars">
          {avatars.map((a) => (
            <AvatarThumb key={a.id} avatar={a} current={selected?.id === a.id} onPick={() => onSelect(a)} onDelete={() => remove(a)} />
          ))}
        </ul>
      )}

      {selected && <AvatarDetail key={selected.id} avatar={selected} startedAt={started[selected.id]} />}
    </section>
  );
}

function AvatarThumb({ avatar, current, onPick, onDelete }: { avatar: Avatar; current: boolean; onPick(): void; onDelete(): void }) {
  const api = useApi();
  const photo = useAuthedUrl(api.avatarFileUrl(avatar.id, 'photo'));
  const [asking, setAsking] = useState(false);
  return (
    <li className={`thumb${current ? ' current' : ''}`} data-status={avatar.status}>
      <button type="button" className="thumb-pick" onClick={onPick} aria-pressed={current} aria-label={`Avatar ${shortId(avatar.id)}, ${avatar.status}`}>
        {photo.url ? <img src={photo.url} alt="" /> : <span className="thumb-blank" />}
        <span className={`badge ${avatar.status}`}>{avatar.status}</span>
      </button>
      {asking ? (
        <span className="confirm-delete">
          <button type="button" className="danger small" onClick={onDelete}>Delete</button>
          <button type="button" className="link small" onClick={() => setAsking(false)}>Keep</button>
        </span>
      ) : (
        <button type="button" className="link small" onClick={() => setAsking(true)} aria-label={`Delete avatar ${shortId(avatar.id)}`}>
          Delete
        </button>
      )}
    </li>
  );
}

function AvatarDetail({ avatar, startedAt }: { avatar: Avatar; startedAt?: number }) {
  const api = useApi();
  const now = useNow(500, avatar.status === 'processing');
  const photo = useAuthedUrl(api.avatarFileUrl(avatar.id, 'photo'));
  const [maps, setMaps] = useState<Record<MapName, boolean>>({ depth: false, normal: false, parts: false, pose: false });
  const [opacity, setOpacity] = useState(0.6);
  const files = avatar.files ?? [];
  const has = (m: string) => files.length === 0 || files.includes(m);

  return (
    <div className="avatar-detail" data-testid="avatar-detail" data-status={avatar.status}>
      {avatar.status === 'processing' && (
        <div className="fit-progress" role="status" aria-live="polite" data-testid="avatar-progress">
          <span>
            {avatar.message ?? 'Fitting the 3D body to your photo…'}
            {startedAt ? ` ${Math.round((now - startedAt) / 1000)} s` : ''}
          </span>
          {typeof avatar.progress === 'number' ? (
            <progress max={100} value={avatar.progress} aria-label="Body fit progress" />
          ) : (
            <progress aria-label="Body fit progress" />
          )}
        </div>
      )}
      {avatar.status === 'failed' && <ErrorNote error={avatar.error ?? { code: 'BOD_012', message: 'The body fit failed.' }} />}

      <div className="avatar-views">
        <figure className="photo-stack" aria-label="Photo with guidance maps">
          {photo.url ? <img src={photo.url} alt="Your photo" className="base" /> : <div className="img-placeholder">Photo</div>}
          {avatar.status === 'ready' &&
            MAPS.filter((m) => maps[m] && has(m)).map((m) => <GuidanceLayer key={m} avatarId={avatar.id} name={m} opacity={opacity} />)}
          <figcaption className="sr-only">Your photo{MAPS.some((m) => maps[m]) ? ' with guidance maps' : ''}</figcaption>
        </figure>
        {avatar.status === 'ready' && (
          <Suspense fallback={<p className="viewer-status" role="status">Loading the 3D viewer…</p>}>
            <BodyViewer avatarId={avatar.id} />
          </Suspense>
        )}
      </div>

      {avatar.status === 'ready' && (
        <fieldset className="map-toggles">
          <legend>Guidance maps over the photo</legend>
          {MAPS.map((m) => (
            <label key={m} className="check">
              <input
                type="checkbox"
                checked={maps[m]}
                disabled={!has(m)}
                onChange={(e) => setMaps((s) => ({ ...s, [m]: e.target.checked }))}
              />{' '}
              {m}
            </label>
          ))}
          <label className="range">
            Opacity
            <input type="range" min={0.1} max={1} step={0.05} value={opacity} onChange={(e) => setOpacity(Number(e.target.value))} />
          </label>
        </fieldset>
      )}
      {avatar.createdAt && <p className="muted small">Added {when(avatar.createdAt)}</p>}
    </div>
  );
}

function GuidanceLayer({ avatarId, name, opacity }: { avatarId: string; name: string; opacity: number }) {
  const api = useApi();
  const img = useAuthedUrl(api.avatarFileUrl(avatarId, name));
  if (!img.url) return null;
  return <img src={img.url} alt={`${name} map`} className="overlay" style={{ opacity }} data-map={name} />;
}
