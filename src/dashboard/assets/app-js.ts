/**
 * The dashboard's own script, served at /dashboard/assets/app.js after htmx. The CSP forbids
 * inline scripts and eval, so behaviour a page needs (keyboard shortcuts, small helpers) goes
 * here, keyed on data- attributes, never in the page. Keep it plain ES2020 without imports.
 */
export const APP_JS = `'use strict';
(function () {
  // Pages register shortcuts as <element data-shortcut="a"> (a button or link): the key clicks it,
  // unless the person is typing in a field.
  document.addEventListener('keydown', function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && target.closest && target.closest('input, textarea, select, [contenteditable]')) return;
    var el = document.querySelector('[data-shortcut="' + CSS.escape(event.key) + '"]');
    if (el && typeof el.click === 'function') {
      event.preventDefault();
      el.click();
    }
  });
})();
`;
