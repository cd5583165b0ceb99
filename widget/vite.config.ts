import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build, defineConfig, type InlineConfig, type Plugin } from 'vite'

/**
 * The widget build: dist/widget.js (one minified ES module with Lit inside, defining the three
 * elements), dist/widget.<hash>.js (the same bytes, for immutable caching), dist/manifest.json, and
 * dist/elements.js (the classes, not defined, also self-contained) from a second build, and
 * dist/demo.html (the page the server shows at /).
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
        .replace(/([ :,(])0\./g, '$1.')
        .replace(/='([\w-]+)'\]/g, '=$1]')
        .trim()
      return `css\`${min}\``
    })
  },
})

/**
 * Shortens Lit's developer-facing error messages (thrown only on misuse: a CSSResult built by hand,
 * a non-css value in css``, a forged template): about 140 B of gzip the budget has better uses for.
 */
const shortLitErrors = (): Plugin => ({
  name: 'pricewire:short-lit-errors',
  transform(code, id) {
    if (!/[\\/]node_modules[\\/](@lit[\\/]|lit-html[\\/])/.test(id)) return
    return code.replace(/throw Error\("[^"]{30,}"(\+\w+\+"[^"]*")?\)/g, 'throw Error("lit misuse")')
  },
})

/**
 * After minification: folds the indentation of Lit templates (a newline and its indent become one
 * space, which HTML renders the same) and drops leftover pure annotations. Lit's own
 * `[ \t\n\f\r]` has a bare newline with no indent after it, which this leaves alone.
 */
const compact = (): Plugin => ({
  name: 'pricewire:compact',
  generateBundle(_, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type === 'chunk')
        chunk.code = chunk.code.replace(/\n {2,}/g, ' ').replaceAll('/* @__PURE__ */ ', '')
    }
  },
})

/** Emits widget.<hash>.js, manifest.json and the demo page (demo.html, served at /) next to widget.js. */
const extras = (): Plugin => ({
  name: 'pricewire:extras',
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
    this.emitFile({
      type: 'asset',
      fileName: 'demo.html',
      source: readFileSync(`${root}widget/demo/index.html`),
    })
  },
})

const library = (entry: string, name: string, plugins: Plugin[], emptyOutDir: boolean): InlineConfig => ({
  configFile: false,
  root,
  logLevel: 'warn',
  plugins: [shortLitErrors(), minifyCss(), compact(), ...plugins],
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

export default defineConfig(library('index.ts', 'widget', [extras(), elementsBuild()], true))
