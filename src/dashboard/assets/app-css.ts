/**
 * The dashboard's one stylesheet, served at /dashboard/assets/app.css (a TS module because the
 * build is plain tsc, which copies no .css). Mobile first: everything fits 375 px without
 * horizontal scrolling; wide tables scroll inside their own `.table-wrap`. Colours meet WCAG AA
 * contrast on their backgrounds. No inline styles anywhere: the CSP allows only this file.
 *
 * Classes pages may use: .card, .muted, .badge (.ok .warn .bad), .table-wrap, .actions,
 * .stack, .row, .flash (.ok .bad), .button-secondary, .button-danger, .visually-hidden, dl.facts.
 */
export const APP_CSS = `
:root {
  --fg: #1b1f24;
  --muted: #4d5661;
  --bg: #f6f7f9;
  --card: #ffffff;
  --line: #cfd5dc;
  --accent: #0b5cad;
  --accent-fg: #ffffff;
  --ok: #17663a;
  --warn: #8a5300;
  --bad: #b42318;
  --focus: #ffbf47;
  font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif;
  font-size: 16px;
  line-height: 1.45;
  color: var(--fg);
  background: var(--bg);
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; min-width: 0; overflow-wrap: anywhere; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; box-shadow: 0 0 0 5px var(--fg); }
.skip { position: absolute; left: -9999px; top: 0; }
.skip:focus { left: 0.5rem; top: 0.5rem; z-index: 10; background: var(--card); padding: 0.5rem 1rem; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
}

header.site { background: #16324f; color: #ffffff; padding: 0.5rem 1rem; }
header.site a { color: #ffffff; }
header.site .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; justify-content: space-between; }
header.site .brand { font-weight: 700; text-decoration: none; font-size: 1.1rem; }
header.site form { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; margin: 0; }
header.site .who { font-size: 0.9rem; }
header.site button { background: transparent; color: #ffffff; border: 1px solid #ffffff; }
nav.sections ul { list-style: none; margin: 0.5rem 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem; }
nav.sections a {
  display: inline-block; padding: 0.4rem 0.6rem; border-radius: 4px; text-decoration: none; min-height: 44px;
  line-height: calc(44px - 0.8rem);
}
nav.sections a[aria-current='page'] { background: #ffffff; color: #16324f; font-weight: 600; }
nav.sections a:hover { text-decoration: underline; }

main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 0.5rem; }
.muted { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin: 0 0 1rem; }
.stack > * + * { margin-top: 0.75rem; }
.row { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: 0.75rem; }

label { display: block; font-weight: 600; margin: 0.75rem 0 0.25rem; }
input, select, textarea, button { font: inherit; }
input[type='text'], input[type='password'], input[type='search'], input[type='number'], input[type='tel'],
input[type='email'], input[type='date'], select, textarea {
  width: 100%; max-width: 32rem; padding: 0.5rem; border: 1px solid #6b7580; border-radius: 4px;
  background: #ffffff; color: var(--fg);
}
textarea { min-height: 6rem; max-width: 100%; }
button, .button {
  display: inline-block; min-height: 44px; padding: 0.5rem 1rem; border-radius: 4px; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-fg); cursor: pointer; text-decoration: none;
}
.button-secondary { background: #ffffff; color: var(--accent); }
.button-danger { background: var(--bad); border-color: var(--bad); color: #ffffff; }
button[disabled] { opacity: 0.6; cursor: not-allowed; }

.flash { padding: 0.75rem 1rem; border-radius: 4px; border: 1px solid var(--line); background: var(--card); margin: 0 0 1rem; }
.flash.ok { border-color: var(--ok); color: var(--ok); }
.flash.bad { border-color: var(--bad); color: var(--bad); }
.field-error { color: var(--bad); margin: 0.25rem 0 0; }

.badge { display: inline-block; padding: 0.1rem 0.5rem; border-radius: 999px; font-size: 0.85rem; border: 1px solid currentColor; }
.badge.ok { color: var(--ok); }
.badge.warn { color: var(--warn); }
.badge.bad { color: var(--bad); }

.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
th, td { overflow-wrap: normal; word-break: normal; }
h3 { font-size: 1.05rem; margin: 1rem 0 0.5rem; }
.badge { white-space: nowrap; }

dl.facts { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0.25rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0 0 0.5rem; }
@media (min-width: 40rem) {
  dl.facts { grid-template-columns: minmax(10rem, 16rem) minmax(0, 1fr); }
  dl.facts dd { margin: 0; }
}

.login { max-width: 24rem; margin: 2rem auto; }

/* Sandbox phone: a text thread with our texts on one side and the player's on the other. */
.sandbox-phone { max-width: 28rem; }
ol.thread { list-style: none; padding: 0; margin: 0 0 1rem; display: flex; flex-direction: column; gap: 0.5rem; }
.bubble { max-width: 85%; padding: 0.5rem 0.75rem; border-radius: 12px; border: 1px solid var(--line); }
.bubble.theirs { align-self: flex-start; background: var(--card); }
.bubble.mine { align-self: flex-end; background: #dbe7ff; }
.bubble .who { font-weight: 600; }
.bubble .body { margin: 0.25rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.stack { display: flex; flex-direction: column; gap: 0.5rem; }

/* Metrics: window picker, charts that shrink with the screen, and their legends. */
.window-picker { display: flex; gap: 0.5rem; margin: 0 0 1rem; }
.window-picker a[aria-current='page'] { font-weight: 700; text-decoration: none; }
.chart { margin: 0 0 1.5rem; }
.chart-svg { width: 100%; height: auto; max-width: 48rem; display: block; }
ul.legend { list-style: none; padding: 0; margin: 0 0 0.5rem; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; }

.htmx-indicator { opacity: 0; transition: opacity 200ms ease-in; }
.htmx-request .htmx-indicator, .htmx-request.htmx-indicator { opacity: 1; }

@media (prefers-reduced-motion: reduce) { * { transition: none !important; animation: none !important; } }
`;
