import type { ReactNode } from 'react';

/**
 * The box around a table that may scroll sideways on a phone. It is a named,
 * focusable region so that a keyboard user can scroll it too (axe rule
 * scrollable-region-focusable).
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
