// Shared by the specs: fixture paths and small utilities. No test lives here.
import { fileURLToPath } from 'node:url'

/** The absolute path of a fixture module. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
}

/** Resolves after `ms` milliseconds; only for fixtures that must be slow, never to wait on events. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
