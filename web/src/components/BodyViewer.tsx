import { Suspense, useEffect, useMemo, useState } from 'react';
import { Canvas } from '@react-three/fiber';
import { OrbitControls } from '@react-three/drei';
import * as THREE from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { useApi } from '../hooks/useApi';
import { ApiError } from '../api/errors';
import { ErrorNote } from './ErrorNote';

interface Props {
  avatarId: string;
}

type Loaded = { scene: THREE.Object3D; height: number; morphs: number };

/** Parses a GLB from memory: no URL, no network, no decoders from a CDN. */
function parseGlb(buf: ArrayBuffer): Promise<Loaded> {
  return new Promise((resolve, reject) => {
    new GLTFLoader().parse(
      buf,
      '',
      (gltf) => {
        const root = gltf.scene;
        let morphs = 0;
        root.traverse((o) => {
          const m = o as THREE.Mesh;
          if (m.isMesh) {
            m.frustumCulled = false;
            if (m.morphTargetInfluences) morphs = Math.max(morphs, m.morphTargetInfluences.length);
            const mats = Array.isArray(m.material) ? m.material : [m.material];
            mats.forEach((mat) => {
              if (mat) mat.side = THREE.DoubleSide;
            });
          }
        });
        // The body sits where the photo's camera saw it: centre it on the
        // origin, feet on the ground, for the orbit controls.
        root.updateMatrixWorld(true);
        const box = new THREE.Box3().setFromObject(root);
        const size = box.getSize(new THREE.Vector3());
        const centre = box.getCenter(new THREE.Vector3());
        const holder = new THREE.Group();
        root.position.sub(new THREE.Vector3(centre.x, box.min.y, centre.z));
        holder.add(root);
        resolve({ scene: holder, height: size.y || 1.7, morphs });
      },
      (err) => reject(err),
    );
  });
}

export function BodyViewer({ avatarId }: Props) {
  const api = useApi();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [wire, setWire] = useState(false);

  useEffect(() => {
    let cancelled = false;
    setLoaded(null);
    setError(null);
    api
      .arrayBuffer(api.avatarFileUrl(avatarId, 'body.glb'))
      .then(parseGlb)
      .then((l) => !cancelled && setLoaded(l))
      .catch((e: unknown) => {
        if (cancelled) return;
        setError(e instanceof ApiError ? e : new ApiError('GLB', `The body model could not be read: ${String(e)}`, 0));
      });
    return () => {
      cancelled = true;
    };
  }, [api, avatarId]);

  useEffect(() => {
    loaded?.scene.traverse((o) => {
      const m = o as THREE.Mesh;
      if (m.isMesh) {
        const mats = Array.isArray(m.material) ? m.material : [m.material];
        mats.forEach((mat) => {
          if (mat && 'wireframe' in mat) (mat as THREE.MeshStandardMaterial).wireframe = wire;
        });
      }
    });
  }, [loaded, wire]);

  const h = loaded?.height ?? 1.7;
  const camera = useMemo(() => ({ position: [0, h * 0.6, h * 1.9] as [number, number, number], fov: 40, near: 0.01, far: 100 }), [h]);

  const state = error ? 'error' : loaded ? 'ready' : 'loading';
  return (
    <section className="body-viewer" aria-label="Fitted 3D body" data-testid="body-viewer" data-state={state}>
      <div className="viewer-frame">
        {loaded && (
          <Canvas
            camera={camera}
            gl={{ preserveDrawingBuffer: true, antialias: true }}
            aria-label="3D body, drag to orbit, scroll to zoom"
            role="img"
          >
            <color attach="background" args={['#f3f1ee']} />
            <hemisphereLight args={['#ffffff', '#b9b2a8', 1.1]} />
            <directionalLight position={[2, 4, 3]} intensity={1.6} />
            <directionalLight position={[-3, 2, -2]} intensity={0.5} />
            <Suspense fallback={null}>
              <primitive object={loaded.scene} />
            </Suspense>
            <gridHelper args={[2, 10, '#c9c3ba', '#e2ddd6']} />
            <OrbitControls target={[0, h * 0.5, 0]} enablePan={false} minDistance={h * 0.6} maxDistance={h * 5} makeDefault />
          </Canvas>
        )}
        {state === 'loading' && <p className="viewer-status" role="status">Loading the 3D body…</p>}
        {error && <ErrorNote error={error} />}
      </div>
      <div className="viewer-tools">
        <label className="check">
          <input type="checkbox" checked={wire} onChange={(e) => setWire(e.target.checked)} disabled={!loaded} /> Wireframe
        </label>
        {loaded && loaded.morphs > 0 && <span className="muted small">{loaded.morphs} shape targets (fitted β applied)</span>}
      </div>
    </section>
  );
}
