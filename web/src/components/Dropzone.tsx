import { useId, useRef, useState, type DragEvent } from 'react';

interface Props {
  label: string;
  hint?: string;
  accept?: string;
  disabled?: boolean;
  onFile(file: File): void;
  testId?: string;
}

const IMAGE_TYPES = 'image/jpeg,image/png,image/webp';

/** Drag-and-drop or click/Enter to pick one image file. */
export function Dropzone({ label, hint, accept = IMAGE_TYPES, disabled, onFile, testId }: Props) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);

  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (disabled) return;
    const f = e.dataTransfer.files?.[0];
    if (f) onFile(f);
  };

  return (
    <div
      className={`dropzone${over ? ' over' : ''}${disabled ? ' disabled' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
      data-testid={testId}
    >
      <label htmlFor={id} className="dropzone-label">
        <span className="dropzone-title">{label}</span>
        <span className="dropzone-hint">{hint ?? 'Drop an image here, or choose a file (JPEG, PNG, WebP)'}</span>
      </label>
      <input
        ref={input}
        id={id}
        type="file"
        accept={accept}
        disabled={disabled}
        className="visually-hidden-input"
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) onFile(f);
          e.target.value = '';
        }}
      />
    </div>
  );
}
