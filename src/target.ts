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

/** A target in the form sent to workers. */
export type TargetSpec =
  | { kind: 'module'; url: string; exportName: string; display: string }
  | { kind: 'source'; source: string; display: string }

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

/** Checks and normalises a target (synchronously, at construction). */
export function resolveTarget(target: unknown): TargetSpec {
  if (typeof target === 'function') {
    return { kind: 'source', source: functionSource(target), display: `function ${target.name || '(anonymous)'}` }
  }
  if (typeof target === 'string' && target.length > 0) {
    const url = moduleUrl(target)
    return { kind: 'module', url, exportName: 'default', display: displayPath(url) }
  }
  if (target instanceof URL) {
    return { kind: 'module', url: target.href, exportName: 'default', display: displayPath(target.href) }
  }
  if (typeof target === 'object' && target !== null && 'filename' in target) {
    const { filename, name } = target as NamedExport
    const okFile = (typeof filename === 'string' && filename.length > 0) || filename instanceof URL
    if (okFile && typeof name === 'string' && name.length > 0) {
      const url = moduleUrl(filename)
      return { kind: 'module', url, exportName: name, display: `${displayPath(url)} (export ${name})` }
    }
  }
  throw new QdmpTypeError(
    ErrorCode.InvalidTarget,
    `target must be a module path, a file URL, { filename, name } or a function, got ${describeValue(target)}`,
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
