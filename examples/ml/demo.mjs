// `npm run demo`: an ML preprocessing job on every core. BPE-tokenizes a real text corpus into
// token-id arrays and turns JPEG images into normalized Float32Array tensors, first on one thread,
// then through a qdmp thread pool, and prints the throughput and the speed-up of the same run.
// The workers return each tensor with move() (examples/ml/preprocess.cjs): it reaches this thread
// without a copy.
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

import { ThreadPoolHandler } from 'qdmp'

import { loadCorpus } from './corpus.mjs'
import { makeImages } from './images.mjs'
import preprocess from './preprocess.cjs'

const { imageToTensor, SIZE, tokenize } = preprocess
const PREPROCESS = fileURLToPath(new URL('./preprocess.cjs', import.meta.url))
const IMAGES = Number(process.env.QDMP_DEMO_IMAGES ?? 48)
const workers = availableParallelism()
const tty = process.stderr.isTTY === true

function progress(label, done, total) {
  if (tty) process.stderr.write(`\r\x1b[2K  ${label}: ${done}/${total}`)
  else if (done === total || done % Math.ceil(total / 4) === 0) process.stderr.write(`  ${label}: ${done}/${total}\n`)
}

/** A checksum of the outputs, to show that the pool computed exactly what one thread did. */
function checksum(arrays) {
  let sum = 0
  for (const array of arrays) for (let i = 0; i < array.length; i += 7) sum = (sum * 31 + Math.round(array[i] * 1000)) % 2_147_483_647
  return sum
}

// Both sides are measured on a second pass over the data: the first (untimed) loads the modules,
// JIT-compiles the code and fills the tokenizer's cache of word merges, in every worker as on the
// single thread, as they would be a few seconds into a long job.
function inline(fn, items) {
  items.forEach(fn)
  const started = performance.now()
  const out = items.map(fn)
  return { seconds: (performance.now() - started) / 1000, out }
}

async function pooled(name, items, label) {
  const handler = new ThreadPoolHandler({ filename: PREPROCESS, name })
  await handler.start(workers)
  for await (const _ of handler.map(items, { window: 8 * workers })); // the untimed first pass
  const started = performance.now()
  const out = []
  for await (const result of handler.map(items, { window: 8 * workers })) {
    out.push(result)
    progress(label, out.length, items.length)
  }
  const seconds = (performance.now() - started) / 1000
  if (tty) process.stderr.write('\n')
  await handler.stop()
  return { seconds, out }
}

function report(job, unit, count, bytes, one, many) {
  const same = checksum(one.out) === checksum(many.out) && one.out.length === many.out.length
  const rate = (s) => `${(count / s).toFixed(1)} ${unit}/s, ${(bytes / 1e6 / s).toFixed(2)} MB/s`
  console.log(`${job}`)
  console.log(`  one thread        ${one.seconds.toFixed(2)} s   ${rate(one.seconds)}`)
  console.log(`  qdmp, ${workers} workers  ${many.seconds.toFixed(2)} s   ${rate(many.seconds)}`)
  console.log(`  speed-up          ${(one.seconds / many.seconds).toFixed(2)}×   outputs identical: ${same ? 'yes' : 'NO'}`)
  return same
}

const corpus = loadCorpus()
const images = makeImages(IMAGES)
const imageBytes = images.reduce((sum, image) => sum + image.byteLength, 0)
console.log(`qdmp demo: ML preprocessing on ${workers} cores (Node ${process.version})`)
console.log(`  text:   ${corpus.documents.length} Markdown documents from the installed packages, ${(corpus.bytes / 1e6).toFixed(1)} MB, in ${corpus.chunks.length} chunks`)
console.log(`  images: ${images.length} JPEGs, 640×480 to 1024×768, ${(imageBytes / 1e6).toFixed(1)} MB (rendered and encoded at start)\n`)

process.stderr.write('tokenizing on one thread…\n')
const tokensOne = inline(tokenize, corpus.chunks)
process.stderr.write('tokenizing with qdmp…\n')
const tokensMany = await pooled('tokenize', corpus.chunks, 'chunks')
const tokenCount = tokensMany.out.reduce((sum, ids) => sum + ids.length, 0)

process.stderr.write('decoding images on one thread…\n')
const imagesOne = inline(imageToTensor, images)
process.stderr.write('decoding images with qdmp…\n')
const imagesMany = await pooled('imageToMovedTensor', images, 'images')

console.log('')
const ok =
  report(`BPE tokenization (o200k): ${tokenCount.toLocaleString('en-US')} tokens`, 'chunks', corpus.chunks.length, corpus.bytes, tokensOne, tokensMany) &&
  report(`JPEG decode, resize to ${SIZE}×${SIZE}, normalize: Float32Array[3×${SIZE}×${SIZE}] tensors, moved back without a copy`, 'images', images.length, imageBytes, imagesOne, imagesMany)
if (!ok) {
  console.error('the pool and the single thread disagree: this is a bug, please report it')
  process.exitCode = 1
}
