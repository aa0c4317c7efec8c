/** The dashboard's one stylesheet, served at /dashboard.css (kept in code so `dist/` needs no copy step). */
export const DASHBOARD_CSS = `
:root { --fg:#1b1f24; --muted:#5c6570; --line:#d8dee4; --bg:#f6f8fa; --ok:#1a7f37; --warn:#bf8700; --bad:#cf222e; --accent:#0969da; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:#fff; }
header.top { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1.5rem; background:var(--fg); color:#fff; }
header.top a { color:#fff; text-decoration:none; }
header.top .brand { font-weight:700; letter-spacing:.02em; }
header.top form { margin-left:auto; }
main { padding:1.2rem 1.5rem 3rem; max-width:1100px; }
h1 { font-size:1.4rem; margin:.2rem 0 1rem; } h2 { font-size:1.1rem; margin:1.6rem 0 .6rem; } h3 { font-size:1rem; margin:1.2rem 0 .4rem; }
a { color:var(--accent); }
table { border-collapse:collapse; width:100%; margin:.4rem 0 1rem; }
th, td { text-align:left; padding:.35rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--bg); font-weight:600; }
code, pre { font:12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background:var(--bg); border:1px solid var(--line); padding:.6rem; overflow:auto; max-height:28rem; white-space:pre-wrap; word-break:break-word; }
.badge { display:inline-block; padding:0 .45rem; border-radius:1rem; font-size:12px; border:1px solid var(--line); background:var(--bg); }
.s-succeeded, .s-enabled { color:var(--ok); border-color:var(--ok); }
.s-failed, .s-disabled, .s-failing { color:var(--bad); border-color:var(--bad); }
.s-pending { color:var(--warn); border-color:var(--warn); }
.muted { color:var(--muted); }
.actions { display:flex; flex-wrap:wrap; gap:.5rem; align-items:flex-end; margin:.6rem 0; }
.actions form { margin:0; }
button, .button { font:inherit; padding:.3rem .8rem; border:1px solid var(--line); border-radius:6px; background:var(--bg); color:var(--fg); cursor:pointer; text-decoration:none; }
button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button.danger { background:var(--bad); border-color:var(--bad); color:#fff; }
label { display:block; margin:.5rem 0 .2rem; font-weight:600; }
input[type=text], input[type=url], input[type=password], input[type=datetime-local], textarea, select { font:inherit; width:100%; max-width:40rem; padding:.35rem .5rem; border:1px solid var(--line); border-radius:6px; }
textarea { min-height:5rem; font-family:ui-monospace, monospace; }
.hint { color:var(--muted); font-size:12.5px; }
.flash { padding:.5rem .8rem; border-radius:6px; margin:0 0 1rem; background:#ddf4ff; border:1px solid #54aeff; }
.flash.error { background:#ffebe9; border-color:var(--bad); }
.charts { display:flex; flex-wrap:wrap; gap:1.2rem; }
.chart { max-width:100%; height:auto; background:#fff; border:1px solid var(--line); border-radius:6px; }
.chart .axis { font-size:10px; fill:var(--muted); }
.chart .grid { stroke:var(--line); stroke-dasharray:2 3; }
.chart .axis-line { stroke:#8c959f; }
.bar-ok { fill:var(--ok); } .bar-warn { fill:var(--warn); } .bar-bad { fill:var(--bad); } .bar-empty { fill:var(--line); }
.line-p50 { fill:none; stroke:var(--accent); stroke-width:2; } .line-p95 { fill:none; stroke:var(--accent); stroke-width:1; stroke-dasharray:4 3; }
.dot-p50 { fill:var(--accent); } .dot-ok { fill:var(--ok); } .dot-bad { fill:var(--bad); } .dot-next { fill:#fff; stroke:var(--warn); stroke-width:2; stroke-dasharray:2 2; }
details.attempt { border:1px solid var(--line); border-radius:6px; padding:.4rem .8rem; margin:.6rem 0; }
details.attempt summary { cursor:pointer; font-weight:600; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:1rem; } @media (max-width:800px) { .grid2 { grid-template-columns:1fr; } }
.catalog-group { margin-top:2rem; } .event-type { border-top:1px solid var(--line); padding-top:.6rem; margin-top:1rem; }
.login { max-width:26rem; margin:4rem auto; }
`;
