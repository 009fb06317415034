// Draws the benchmark results as one SVG: a panel per benchmark, a horizontal bar per case,
// qdmp's bars in a colour of their own. Plain SVG text, so the README can show it as an image
// and a diff of it stays readable.

const PANEL_WIDTH = 460
const BAR_HEIGHT = 18
const GAP = 6
const LABEL_WIDTH = 190
const VALUE_WIDTH = 78
const HEADER = 44
const COLUMNS = 2

const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])

function format(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`
  if (value >= 10) return value.toFixed(0)
  return value.toFixed(2)
}

function panel({ title, chart }, x, y) {
  const { bars, unit, better } = chart
  const max = Math.max(...bars.map((b) => b.value))
  const span = PANEL_WIDTH - LABEL_WIDTH - VALUE_WIDTH - 10
  const parts = [
    `<text x="${x}" y="${y + 16}" class="title">${escape(title.length > 70 ? title.slice(0, 68) + '…' : title)}</text>`,
    `<text x="${x}" y="${y + 32}" class="unit">${escape(unit)}, ${better} is better</text>`,
  ]
  bars.forEach((bar, i) => {
    const top = y + HEADER + i * (BAR_HEIGHT + GAP)
    const width = Math.max(1, (bar.value / max) * span)
    const ours = bar.name.startsWith('qdmp')
    const value = bar.extra !== undefined ? `${format(bar.value)} (p99 ${format(bar.extra)})` : format(bar.value)
    parts.push(
      `<text x="${x + LABEL_WIDTH - 6}" y="${top + 13}" class="label" text-anchor="end">${escape(bar.name)}</text>`,
      `<rect x="${x + LABEL_WIDTH}" y="${top}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" class="${ours ? 'ours' : 'theirs'}"/>`,
      `<text x="${(x + LABEL_WIDTH + width + 4).toFixed(1)}" y="${top + 13}" class="value">${escape(value)}</text>`,
    )
  })
  return { svg: parts.join('\n'), height: HEADER + bars.length * (BAR_HEIGHT + GAP) + 16 }
}

/** One SVG document for a list of `{ title, chart }` benchmark results. */
export function drawChart(sections, caption) {
  const panels = []
  const rowHeights = []
  sections.forEach((section, i) => {
    const column = i % COLUMNS
    const row = Math.floor(i / COLUMNS)
    const top = 40 + rowHeights.slice(0, row).reduce((a, b) => a + b, 0)
    const drawn = panel(section, 10 + column * (PANEL_WIDTH + 20), top)
    rowHeights[row] = Math.max(rowHeights[row] ?? 0, drawn.height)
    panels.push(drawn.svg)
  })
  const width = 10 + COLUMNS * (PANEL_WIDTH + 20)
  const height = 40 + rowHeights.reduce((a, b) => a + b, 0)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:13px;font-weight:bold;fill:#222}.unit{font-size:11px;fill:#666}.label{font-size:11px;fill:#333}.value{font-size:11px;fill:#333}.ours{fill:#d9480f}.theirs{fill:#8a9bb0}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="24" class="title" font-size="15">${escape(caption)}</text>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n')
}
