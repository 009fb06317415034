// What a handler runs, in the form a worker can load: a module URL and export name, or the source
// text of a self-contained function.

import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import { describeValue } from './describe'
import { ErrorCode, QdmpError, QdmpTypeError } from './errors'

/** A task function: takes one task's arguments, returns (or resolves to) its result. */
export type TaskFunction<A = any, R = any> = (args: A) => R | PromiseLike<R>

/** A named export of a module: `{ filename: './tasks.js', name: 'resize' }`. */
export interface NamedExport {
  /** A path (absolute, or relative to `process.cwd()`) or a `file:` URL. */
  filename: string | URL
  /** The export's name; `'default'` for the default export. */
  name: string
}

/**
 * What a handler runs:
 * - a module path (absolute, or relative to `process.cwd()`) or `file:` URL whose default export
 *   is the task function (`.js`, `.mjs`, `.cjs`, or `.ts` when the process runs with a TypeScript
 *   loader, which the workers inherit);
 * - `{ filename, name }` for a named export;
 * - a self-contained function, shipped to the workers as source text. It cannot use variables from
 *   its surrounding scope (closures) or `require`; use a module target for that, or `await import()`
 *   inside the function.
 */
export type Target<A = any, R = any> = string | URL | NamedExport | TaskFunction<A, R>

/** A task function of a {@link PoolHandler}: also gets its worker's state and slot number. */
export type StatefulTaskFunction<A = any, R = any, S = any> = (args: A, state: S, workerId: number) => R | PromiseLike<R>

/** The inline form of a {@link PoolHandler} target: self-contained functions, shipped as source. */
export interface StatefulFunctions<A = any, R = any, S = any> {
  /** Runs once per worker (again in a replacement), before its first task; its result is the state. */
  setup?: (workerId: number) => S | PromiseLike<S>
  /** Runs each task with the worker's state. */
  run: StatefulTaskFunction<A, R, S>
}

/**
 * What a {@link PoolHandler} runs: a module (path, URL or `{ filename, name }`) whose task export
 * is called as `(args, state, workerId)` and whose `setup` export (optional) builds the state, or
 * `{ setup, run }` functions.
 */
export type StatefulTarget<A = any, R = any, S = any> = string | URL | NamedExport | StatefulFunctions<A, R, S>

/** A target in the form sent to workers. With `stateful`, the task gets `(args, state, workerId)`. */
export type TargetSpec =
  | { kind: 'module'; url: string; exportName: string; display: string; stateful: boolean }
  | { kind: 'source'; source: string; setupSource: string | null; display: string; stateful: boolean }

function moduleUrl(filename: string | URL): string {
  if (filename instanceof URL) return filename.href
  if (filename.startsWith('file:')) return new URL(filename).href
  return pathToFileURL(resolve(filename)).href
}

function functionSource(fn: Function): string {
  const source = Function.prototype.toString.call(fn)
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new QdmpTypeError(
      ErrorCode.InvalidTarget,
      `target function ${fn.name || '(anonymous)'} is native or bound, so its source cannot be shipped to workers; ` +
        `pass a plain function or arrow function, or a module path`,
      { target: fn.name },
    )
  }
  for (const candidate of [`(${source})`, `({ ${source} })[${JSON.stringify(fn.name)}]`]) {
    try {
      new Function(`return ${candidate}`)
      return candidate
    } catch {
      // try the next form: a method shorthand (`square(x) { ... }`) only parses inside an object
    }
  }
  throw new QdmpTypeError(
    ErrorCode.InvalidTarget,
    `the source of target function ${fn.name || '(anonymous)'} does not parse on its own; ` +
      `pass a plain function or arrow function, or a module path`,
    { target: fn.name },
  )
}

function moduleTarget(target: unknown, stateful: boolean): TargetSpec | null {
  if (typeof target === 'string' && target.length > 0) {
    const url = moduleUrl(target)
    return { kind: 'module', url, exportName: 'default', display: displayPath(url), stateful }
  }
  if (target instanceof URL) {
    return { kind: 'module', url: target.href, exportName: 'default', display: displayPath(target.href), stateful }
  }
  if (typeof target === 'object' && target !== null && 'filename' in target) {
    const { filename, name } = target as NamedExport
    const okFile = (typeof filename === 'string' && filename.length > 0) || filename instanceof URL
    if (okFile && typeof name === 'string' && name.length > 0) {
      const url = moduleUrl(filename)
      return { kind: 'module', url, exportName: name, display: `${displayPath(url)} (export ${name})`, stateful }
    }
  }
  return null
}

/** Checks and normalises a task target (synchronously, at construction). */
export function resolveTarget(target: unknown): TargetSpec {
  if (typeof target === 'function') {
    const display = `function ${target.name || '(anonymous)'}`
    return { kind: 'source', source: functionSource(target), setupSource: null, display, stateful: false }
  }
  const spec = moduleTarget(target, false)
  if (spec !== null) return spec
  throw new QdmpTypeError(
    ErrorCode.InvalidTarget,
    `target must be a module path, a file URL, { filename, name } or a function, got ${describeValue(target)}`,
    { target },
  )
}

/** Checks and normalises a {@link PoolHandler} target. */
export function resolveStatefulTarget(target: unknown): TargetSpec {
  const spec = moduleTarget(target, true)
  if (spec !== null) return spec
  if (typeof target === 'object' && target !== null && typeof (target as StatefulFunctions).run === 'function') {
    const { setup, run } = target as StatefulFunctions
    if (setup !== undefined && typeof setup !== 'function') {
      throw new QdmpTypeError(ErrorCode.InvalidTarget, `target.setup must be a function, got ${describeValue(setup)}`, { target })
    }
    const display = `function ${run.name || 'run'}`
    return { kind: 'source', source: functionSource(run), setupSource: setup ? functionSource(setup) : null, display, stateful: true }
  }
  throw new QdmpTypeError(
    ErrorCode.InvalidTarget,
    `a PoolHandler target must be a module path, a file URL, { filename, name } or { setup, run } functions, got ${describeValue(target)}`,
    { target },
  )
}

function displayPath(url: string): string {
  return url.startsWith('file:') ? fileURLToPath(url) : url
}

/** Rejects early, with a clear message, when a module target's file does not exist. */
export function checkTargetFile(spec: TargetSpec): void {
  if (spec.kind !== 'module' || !spec.url.startsWith('file:')) return
  const path = fileURLToPath(spec.url)
  if (!existsSync(path)) {
    throw new QdmpError(
      ErrorCode.TargetLoad,
      `cannot load target module ${path}: the file does not exist (relative paths resolve against ` +
        `process.cwd(), ${process.cwd()}); pass an absolute path or a URL from import.meta.url`,
      { path },
    )
  }
}
