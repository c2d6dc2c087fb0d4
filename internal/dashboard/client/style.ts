// The whole stylesheet: system fonts only (no web fonts), light and dark through CSS variables,
// one column below 700px (phones) with tables scrolling sideways.
export const CSS = `
:root{--bg:#f6f7f9;--fg:#17202a;--muted:#5d6975;--card:#fff;--line:#d9dee4;--accent:#1f6feb;--ok:#1a7f37;--warn:#b35900;--bad:#cf222e;--badbg:#ffebe9;--warnbg:#fff4e0;color-scheme:light}
:root[data-theme=dark]{--bg:#0f1419;--fg:#e6edf3;--muted:#9aa7b3;--card:#171d24;--line:#2d3640;--accent:#4493f8;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--badbg:#3b1619;--warnbg:#3a2a0e;color-scheme:dark}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:8px 12px;background:var(--card);border-bottom:1px solid var(--line);position:sticky;top:0;z-index:2}
header h1{font-size:16px;margin:0 8px 0 0}
nav{display:flex;flex-wrap:wrap;gap:4px}
nav a{padding:4px 10px;border-radius:6px;color:var(--fg);text-decoration:none}
nav a.on{background:var(--accent);color:#fff}
nav.tabs a{border:1px solid var(--line)}
.spacer{flex:1}
main{padding:12px}
select,input,button,textarea{font:inherit;color:inherit;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:4px 8px}
button{cursor:pointer}
button.primary{background:var(--accent);color:#fff;border-color:var(--accent)}
button.danger{color:var(--bad)}
button:disabled{opacity:.5}
.toolbar{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:10px}
.tablewrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px;margin-bottom:16px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);white-space:nowrap;vertical-align:top}
td.wrap{white-space:normal;min-width:220px}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase}
h2{font-size:15px;margin:14px 0 8px}
.muted{color:var(--muted)}
.badge{display:inline-block;padding:0 6px;border-radius:10px;font-size:12px;border:1px solid var(--line);margin:1px 2px 1px 0}
.badge.ok{color:var(--ok);border-color:var(--ok)}
.badge.bad{color:var(--bad);border-color:var(--bad);background:var(--badbg)}
.badge.warn{color:var(--warn);border-color:var(--warn);background:var(--warnbg)}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:10px;margin-bottom:16px}
.tile{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--ok);border-radius:8px;padding:8px 10px}
.tile.offline,.tile.notready{border-left-color:var(--bad);background:var(--badbg)}
.tile.pressure{border-left-color:var(--warn)}
.tile h3{margin:0 0 4px;font-size:14px;display:flex;justify-content:space-between;gap:6px;word-break:break-all}
.tile .badge{max-width:100%;overflow-wrap:anywhere}
.tile .row{display:flex;justify-content:space-between;gap:8px;font-size:13px}
.bar{height:6px;background:var(--line);border-radius:3px;overflow:hidden;margin:2px 0 4px}
.bar>span{display:block;height:100%;background:var(--accent)}
.alert{border:1px solid var(--bad);background:var(--badbg);color:var(--bad);padding:8px 10px;border-radius:8px;margin-bottom:10px;white-space:pre-wrap;word-break:break-word}
.note{border:1px solid var(--line);background:var(--card);padding:6px 10px;border-radius:8px;margin-bottom:10px}
pre.log,textarea.yaml{width:100%;min-height:50vh;max-height:70vh;overflow:auto;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre}
.panel{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px;margin-bottom:16px}
.login{max-width:520px;margin:10vh auto;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px}
.login textarea{width:100%;min-height:90px;font-family:ui-monospace,monospace;font-size:12px}
.status-live{color:var(--ok)}.status-reconnecting,.status-loading{color:var(--warn)}.status-error{color:var(--bad)}
a{color:var(--accent)}
@media (max-width:700px){.ns-col{display:none}header{padding:6px}header h1{width:100%}main{padding:8px}.tiles{grid-template-columns:1fr}nav a{padding:4px 6px}}
`;
