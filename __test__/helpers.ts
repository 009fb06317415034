// Shared by the specs: fixture paths and small utilities. No test lives here.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { ProcessPoolHandler, ThreadPoolHandler } from '../dist/index.mjs'

/** The absolute path of a fixture module. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
}

/** Resolves after `ms` milliseconds; only for fixtures that must be slow, never to wait on events. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A gate for `{ kind: 'block', file }` fixture tasks: they run until `open()` is called, so a test
 * can act while they are surely running, without timing windows.
 */
export function gate(): { file: string; open: () => void } {
  const file = join(mkdtempSync(join(tmpdir(), 'qdmp-gate-')), 'open')
  return { file, open: () => writeFileSync(file, '') }
}

/** Waits until `condition()` holds, checking every few milliseconds; throws after `timeoutMs`. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

/**
 * The handlers that promise the same semantics, for specs that run against each. Process workers
 * start without the TypeScript loader (`execArgv: []`; the fixtures are JavaScript) to keep the
 * suite fast; targets.spec checks the inherited default.
 */
export const poolKinds = [
  { name: 'threads', make: ThreadPoolHandler as unknown as typeof ThreadPoolHandler, options: {} },
  { name: 'processes', make: ProcessPoolHandler as unknown as typeof ThreadPoolHandler, options: { execArgv: [] as string[] } },
] as const
