import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { e2eBench } from './e2e.js'
import { fanoutBench } from './fanout.js'
import { ingestBench } from './ingest.js'
import { ROOT, stopAll } from './lib/children.js'
import { type BenchContext, NotReady } from './lib/context.js'
import type { BenchOutcome, Figure } from './lib/report.js'
import { statusOf, table } from './lib/report.js'
import { restBench } from './rest.js'
import { widgetBench } from './widget.js'

/**
 * `npm run bench` — every benchmark against its limits and peers, side by side; prints a table and
 * writes bench/results/<timestamp>.json. `-- --quick`: a short smoke run without thresholds (CI).
 * `-- --only rest,fanout`: some of them. `-- --profile`: .cpuprofile files of the servers under test.
 * Exit code: 0 when every benchmark ran or was skipped for a missing part; 1 when the harness broke.
 */

type BenchFn = (ctx: BenchContext) => Promise<{ figures: Figure[]; details: unknown }>

const BENCHES: { id: string; title: string; fn: BenchFn }[] = [
  { id: 'ingest', title: 'Ingest cost', fn: ingestBench },
  { id: 'rest', title: 'REST /v1/quotes', fn: restBench },
  { id: 'fanout', title: 'Fan-out /v1/stream', fn: fanoutBench },
  { id: 'widget', title: 'Widget', fn: widgetBench },
  { id: 'e2e', title: 'End to end', fn: e2eBench },
]

function machine() {
  const cpuModel =
    /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model
  let nproc = cpus().length
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim())
  } catch {}
  return {
    nproc,
    cpuModel,
    memoryGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      profile: { type: 'boolean', default: false },
    },
  })
  const quick = values.quick ?? false
  const only = values.only?.split(',').map((s) => s.trim())
  const unknown = only?.filter((id) => !BENCHES.some((b) => b.id === id))
  if (unknown?.length) {
    console.error(
      `unknown benchmark(s): ${unknown.join(', ')} (known: ${BENCHES.map((b) => b.id).join(', ')})`,
    )
    return 2
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const resultsDir = join(ROOT, 'bench/results')
  mkdirSync(resultsDir, { recursive: true })
  const profileDir = values.profile ? join(resultsDir, `profiles-${stamp}`) : undefined
  if (profileDir) mkdirSync(profileDir, { recursive: true })
  const started = performance.now()
  const ctx: BenchContext = {
    quick,
    profileDir,
    log: (m) => console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${m}`),
  }
  const info = machine()
  ctx.log(
    `pricewire bench (${quick ? 'quick' : 'full'}): ${info.nproc} × ${info.cpuModel}, ${info.memoryGB} GB, node ${info.node}`,
  )

  const outcomes: BenchOutcome[] = []
  for (const b of BENCHES) {
    if (only && !only.includes(b.id)) continue
    const t0 = performance.now()
    ctx.log(`── ${b.title}`)
    const outcome: BenchOutcome = { bench: b.id, title: b.title, figures: [], details: null, durationMs: 0 }
    try {
      const r = await b.fn(ctx)
      outcome.figures = r.figures
      outcome.details = r.details
    } catch (err) {
      if (err instanceof NotReady) outcome.skipped = err.message
      else outcome.error = err instanceof Error ? (err.stack ?? err.message) : String(err)
      ctx.log(`${b.id}: ${outcome.skipped ? `skipped: ${outcome.skipped}` : `FAILED: ${outcome.error}`}`)
      await stopAll()
    }
    outcome.durationMs = performance.now() - t0
    outcomes.push(outcome)
  }

  const thresholds = !quick
  const totalMs = performance.now() - started
  const file = join(resultsDir, `${stamp}.json`)
  const statuses = outcomes.flatMap((o) => o.figures.map((f) => statusOf(f, thresholds)))
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        mode: quick ? 'quick' : 'full',
        startedAt: new Date(Date.now() - totalMs).toISOString(),
        durationMs: Math.round(totalMs),
        machine: info,
        summary: {
          pass: statuses.filter((s) => s === 'PASS').length,
          miss: statuses.filter((s) => s === 'MISS').length,
          skipped: outcomes.filter((o) => o.skipped).map((o) => o.bench),
          errors: outcomes.filter((o) => o.error).map((o) => o.bench),
        },
        benches: outcomes.map((o) => ({
          ...o,
          figures: o.figures.map((f) => ({ ...f, status: statusOf(f, thresholds) || undefined })),
        })),
      },
      null,
      2,
    )}\n`,
  )
  console.log(
    `\nPricewire benchmarks (${quick ? 'quick mode: no thresholds' : 'full'}), ${info.nproc} × ${info.cpuModel}, node ${info.node}\n`,
  )
  console.log(table(outcomes, thresholds))
  console.log(`\n${(totalMs / 1000).toFixed(1)} s; results: ${file}`)
  if (thresholds)
    console.log(
      `${statuses.filter((s) => s === 'PASS').length} PASS, ${statuses.filter((s) => s === 'MISS').length} MISS`,
    )
  return outcomes.some((o) => o.error) ? 1 : 0
}

process.on('SIGINT', () => void stopAll().then(() => process.exit(130)))
main()
  .then(async (code) => {
    await stopAll()
    process.exit(code)
  })
  .catch(async (err) => {
    console.error(err)
    await stopAll()
    process.exit(1)
  })
