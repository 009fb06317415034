// Every benchmark task, as named exports, so that each pool runs exactly the same functions.
// piscina, tinypool and qdmp load this module directly; workerpool and poolifier load it through
// their own worker scripts beside it.

/** Tiny: the throughput and latency task. */
function square(x) {
  return x * x
}

/** About 1 ms of CPU: `rounds` steps of an integer hash (FNV-1a), calibrated by the benchmark. */
function spin(rounds) {
  return hashLoop(rounds | 0).next().value
}

// A generator, because V8 never inlines one into its caller: inlined into a pool's dispatch
// function (inside its try/catch), the same loop ran up to 4× slower in some pools and not in
// others, which measured V8's inlining choices rather than the pools.
function* hashLoop(rounds) {
  let h = 0x811c9dc5 | 0
  for (let i = 0; i < rounds; i++) {
    h ^= i
    h = Math.imul(h, 16777619)
  }
  return h >>> 0
}

/** Reads a moved 1 MiB Float32Array (every 16th value, so every page is touched). */
function sumFloats(values) {
  let total = 0
  for (let i = 0; i < values.length; i += 16) total += values[i]
  return total
}

// The ML jobs are the demo's own functions (examples/ml/preprocess.cjs): BPE tokenization of a
// text chunk, and JPEG decode-resize-normalize of an image into a Float32Array tensor.
const { tokenize, imageToTensor } = require('../../examples/ml/preprocess.cjs')

module.exports = { square, spin, sumFloats, tokenize, imageToTensor }
