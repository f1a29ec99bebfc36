/** The report's stylesheet (inline; no font or network request). */
export const CSS = `
:root{--fg:#1b1b1b;--muted:#666;--line:#d8d8d8;--best:#e6f4ea;--tied:#f3f9f4}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);margin:0 auto;padding:16px 24px;max-width:1400px}
h1{font-size:20px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
dl.meta{display:grid;grid-template-columns:max-content 1fr max-content 1fr;gap:2px 14px;margin:0 0 8px;font-size:13px}dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
.muted,.note{color:var(--muted);font-size:12px}.warn{color:#a40000}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid var(--line);padding:3px 7px;vertical-align:top}
thead th{background:#f6f6f6;font-weight:600;text-align:center}th.rowhead{text-align:left;white-space:nowrap}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}td.na{color:#aaa;text-align:center}
table.paper{font-size:12.5px}table.paper td,table.paper th{padding:2px 5px}table.paper th.rowhead .note{white-space:normal;max-width:150px}
table.paper th.rowhead{position:sticky;left:0;z-index:1;background:#fff;box-shadow:1px 0 0 var(--line)}table.paper thead th.rowhead{background:#f6f6f6}
table.paper td.best{background:var(--best)}table.paper u{text-decoration-thickness:1.5px;text-underline-offset:2px}
.chance-mark{color:#a15c00;font-weight:700}
tr.chance td,tr.chance th{font-style:italic;color:var(--muted);border-top:2px solid var(--line)}
.ci{color:#555;font-weight:400}.n{color:#a15c00;font-size:11px}
.arrow{font-weight:700}.metric .note{font-weight:400}
.scroll{overflow-x:auto;max-width:100%}
.charts{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}.charts.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr))}
figure.chart{margin:0;border:1px solid #eee;padding:6px;max-width:100%;overflow-x:auto}figure.chart figcaption{font-size:13px;max-width:640px;margin-bottom:4px}figure.chart svg{display:block;max-width:100%;height:auto}
details{margin:6px 0}details>summary{cursor:pointer;font-weight:600}details.more>summary{font-weight:400;font-size:13px}
table.gallery td{text-align:center}table.gallery figure{margin:0}.gimg{width:160px;height:auto;image-rendering:pixelated;display:block;margin:0 auto}
table.gallery figcaption{max-width:190px;margin:4px auto 0;font-size:12px;line-height:1.7}.tok{padding:1px 2px;border-radius:2px}
.gsample{max-width:180px;font-weight:400;text-align:left}.gsample .caption{font-style:italic}.nomap{width:160px;height:60px;color:#aaa}
td.reason{white-space:pre-wrap;max-width:640px}code,pre{font-size:12px}pre{background:#f7f7f7;padding:8px;overflow:auto;max-height:420px}
ul.legend{font-size:12px;margin:4px 0;padding-left:18px}
@media print{body{max-width:none;padding:0}.scroll{overflow:visible}details{display:block}figure.chart,tr{break-inside:avoid}h2{break-after:avoid}}
`;
