import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import type { DashboardEnv } from '../dashboard-env.js';

/**
 * The collections pages' own stylesheet and the approval queue's keyboard script, served as
 * assets (the CSP is `default-src 'self'`: no inline script or style). Each URL carries a hash of
 * its content, so it may be cached for a year.
 */

const COLLECTIONS_CSS = `
.cs-muted { color: #4b5563; }
.cs-notice { border: 2px solid; border-radius: 6px; padding: 0.75rem 1rem; margin: 0 0 1rem; }
.cs-notice-error { border-color: #b91c1c; background: #fef2f2; color: #7f1d1d; }
.cs-notice-success { border-color: #15803d; background: #f0fdf4; color: #14532d; }
.cs-notice-info { border-color: #1d4ed8; background: #eff6ff; color: #1e3a8a; }
.cs-badge { display: inline-block; padding: 0 0.4rem; border-radius: 4px; border: 1px solid; font-size: 0.875rem; white-space: nowrap; }
.cs-badge-ok { background: #dcfce7; border-color: #166534; color: #14532d; }
.cs-badge-warn { background: #fef3c7; border-color: #92400e; color: #78350f; }
.cs-badge-bad { background: #fee2e2; border-color: #991b1b; color: #7f1d1d; }
.cs-badge-info { background: #dbeafe; border-color: #1e40af; color: #1e3a8a; }
.cs-badge-neutral { background: #f3f4f6; border-color: #4b5563; color: #1f2937; }
.cs-list { list-style: none; padding: 0; margin: 0; display: grid; gap: 1rem; }
.cs-card { border: 1px solid #9ca3af; border-radius: 8px; padding: 0.75rem 1rem; background: #fff; min-width: 0; }
.cs-card:focus, .cs-card.is-current { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.cs-card h2, .cs-card h3 { margin: 0 0 0.5rem; font-size: 1.05rem; overflow-wrap: anywhere; }
.cs-text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0 0 0.75rem; padding: 0.5rem 0.75rem; border-left: 4px solid #6b7280; background: #f9fafb; }
.cs-facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.25rem 0.75rem; margin: 0 0 0.75rem; }
.cs-facts dt { font-weight: 600; }
.cs-facts dd { margin: 0; overflow-wrap: anywhere; }
.cs-field { display: block; margin: 0 0 0.75rem; }
.cs-field label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
.cs-field textarea, .cs-field input, .cs-field select { width: 100%; max-width: 100%; box-sizing: border-box; font: inherit; padding: 0.4rem; border: 1px solid #4b5563; border-radius: 4px; }
.cs-actions { display: flex; flex-wrap: wrap; gap: 0.5rem; }
.cs-actions button, .cs-filters button { font: inherit; padding: 0.45rem 0.9rem; border-radius: 4px; border: 1px solid #1f2937; background: #f3f4f6; color: #111827; cursor: pointer; min-height: 44px; }
.cs-actions button.cs-primary, .cs-filters button.cs-primary { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
.cs-actions button.cs-danger { background: #fff; border-color: #b91c1c; color: #991b1b; }
.cs-actions button:focus-visible, .cs-filters button:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.cs-scroll { overflow-x: auto; max-width: 100%; }
.cs-table { border-collapse: collapse; width: 100%; min-width: 40rem; }
.cs-table th, .cs-table td { overflow-wrap: normal; }
.cs-table td.cs-text, .cs-table td.cs-wrap { overflow-wrap: anywhere; min-width: 12rem; }
.cs-table th, .cs-table td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid #d1d5db; vertical-align: top; }
.cs-table td.cs-num, .cs-table th.cs-num { text-align: right; white-space: nowrap; }
.cs-filters { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: flex-end; margin: 0 0 1rem; }
.cs-filters .cs-field { margin: 0; flex: 1 1 10rem; }
.cs-messages { list-style: none; padding: 0; margin: 0 0 1.5rem; display: grid; gap: 0.5rem; }
.cs-message { max-width: 85%; border: 1px solid #9ca3af; border-radius: 8px; padding: 0.5rem 0.75rem; background: #f9fafb; }
.cs-message-out { justify-self: end; background: #eff6ff; border-color: #1e40af; }
.cs-message p { margin: 0 0 0.25rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.cs-message footer { font-size: 0.875rem; color: #374151; display: flex; flex-wrap: wrap; gap: 0.25rem 0.5rem; align-items: center; }
.cs-shortcuts dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 0.75rem; }
.cs-shortcuts dt kbd { font-family: ui-monospace, monospace; border: 1px solid #4b5563; border-radius: 3px; padding: 0 0.3rem; }
.cs-inline-forms { display: grid; gap: 0.75rem; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); margin-top: 0.5rem; }
@media (max-width: 600px) {
  .cs-message { max-width: 100%; }
  .cs-facts { grid-template-columns: minmax(0, 1fr); }
  .cs-facts dd { margin-bottom: 0.4rem; }
}
`;

/**
 * Keyboard shortcuts of the approval queue (listed on the page): j/k move between items, e edits
 * the draft, Escape leaves the editor, a approves, r rejects, ? shows the list. Shortcuts are off
 * while typing in a field. It also keeps an unsent edit when the queue's poll re-renders it, and
 * says so when the item being edited has left the queue.
 */
const APPROVALS_JS = `(() => {
  'use strict';
  const ITEM = '[data-approval-item]';
  const items = () => Array.from(document.querySelectorAll(ITEM));
  const alertBox = () => document.getElementById('queue-alert');
  function select(item) {
    if (!item) return;
    for (const other of items()) other.classList.remove('is-current');
    item.classList.add('is-current');
    item.focus();
    item.scrollIntoView({ block: 'nearest' });
  }
  function currentIndex(list) {
    const active = document.activeElement;
    let at = list.findIndex((i) => i.contains(active));
    if (at < 0) at = list.findIndex((i) => i.classList.contains('is-current'));
    return at;
  }
  function press(item, action) {
    const button = item && item.querySelector('button[name="action"][value="' + action + '"]');
    if (!button) return;
    const form = button.form;
    if (form && typeof form.requestSubmit === 'function') form.requestSubmit(button);
    else button.click();
  }
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      if (event.key === 'Escape') {
        const item = target.closest(ITEM);
        if (item) { event.preventDefault(); select(item); }
      }
      return;
    }
    const list = items();
    const at = currentIndex(list);
    const item = at >= 0 ? list[at] : undefined;
    switch (event.key) {
      case 'j': select(list[Math.min(at + 1, list.length - 1)]); break;
      case 'k': select(list[Math.max(at - 1, 0)]); break;
      case 'a': press(item, 'approve'); break;
      case 'r': press(item, 'reject'); break;
      case 'e': {
        const editor = item && item.querySelector('textarea');
        if (!editor) return;
        editor.focus();
        editor.setSelectionRange(editor.value.length, editor.value.length);
        break;
      }
      case '?': {
        const help = document.getElementById('shortcuts');
        if (!help) return;
        help.open = !help.open;
        break;
      }
      default: return;
    }
    event.preventDefault();
  });
  let kept = null;
  document.addEventListener('htmx:beforeSwap', (event) => {
    const target = event.detail && event.detail.target;
    if (!target || target.id !== 'approval-queue') return;
    const edits = [];
    for (const editor of target.querySelectorAll('textarea, input[type="text"]')) {
      if (editor.id && editor.value !== editor.defaultValue) edits.push([editor.id, editor.value]);
    }
    const active = document.activeElement;
    const current = target.querySelector(ITEM + '.is-current');
    kept = {
      edits,
      focus: active && target.contains(active) ? active.id : null,
      current: current ? current.id : null,
    };
  });
  document.addEventListener('htmx:afterSettle', () => {
    if (!kept) return;
    const state = kept;
    kept = null;
    const lost = [];
    for (const [id, value] of state.edits) {
      const editor = document.getElementById(id);
      if (editor) editor.value = value;
      else lost.push(id);
    }
    if (state.current) {
      const item = document.getElementById(state.current);
      if (item) item.classList.add('is-current');
    }
    if (state.focus) {
      const element = document.getElementById(state.focus);
      if (element) element.focus();
    }
    const box = alertBox();
    if (box && lost.length > 0) {
      box.textContent = 'A draft you were editing has left the queue (decided by someone else, or made obsolete); your edit was not sent. See "Recently closed" below.';
      box.hidden = false;
    }
  });
})();
`;

const hashed = (name: string, ext: string, content: string) =>
  `${name}.${createHash('sha256').update(content).digest('hex').slice(0, 12)}.${ext}`;

const CSS_FILE = hashed('collections', 'css', COLLECTIONS_CSS);
const JS_FILE = hashed('approvals', 'js', APPROVALS_JS);

/** Where the pages link them (the dashboard is mounted at /dashboard). */
export const COLLECTIONS_CSS_URL = `/dashboard/assets/collections/${CSS_FILE}`;
export const APPROVALS_JS_URL = `/dashboard/assets/collections/${JS_FILE}`;

const LONG_CACHE = 'public, max-age=31536000, immutable';
const registered = new WeakSet<object>();

/** Adds the two asset routes once per dashboard router (each collections registrar calls it). */
export function registerCollectionsAssets(app: Hono<DashboardEnv>): void {
  if (registered.has(app)) return;
  registered.add(app);
  app.get(`/assets/collections/${CSS_FILE}`, (c) =>
    c.body(COLLECTIONS_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': LONG_CACHE }),
  );
  app.get(`/assets/collections/${JS_FILE}`, (c) =>
    c.body(APPROVALS_JS, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': LONG_CACHE,
    }),
  );
}
