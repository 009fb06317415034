// A real ML preprocessing job: BPE-tokenize a text corpus (the Markdown documents shipped in the
// installed packages, in chunks of at most 16 KiB) with gpt-tokenizer's o200k encoding, each
// chunk a task whose result is its Uint32Array of token ids; 2 workers, at most 64 in flight.
// The baseline is the same loop inline on one thread; a pool's ideal is 2× that.
import { fileURLToPath } from 'node:url'

import { loadCorpus } from '../examples/ml/corpus.mjs'
import { log, measure, rateBars, ROUNDS } from './harness.mjs'
import { pump, threadPools } from './pools.mjs'
import { tokenize } from './tasks/tasks.cjs'

const IN_FLIGHT = 64
const WARM_PASSES = 2
const WORKERS = 2

export async function runTokenize() {
  const { chunks, bytes } = loadCorpus()
  log(`tokenize: ${chunks.length} chunks (${(bytes / 1e6).toFixed(1)} MB), ${WORKERS} workers, at most ${IN_FLIGHT} in flight, ${ROUNDS} rounds`)
  let tokens = 0
  const item = (i) => [chunks[i]]
  const warmArg = () => chunks[0]
  // gpt-tokenizer memoizes the merges of each word it has seen (up to 100k words); every case
  // first tokenizes the corpus untimed, so that all are measured with warm caches, as a long job
  // runs.
  const warmed = async (opening) => {
    const pool = await opening
    for (let pass = 0; pass < WARM_PASSES; pass++) await pump(pool.call, chunks.length, IN_FLIGHT, item)
    return pool
  }
  const cases = [
    {
      name: 'inline loop',
      setup: () => {
        for (let pass = 0; pass < WARM_PASSES; pass++) for (const chunk of chunks) tokenize(chunk)
        return null
      },
      run: () => {
        for (const chunk of chunks) tokens += tokenize(chunk).length
        return chunks.length
      },
    },
    ...Object.entries(threadPools).map(([key, open]) => ({
      name: (pool) => (key === 'qdmp' ? `${pool.name} run()` : pool.name),
      setup: () => warmed(open('tokenize', WORKERS, warmArg)),
      run: (pool) => pump((arg) => pool.call(arg).then((ids) => (tokens += ids.length)), chunks.length, IN_FLIGHT, item),
      teardown: (pool) => pool.close(),
    })),
    {
      name: (pool) => `${pool.name} map()`,
      setup: () => warmed(threadPools.qdmp('tokenize', WORKERS, warmArg)),
      run: async ({ handler }) => {
        let n = 0
        for await (const ids of handler.map(chunks, { window: IN_FLIGHT, ordered: false })) tokens += ids.length, n++
        return n
      },
      teardown: (pool) => pool.close(),
    },
  ]
  const results = await measure(cases)
  const inline = results[0].median
  const mb = (rate) => ((rate * bytes) / chunks.length / 1e6).toFixed(2)
  const lines = ['| case | median | MB/s | rounds (chunks/s) | vs inline |', '|---|---:|---:|---|---:|']
  for (const r of results) {
    lines.push(`| ${r.name} | ${Math.round(r.median).toLocaleString('en-US')} chunks/s | ${mb(r.median)} | ${r.rates.map((x) => Math.round(x)).join(' ')} | ${(r.median / inline).toFixed(2)}× |`)
  }
  return {
    id: 'tokenize',
    title: `BPE tokenization (gpt-tokenizer o200k) of ${chunks.length} chunks, ${(bytes / 1e6).toFixed(1)} MB of real text, ${WORKERS} workers`,
    markdown: lines.join('\n'),
    chart: { unit: '× inline (one thread)', better: 'higher', bars: rateBars(results.slice(1)).map((b) => ({ ...b, value: b.value / inline })) },
    results,
    tokens,
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { title, markdown } = await runTokenize()
  console.log(`\n### ${title}\n\n${markdown}`)
}
