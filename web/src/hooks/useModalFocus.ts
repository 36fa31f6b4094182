import { useEffect, useRef, type RefObject } from 'react';

// A modal dialog's keyboard contract (WAI-ARIA dialog pattern): focus moves
// into the dialog when it opens, Tab and Shift+Tab cycle within it, Escape
// closes it, and focus goes back to what opened it when it closes.

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), summary';

/** What Tab (or Shift+Tab) should focus next, wrapping at the ends; null leaves it to the browser. */
export function wrapTarget<T>(focusables: T[], current: T | null, shift: boolean): T | null {
  if (focusables.length === 0) return null;
  const first = focusables[0];
  const last = focusables[focusables.length - 1];
  const i = current == null ? -1 : focusables.indexOf(current);
  // Focus on the dialog itself (or outside the list) enters at an end.
  if (i === -1) return shift ? last : first;
  if (shift && i === 0) return last;
  if (!shift && i === focusables.length - 1) return first;
  return null;
}

export function useModalFocus(dialog: RefObject<HTMLElement | null>, onClose: () => void) {
  // The latest onClose without re-running the effect (which would steal focus back to the dialog).
  const close = useRef(onClose);
  useEffect(() => {
    close.current = onClose;
  }, [onClose]);

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        close.current();
        return;
      }
      const box = dialog.current;
      if (e.key !== 'Tab' || !box) return;
      const list = [...box.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.closest('[hidden], [inert]'));
      const active = document.activeElement instanceof HTMLElement && box.contains(document.activeElement) ? document.activeElement : null;
      const target = wrapTarget(list, active, e.shiftKey);
      if (target) {
        e.preventDefault();
        target.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      if (opener?.isConnected) opener.focus();
    };
  }, [dialog]);
}
