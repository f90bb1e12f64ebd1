/**
 * Renders the ChaosHub icons (npm run icons): chartserviceversion/icons/<fault>.svg → <fault>.png, because
 * ChaosCenter's web UI asks its hub server for `icons/<fault>.png` (chaoscenter/web/src/views/ChaosHub/ChaosFaults/
 * ChaosFaults.tsx, ExperimentCreationChaosFaults.tsx) and the stock chaos-charts ship PNGs only. Rendered with
 * resvg (@resvg/resvg-js, a devDependency: build time only), at 128×128 like the SVG's own size.
 *
 *   npm run icons              write the PNG
 *   npm run icons -- --check   exit 1 when the committed PNG is not what the SVG renders to
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { files } from './manifests.ts';

export const ICON_SIZE = 128;

/** The PNG bytes of the fault's SVG icon. */
export async function renderIcon(svgPath: string = files.icon): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const svg = readFileSync(svgPath, 'utf8');
  // No text in the icon: no fonts to load, so the bytes do not depend on the machine's fonts.
  const resvg = new Resvg(svg, { fitTo: { mode: 'width', value: ICON_SIZE }, font: { loadSystemFonts: false }, background: 'rgba(0,0,0,0)' });
  return resvg.render().asPng();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const check = process.argv.includes('--check');
  const png = await renderIcon();
  let current: Buffer | undefined;
  try { current = readFileSync(files.iconPng); } catch { current = undefined; }
  if (check) {
    if (current === undefined || !current.equals(png)) {
      process.stderr.write(`icons: ${files.iconPng} is not what ${files.icon} renders to (npm run icons)\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(files.iconPng, png);
    process.stdout.write(`wrote ${files.iconPng} (${png.length} bytes)\n`);
  }
}
