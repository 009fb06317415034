// Real ML preprocessing jobs, the demo's own (examples/ml), on 2 workers with at most 64 in flight:
// - tokenize: BPE-tokenize a text corpus (the Markdown documents shipped in the installed packages,
//   in chunks of at most 16 KiB) with gpt-tokenizer's o200k encoding into Uint32Arrays of ids;
// - images: decode JPEGs with jpeg-js, resize to 224×224 and normalize into Float32Array tensors.
// The baseline is the same loop inline on one thread, in a process of its own: a pool's ideal is
// 2× that. The loop is timed in this process too, whose heap holds every pool of the section: it
// ran slower here (bench/README), which flattered every pool measured against it. Two bare
// threads that are given every item before timing, claim the next one through a shared counter
// and send no result back time the work alone, on both cores: an upper bound for a pool, which
// must also carry each item and each result between threads. After the rounds, the machine's own
// ceiling for the job (ceiling.mjs): two processes running the inline loop at once against one.
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

import { loadCorpus } from '../examples/ml/corpus.mjs'
import { makeImages } from '../examples/ml/images.mjs'
import { machineCeiling } from './ceiling.mjs'
import { log, measure, rateBars, ROUNDS } from './harness.mjs'
import { inlineProcess } from './inline-process.mjs'
import { mapCase, poolCases, pump, TASKS, threadPools } from './pools.mjs'
import * as tasks from './tasks/tasks.cjs'

const IN_FLIGHT = 64
const WORKERS = 2
const WARM_PASSES = 2

const bareWorker = `
const { parentPort, workerData } = require('node:worker_threads')
const fn = require(workerData.file)[workerData.task]
const { items, next } = workerData
const claimed = new Int32Array(next)
parentPort.on('message', () => {
  let sink = 0
  for (let i = Atomics.add(claimed, 0, 1); i < items.length; i = Atomics.add(claimed, 0, 1)) sink += fn(items[i]).length
  parentPort.postMessage(sink)
})`

/** The bound: two threads sharing the items through an atomic counter, no pool, no message per item. */
function bareThreads(task, items) {
  const next = new SharedArrayBuffer(4)
  const pass = (workers) => {
    new Int32Array(next)[0] = 0
    const ask = (w) =>
      new Promise((resolve, reject) => {
        const fail = (error) => {
          w.off('message', done)
          reject(error)
        }
        const done = (sum) => {
          w.off('error', fail)
          resolve(sum)
        }
        w.once('message', done)
        w.once('error', fail) // a failing task ends the case with its error, not the process
        w.postMessage(null)
      })
    return Promise.all(workers.map(ask))
  }
  return {
    name: 'bare threads (no pool)',
    setup: async () => {
      const workers = Array.from({ length: WORKERS }, () => new Worker(bareWorker, { eval: true, workerData: { file: TASKS, task, items, next } }))
      for (let i = 0; i < WARM_PASSES; i++) await pass(workers)
      return workers
    },
    run: async (workers) => {
      await pass(workers)
      return items.length
    },
    teardown: (workers) => Promise.all(workers.map((w) => w.terminate())),
  }
}

/**
 * Inline (in a process of its own, then in this one), bare threads, every thread pool and qdmp's
 * map() on `items` through the task named `task`, then the machine's ceiling for it.
 */
async function runJob({ id, title, task, items, unit, bytes, ceilingPasses }) {
  const fn = tasks[task]
  const item = (i) => [items[i]]
  let sink = 0
  // Every case first runs the job untimed: modules load, code is JIT-compiled and gpt-tokenizer
  // fills its cache of word merges (up to 100k words), so all are measured warm, as a long job runs.
  const warmed = async (pool) => {
    for (let pass = 0; pass < WARM_PASSES; pass++) await pump(pool.call, items.length, IN_FLIGHT, item)
    return pool
  }
  const common = { task, workers: WORKERS, warmArg: () => items[0], prepare: warmed }
  const count = (out) => (sink += out.length)
  const cases = [
    {
      name: 'inline loop, own process',
      setup: () => inlineProcess(task, items),
      run: async (own) => {
        await own.run(1)
        return items.length
      },
      teardown: (own) => own.close(),
    },
    {
      name: 'inline loop, this process',
      setup: () => {
        for (let pass = 0; pass < WARM_PASSES; pass++) items.forEach(fn)
        return null
      },
      run: () => {
        for (const x of items) sink += fn(x).length
        return items.length
      },
    },
    bareThreads(task, items),
    ...poolCases(threadPools, { ...common, count: items.length, inFlight: IN_FLIGHT, argOf: item, onResult: count }),
    mapCase(threadPools, { ...common, source: () => items, window: IN_FLIGHT, onResult: count }),
  ]
  const results = await measure(cases)
  const ceiling = await machineCeiling(task, items, ceilingPasses)
  const inline = results[0].median
  const mb = (rate) => ((rate * bytes) / items.length / 1e6).toFixed(2)
  const lines = [`| case | median | MB/s | rounds (${unit}/s) | vs inline |`, '|---|---:|---:|---|---:|']
  for (const r of results) {
    lines.push(`| ${r.name} | ${r.median.toFixed(1)} ${unit}/s | ${mb(r.median)} | ${r.rates.map((x) => x.toFixed(0)).join(' ')} | ${(r.median / inline).toFixed(2)}× |`)
  }
  lines.push(
    '',
    `The machine's ceiling for this job, measured after the rounds: two processes running the inline loop at once, ` +
      `with no pool and nothing shared, reached ${ceiling.median.toFixed(2)}× one process alone (median of ` +
      `${ceiling.ratios.length} trials: ${ceiling.ratios.map((r) => r.toFixed(2)).join(' ')}); together ` +
      `${ceiling.pairRate.toFixed(1)} ${unit}/s, ${(ceiling.pairRate / inline).toFixed(2)}× the baseline above.`,
  )
  return {
    id,
    title,
    markdown: lines.join('\n'),
    chart: { unit: '× inline (one thread, own process)', better: 'higher', bars: rateBars(results.slice(1)).map((b) => ({ ...b, value: b.value / inline })) },
    results,
    ceiling,
    sink,
  }
}

export async function runTokenize() {
  const { chunks, bytes } = loadCorpus()
  log(`tokenize: ${chunks.length} chunks (${(bytes / 1e6).toFixed(1)} MB), ${WORKERS} workers, at most ${IN_FLIGHT} in flight, ${ROUNDS} rounds`)
  return runJob({
    id: 'tokenize',
    title: `BPE tokenization (gpt-tokenizer o200k) of ${chunks.length} chunks, ${(bytes / 1e6).toFixed(1)} MB of real text, ${WORKERS} workers`,
    task: 'tokenize',
    items: chunks,
    unit: 'chunks',
    bytes,
    ceilingPasses: 5, // about 1.3 s alone
  })
}

export async function runImages() {
  const images = makeImages(Number(process.env.QDMP_BENCH_IMAGES ?? 32))
  const bytes = images.reduce((sum, image) => sum + image.byteLength, 0)
  log(`images: ${images.length} JPEGs (${(bytes / 1e6).toFixed(1)} MB), ${WORKERS} workers, at most ${IN_FLIGHT} in flight, ${ROUNDS} rounds`)
  return runJob({
    id: 'images',
    title: `JPEG decode, resize to 224×224 and normalize (jpeg-js): ${images.length} images, ${WORKERS} workers`,
    task: 'imageToTensor',
    items: images,
    unit: 'images',
    bytes,
    ceilingPasses: 2, // about 2.7 s alone
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { title, markdown } = await (process.argv[2] === 'images' ? runImages : runTokenize)()
  console.log(`\n### ${title}\n\n${markdown}`)
}
