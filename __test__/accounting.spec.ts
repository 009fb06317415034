import fc from 'fast-check'
import test from 'ava'

import { type Handler, type HandlerStats, ProcessPoolHandler, ThreadPoolHandler } from '../dist/index.mjs'

import { fixture } from './helpers.js'

// A property-based check of the accounting: for random mixes of tasks that succeed, throw, crash
// their worker, hang past the time limit or fail validation, and error hooks that retry or report,
// every accepted task is reported exactly once, and the counters add up.

type Kind = 'ok' | 'throw' | 'exit' | 'spin' | 'invalid'
type Job = { kind: Kind; id: number; value: number }
type Result = { id: number; value: number }

/** What is sent: an 'ok' job returns its `value`, so make that `{ id, value }` to name its task. */
const wire = (job: Job): Job => (job.kind === 'ok' ? ({ ...job, value: { id: job.id, value: job.value } } as never) : job)
type Policy = 'report' | 'retry-as-ok' | 'retry-same'

const kinds: Kind[] = ['ok', 'ok', 'ok', 'throw', 'exit', 'spin', 'invalid']
const jobsArb = fc.array(fc.record({ kind: fc.constantFrom(...kinds), value: fc.integer({ min: 0, max: 100 }) }), {
  minLength: 1,
  maxLength: 10,
})
const policyArb = fc.constantFrom<Policy>('report', 'retry-as-ok', 'retry-same')

function delta(after: HandlerStats, before: HandlerStats): HandlerStats {
  const out = { ...after }
  for (const key of Object.keys(out) as (keyof HandlerStats)[]) out[key] = after[key] - before[key]
  return out
}

const makers: [string, (options: Record<string, unknown>) => Handler<Job, Result>][] = [
  ['threads', (options) => new ThreadPoolHandler<Job, Result>(fixture('faults.mjs'), { execArgv: [], ...options })],
  ['processes', (options) => new ProcessPoolHandler<Job, Result>(fixture('faults.mjs'), { execArgv: [], ...options })],
]

for (const [kind, make] of makers) {
  test(`${kind}: every accepted task is reported exactly once and accepted = completed + failed + discardedResults + cancelled`, async (t) => {
    t.timeout(10 * 60_000)
    let policy: Policy = 'report'
    /** Retry decisions per task id; maxRetries (1) caps the re-submissions that really happen. */
    const asked = new Map<number, number>()
    const handler = make({
      taskTimeout: 250,
      maxRetries: 1,
      logger: {},
      validateArgs: (job: Job) => job.kind !== 'invalid',
      validateResult: (result: Result) => result.value % 7 !== 0,
      handleError: (_error: Error, job: Job) => {
        if (policy === 'report') return [false, null, null] // reported with the default exception (and a warning)
        asked.set(job.id, (asked.get(job.id) ?? 0) + 1)
        return [true, policy === 'retry-as-ok' ? wire({ ...job, kind: 'ok' }) : job, null]
      },
    })
    await handler.start(2)
    let nextId = 0
    await fc.assert(
      fc.asyncProperty(jobsArb, policyArb, async (drafts, chosen) => {
        policy = chosen
        asked.clear()
        const before = handler.stats()
        const jobs: Job[] = drafts.map((d) => ({ ...d, id: nextId++ }))
        const accepted = handler.addTasks(jobs.map(wire))
        const [results, errors] = await handler.processResults()
        const stats = delta(handler.stats(), before)

        const valid = jobs.filter((j) => j.kind !== 'invalid')
        t.is(accepted, valid.length)
        t.is(stats.accepted, valid.length)
        t.is(stats.discardedArgs, jobs.length - valid.length)
        const reported = [...results.map((r) => r.id), ...errors.map((e) => (e.args as Job).id)]
        t.is(new Set(reported).size, reported.length, 'nobody is reported twice')
        t.is(stats.accepted, stats.completed + stats.failed + stats.discardedResults + stats.cancelled, JSON.stringify(stats))
        t.is(stats.completed, results.length)
        t.is(stats.failed, errors.length)
        t.is(reported.length + stats.discardedResults, valid.length, 'every accepted task is accounted for')
        const resubmitted = [...asked.values()].reduce((sum, n) => sum + Math.min(n, 1), 0)
        t.is(stats.retried, resubmitted, 'retries are counted apart, and capped by maxRetries')
        const capped = [...asked.values()].filter((n) => n > 1).length
        t.is(errors.filter((e) => e.code === 'ERR_QDMP_RETRY_LIMIT').length, capped)
        t.is(stats.pending + stats.running, 0)
        return true
      }),
      { numRuns: 25, interruptAfterTimeLimit: 8 * 60_000 },
    )
    await handler.stop()
  })
}
