import autocannon from 'autocannon'
import { onCommand, reply } from '../lib/ipc.js'

/** Load generator child: runs autocannon when told and sends back the figures. */
onCommand(async (c) => {
  if (c.cmd !== 'run') return
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await autocannon({
    url: String(c.url),
    connections: Number(c.connections),
    duration: Number(c.durationSec),
    timeout: 10,
  })
  const cpu = process.cpuUsage(cpu0)
  const wallMs = performance.now() - t0
  reply('result', {
    requests: r.requests.total,
    durationSec: r.duration,
    rps: r.requests.total / r.duration,
    latency: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      p999: r.latency.p99_9,
      max: r.latency.max,
      mean: r.latency.mean,
    },
    bytesPerSec: r.throughput.average,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    selfCpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
  })
})
reply('ready')
