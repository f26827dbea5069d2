/* zbl report page, the results database's part: draws model.history (present when the page was
 * built with zbl-report --db) into section#history: the machines and their runs, device
 * identities, every benchmark figure over the runs as Chart.js trends (x axis by date, zbl
 * commit, kernel or device firmware), and the first and last sighting of every failing rule.
 * report.js calls the function registered here with its helpers (see renderExtensions there).
 * Sets data-history-runs, data-history-machines, data-trend-charts, data-failing-rules and
 * data-devices on <body>. */
(window.zblSections = window.zblSections || []).push(function drawHistory(api) {
  'use strict';
  const { model, h, section, table, td, badge, plural, fmtNum, chartCard, palette, chunks } = api;
  const hist = model.history;
  if (!hist) return;
  const runs = new Map((hist.runs || []).map((r) => [r.id, r]));
  const machines = hist.machines || [];
  const sec = section('history', 'History',
    'From the results database ' + hist.database + ': ' + plural(runs.size, 'run') + ' of ' +
    plural(machines.length, 'machine') + '. The matrix and benchmarks below show the latest run of each machine; ' +
    'regressions compare it with the previous run of the same machine.');
  const ds = document.body.dataset;
  ds.historyRuns = runs.size;
  ds.historyMachines = machines.length;

  const short = (c) => (c && /^[0-9a-f]{12,}$/.test(c) ? c.slice(0, 10) : c || '');
  const dateOf = (id) => (runs.get(id) || {}).date || '';
  const runText = (id) => {
    const r = runs.get(id) || {};
    return [r.date, r.commit && 'commit ' + short(r.commit), r.kernel].filter(Boolean).join(' \u00b7 ');
  };

  // ---- machines
  sec.append(h('h3', { text: 'Machines (' + machines.length + ')' }),
    h('div', { class: 'scroll short' }, table(['Machine', 'Runs', 'First run', 'Latest run', 'Compared with'],
      machines.map((m) => {
        const mine = (hist.runs || []).filter((r) => r.machine === m.name);
        return h('tr', null, td(m.name, 'mono'), td(fmtNum(m.runs), 'num'), td(mine.length ? runText(mine[0].id) : ''),
          td(runText(m.latest)), td(m.previous !== undefined ? runText(m.previous) : 'nothing yet (first run)', m.previous !== undefined ? '' : 'muted'));
      }), { num: ['Runs'] })));

  // ---- devices
  const devices = hist.devices || [];
  ds.devices = devices.length;
  if (devices.length) {
    sec.append(h('h3', { text: 'Devices (' + devices.length + ')' }),
      h('p', { class: 'small muted', text: 'Who each configuration ran on in the latest run: vendor, model, serial and firmware from sysfs where the device has them, else its option string.' }),
      h('div', { class: 'scroll short' }, table(['Machine', 'Configuration', 'Vendor', 'Model', 'Serial', 'Firmware', 'From'],
        devices.map((d) => {
          const id = d.identity || {};
          return h('tr', null, td(d.machine, 'mono'), td(d.config), td(id.vendor || ''), td(id.model || '', id.source === 'options' ? 'mono' : ''),
            td(id.serial || ''), td(id.firmware || ''), td(id.source || ''));
        }))));
  }

  // ---- failing rules
  const failing = hist.failing || [];
  ds.failingRules = failing.length;
  sec.append(h('h3', { text: 'Failing rules, first and last seen (' + failing.length + ')' }));
  if (!failing.length) {
    sec.append(h('p', { class: 'muted', text: 'No rule failed in any stored run.' }));
  } else {
    sec.append(h('div', { class: 'scroll short' }, table(
      ['Machine', 'Configuration', 'Rule', 'First seen', 'Last seen', 'Failed in', 'Now', 'Last message'],
      failing.map((f) => h('tr', null, td(f.machine, 'mono'), td(f.config), td(f.suite + '.' + f.rule, 'mono'),
        td(runText(f.first_seen.run)), td(runText(f.last_seen.run)),
        td(f.failed_runs + ' of ' + f.machine_runs + ' runs', 'num'), h('td', null, f.now === 'absent' ? 'absent' : badge(f.now)),
        h('td', null, f.message ? h('pre', { text: f.message }) : ''))))));
  }

  // ---- trends
  const trends = hist.trends || [];
  const UNITS = {
    'B/s': { label: 'MB/s', scale: 1e-6 }, '1/s': { label: 'k/s', scale: 1e-3 }, ns: { label: '\u00b5s', scale: 1e-3 },
    us: { label: '\u00b5s', scale: 1 }, ms: { label: 'ms', scale: 1 }, '%': { label: '%', scale: 1 }, '': { label: 'count', scale: 1 },
  };
  const METRIC_NAMES = { bytes_per_second: 'throughput', items_per_second: 'operations/s', real_time_ns: 'real time',
                         cpu_time_ns: 'CPU time', cv_pct: 'coefficient of variation' };
  const metricName = (m) => METRIC_NAMES[m] || m.replace(/^counter:/, '');
  // The figure a benchmark is judged by (as in the regressions): bytes/s, else items/s, else time.
  const mainMetric = new Map();
  for (const t of trends) {
    const k = t.machine + '\u0000' + t.key;
    const rank = { bytes_per_second: 3, items_per_second: 2, real_time_ns: 1 }[t.metric] || 0;
    if (rank > (mainMetric.get(k) || [0])[0]) mainMetric.set(k, [rank, t.metric]);
  }
  const DIMENSIONS = { date: 'date', commit: 'zbl commit', kernel: 'kernel', firmware: 'device firmware' };
  const state = { axis: 'date', figures: 'main' };
  const axisSel = h('select', { 'aria-label': 'x axis of the trends', id: 'trend-axis' },
    Object.entries(DIMENSIONS).map(([k, v]) => h('option', { value: k, text: 'by ' + v })));
  const figSel = h('select', { 'aria-label': 'figures to chart', id: 'trend-figures' },
    h('option', { value: 'main', text: 'main figure of each benchmark' }), h('option', { value: 'all', text: 'every figure' }));
  const cards = h('div', { class: 'cards', id: 'trend-cards' });
  sec.append(h('h3', { text: 'Benchmark trends' }),
    h('p', { class: 'small muted', text: 'Every figure stored for a benchmark, one point per run of its machine. Runs are ordered by date; by commit, kernel or firmware the runs are grouped by that value (in the order it first appeared).' }),
    h('div', { class: 'legend' }, axisSel, figSel), cards);

  function axisValue(point) {
    const r = runs.get(point.run) || {};
    if (state.axis === 'date') return r.date || '?';
    if (state.axis === 'commit') return short(r.commit) || '(no commit)';
    if (state.axis === 'kernel') return r.kernel || '(no kernel)';
    return point.firmware || '(no firmware)';
  }
  function trendCards() {
    const shown = trends.filter((t) => state.figures === 'all' || (mainMetric.get(t.machine + '\u0000' + t.key) || [])[1] === t.metric);
    const groups = new Map();
    for (const t of shown) {
      const g = t.family + '\u0000' + t.metric + '\u0000' + t.unit;
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(t);
    }
    const out = [];
    for (const list of groups.values()) {
      const t0 = list[0];
      const unit = UNITS[t0.unit] || { label: t0.unit, scale: 1 };
      // x: the runs of this group, by date, then grouped by the axis value's first appearance.
      const pts = new Map();
      for (const t of list) for (const p of t.points) if (!pts.has(p.run)) pts.set(p.run, p);
      let xs = [...pts.values()].sort((a, b) => dateOf(a.run).localeCompare(dateOf(b.run)) || a.run - b.run);
      if (state.axis !== 'date') {
        const first = new Map();
        xs.forEach((p, i) => { const v = axisValue(p); if (!first.has(v)) first.set(v, i); });
        xs = xs.map((p, i) => [first.get(axisValue(p)), i, p]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
      }
      const at = new Map(xs.map((p, i) => [p.run, i]));
      const series = list.map((t) => {
        const data = new Array(xs.length).fill(null);
        for (const p of t.points) data[at.get(p.run)] = p.value * unit.scale;
        const name = (model.fleet || machines.length > 1 ? t.machine + ' ' : '') + t.key.split('/').slice(1).join('/');
        return [name || t.key, data];
      });
      const parts = chunks(series, 10);
      parts.forEach((part, pi) => {
        const title = t0.family + ': ' + metricName(t0.metric) + ' by ' + DIMENSIONS[state.axis] +
          (parts.length > 1 ? ' (' + (pi + 1) + '/' + parts.length + ')' : '');
        const card = chartCard(title, {
          type: 'line',
          data: { labels: xs.map(axisValue), datasets: part.map(([name, data], i) => ({
            label: name, data, spanGaps: true, pointRadius: 3, borderColor: palette[i % palette.length],
            backgroundColor: palette[i % palette.length], tension: 0 })) },
          options: { scales: { x: { title: { display: true, text: DIMENSIONS[state.axis] } },
                               y: { beginAtZero: true, title: { display: true, text: unit.label } } },
                     plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } } } },
          xs.length < 2 ? 'One run so far: the trend starts with the next ingested run.' : null);
        card.classList.add('trend');
        card.dataset.runs = xs.length;
        card.dataset.series = part.length;
        out.push(card);
      });
    }
    return out;
  }
  function drawTrends() {
    const list = trendCards();
    cards.replaceChildren(...list);
    ds.trendCharts = list.length;
    ds.trendMaxRuns = Math.max(0, ...list.map((c) => +c.dataset.runs));
    if (!list.length) cards.replaceChildren(h('p', { class: 'muted', text: 'No benchmark results stored yet.' }));
  }
  drawTrends();
  const redraw = () => {
    state.axis = axisSel.value;
    state.figures = figSel.value;
    drawTrends();
    api.flushCharts();
  };
  axisSel.addEventListener('change', redraw);
  figSel.addEventListener('change', redraw);
});
