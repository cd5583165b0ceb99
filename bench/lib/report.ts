import { round } from './stats.js'

/** What each benchmark returns and how run.ts prints it. */

export interface Target {
  op: '<=' | '>=' | '==' | '<' | '>'
  value: number
}

export interface Figure {
  /** Short name of the figure, e.g. "ratio to pre-serialised". */
  name: string
  value: number | null
  unit: string
  target?: Target
  /** A figure that is only context (a baseline's own number) carries no status. */
  note?: string
}

export interface BenchOutcome {
  bench: string
  title: string
  figures: Figure[]
  /** Everything measured, per round, for the JSON file. */
  details: unknown
  /** Set when a part it needs is not there yet: the benchmark did not run. */
  skipped?: string
  /** Set when the harness itself failed. */
  error?: string
  durationMs: number
}

export type Status = 'PASS' | 'MISS' | '' | 'SKIP' | 'ERROR'

export function statusOf(f: Figure, thresholds: boolean): Status {
  if (!f.target || !thresholds) return ''
  if (f.value === null || !Number.isFinite(f.value)) return 'MISS'
  const { op, value } = f.target
  const v = f.value
  const ok =
    op === '<='
      ? v <= value
      : op === '>='
        ? v >= value
        : op === '<'
          ? v < value
          : op === '>'
            ? v > value
            : v === value
  return ok ? 'PASS' : 'MISS'
}

export function fmt(value: number | null, unit: string): string {
  if (value === null || Number.isNaN(value)) return 'n/a'
  const v = round(value)
  return unit ? `${v.toLocaleString('en-US')} ${unit}` : v.toLocaleString('en-US')
}

export function fmtTarget(t: Target | undefined, unit: string): string {
  if (!t) return ''
  return `${t.op} ${fmt(t.value, unit)}`
}

/** A plain-text table: one row per figure, grouped by benchmark. */
export function table(outcomes: readonly BenchOutcome[], thresholds: boolean): string {
  const rows: string[][] = [['benchmark', 'figure', 'value', 'target', 'status']]
  for (const o of outcomes) {
    if (o.error) rows.push([o.title, 'harness error', o.error.split('\n')[0]!.slice(0, 90), '', 'ERROR'])
    else if (o.skipped) rows.push([o.title, 'not run', o.skipped.slice(0, 90), '', 'SKIP'])
    for (const f of o.figures) {
      rows.push([
        o.title,
        f.note ? `${f.name} (${f.note})` : f.name,
        fmt(f.value, f.unit),
        fmtTarget(f.target, f.unit),
        statusOf(f, thresholds),
      ])
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  const line = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join(' | ')
      .trimEnd()
  const sep = widths.map((w) => '-'.repeat(w)).join('-|-')
  let last = ''
  const out = [line(rows[0]!), sep]
  for (const r of rows.slice(1)) {
    const shown = r[0] === last ? ['', ...r.slice(1)] : r
    last = r[0]!
    out.push(line(shown))
  }
  return out.join('\n')
}
