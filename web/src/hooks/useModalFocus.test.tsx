// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useRef, useState } from 'react';
import { useModalFocus, wrapTarget } from './useModalFocus';

afterEach(cleanup);

describe('wrapTarget', () => {
  const l = ['a', 'b', 'c'];
  it('wraps Tab from the last to the first and Shift+Tab from the first to the last', () => {
    expect(wrapTarget(l, 'c', false)).toBe('a');
    expect(wrapTarget(l, 'a', true)).toBe('c');
  });
  it('leaves moves inside the list to the browser', () => {
    expect(wrapTarget(l, 'a', false)).toBeNull();
    expect(wrapTarget(l, 'b', true)).toBeNull();
  });
  it('enters at an end when focus is on the dialog itself', () => {
    expect(wrapTarget(l, null, false)).toBe('a');
    expect(wrapTarget(l, null, true)).toBe('c');
    expect(wrapTarget([], null, false)).toBeNull();
  });
});

function Dialog({ onClose }: { onClose(): void }) {
  const ref = useRef<HTMLDivElement>(null);
  useModalFocus(ref, onClose);
  return (
    <div role="dialog" aria-modal="true" aria-label="Test" tabIndex={-1} ref={ref}>
      <button type="button">first</button>
      <button type="button" disabled>
        off
      </button>
      <button type="button">last</button>
    </div>
  );
}

function Page({ onClose }: { onClose?(): void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        open
      </button>
      {open && (
        <Dialog
          onClose={() => {
            onClose?.();
            setOpen(false);
          }}
        />
      )}
    </>
  );
}

describe('useModalFocus', () => {
  it('focuses the dialog, keeps Tab inside it, closes on Escape and gives focus back to the opener', () => {
    const onClose = vi.fn();
    render(<Page onClose={onClose} />);
    const opener = screen.getByText('open');
    opener.focus();
    fireEvent.click(opener);
    expect(document.activeElement).toBe(screen.getByRole('dialog'));
    screen.getByText('last').focus();
    fireEvent.keyDown(document.activeElement!, { key: 'Tab' });
    expect(document.activeElement).toBe(screen.getByText('first'));
    fireEvent.keyDown(document.activeElement!, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(screen.getByText('last'));
    fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(opener);
  });
});
