/* zbl report page: draws the model embedded in script#zbl-model into the static template.
 *
 * Everything is built with DOM calls and textContent (no HTML parsing of any text), so failure messages,
 * option strings and file names always show as text. Heavy parts (rule rows, cell details) are
 * built only when opened, so the page stays quick with 60 configurations x 300 rules.
 * When done, <body> carries data-rendered="1" and the counts it drew (data-passed, ...), which
 * the end-to-end test reads; on an error it carries data-rendered="error" and shows a banner. */
(function () {
  'use strict';

  // ---------------------------------------------------------------- helpers

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  const intFmt = new Intl.NumberFormat('en-US');
  const numFmt = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });

  function fmtNum(v) {
    if (v === undefined || v === null || !isFinite(v)) return '';
    return Number.isInteger(v) ? intFmt.format(v) : numFmt.format(v);
  }
  function scaled(v, steps, unit) {
    let i = 0;
    while (i + 1 < steps.length && Math.abs(v) >= steps[i + 1][0]) i++;
    return numFmt.format(v / steps[i][0]) + ' ' + steps[i][1] + unit;
  }
  const fmtRate = (v) => (v === undefined ? '' :
    scaled(v, [[1, ''], [1e3, 'k'], [1e6, 'M'], [1e9, 'G'], [1e12, 'T']], 'B/s'));
  const fmtOps = (v) => (v === undefined ? '' :
    scaled(v, [[1, ''], [1e3, 'k'], [1e6, 'M'], [1e9, 'G']], '/s'));
  const fmtTime = (ns) => (ns === undefined ? '' :
    scaled(ns, [[1, 'n'], [1e3, '\u00b5'], [1e6, 'm'], [1e9, '']], 's'));
  function fmtBytes(v) {
    if (!isFinite(v)) return String(v);
    if (v === 0) return '0';
    const s = scaled(v, [[1, ''], [1024, 'Ki'], [1048576, 'Mi'], [1073741824, 'Gi'],
                         [1099511627776, 'Ti']], 'B');
    return v >= 1024 ? intFmt.format(v) + ' (' + s + ')' : intFmt.format(v);
  }
  // "4 KiB" for sizes shown in titles.
  function fmtSize(v) {
    if (!isFinite(v) || v < 1024) return String(v);
    return scaled(v, [[1, ''], [1024, 'Ki'], [1048576, 'Mi'], [1073741824, 'Gi'], [1099511627776, 'Ti']], 'B');
  }
  function plural(n, word) { return fmtNum(n) + ' ' + word + (n === 1 ? '' : 's'); }

  // Shows a section, with a heading and an optional one-line explanation.
  function section(id, title, intro) {
    const el = document.getElementById(id);
    el.hidden = false;
    el.replaceChildren(h('h2', { text: title }));
    if (intro) el.append(h('p', { class: 'muted', text: intro }));
    toc.push([id, title]);
    return el;
  }
  const toc = [];

  function table(headers, rows, opts) {
    opts = opts || {};
    const head = h('tr', null, headers.map((t) =>
      h('th', { class: /^(#|\u2713|\u2717|\u2013)$/.test(t) || (opts.num || []).includes(t) ? 'num' : null, text: t })));
    return h('table', { class: 'grid ' + (opts.cls || '') }, h('thead', null, head),
             h('tbody', null, rows));
  }
  function td(text, cls, title) { return h('td', { class: cls, text: text, title: title }); }
  function badge(status) { return h('span', { class: 'badge ' + status, text: status }); }

  // ---------------------------------------------------------------- model and indexes

  const model = JSON.parse(document.getElementById('zbl-model').textContent);
  const sources = model.sources || [];
  const columns = model.columns || [];
  const suites = (model.suites || []).map((name, id) => ({ id, name, rules: [] }));
  const rules = (model.rules || []).map((r, id) => ({
    id, suite: r.suite, name: r.name, full: model.suites[r.suite] + '.' + r.name, results: [],
  }));
  for (const r of model.results || []) rules[r.rule].results.push(r);
  for (const rule of rules) suites[rule.suite].rules.push(rule);

  // Conformance suites first, plain unit-test suites (configuration "unit" only) after them.
  const unitOnly = (s) => s.rules.every((r) => r.results.every((x) => columns[x.col].config === 'unit'));
  const suiteOrder = suites.slice().sort((a, b) => unitOnly(a) - unitOnly(b) || a.id - b.id);

  const state = { text: '', regex: null, status: 'all' };
  let chartCount = 0;
  const pendingCharts = [];

  function ruleMatches(rule) {
    if (state.regex) return state.regex.test(rule.full);
    return !state.text || rule.full.toLowerCase().includes(state.text);
  }
  function resultShown(r) {
    if (state.status === 'all') return true;
    if (state.status === 'problem') return r.status !== 'pass';
    return r.status === state.status;
  }
  function count(results) {
    const c = { pass: 0, fail: 0, skip: 0 };
    for (const r of results) c[r.status]++;
    return c;
  }
  function cellClass(c) {
    if (!c || c.pass + c.fail + c.skip === 0) return 'c-none';
    if (c.fail) return 'c-fail';
    return c.pass ? 'c-pass' : 'c-skip';
  }
  function configOf(col) {
    const c = columns[col];
    const src = sources[c.source] || { configs: [] };
    return (src.configs || []).find((x) => x.name === c.config) || null;
  }
  function resultLine(r, label) {
    const parts = [badge(r.status), h('b', { text: label })];
    if (r.variant) parts.push(h('span', { class: 'tag', text: r.variant }));
    if (r.seen > 1) parts.push(h('span', { class: 'tag', text: 'reported ' + r.seen + ' times, worst kept' }));
    if (r.file) parts.push(h('span', { class: 'muted small', text: '  ' + sources[columns[r.col].source].label + '/' + r.file }));
    if (r.message) parts.push(h('pre', { text: r.message }));
    return h('li', null, parts);
  }

  // ---------------------------------------------------------------- header

  function renderHeader() {
    document.title = model.title || 'zbl report';
    document.getElementById('title').textContent = model.title || 'zbl report';
    const t = model.totals || {};
    const sub = [plural(sources.length, 'results folder'), plural(columns.length, 'configuration'),
                 plural(rules.length, 'rule'), 'generated ' + (model.generated || '?')];
    document.getElementById('subtitle').textContent = sub.join(' \u00b7 ');
    const pills = [
      h('a', { class: 'pill pass', href: '#matrix', title: 'test cases passed' }, h('b', { text: fmtNum(t.passed || 0) }), 'passed'),
      h('a', { class: 'pill fail', href: '#rules', title: 'test cases failed' }, h('b', { text: fmtNum(t.failed || 0) }), 'failed'),
      h('a', { class: 'pill skip', href: '#rules', title: 'test cases skipped (each with its reason)' }, h('b', { text: fmtNum(t.skipped || 0) }), 'skipped'),
    ];
    if (t.bench_errors) pills.push(h('a', { class: 'pill fail', href: '#benchmarks' }, h('b', { text: fmtNum(t.bench_errors) }), 'benchmark errors'));
    if (model.regressions) {
      const n = model.regressions.count;
      pills.push(h('a', { class: 'pill ' + (n ? 'fail' : 'pass'), href: '#regressions' }, h('b', { text: fmtNum(n) }), n === 1 ? 'regression' : 'regressions'));
    }
    if ((model.warnings || []).length) {
      pills.push(h('a', { class: 'pill warn', href: '#warnings' }, h('b', { text: fmtNum(model.warnings.length) }), 'warnings'));
    }
    document.getElementById('totals').replaceChildren(...pills);
  }

  // ---------------------------------------------------------------- regressions

  function changeRows(list, showMessage) {
    return list.map((c) => h('tr', null,
      model.fleet ? td(c.machine || '') : null, td(c.config), td(c.suite + '.' + c.rule),
      td(c.before + ' \u2192 ' + c.after, 'mono'),
      showMessage ? h('td', null, c.message ? h('pre', { text: c.message }) : '') : null));
  }
  function changeTable(title, list, cls, showMessage) {
    if (!list.length) return null;
    const heads = (model.fleet ? ['Machine'] : []).concat(['Configuration', 'Rule', 'Change'],
                                                           showMessage ? ['Message'] : []);
    return [h('h3', { class: cls, text: title + ' (' + list.length + ')' }),
            h('div', { class: 'scroll short' }, table(heads, changeRows(list, showMessage)))];
  }
  function fmtMetric(metric, v) {
    if (metric === 'bytes_per_second') return fmtRate(v);
    if (metric === 'items_per_second') return fmtOps(v);
    if (metric === 'real_time_ns') return fmtTime(v);
    return fmtNum(v);
  }
  function slowerTable(list, threshold) {
    if (!list.length) return null;
    const rows = list.map((c) => h('tr', null, model.fleet ? td(c.machine || '') : null,
      td(c.name, 'mono'), td(c.metric),
      td(c.metric === 'error' ? '' : fmtMetric(c.metric, c.before), 'num'),
      td(c.metric === 'error' ? c.note : fmtMetric(c.metric, c.after), c.metric === 'error' ? 'err' : 'num'),
      td(c.metric === 'error' ? 'now errors' : numFmt.format(c.slower_pct) + ' %', 'num err')));
    const heads = (model.fleet ? ['Machine'] : []).concat(['Benchmark', 'Metric', 'Before', 'After', 'Slower']);
    return [h('h3', { class: 'err', text: 'Benchmarks slower than ' + threshold + ' % (' + list.length + ')' }),
            h('div', { class: 'scroll short' }, table(heads, rows, { num: ['Before', 'After', 'Slower'] }))];
  }
  function renderRegressions() {
    const r = model.regressions;
    if (!r) return;
    const sec = section('regressions', 'Regressions against the baseline');
    const n = r.count;
    sec.append(h('div', { class: 'banner ' + (n ? 'bad' : 'good') },
      (n ? plural(n, 'regression') : 'No regressions') + ' against ', h('code', { text: r.baseline }),
      ' (' + plural(r.compared_tests, 'test') + ' and ' + plural(r.compared_benchmarks, 'benchmark') +
      ' compared; benchmark threshold ' + r.threshold_pct + ' %).'));
    sec.append(...[changeTable('Newly failing', r.newly_failing, 'err', true),
                   changeTable('Newly skipped', r.newly_skipped, '', true),
                   changeTable('Passed before, missing now', r.vanished, 'err', false),
                   slowerTable(r.slower, r.threshold_pct),
                   changeTable('Fixed', r.fixed, '', false)].filter(Boolean).flat());
  }

  // ---------------------------------------------------------------- warnings

  // What a warning is about, from its wording (reports/src: load.cc, env_reader.cc, ...), so the
  // headline can say what the warnings are instead of one catch-all phrase.
  const WARNING_KINDS = [
    { re: /more than one variant of this cell|contradicts/, one: 'note on device variants', many: 'notes on device variants' },
    { re: /malformed JSON|could not be read|not a results file zbl knows|no \*\.json results|could not list|second vm-devices file/,
      one: 'file skipped', many: 'files skipped' },
    { re: /repaired and read/, one: 'file repaired and read', many: 'files repaired and read' },
    { re: /Chart\.js not found/, one: 'note on missing charts', many: 'notes on missing charts' },
    { re: /./, one: 'field ignored or unexpected', many: 'fields ignored or unexpected' },
  ];
  function warningKind(w) { return WARNING_KINDS.find((k) => k.re.test(w.message || '')); }
  function warningHeadline(list) {
    const counts = new Map();
    for (const w of list) { const k = warningKind(w); counts.set(k, (counts.get(k) || 0) + 1); }
    const parts = WARNING_KINDS.filter((k) => counts.has(k)).map((k) => {
      const n = counts.get(k);
      return fmtNum(n) + ' ' + (n === 1 ? k.one : k.many);
    });
    return plural(list.length, 'warning') + ' while reading the results: ' + parts.join(', ') + ' (click to list)';
  }
  function renderWarnings() {
    const list = model.warnings || [];
    if (!list.length) return;
    const sec = section('warnings', 'Warnings');
    const rows = list.map((w) => h('tr', null, td(warningKind(w).one), td(w.file || '(general)', 'mono'), td(w.message)));
    // Collapsed: the results come first; the header pill and this line say there is something.
    sec.append(h('details', null,
      h('summary', { class: 'banner warn', text: warningHeadline(list) }),
      h('div', { class: 'scroll short' }, table(['Kind', 'File', 'Warning'], rows))));
  }

  // ---------------------------------------------------------------- conformance matrix

  const matrix = { table: null, open: new Map() };

  function cellContent(c) {
    if (!c || c.pass + c.fail + c.skip === 0) return ['\u00b7'];
    const main = c.fail ? '\u2717' + c.fail : (c.pass ? '\u2713' + c.pass : '\u2013' + c.skip);
    const sub = [];
    if (c.fail && c.pass) sub.push('\u2713' + c.pass);
    if (c.skip && (c.fail || c.pass)) sub.push('\u2013' + c.skip);
    return [h('span', { class: 'n', text: main }), sub.length ? h('span', { class: 'sub', text: sub.join(' ') }) : null];
  }
  function cellTitle(label, c) {
    return label + ': ' + c.pass + ' passed, ' + c.fail + ' failed, ' + c.skip + ' skipped';
  }

  // Counts per column for one suite's shown rules.
  function suiteCounts(suite) {
    const per = columns.map(() => ({ pass: 0, fail: 0, skip: 0 }));
    for (const rule of suite.rules) {
      if (!ruleMatches(rule)) continue;
      for (const r of rule.results) if (resultShown(r)) per[r.col][r.status]++;
    }
    return per;
  }
  function sum(counts) {
    return counts.reduce((a, c) => ({ pass: a.pass + c.pass, fail: a.fail + c.fail, skip: a.skip + c.skip }),
                         { pass: 0, fail: 0, skip: 0 });
  }

  function matrixHead() {
    const rows = [];
    if (model.fleet) {
      const groups = [h('th', { class: 'rowhead', text: 'Machine' })];
      let i = 0;
      while (i < columns.length) {
        let j = i;
        while (j < columns.length && columns[j].source === columns[i].source) j++;
        groups.push(h('th', { colspan: j - i, text: sources[columns[i].source].label, title: sources[columns[i].source].dir }));
        i = j;
      }
      groups.push(h('th'));
      rows.push(h('tr', { class: 'groups' }, groups));
      if (multiKernel) rows.push(kernelHeadRow());
    }
    const cols = columns.map((c, i) => {
      const cfg = configOf(i);
      const tip = [c.label, cfg && cfg.option_string, cfg && cfg.model && 'model ' + cfg.model].filter(Boolean).join('\n');
      return h('th', { class: 'col', title: tip }, h('span', { text: model.fleet ? c.config : c.label }));
    });
    rows.push(h('tr', null, h('th', { class: 'rowhead', text: 'Suite \u2193  configuration \u2192' }), cols,
                h('th', { class: 'col' }, h('span', { text: 'all' }))));
    return h('thead', null, rows);
  }

  function suiteBody(suite) {
    const per = suiteCounts(suite);
    const shown = suite.rules.filter(ruleMatches).length;
    if (!shown) return null;
    const total = sum(per);
    if (state.status !== 'all' && total.pass + total.fail + total.skip === 0) return null;
    const toggle = h('button', { class: 'toggle', 'aria-expanded': 'false', text: suite.name + ' ',
                                 onclick: () => toggleRules(suite, body, toggle) },
                     h('span', { class: 'muted small', text: '(' + plural(shown, 'rule') + ')' }));
    const cells = per.map((c, col) => h('td', {
      class: 'cell ' + cellClass(c), title: cellTitle(suite.name + ' \u00d7 ' + columns[col].label, c),
      dataset: { suite: suite.id, col: col },
    }, cellContent(c)));
    const row = h('tr', { class: 'suite' }, h('th', { class: 'rowhead', title: suite.name }, toggle), cells,
                  h('td', { class: 'cell ' + cellClass(total), title: cellTitle(suite.name, total), dataset: { suite: suite.id, col: 'all' } }, cellContent(total)));
    const body = h('tbody', { dataset: { suite: suite.id } }, row);
    return body;
  }

  function matrixFoot() {
    const per = columns.map(() => ({ pass: 0, fail: 0, skip: 0 }));
    for (const rule of rules) {
      if (!ruleMatches(rule)) continue;
      for (const r of rule.results) if (resultShown(r)) per[r.col][r.status]++;
    }
    const total = sum(per);
    return h('tfoot', null, h('tr', null, h('th', { class: 'rowhead', text: 'All suites' }),
      per.map((c, col) => h('td', { class: 'cell ' + cellClass(c), title: cellTitle(columns[col].label, c) }, cellContent(c))),
      h('td', { class: 'cell ' + cellClass(total), title: cellTitle('everything shown', total) }, cellContent(total))));
  }

  // Rule rows of one suite: one status glyph per configuration.
  function toggleRules(suite, body, toggle) {
    const open = toggle.getAttribute('aria-expanded') === 'true';
    toggle.setAttribute('aria-expanded', String(!open));
    body.querySelectorAll('tr.rule, tr.detail.rule-detail').forEach((tr) => tr.remove());
    if (open) return;
    for (const rule of suite.rules) {
      if (!ruleMatches(rule)) continue;
      const byCol = new Map(rule.results.filter(resultShown).map((r) => [r.col, r]));
      if (state.status !== 'all' && !byCol.size) continue;
      const cells = columns.map((c, col) => {
        const r = byCol.get(col);
        if (!r) return h('td', { class: 'rcell c-none', title: 'not run on ' + c.label, text: '' });
        const glyph = { pass: '\u2713', fail: '\u2717', skip: '\u2013' }[r.status];
        return h('td', { class: 'rcell c-' + r.status, text: glyph, dataset: { rule: rule.id, col: col },
                         title: rule.name + ' on ' + c.label + ': ' + r.status + (r.message ? '\n' + r.message.slice(0, 300) : '') });
      });
      const c = count(rule.results);
      body.append(h('tr', { class: 'rule' }, h('th', { class: 'rowhead', title: rule.full, text: rule.name }), cells,
                    h('td', { class: 'rcell ' + cellClass(c), title: cellTitle(rule.full, c), text: c.fail ? '\u2717' + c.fail : '' })));
    }
  }

  // A details row under the clicked row: the rules of a suite cell, or one rule's result.
  function toggleDetail(td) {
    const tr = td.parentElement;
    const key = td.dataset.rule !== undefined ? 'r' + td.dataset.rule + ':' + td.dataset.col
                                              : 's' + td.dataset.suite + ':' + td.dataset.col;
    const existing = matrix.open.get(key);
    if (existing) {
      existing.remove();
      matrix.open.delete(key);
      td.classList.remove('sel');
      return;
    }
    const items = td.dataset.rule !== undefined ? ruleDetail(+td.dataset.rule, +td.dataset.col)
                                                : suiteDetail(suites[+td.dataset.suite], td.dataset.col);
    const row = h('tr', { class: 'detail' + (td.dataset.rule !== undefined ? ' rule-detail' : '') },
                  h('td', { colspan: columns.length + 2 }, h('div', { class: 'detail-box' }, items)));
    tr.after(row);
    td.classList.add('sel');
    matrix.open.set(key, row);
  }
  function ruleDetail(ruleId, col) {
    const rule = rules[ruleId];
    const r = rule.results.find((x) => x.col === col);
    return h('ul', { class: 'detail-list' }, resultLine(r, rule.full + ' on ' + columns[col].label));
  }
  function suiteDetail(suite, col) {
    const order = { fail: 0, skip: 1, pass: 2 };
    const list = [];
    for (const rule of suite.rules) {
      if (!ruleMatches(rule)) continue;
      for (const r of rule.results) {
        if ((col === 'all' || r.col === +col) && resultShown(r)) list.push([rule, r]);
      }
    }
    list.sort((a, b) => order[a[1].status] - order[b[1].status] || a[0].id - b[0].id || a[1].col - b[1].col);
    const where = col === 'all' ? 'every configuration' : columns[+col].label;
    const head = h('div', { class: 'small muted', text: suite.name + ' on ' + where + ': ' + plural(list.length, 'result') });
    const items = list.slice(0, 2000).map(([rule, r]) =>
      resultLine(r, col === 'all' ? rule.name + ' on ' + columns[r.col].label : rule.name));
    return [head, h('ul', { class: 'detail-list' }, items),
            list.length > 2000 ? h('p', { class: 'muted', text: 'first 2000 shown' }) : null];
  }

  function renderMatrix() {
    if (!columns.length) return;
    const sec = section('matrix', 'Conformance matrix',
      'Suites down, configurations across. Each cell counts the rules that passed (\u2713), failed (\u2717) and were skipped (\u2013). ' +
      'Click a cell for its rules with failure messages and skip reasons; click a suite to list its rules.');
    sec.append(h('div', { class: 'legend' },
      h('span', null, h('span', { class: 'swatch c-pass' }), 'all run rules passed'),
      h('span', null, h('span', { class: 'swatch c-fail' }), 'at least one failure'),
      h('span', null, h('span', { class: 'swatch c-skip' }), 'everything skipped'),
      h('span', null, h('span', { class: 'swatch c-none', style: 'border:1px solid #d0d7de' }), 'not run')));
    matrix.table = h('table', { class: 'matrix', onclick: (e) => {
      const cell = e.target.closest('td.cell, td.rcell');
      if (cell && (cell.dataset.suite !== undefined || cell.dataset.rule !== undefined) && !cell.classList.contains('c-none')) toggleDetail(cell);
    } });
    sec.append(h('div', { class: 'scroll' }, matrix.table));
    fillMatrix();
  }
  function fillMatrix() {
    matrix.open.clear();
    const bodies = suiteOrder.map(suiteBody).filter(Boolean);
    matrix.table.replaceChildren(matrixHead(), ...bodies, matrixFoot());
    if (!bodies.length) {
      matrix.table.append(h('tbody', null, h('tr', null, h('td', { colspan: columns.length + 2, class: 'muted', text: 'No rule matches the filter.' }))));
    }
  }

  // ---------------------------------------------------------------- per-rule table

  const rulesView = { body: null, note: null };

  function labelsOf(results, status) {
    return results.filter((r) => r.status === status).map((r) => columns[r.col].label);
  }
  function shortList(labels) {
    return labels.length > 4 ? labels.slice(0, 4).join(', ') + ' +' + (labels.length - 4) + ' more' : labels.join(', ');
  }
  function ruleRow(rule) {
    const c = count(rule.results);
    const row = h('tr', { class: 'clickable', title: 'click for every result of this rule' },
      td(model.suites[rule.suite]), td(rule.name, 'mono'), td(fmtNum(c.pass), 'num'),
      td(c.fail ? fmtNum(c.fail) : '', 'num ' + (c.fail ? 'err' : '')), td(c.skip ? fmtNum(c.skip) : '', 'num'),
      td(shortList(labelsOf(rule.results, 'fail')), 'err small'), td(shortList(labelsOf(rule.results, 'skip')), 'muted small'));
    row.addEventListener('click', () => {
      if (row.nextSibling && row.nextSibling.classList.contains('detail')) { row.nextSibling.remove(); return; }
      const order = { fail: 0, skip: 1, pass: 2 };
      const list = rule.results.slice().sort((a, b) => order[a.status] - order[b.status] || a.col - b.col);
      const notPass = list.filter((r) => r.status !== 'pass');
      const passed = labelsOf(list, 'pass');
      row.after(h('tr', { class: 'detail' }, h('td', { colspan: 7 },
        h('ul', { class: 'detail-list' }, notPass.map((r) => resultLine(r, columns[r.col].label))),
        passed.length ? h('p', { class: 'small' }, h('span', { class: 'badge pass', text: 'pass' }), 'on ' + passed.join(', ')) : null)));
    });
    return row;
  }
  function fillRules() {
    const shown = rules.filter((r) => ruleMatches(r) && r.results.some(resultShown));
    const key = (r) => { const c = count(r.results); return [-c.fail, -c.skip, r.id]; };
    shown.sort((a, b) => { const x = key(a), y = key(b); return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
    const limit = 1500;
    rulesView.body.replaceChildren(...shown.slice(0, limit).map(ruleRow));
    rulesView.note.textContent = plural(shown.length, 'rule') + ' shown' +
      (shown.length > limit ? ' (first ' + limit + ' listed; narrow the filter)' : '') + ', failures first.';
  }
  function renderRules() {
    if (!rules.length) return;
    const sec = section('rules', 'Rules', 'Per rule: on how many configurations it passed, failed and was skipped. Click a rule for its messages.');
    rulesView.note = h('p', { class: 'small muted' });
    const t = table(['Suite', 'Rule', '\u2713', '\u2717', '\u2013', 'Failed on', 'Skipped on'], []);
    rulesView.body = t.tBodies[0];
    sec.append(rulesView.note, h('div', { class: 'scroll' }, t));
    fillRules();
  }

  // ---------------------------------------------------------------- kernels
  // The kernel dimension: with results from more than one kernel, the matrix gets a row naming
  // each column group's kernel, fingerprint columns name their kernel, and a view lists every
  // rule and cell whose answer changed between kernels on the same device.

  const kernelView = model.kernels || { kernels: [], devices: [], changes: [] };
  const multiKernel = (kernelView.kernels || []).length > 1;

  function kernelHeadRow() {
    const cells = [h('th', { class: 'rowhead', text: 'Kernel' })];
    let i = 0;
    while (i < columns.length) {
      let j = i;
      while (j < columns.length && columns[j].source === columns[i].source) j++;
      cells.push(h('th', { colspan: j - i, class: 'kernel mono', text: columns[i].kernel || '\u2014' }));
      i = j;
    }
    cells.push(h('th'));
    return h('tr', { class: 'groups kernels' }, cells);
  }

  function renderKernels() {
    if (!multiKernel) return;
    const devices = kernelView.devices || [];
    const changes = kernelView.changes || [];
    const sec = section('kernels', 'Kernel differences',
      'The same device folder run under several kernels: each fingerprint cell and rule whose answer differs between the kernels, with every kernel\u2019s answer. Kernels: ' +
      kernelView.kernels.join(', ') + '.');
    if (!devices.length) {
      sec.append(h('p', { class: 'muted', text: 'No device folder was run under two kernels (devices are matched by folder name).' }));
      return;
    }
    sec.append(h('p', { class: 'small', text: plural(devices.length, 'device') + ' compared (' +
      devices.map((d) => d.device).join(', ') + '); ' + plural(changes.length, 'answer') + ' changed.' }));
    if (!changes.length) return;
    const kernels = [...new Set(devices.flatMap((d) => d.kernels))].sort();
    const rows = changes.map((c) => {
      const by = {};
      for (const a of c.answers) by[a.kernel] = a;
      return h('tr', null, td(c.device, 'mono'), td(c.config, 'mono'), td(c.kind),
        td(c.kind === 'rule' ? c.suite + '.' + c.name : c.name, 'mono'),
        kernels.map((k) => {
          const a = by[k];
          if (!a) return td('\u2014', 'missing', 'not run on this kernel');
          return td(a.answer, 'differs mono' + (a.status ? ' k-' + a.status : ''), a.message || '');
        }));
    });
    sec.append(h('div', { class: 'scroll' },
      table(['Device', 'Configuration', 'Kind', 'Rule or cell'].concat(kernels), rows, { cls: 'kernel-changes' })));
  }

  // ---------------------------------------------------------------- fingerprints

  function deviceLabel(src, cfg) {
    const k = multiKernel && (sources[src].env || {}).kernel ? ' \u00b7 ' + sources[src].env.kernel : '';
    return (model.fleet ? sources[src].label + ' \u00b7 ' + cfg.name : cfg.name) + k;
  }
  function renderFingerprints() {
    const devices = [];
    sources.forEach((s, i) => (s.configs || []).forEach((c) => {
      if (c.fingerprint || c.fingerprint_match) devices.push({ label: deviceLabel(i, c), cfg: c });
    }));
    if (!devices.length) return;
    const sec = section('fingerprints', 'Device fingerprints',
      'For each cell where device families are allowed to differ, the variant each device showed, and the profile its fingerprint matches. Highlighted rows differ between devices.');
    const cells = [...new Set(devices.flatMap((d) => Object.keys(d.cfg.fingerprint || {})))].sort();
    const rows = cells.map((cell) => {
      const values = devices.map((d) => (d.cfg.fingerprint || {})[cell]);
      const differs = new Set(values.filter((v) => v !== undefined)).size > 1;
      return h('tr', null, td(cell, 'mono'), values.map((v, i) => v === undefined
        ? td('\u2014', 'missing') : td(v, differs ? 'differs mono' : 'mono', 'from ' + ((devices[i].cfg.fingerprint_origin || {})[cell] || '?'))));
    });
    rows.push(h('tr', null, h('th', { text: 'matches profile' }),
      devices.map((d) => h('th', { text: d.cfg.fingerprint_match || '\u2014' }))));
    sec.append(h('div', { class: 'scroll' }, table(['Cell'].concat(devices.map((d) => d.label)), rows, { cls: 'fp' })));
  }

  // ---------------------------------------------------------------- benchmarks

  const palette = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bc4c00', '#0598bc', '#bf3989',
                   '#4d2d00', '#57606a', '#6e9f18'];
  const SWEEPS = ['threads', 'qd', 'iodepth', 'queue_depth', 'jobs'];
  const PERCENTILE = /^p(\d+(?:\.\d+)?)(?:_(ns|us|ms))?$/;

  function chartCard(title, config, note) {
    const box = h('div', { class: 'chart-box' });
    const card = h('div', { class: 'card' }, h('h4', { text: title }), box, note ? h('p', { class: 'small muted', text: note }) : null);
    if (typeof Chart === 'undefined') {
      box.replaceChildren(h('p', { class: 'muted', text: 'Chart.js was not available when this page was generated; the numbers are in the table below.' }));
      box.style.height = 'auto';
      return card;
    }
    const canvas = h('canvas', { role: 'img', 'aria-label': title });
    box.append(canvas);
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
    pendingCharts.push(() => { new Chart(canvas, config); chartCount++; });
    return card;
  }

  // Throughput of a run in the chosen metric.
  function metricOf(runs) {
    if (runs.every((r) => r.bytes_per_second !== undefined)) return { key: 'bytes_per_second', label: 'MB/s', scale: 1e-6 };
    if (runs.every((r) => r.items_per_second !== undefined)) return { key: 'items_per_second', label: 'k ops/s', scale: 1e-3 };
    return { key: 'real_time_ns', label: 'real time (\u00b5s)', scale: 1e-3 };
  }
  function seriesName(run, exclude, varying) {
    const parts = [];
    if (model.fleet) parts.push(sources[run.source].label);
    parts.push(run.config || '(no configuration)');
    for (const k of varying) if (k !== exclude && run.params[k] !== undefined) parts.push(k + ':' + run.params[k]);
    return parts.join(' ');
  }
  function varyingParams(runs) {
    const keys = new Set(runs.flatMap((r) => Object.keys(r.params || {})));
    // A sweep needs two different values; a parameter only some runs have is not one.
    return [...keys].filter((k) => new Set(runs.map((r) => r.params[k]).filter((v) => v !== undefined)).size > 1).sort();
  }
  function chunks(list, n) {
    const out = [];
    for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
    return out;
  }

  // One line per configuration (and other varied parameters): throughput against the sweep.
  function sweepCharts(family, runs, key) {
    const withKey = runs.filter((r) => r.params[key] !== undefined && isFinite(+r.params[key]));
    const varying = varyingParams(runs);
    const xs = [...new Set(withKey.map((r) => +r.params[key]))].sort((a, b) => a - b);
    const metric = metricOf(withKey);
    const series = new Map();
    for (const r of withKey) {
      const name = seriesName(r, key, varying);
      if (!series.has(name)) series.set(name, new Array(xs.length).fill(null));
      series.get(name)[xs.indexOf(+r.params[key])] = r[metric.key] === undefined ? null : r[metric.key] * metric.scale;
    }
    const parts = chunks([...series.entries()], 10);
    return parts.map((part, pi) => chartCard(
      family + ': ' + (metric.key === 'real_time_ns' ? 'time' : 'throughput') + ' vs ' + key + (parts.length > 1 ? ' (' + (pi + 1) + '/' + parts.length + ')' : ''),
      { type: 'line',
        data: { labels: xs.map(String), datasets: part.map(([name, data], i) => ({
          label: name, data, spanGaps: true, borderColor: palette[i % palette.length],
          backgroundColor: palette[i % palette.length], tension: 0.15 })) },
        options: { scales: { x: { title: { display: true, text: key } },
                             y: { beginAtZero: true, title: { display: true, text: metric.label } } },
                   plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } } } }));
  }
  // A run among its family, by what differs: "emulated_hm threads:2" (parameters every run of
  // the family shares, like bs:4096, would only make the labels longer).
  function shortName(run, varying) {
    return seriesName(run, null, varying);
  }
  function barChart(family, runs) {
    const metric = metricOf(runs);
    const varying = varyingParams(runs);
    return chunks(runs, 24).map((part, pi, all) => chartCard(
      family + ': ' + (metric.key === 'real_time_ns' ? 'time' : 'throughput') + (all.length > 1 ? ' (' + (pi + 1) + '/' + all.length + ')' : ''),
      { type: 'bar', data: { labels: part.map((r) => shortName(r, varying)), datasets: [{ label: metric.label,
          data: part.map((r) => (r[metric.key] === undefined ? null : r[metric.key] * metric.scale)), backgroundColor: palette[0] }] },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, title: { display: true, text: metric.label } } } } }));
  }
  function percentileKeys(runs) {
    const keys = new Set(runs.flatMap((r) => Object.keys(r.counters || {}).filter((k) => PERCENTILE.test(k))));
    return [...keys].sort((a, b) => parseFloat(a.match(PERCENTILE)[1]) - parseFloat(b.match(PERCENTILE)[1]));
  }
  function toMicros(key, value) {
    const unit = key.match(PERCENTILE)[2] || 'ns';
    return value * { ns: 1e-3, us: 1, ms: 1e3 }[unit];
  }
  function latencyCharts(family, runs) {
    const keys = percentileKeys(runs);
    const withLat = runs.filter((r) => keys.some((k) => (r.counters || {})[k] !== undefined));
    if (!keys.length || !withLat.length) return [];
    const varying = varyingParams(withLat);
    return chunks(withLat, 24).map((part, pi, all) => chartCard(
      family + ': latency percentiles' + (all.length > 1 ? ' (' + (pi + 1) + '/' + all.length + ')' : ''),
      { type: 'bar', data: { labels: part.map((r) => shortName(r, varying)), datasets: keys.map((k, i) => ({
          label: k.replace(/_(ns|us|ms)$/, ''), backgroundColor: palette[i % palette.length],
          data: part.map((r) => ((r.counters || {})[k] === undefined ? null : toMicros(k, r.counters[k]))) })) },
        options: { scales: { y: { beginAtZero: true, title: { display: true, text: '\u00b5s' } } },
                   plugins: { legend: { position: 'bottom' } } } }));
  }
  function familyCharts(family, runs) {
    const ok = runs.filter((r) => !r.error);
    if (!ok.length) return [];
    const varying = varyingParams(ok);
    const sweeps = SWEEPS.filter((k) => varying.includes(k));
    const cards = sweeps.length ? sweeps.flatMap((k) => sweepCharts(family, ok, k)) : barChart(family, ok);
    return cards.concat(latencyCharts(family, ok));
  }
  function counterText(r) {
    return Object.entries(r.counters || {}).map(([k, v]) => k + '=' + fmtNum(v)).join('  ');
  }
  function benchTable(list) {
    const rows = list.map((r) => h('tr', null,
      model.fleet ? td(sources[r.source].label) : null, td(r.name, 'mono'),
      r.error ? h('td', { class: 'err', colspan: 6, text: 'error: ' + r.error }) : [
        td(fmtRate(r.bytes_per_second), 'num'), td(fmtOps(r.items_per_second), 'num'),
        td(fmtTime(r.real_time_ns), 'num'), td(fmtTime(r.cpu_time_ns), 'num'),
        td(r.stat + (r.cv_pct !== undefined ? ', cv ' + numFmt.format(r.cv_pct) + ' %' : '')),
        td(counterText(r), 'small mono')],
      td(r.label || '', 'small')));
    const heads = (model.fleet ? ['Machine'] : []).concat(['Benchmark', 'Bytes/s', 'Items/s', 'Real time', 'CPU time', 'Statistic', 'Counters', 'Label']);
    return h('div', { class: 'scroll short' }, table(heads, rows, { num: ['Bytes/s', 'Items/s', 'Real time', 'CPU time'] }));
  }
  function renderBenchmarks() {
    const list = model.benchmarks || [];
    if (!list.length) return;
    const sec = section('benchmarks', 'Benchmarks',
      'Google Benchmark results: the median of repetitions when there are several (else the mean, else the single run).');
    const errors = list.filter((r) => r.error);
    if (errors.length) {
      sec.append(h('div', { class: 'banner bad' }, h('b', { text: plural(errors.length, 'benchmark') + ' reported an error:' }),
        h('ul', null, errors.map((r) => h('li', null, h('code', { text: r.name }), ': ' + r.error)))));
    }
    const families = new Map();
    for (const r of list) {
      if (!families.has(r.family)) families.set(r.family, []);
      families.get(r.family).push(r);
    }
    const cards = [...families.entries()].flatMap(([f, runs]) => familyCharts(f, runs));
    if (cards.length) sec.append(h('div', { class: 'cards' }, cards));
    sec.append(h('h3', { text: 'All runs (' + list.length + ')' }), benchTable(list));
  }

  // ---------------------------------------------------------------- peer comparisons

  const TOOL_COLORS = { zbl: '#0969da', fio: '#bc4c00', 'qemu-img': '#8250df' };

  function toolLabel(r) {
    return [r.tool, r.variant, r.qd !== undefined ? 'qd' + r.qd : null, r.cache].filter(Boolean).join(' ');
  }
  function comparisonCard(c) {
    const w = c.workload || {};
    const title = (model.fleet ? sources[c.source].label + ': ' : '') + (w.pattern || 'workload') +
      (w.bs ? ', ' + fmtSize(w.bs) + ' blocks' : '') + ' on ' + (c.target || '?');
    const withIops = c.results.filter((r) => r.iops !== undefined);
    const chart = chartCard(title, { type: 'bar',
      data: { labels: withIops.map(toolLabel), datasets: [{ label: 'IOPS', data: withIops.map((r) => r.iops),
        backgroundColor: withIops.map((r) => TOOL_COLORS[r.tool] || '#57606a') }] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, title: { display: true, text: 'IOPS' } } } } },
      Object.entries(w).map(([k, v]) => k + ' ' + (typeof v === 'number' && /size|bs/.test(k) ? fmtSize(v) : v)).join(' \u00b7 ') + ' \u00b7 ' + c.file);
    const rows = c.results.map((r) => h('tr', null, td(r.tool), td(r.variant || ''), td(r.qd === undefined ? '' : fmtNum(r.qd), 'num'),
      td(r.cache || ''), td(fmtNum(r.iops), 'num'), td(fmtRate(r.bw_bytes), 'num'), td(r.runs ? fmtNum(r.runs) : '', 'num')));
    const ratioRows = c.ratios.map((r) => h('tr', null, td(r.name), td(numFmt.format(r.value) + '\u00d7', 'num ' + (r.value < 1 ? 'err' : ''))));
    chart.append(table(['Tool', 'Engine / mode', 'QD', 'Cache', 'IOPS', 'Bandwidth', 'Runs'], rows, { num: ['QD', 'IOPS', 'Bandwidth', 'Runs'] }));
    if (ratioRows.length) chart.append(h('h4', { text: 'Ratios', style: 'margin-top:.6rem' }), table(['Ratio', 'Value'], ratioRows, { num: ['Value'] }));
    return chart;
  }
  function renderComparisons() {
    const list = model.comparisons || [];
    if (!list.length) return;
    const sec = section('comparisons', 'zbl vs fio vs qemu-img', 'The same workload run by each tool; ratios are as the comparison command computed them (above 1 means zbl is faster).');
    sec.append(h('div', { class: 'cards' }, list.map(comparisonCard)));
  }

  // ---------------------------------------------------------------- environment

  const LIMIT_BYTES = /size|bytes|capacity|granularity|transfer/;
  const LIMIT_NONE = /^max_(open|active)_zones$|^max_transfer$/;

  function kv(pairs) {
    return h('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [h('dt', { text: k }), h('dd', null, v)]));
  }
  function limitText(key, v) {
    if (typeof v !== 'number') return String(v);
    if (v === 0 && LIMIT_NONE.test(key)) return '0 (no limit)';
    return LIMIT_BYTES.test(key) ? fmtBytes(v) : fmtNum(v);
  }
  function configsTable(configs) {
    const limitKeys = [...new Set(configs.flatMap((c) => Object.keys(c.limits || {})))];
    const rows = configs.map((c) => h('tr', null, td(c.name, 'mono'), td(c.model || ''), td(c.profile || ''),
      td(c.driver_graph || '', 'mono small'), td(c.option_string || '', 'mono small'),
      limitKeys.map((k) => td(c.limits && c.limits[k] !== undefined ? limitText(k, c.limits[k]) : '', 'num small'))));
    return h('div', { class: 'scroll short' }, table(['Configuration', 'Model', 'Profile', 'Driver graph', 'Options'].concat(limitKeys), rows, { num: limitKeys }));
  }
  function contextPairs(ctx) {
    const caches = (ctx.caches || []).map((c) => 'L' + c.level + ' ' + (c.type || '') + ' ' + fmtBytes(c.size).replace(/^.*\((.*)\)$/, '$1')).join(', ');
    return [['benchmark host', ctx.host_name], ['CPUs', ctx.num_cpus !== undefined ? ctx.num_cpus + ' \u00d7 ' + (ctx.mhz_per_cpu || '?') + ' MHz' : undefined],
            ['CPU scaling', ctx.cpu_scaling_enabled === undefined ? undefined : (ctx.cpu_scaling_enabled ? 'enabled (noisy timings)' : 'disabled')],
            ['caches', caches], ['load average', (ctx.load_avg || []).map((x) => numFmt.format(x)).join(' ')],
            ['benchmark library build', ctx.library_build_type], ['benchmark run', ctx.date], ['executable', ctx.executable]];
  }
  function vmDevices(v) {
    let list = Array.isArray(v) ? v : null;
    const extra = [];
    if (!list && v && typeof v === 'object') {
      for (const [k, val] of Object.entries(v)) {
        if (!list && Array.isArray(val) && val.every((x) => x && typeof x === 'object' && !Array.isArray(x))) list = val;
        else extra.push([k, typeof val === 'object' ? JSON.stringify(val) : String(val)]);
      }
    }
    if (!list || !list.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
      return h('pre', { text: JSON.stringify(v, null, 2) });
    }
    const keys = [...new Set(list.flatMap((x) => Object.keys(x)))];
    const rows = list.map((x) => h('tr', null, keys.map((k) => td(x[k] === undefined ? '' : (typeof x[k] === 'object' ? JSON.stringify(x[k]) : String(x[k])), 'small'))));
    return [extra.length ? kv(extra) : null, h('div', { class: 'scroll short' }, table(keys, rows))];
  }
  function renderEnvironment() {
    if (!sources.length) return;
    const sec = section('environment', 'Environment', 'Where the results come from: machine, kernel, zbl build, and each device configuration with its geometry and limits.');
    for (const s of sources) {
      const e = s.env || {};
      const card = h('div', { class: 'card', style: 'margin-bottom:1rem' }, h('h3', { style: 'margin-top:0', text: s.label }),
        kv([['folder', s.dir], ['host', e.host], ['kernel', e.kernel], ['CPU', e.cpu],
            ['zbl', [e.zbl_version, e.commit && 'commit ' + e.commit].filter(Boolean).join(', ')], ['results generated', e.generated]]
          .concat(e.bench_context ? contextPairs(e.bench_context) : [])));
      if ((s.configs || []).length) card.append(h('h4', { style: 'margin-top:.8rem', text: 'Device configurations' }), configsTable(s.configs));
      if (e.vm_devices !== undefined) card.append(h('h4', { style: 'margin-top:.8rem', text: 'Kernel devices in the VM harness' }), vmDevices(e.vm_devices));
      sec.append(card);
    }
  }

  function renderFiles() {
    if (!sources.length) return;
    const sec = section('files', 'Files read');
    const rows = sources.flatMap((s) => (s.files || []).map((f) => h('tr', null, td(s.label), td(f.path, 'mono'),
      td(f.kind, f.kind === 'malformed' || f.kind === 'unknown' ? 'err' : ''))));
    sec.append(h('details', null, h('summary', { text: plural(rows.length, 'file') + ' in ' + plural(sources.length, 'folder') }),
      h('div', { class: 'scroll short' }, table(['Folder', 'File', 'Kind'], rows))));
  }

  // ---------------------------------------------------------------- wiring

  function renderToc() {
    document.getElementById('toc').replaceChildren(...toc.map(([id, title]) => h('a', { href: '#' + id, text: title })));
    const g = model.generator || {};
    document.getElementById('footer').textContent = 'Generated by ' + (g.name || 'zbl-report') + ' ' + (g.version || '') +
      (g.commit ? ' (' + g.commit + ')' : '') + ' at ' + (model.generated || '?') + '. The full model is embedded in this file (script#zbl-model).';
  }
  function wireFilter() {
    const input = document.getElementById('filter');
    const select = document.getElementById('status-filter');
    let timer = 0;
    const apply = () => {
      const text = input.value.trim();
      const m = /^\/(.*)\/([a-z]*)$/.exec(text);
      state.regex = null;
      state.text = text.toLowerCase();
      if (m) {
        try { state.regex = new RegExp(m[1], m[2].includes('i') ? m[2] : m[2] + 'i'); input.setCustomValidity(''); }
        catch (e) { input.setCustomValidity('not a valid regular expression'); }
      }
      state.status = select.value;
      if (matrix.table) fillMatrix();
      if (rulesView.body) fillRules();
    };
    input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(apply, 150); });
    select.addEventListener('change', apply);
  }
  function publishCounts() {
    const c = count(model.results || []);
    const ds = document.body.dataset;
    ds.passed = c.pass;
    ds.failed = c.fail;
    ds.skipped = c.skip;
    ds.columns = columns.length;
    ds.rules = rules.length;
    ds.matrixCells = document.querySelectorAll('table.matrix tbody td.cell:not(.c-none)').length;
    ds.charts = chartCount;
    ds.benchmarks = (model.benchmarks || []).length;
    ds.warnings = (model.warnings || []).length;
    ds.regressions = model.regressions ? model.regressions.count : '';
    ds.kernels = (kernelView.kernels || []).length;
    ds.kernelChanges = multiKernel ? document.querySelectorAll('table.kernel-changes tbody tr').length : 0;
    ds.rendered = '1';
  }

  // Draws the charts queued by chartCard (once the page is built, and again after a section
  // rebuilds its charts).
  function flushCharts() {
    while (pendingCharts.length) pendingCharts.shift()();
  }
  // Sections drawn by the page's other scripts (history.js: the results database's history),
  // each a function pushed to window.zblSections, called with these helpers.
  function renderExtensions() {
    const api = { model, sources, h, section, table, td, badge, plural, fmtNum, chartCard, palette,
                  chunks, flushCharts };
    for (const draw of window.zblSections || []) draw(api);
  }

  function main() {
    try {
      renderHeader();
      renderRegressions();
      renderExtensions();
      renderWarnings();
      renderMatrix();
      renderRules();
      renderFingerprints();
      renderKernels();
      renderBenchmarks();
      renderComparisons();
      renderEnvironment();
      renderFiles();
      renderToc();
      wireFilter();
      flushCharts();
      publishCounts();
    } catch (e) {
      const banner = document.getElementById('error');
      banner.hidden = false;
      banner.textContent = 'The page could not draw itself: ' + (e && e.stack ? e.stack : e);
      document.body.dataset.rendered = 'error';
      document.body.dataset.error = String(e && e.message ? e.message : e);
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
  else main();
})();
