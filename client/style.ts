/**
 * The overlay's style, inside its shadow root. Colours meet WCAG AA in both themes (text ≥ 4.5:1, the
 * progress bar and focus ring ≥ 3:1); logical properties throughout so that right-to-left mirrors itself.
 */
const DARK =
  "--bg:#171a21;--fg:#f3f5f8;--muted:#bcc4cf;--line:#4a5262;--track:#343b48;--accent:#93b8ff;--on-accent:#0b1220;--danger:#ffa39c;--shade:rgba(0,0,0,.7);--edge:#363d4a;color-scheme:dark";

export const CSS = `
:host{all:initial;position:fixed;inset:0;z-index:2147483647;display:grid;place-items:center;padding:16px;box-sizing:border-box;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",sans-serif;--bg:#fff;--fg:#15191f;--muted:#4b5563;--line:#8a94a3;--track:#e3e8ef;--accent:#1d4ed8;--on-accent:#fff;--danger:#b42318;--shade:rgba(17,24,39,.55);--edge:transparent;color-scheme:light;background:var(--shade);-webkit-backdrop-filter:blur(3px);backdrop-filter:blur(3px)}
:host([data-theme=dark]){${DARK}}
@media (prefers-color-scheme:dark){:host([data-theme=auto]){${DARK}}}
*{box-sizing:border-box}
[hidden]{display:none!important}
.card{position:relative;background:var(--bg);color:var(--fg);inline-size:min(100%,25rem);max-block-size:100%;overflow:auto;border-radius:20px;border:1px solid var(--edge);padding:28px 24px 24px;box-shadow:0 24px 60px rgba(0,0,0,.35);text-align:center;outline:none}
h2{margin:0;font-size:1.375rem;line-height:1.3;font-weight:700}
p{margin:0}
.label{margin-block-start:18px;color:var(--muted);font-size:.875rem}
.pos{font-size:3.5rem;font-weight:800;line-height:1.15;font-variant-numeric:tabular-nums;letter-spacing:-.02em}
.ahead{margin-block-start:6px;font-weight:600}
.wait{margin-block-start:2px;color:var(--muted)}
.bar{margin-block:20px 4px;block-size:10px;border-radius:99px;background:var(--track);overflow:hidden}
.fill{block-size:100%;inline-size:var(--p,0%);min-inline-size:10px;border-radius:inherit;background:var(--accent);transition:inline-size .8s ease}
.msg{margin-block-start:16px;color:var(--muted);font-size:.9375rem}
.msg:empty{display:none}
.conn{margin-block-start:10px;font-size:.875rem;color:var(--fg)}
.conn::before{content:"";display:inline-block;inline-size:8px;block-size:8px;border-radius:50%;background:var(--danger);margin-inline-end:8px;vertical-align:middle}
.actions{display:flex;flex-wrap:wrap;gap:12px;justify-content:center;margin-block-start:22px}
button,a.btn{font:inherit;font-weight:600;font-size:1rem;cursor:pointer;border-radius:12px;padding:10px 20px;min-block-size:44px;border:1px solid var(--line);background:transparent;color:var(--fg);text-decoration:none;display:inline-flex;align-items:center;justify-content:center}
.primary{background:var(--accent)!important;border-color:var(--accent)!important;color:var(--on-accent)!important}
.danger{background:var(--danger);border-color:var(--danger);color:var(--bg)}
button:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:3px}
.confirm{margin-block-start:20px;padding-block-start:18px;border-block-start:1px solid var(--track)}
.sr{position:absolute;inline-size:1px;block-size:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:400px){.card{padding:24px 18px 20px}.pos{font-size:3rem}.actions>*{flex:1 1 auto}}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}
`;
