import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import test from 'ava'

// Every code block of the README runs here, as a user would run it, and where the README shows
// its output (a following `text output` block) the output must match: the docs cannot drift from
// the code. Blocks that must not run say so on the line before them (`<!-- not run: why -->`).
const root = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')

interface Block {
  lang: string
  code: string
  line: number
  output: string | undefined
}

function blocks(): Block[] {
  const found: Block[] = []
  const fence = /^```(\w*)([^\n]*)\n([\s\S]*?)^```$/gm
  const all = [...readme.matchAll(fence)]
  all.forEach((match, i) => {
    const [, lang, info, code] = match
    if (info!.trim() === 'output') return
    const before = readme.slice(0, match.index).trimEnd().split('\n').pop() ?? ''
    if (before.startsWith('<!-- not run:')) return
    const next = all[i + 1]
    const between = next ? readme.slice(match.index! + match[0].length, next.index).trim() : undefined
    const output = next && next[2]!.trim() === 'output' && between === '' ? next[3] : undefined
    found.push({ lang: lang!, code: code!, line: readme.slice(0, match.index).split('\n').length, output })
  })
  return found
}

// Scripts live inside the package (outside __test__, whose package.json would hide the root's), so `import 'qdmp'` resolves to it (package self-reference).
const scratch = join(root, 'examples', '.readme')
mkdirSync(scratch, { recursive: true })
// The README's shell examples call `qdmp` as an installed package provides it.
const bin = mkdtempSync(join(tmpdir(), 'qdmp-readme-bin-'))
writeFileSync(join(bin, 'qdmp'), `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'dist', 'cli', 'main.js')}" "$@"\n`)
chmodSync(join(bin, 'qdmp'), 0o755)
test.after.always(() => {
  rmSync(scratch, { recursive: true, force: true })
  rmSync(bin, { recursive: true, force: true })
})

function run(block: Block): { status: number | null; stdout: string; stderr: string } {
  const options = { encoding: 'utf8' as const, timeout: 60_000 }
  if (block.lang === 'sh') {
    const cwd = mkdtempSync(join(tmpdir(), 'qdmp-readme-sh-'))
    return spawnSync('bash', ['-euo', 'pipefail', '-c', block.code], { ...options, cwd, env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` } })
  }
  const file = join(scratch, `line-${block.line}.${block.lang === 'ts' ? 'mts' : 'mjs'}`)
  writeFileSync(file, block.code)
  const loader = block.lang === 'ts' ? ['--import', '@swc-node/register/esm-register'] : []
  return spawnSync(process.execPath, [...loader, file], { ...options, cwd: root })
}

const runnable = blocks()

test('the README has runnable examples, each in a language this test runs', (t) => {
  t.true(runnable.length >= 6, `found only ${runnable.length}`)
  for (const block of runnable) t.true(['js', 'ts', 'sh'].includes(block.lang), `README.md:${block.line} is a ${block.lang || 'plain'} block`)
})

for (const block of runnable) {
  test(`README.md:${block.line} (${block.lang}) runs${block.output !== undefined ? ' and prints what the README shows' : ''}`, (t) => {
    const out = run(block)
    t.is(out.status, 0, `exit ${out.status}\n${out.stderr}`)
    if (block.output !== undefined) t.is(out.stdout.trim(), block.output.trim())
  })
}
