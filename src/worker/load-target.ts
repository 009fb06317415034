// Loads the user's task function inside a worker, from a module export or from source text, and,
// for a PoolHandler, runs `setup` once to build the worker's state.

import type { TargetSpec } from '../target'

type Fn = (...args: unknown[]) => unknown

/** Why a worker could not start: loading the target, or running its `setup`. */
export class StartError extends Error {
  constructor(
    readonly stage: 'load' | 'setup',
    readonly error: unknown,
  ) {
    super(error instanceof Error ? error.message : String(error))
  }
}

/** Finds a function export, looking through the `default` wrapper that CommonJS interop adds. */
function pickExport(mod: Record<string, unknown>, name: string): unknown {
  const direct = mod[name]
  if (typeof direct === 'function') return direct
  const wrapped = mod.default as Record<string, unknown> | undefined
  if (name === 'default' && typeof wrapped === 'object' && wrapped !== null && typeof wrapped.default === 'function') {
    return wrapped.default // a transpiled ES module loaded as CommonJS: module.exports.default
  }
  if (name !== 'default' && typeof wrapped === 'object' && wrapped !== null && typeof wrapped[name] === 'function') {
    return wrapped[name] // a CommonJS export that Node's static analysis did not detect
  }
  return direct
}

function exportNames(mod: Record<string, unknown>): string {
  const names = Object.keys(mod)
  return names.length === 0 ? 'none' : names.join(', ')
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new Error(
        `${(error as Error).message}; a TypeScript target needs a TypeScript loader in the workers: start node with ` +
          `one (e.g. --import @swc-node/register/esm-register) and leave options.execArgv unset so workers inherit it`,
        { cause: error },
      )
    }
    throw error
  }
}

async function loadFunctions(spec: TargetSpec): Promise<{ task: Fn; setup: Fn | undefined }> {
  if (spec.kind === 'source') {
    const task = new Function(`return ${spec.source}`)() as Fn
    const setup = spec.setupSource === null ? undefined : (new Function(`return ${spec.setupSource}`)() as Fn)
    return { task, setup }
  }
  const mod = await importModule(spec.url)
  const task = pickExport(mod, spec.exportName)
  if (typeof task !== 'function') {
    // The producer prefixes the module's path, so the message names only what is missing.
    const what = spec.exportName === 'default' ? 'the default export' : `the export ${JSON.stringify(spec.exportName)}`
    throw new TypeError(`${what} is not a function (found: ${typeof task}); the module exports: ${exportNames(mod)}`)
  }
  if (!spec.stateful) return { task: task as Fn, setup: undefined }
  const setup = mod.setup ?? (mod.default as Record<string, unknown> | undefined)?.setup
  if (setup !== undefined && typeof setup !== 'function') {
    throw new TypeError(`the export "setup" is not a function (found: ${typeof setup})`)
  }
  return { task: task as Fn, setup: setup as Fn | undefined }
}

/**
 * Loads the target and returns the function the worker calls per task: the task function itself,
 * or, for a stateful target, one that passes the state `setup(workerId)` built and the slot.
 * Throws a StartError saying which stage failed.
 */
export async function loadRunner(spec: TargetSpec, workerId: number): Promise<(args: unknown) => unknown> {
  let fns: { task: Fn; setup: Fn | undefined }
  try {
    fns = await loadFunctions(spec)
  } catch (error) {
    throw new StartError('load', error)
  }
  const { task, setup } = fns
  if (!spec.stateful) return (args) => task(args)
  let state: unknown
  try {
    state = setup === undefined ? undefined : await setup(workerId)
  } catch (error) {
    throw new StartError('setup', error)
  }
  return (args) => task(args, state, workerId)
}
