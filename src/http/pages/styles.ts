import type { Accent } from "./colors.js";

/**
 * The waiting page's stylesheet, inlined in a nonce'd `<style>`: logical properties only (the same rules
 * lay out Arabic right to left, the progress bar filling from the right), light and dark palettes at WCAG
 * AA or better (`auto` follows the system), a visible focus ring, and no motion for visitors who asked for
 * less. The queue's accent colour and the progress arrive as custom properties; the page's script updates
 * `--anteroom-progress` through the CSSOM (CSP allows that, not inline style attributes).
 */
const BASE = `
:root{color-scheme:light;--bg:#f2f4f7;--card:#fff;--panel:#f5f7fa;--text:#141820;--muted:#4a5362;
--track:#dfe4eb;--border:#dde2ea;--shadow:0 1px 2px rgb(16 24 40/.06),0 12px 32px rgb(16 24 40/.08)}
html[data-theme=dark]{color-scheme:dark;--bg:#0c0f13;--card:#161a21;--panel:#1d222b;--text:#eef1f6;
--muted:#b2bac6;--track:#2d343f;--border:#29303a;--shadow:0 1px 2px rgb(0 0 0/.4),0 12px 32px rgb(0 0 0/.35)}
@media (prefers-color-scheme:dark){html[data-theme=auto]{color-scheme:dark;--bg:#0c0f13;--card:#161a21;
--panel:#1d222b;--text:#eef1f6;--muted:#b2bac6;--track:#2d343f;--border:#29303a;
--shadow:0 1px 2px rgb(0 0 0/.4),0 12px 32px rgb(0 0 0/.35)}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-block-size:100vh;min-block-size:100dvh;display:flex;flex-direction:column;
align-items:center;justify-content:center;gap:1rem;padding:1.25rem 1rem;background:var(--bg);color:var(--text);
font:400 1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",Tahoma,sans-serif}
main{inline-size:100%;max-inline-size:30rem;background:var(--card);border:1px solid var(--border);
border-radius:1.25rem;padding:2rem 1.75rem 1.75rem;box-shadow:var(--shadow)}
.logo{display:block;max-block-size:3rem;max-inline-size:12rem;inline-size:auto;margin-block-end:1.5rem}
.eyebrow{display:flex;align-items:center;gap:.5rem;margin:0 0 .75rem;color:var(--muted);font-size:.8125rem;
font-weight:600;letter-spacing:.04em;text-transform:uppercase}
.pulse{position:relative;inline-size:.5rem;block-size:.5rem;border-radius:50%;background:var(--accent)}
.pulse::after{content:"";position:absolute;inset:0;border-radius:50%;background:var(--accent);animation:pulse 2s ease-out infinite}
@keyframes pulse{from{transform:scale(1);opacity:.6}to{transform:scale(3);opacity:0}}
[dir=rtl] .eyebrow{letter-spacing:0}
h1{font-size:1.5rem;line-height:1.3;margin:0 0 .5rem;font-weight:700;letter-spacing:-.01em}
.message{color:var(--muted);margin:0 0 1.5rem;overflow-wrap:anywhere}
.position{margin:0 0 1.25rem;padding:1.25rem 1rem;border-radius:1rem;background:var(--panel);
text-align:center;color:var(--muted);font-size:.95rem}
.number{display:block;color:var(--text);font-size:3.5rem;line-height:1.1;font-weight:750;
font-variant-numeric:tabular-nums;margin-block:.25rem;letter-spacing:-.02em}
.progress{--anteroom-progress:0%;block-size:.625rem;border-radius:999px;background:var(--track);overflow:hidden;
margin-block:0 1.25rem}
.bar{position:relative;block-size:100%;inline-size:var(--anteroom-progress);min-inline-size:.625rem;
border-radius:inherit;background:var(--accent);transition:inline-size .8s ease;overflow:hidden}
.bar::after{content:"";position:absolute;inset:0;background:linear-gradient(90deg,transparent,rgb(255 255 255/.35),transparent);
transform:translateX(-100%);animation:shine 2.4s ease-in-out infinite}
[dir=rtl] .bar::after{animation-name:shine-rtl}
@keyframes shine{to{transform:translateX(100%)}}
@keyframes shine-rtl{from{transform:translateX(100%)}to{transform:translateX(-100%)}}
.facts{list-style:none;margin:0 0 1.5rem;padding:0;display:grid;gap:.5rem}
.facts li{display:flex;align-items:baseline;gap:.625rem}
.facts li::before{content:"";flex:none;inline-size:.5rem;block-size:.5rem;border-radius:50%;background:var(--accent);
transform:translateY(-.1em)}
.actions{display:flex;flex-wrap:wrap;gap:.75rem}
h1+.actions{margin-block-start:1.25rem}
.button{display:inline-flex;align-items:center;justify-content:center;min-block-size:2.75rem;padding:.625rem 1.25rem;
border-radius:.75rem;font:inherit;font-weight:600;text-decoration:none;cursor:pointer;border:1px solid transparent}
.primary{background:var(--accent);color:var(--on-accent)}
.secondary{background:transparent;color:var(--text);border-color:var(--border)}
.secondary:hover{background:var(--panel)}
.primary:hover{filter:brightness(1.08)}
a,button{-webkit-tap-highlight-color:transparent}
:focus-visible{outline:3px solid var(--text);outline-offset:3px}
.note{color:var(--muted);font-size:.875rem;margin:1rem 0 0}
.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.8125rem}
footer{color:var(--muted);font-size:.8125rem;text-align:center}
.sr-only{position:absolute;inline-size:1px;block-size:1px;margin:-1px;padding:0;overflow:hidden;
clip-path:inset(50%);white-space:nowrap;border:0}
form{margin:0}
@media (max-width:26rem){main{padding:1.5rem 1.25rem 1.25rem;border-radius:1rem}.number{font-size:3rem}
.actions .button{flex:1 1 100%}}
@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important}}
`;

export function pageStyles(accent: Accent, progress: number): string {
  const percent = Math.max(0, Math.min(100, Math.round(progress)));
  return `:root{--accent:${accent.accent};--on-accent:${accent.onAccent}}${BASE.replaceAll("\n", "")}[data-anteroom=progress]{--anteroom-progress:${percent}%}`;
}
