// `npm run test:install`: the install a user gets from npm, checked offline. Packs `qdmp` and its
// platform package the napi-rs way (create-npm-dirs, artifacts, pre-publish) in a staging copy,
// installs both tarballs into a fresh project outside the source tree with no cargo on PATH and
// no network, and there runs an ESM, a CommonJS and a type-checked TypeScript consumer and the
// `qdmp` command. Then installs `qdmp` alone, as on a platform with no binary, and checks the
// error says what to do. Run after `npm install` (which builds the core and the TypeScript).
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const platform = 'linux-x64-gnu'
const binary = `${pkg.napi.binaryName}.${platform}.node`
const work = mkdtempSync(join(tmpdir(), 'qdmp-install-'))
const npmCli = process.env.npm_execpath // the npm that runs this script, when run by npm
const napiBin = join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')

let failures = 0
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'}  ${what}${ok || detail === '' ? '' : `\n${detail}`}`)
  if (!ok) failures++
}

function run(command, args, options = {}) {
  const out = spawnSync(command, args, { encoding: 'utf8', ...options })
  if (out.error) throw out.error
  return out
}
const npm = (args, options) => (npmCli ? run(process.execPath, [npmCli, ...args], options) : run('npm', args, options))
const napi = (args) => execFileSync(process.execPath, [napiBin, ...args], { cwd: stage, stdio: ['ignore', 'ignore', 'inherit'] })

if (`${process.platform}-${process.arch}` !== 'linux-x64') {
  throw new Error(`test:install checks the ${platform} package, the one binary this project builds and tests here; this is ${process.platform}-${process.arch}`)
}
for (const file of ['dist/index.js', 'dist/cli/main.js', `native/${binary}`]) {
  if (!existsSync(join(root, file))) throw new Error(`${file} is missing: run \`npm install\` (or \`npm run build\`) first`)
}
process.on('exit', () => rmSync(work, { recursive: true, force: true })) // also when a step throws

// 1. Stage the packages the way the release workflow does, without touching the source tree.
const stage = join(work, 'stage')
mkdirSync(stage)
for (const entry of [...pkg.files, 'package.json', 'README.md', 'LICENSE']) {
  if (existsSync(join(root, entry))) cpSync(join(root, entry), join(stage, entry), { recursive: true })
}
// Only this machine's binary exists here: stage with that one target (the release workflow has
// them all, from its build matrix).
writeFileSync(join(stage, 'package.json'), JSON.stringify({ ...pkg, napi: { ...pkg.napi, targets: ['x86_64-unknown-linux-gnu'] } }, null, 2))
napi(['create-npm-dirs'])
napi(['artifacts', '--output-dir', join(root, 'native'), '--npm-dir', 'npm'])
napi(['pre-publish', '-t', 'npm', '--no-gh-release', '--skip-optional-publish'])
const staged = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8'))
check(staged.optionalDependencies?.[`qdmp-${platform}`] === pkg.version, `pre-publish lists qdmp-${platform}@${pkg.version} as an optional dependency`)
const tarballs = join(work, 'tarballs')
mkdirSync(tarballs)
const pack = (dir) => {
  const packed = npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs], { cwd: dir })
  if (packed.status !== 0) throw new Error(`npm pack failed in ${dir}:\n${packed.stderr}`)
  return join(tarballs, JSON.parse(packed.stdout)[0].filename)
}
const mainTarball = pack(stage)
const platformTarball = pack(join(stage, 'npm', platform))

// 2. A fresh project: no cargo, no network (--offline: only npm's cache), no NODE_PATH, nothing of
// the source tree. Directories holding
// cargo leave PATH (~/.cargo/bin); one that also holds the shell or node (/usr/bin, when cargo
// came from the system's packages) stays, behind a `cargo` that always fails.
const nodeDir = dirname(process.execPath)
const noCargo = join(work, 'no-cargo')
mkdirSync(noCargo)
writeFileSync(join(noCargo, 'cargo'), '#!/bin/sh\necho "cargo is not available in this test" >&2\nexit 127\n', { mode: 0o755 })
const needed = (dir) => dir === nodeDir || existsSync(join(dir, 'sh'))
const path = [noCargo, ...(process.env.PATH ?? '').split(delimiter).filter((dir) => needed(dir) || !existsSync(join(dir, 'cargo')))]
const env = { ...process.env, PATH: path.join(delimiter), NODE_PATH: '', npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' }
for (const key of Object.keys(env)) if (key.startsWith('npm_package_') || key === 'INIT_CWD') delete env[key]
check(run('sh', ['-c', 'cargo --version'], { env }).status !== 0, 'cargo cannot run in the consumer project')

function project(name, packages) {
  const dir = join(work, name)
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }))
  const installed = npm(['install', '--no-package-lock', ...packages], { cwd: dir, env })
  if (installed.status !== 0) throw new Error(`npm install failed in ${dir}:\n${installed.stdout}${installed.stderr}`)
  return dir
}

// The consumer's TypeScript check needs Node's types. Installed by name they would need npm's
// cache to hold their registry metadata, which an install from this checkout's lockfile does not
// fetch (a fresh machine failed with ENOTCACHED): packed from this checkout's node_modules instead,
// with the one package they depend on.
const typesTarballs = ['@types/node', 'undici-types'].map((name) => pack(join(root, 'node_modules', name)))
const consumer = project('consumer', [mainTarball, platformTarball, ...typesTarballs])
cpSync(join(root, '__test__', 'fixtures', 'consumers'), consumer, { recursive: true })
const inProject = (file) => file.startsWith(join(consumer, 'node_modules') + '/')

const node = (args, input) => run(process.execPath, args, { cwd: consumer, env, input })
const cjs = node(['consumer.cjs'])
check(cjs.status === 0 && JSON.parse(cjs.stdout).results.join() === '1,4,9', "CommonJS consumer: require('qdmp')", cjs.stderr)
const esm = node(['consumer.mjs'])
check(esm.status === 0 && JSON.parse(esm.stdout).same === true, "ES module consumer: import from 'qdmp'", esm.stderr)
const where = node(['-e', `
  const resolved = require.resolve('qdmp')
  require('qdmp')
  const binaries = Object.keys(require.cache).filter((file) => file.endsWith('.node'))
  console.log(JSON.stringify({ resolved, binaries }))`])
const { resolved, binaries } = JSON.parse(where.stdout || '{}')
check(inProject(resolved ?? ''), `qdmp resolves inside the project (${resolved})`)
check(binaries?.length === 1 && binaries[0].includes(`/node_modules/qdmp-${platform}/`) && inProject(binaries[0]), `the core loads from the platform package (${binaries})`)
const tsc = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--ignoreConfig', '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node', 'consumer.mts'], { cwd: consumer, env })
check(tsc.status === 0, 'TypeScript consumer type-checks with tsc against the installed typings', tsc.stdout + tsc.stderr)

const bin = join(consumer, 'node_modules', '.bin', 'qdmp')
const version = run(bin, ['--version'], { cwd: consumer, env })
check(version.status === 0 && version.stdout.trim() === pkg.version, `the qdmp command: --version prints ${pkg.version}`, version.stderr)
writeFileSync(join(consumer, 'double.mjs'), 'export default (x) => x * 2\n')
const cli = run(bin, ['run', 'double.mjs', '--ordered'], { cwd: consumer, env, input: '1\n2\n3\n' })
check(cli.status === 0 && cli.stdout === '2\n4\n6\n', 'the qdmp command: run doubles three JSON lines', cli.stderr)

// 3. A platform without a binary: qdmp alone.
const bare = project('no-binary', [mainTarball])
const missing = run(process.execPath, ['-e', `try { require('qdmp') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`], { cwd: bare, env })
const { code, message } = JSON.parse(missing.stdout || '{}')
check(code === 'ERR_QDMP_NATIVE_BINDING', 'without the platform package, require fails with ERR_QDMP_NATIVE_BINDING', missing.stdout + missing.stderr)
check(/linux-x64-gnu/.test(message) && message.includes(`qdmp-${platform}`) && /npm install/.test(message), 'the error names the platform, the package and what to do', message)

console.log(failures === 0 ? '\ntest:install: all checks passed' : `\ntest:install: ${failures} check(s) failed`)
process.exitCode = failures === 0 ? 0 : 1
