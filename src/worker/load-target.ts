// Loads the user's task function inside a worker, from a module export or from source text.

import type { TargetSpec } from '../target'

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

/** Loads the task function; rejects with a message naming the module and what is missing. */
export async function loadTarget(spec: TargetSpec): Promise<(args: unknown) => unknown> {
  if (spec.kind === 'source') {
    return new Function(`return ${spec.source}`)() as (args: unknown) => unknown
  }
  let mod: Record<string, unknown>
  try {
    mod = (await import(spec.url)) as Record<string, unknown>
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
  const fn = pickExport(mod, spec.exportName)
  if (typeof fn !== 'function') {
    // The producer prefixes the module's path, so the message names only what is missing.
    const what = spec.exportName === 'default' ? 'the default export' : `the export ${JSON.stringify(spec.exportName)}`
    throw new TypeError(`${what} is not a function (found: ${typeof fn}); the module exports: ${exportNames(mod)}`)
  }
  return fn as (args: unknown) => unknown
}
