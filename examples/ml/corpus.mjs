// A real text corpus without downloading anything: the Markdown documents (READMEs, changelogs,
// guides) that ship inside the installed npm packages, deduplicated by content, split at
// paragraph breaks into chunks of at most `chunkBytes`, as a tokenization pipeline would feed
// them to a model.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url))

function* markdownFiles(dir) {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return // unreadable directories are skipped, not fatal
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* markdownFiles(path)
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.md')) yield path
  }
}

/**
 * The corpus as `{ documents, chunks, bytes }`: documents of at least `minBytes`, in a stable
 * order, and their chunks (strings of at most about `chunkBytes`).
 */
export function loadCorpus({ root = NODE_MODULES, minBytes = 2048, chunkBytes = 16_384 } = {}) {
  const seen = new Set()
  const documents = []
  for (const path of markdownFiles(root)) {
    if (statSync(path).size < minBytes) continue
    const text = readFileSync(path, 'utf8')
    const digest = createHash('sha1').update(text).digest('hex')
    if (seen.has(digest)) continue
    seen.add(digest)
    documents.push(text)
  }
  if (documents.length === 0) {
    throw new Error(`no Markdown documents of ${minBytes} bytes or more under ${root}: run \`npm install\` first`)
  }
  const chunks = documents.flatMap((text) => split(text, chunkBytes))
  const bytes = documents.reduce((sum, text) => sum + Buffer.byteLength(text), 0)
  return { documents, chunks, bytes }
}

/**
 * Splits at blank lines, packing paragraphs into chunks of at most `limit` characters; a longer
 * paragraph (a big table, say) is split at its line breaks.
 */
function split(text, limit) {
  const pieces = text.split(/\n{2,}/).flatMap((paragraph) => (paragraph.length > limit ? paragraph.split('\n') : [paragraph]))
  const chunks = []
  let current = ''
  for (const paragraph of pieces) {
    if (current.length > 0 && current.length + paragraph.length + 2 > limit) {
      chunks.push(current)
      current = ''
    }
    current = current.length > 0 ? `${current}\n\n${paragraph}` : paragraph
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}
