import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { build, defineConfig, type InlineConfig, type Plugin } from 'vite'

/**
 * The widget build: dist/widget.js (one minified ES module with Lit inside, defining the three
 * elements), dist/widget.<hash>.js (the same bytes, for immutable caching), dist/manifest.json, and
 * dist/elements.js (the classes, not defined, also self-contained) from a second build.
 */

const root = fileURLToPath(new URL('..', import.meta.url))
const outDir = `${root}dist`

/** Collapses the whitespace of css`…` templates in *.styles.ts: Lit ships them as written. */
const minifyCss = (): Plugin => ({
  name: 'pricewire:minify-css',
  transform(code, id) {
    if (!id.endsWith('.styles.ts')) return
    return code.replace(/css`([^`]*)`/g, (_, body: string) => {
      const min = body
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\s+/g, ' ')
        .replace(/\s*([{};,>])\s*/g, '$1')
        .replace(/:\s+/g, ':')
        .replace(/;}/g, '}')
        .trim()
      return `css\`${min}\``
    })
  },
})

/** Emits widget.<hash>.js and manifest.json next to widget.js. */
const hashedCopy = (): Plugin => ({
  name: 'pricewire:hashed-copy',
  generateBundle(_, bundle) {
    const chunk = bundle['widget.js']
    if (chunk?.type !== 'chunk') return
    const hash = createHash('sha256').update(chunk.code).digest('hex').slice(0, 10)
    const integrity = `sha384-${createHash('sha384').update(chunk.code).digest('base64')}`
    const file = `widget.${hash}.js`
    this.emitFile({ type: 'asset', fileName: file, source: chunk.code })
    this.emitFile({
      type: 'asset',
      fileName: 'manifest.json',
      source: `${JSON.stringify({ 'widget.js': file, integrity, elements: 'elements.js' }, null, 2)}\n`,
    })
  },
})

const library = (entry: string, name: string, plugins: Plugin[], emptyOutDir: boolean): InlineConfig => ({
  configFile: false,
  root,
  logLevel: 'warn',
  plugins: [minifyCss(), ...plugins],
  build: {
    outDir,
    emptyOutDir,
    target: 'es2022',
    minify: true,
    reportCompressedSize: false,
    lib: { entry: `${root}widget/${entry}`, formats: ['es'], fileName: () => `${name}.js` },
    rolldownOptions: { output: { minify: true } },
  },
})

/** Runs the elements.js build once the widget.js build has written its files. */
const elementsBuild = (): Plugin => ({
  name: 'pricewire:elements-build',
  async closeBundle() {
    await build(library('elements.ts', 'elements', [], false))
  },
})

export default defineConfig(library('index.ts', 'widget', [hashedCopy(), elementsBuild()], true))
