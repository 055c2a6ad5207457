import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { App } from './context.js';

/** Where `vite build` puts the web app (see web/ and scripts/build-web.mjs). */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/**
 * The web app's page shell, or null when the app has not been built. Read at each page load (it
 * is half a kilobyte), so a rebuild is served without a restart.
 */
export function pageShell(dir = WEB_DIST): (() => string) | null {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return null;
  let last = readFileSync(index, 'utf8');
  return () => {
    try {
      last = readFileSync(index, 'utf8');
    } catch {
      // Mid-rebuild the file is briefly missing; the previous shell still works.
    }
    return last;
  };
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Tandem</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #1f2933; }
  code { background: #eef1f4; padding: .1rem .3rem; border-radius: 4px; } a { color: #0b5cad; }
</style></head>
<body>
<h1>Tandem is running, without its web app</h1>
<p>The web app has not been built in this copy. <code>npm start</code> builds it; so does <code>npm run build:web</code>.</p>
<p>The API works meanwhile: <a href="/docs">API documentation</a>, <a href="/health">health</a>.</p>
</body></html>`;

/**
 * The web app at `/`: its files from web/dist (hashed assets cached for a year, the shell never),
 * and the shell for every page address (see the not-found handler). Without a build, a short
 * page says how to make one.
 */
export async function homeRoutes(app: App, shell: (() => string) | null, dir = WEB_DIST): Promise<void> {
  if (!shell) {
    app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: true,
    index: false,
    decorateReply: false,
    cacheControl: false,
    setHeaders: (res, path) => {
      res.setHeader('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(shell()),
  );
}
