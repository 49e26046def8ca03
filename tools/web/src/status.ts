/** The one status line: what is happening, or what went wrong, in one line a user can act on. */
import { ui } from './dom.js';

export type StatusKind = 'info' | 'ok' | 'error';

export function showStatus(kind: StatusKind, text: string): void {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  ui.status.dataset.kind = kind;
  ui.status.textContent = line;
  ui.status.title = line;
}

/** An abort by the user (the stop button), whatever the error type the signal carried. */
export function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

/** One line for an error: our typed errors already are one line; others get their message. */
export function errorLine(prefix: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${prefix}: ${message}`;
}
